from django.db import migrations


def create_health_user(apps, schema_editor):
    user_model = apps.get_model("auth", "User")
    user, created = user_model.objects.get_or_create(username="lava-health")
    if created:
        user.password = "!"  # unusable: this account only submits health checks
        user.save()


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0002_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(create_health_user, migrations.RunPython.noop)]
