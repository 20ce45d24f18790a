import secrets

from django.db import migrations


def create_row(apps, schema_editor):
    # Random, like every later version (stacks.cache.new_version).
    apps.get_model("stacks", "ContentVersion").objects.get_or_create(
        pk=1, defaults={"version": secrets.randbits(62)}
    )


class Migration(migrations.Migration):
    dependencies = [("stacks", "0002_content_version")]

    operations = [migrations.RunPython(create_row, migrations.RunPython.noop)]
