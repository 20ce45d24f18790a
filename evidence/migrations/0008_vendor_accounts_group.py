from django.contrib.auth.management import create_permissions
from django.db import migrations

from evidence.roles import sync_groups


def create_groups(apps, schema_editor):
    """Adds the "Vendor accounts" group (and brings the other two up to evidence/roles.py)."""
    # Permissions are normally created after all migrations; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_groups(
        apps.get_model("auth", "Group"),
        apps.get_model("auth", "Permission"),
        apps.get_model("contenttypes", "ContentType"),
    )


def remove_vendor_accounts_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Vendor accounts").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0007_history_and_vendor_accounts"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_vendor_accounts_group)]
