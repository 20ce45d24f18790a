import time

from django.db import migrations, models


def changed_now(apps, schema_editor):
    # The last change is not later than now: a Last-Modified of now is safe (clients at most
    # fetch once more), and every later change moves it.
    ContentVersion = apps.get_model("evidence", "ContentVersion")
    ContentVersion.objects.update(changed_at=int(time.time()))


class Migration(migrations.Migration):

    dependencies = [
        ('evidence', '0024_certainty_change'),
    ]

    operations = [
        migrations.AddField(
            model_name='contentversion',
            name='changed_at',
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(changed_now, migrations.RunPython.noop),
    ]
