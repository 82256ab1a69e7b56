from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_hash_token_secrets"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="authtoken",
            name="secret",
        ),
        migrations.AlterField(
            model_name="authtoken",
            name="secret_sha256",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
    ]
