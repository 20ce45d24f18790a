"""A first history row for every row that existed before history began.

Without it the first edit of an old row would be recorded, but not what it replaced, and so
could not be reverted.
"""

from django.db import migrations
from django.utils import timezone

MODELS = [
    "Goal",
    "Tier",
    "Compound",
    "CompoundAlias",
    "Dosing",
    "SideEffect",
    "Contraindication",
    "Interaction",
    "Rating",
    "Study",
    "Finding",
    "Article",
    "Vendor",
    "Offer",
]
BATCH = 2000


def record_existing_rows(apps, schema_editor):
    now = timezone.now()
    for name in MODELS:
        model = apps.get_model("evidence", name)
        history = apps.get_model("evidence", f"Historical{name}")
        history_attnames = {f.attname for f in history._meta.concrete_fields}
        attnames = [f.attname for f in model._meta.concrete_fields if f.attname in history_attnames]
        already = history.objects.values("id")
        rows = model.objects.exclude(pk__in=already).order_by("pk").values(*attnames)
        batch = []
        for row in rows.iterator(chunk_size=BATCH):
            batch.append(
                history(
                    **row,
                    history_date=now,
                    history_type="+",
                    history_change_reason="Recorded when history began",
                )
            )
            if len(batch) == BATCH:
                history.objects.bulk_create(batch)
                batch = []
        history.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [("evidence", "0008_vendor_accounts_group")]

    operations = [migrations.RunPython(record_existing_rows, migrations.RunPython.noop)]
