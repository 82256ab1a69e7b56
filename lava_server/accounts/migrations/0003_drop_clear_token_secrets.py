from django.db import migrations, models


def forget_tokens(apps, schema_editor):
    # going back to clear secrets: a hash gives no secret back, so every token is lost
    apps.get_model("accounts", "AuthToken").objects.all().delete()


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
        # last, so that it runs first when migrating back
        migrations.RunPython(migrations.RunPython.noop, reverse_code=forget_tokens),
    ]
