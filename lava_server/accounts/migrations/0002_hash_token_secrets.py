"""Keep only the SHA-256 of each API token: existing clear secrets are hashed here."""

import hashlib

from django.db import migrations, models


def hash_secrets(apps, schema_editor):
    AuthToken = apps.get_model("accounts", "AuthToken")
    for token in AuthToken.objects.only("pk", "secret").iterator():
        digest = hashlib.sha256(token.secret.encode("utf-8")).hexdigest()
        AuthToken.objects.filter(pk=token.pk).update(secret_sha256=digest)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="authtoken",
            name="secret_sha256",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        # going back, 0003 has already forgotten every token
        migrations.RunPython(hash_secrets, reverse_code=migrations.RunPython.noop),
    ]
