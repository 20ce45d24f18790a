"""Clicks move out of Offer into OfferClicks (one row per offer and day), so no save of an
offer can write back a count it read earlier. The counts so far are carried over as the
clicks of the day this migration runs (their own days were never recorded)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Sum
from django.utils import timezone


def carry_counts_over(apps, schema_editor):
    Offer = apps.get_model("evidence", "Offer")
    OfferClicks = apps.get_model("evidence", "OfferClicks")
    today = timezone.localdate()
    OfferClicks.objects.bulk_create(
        OfferClicks(offer_id=pk, day=today, count=count)
        for pk, count in Offer.objects.filter(click_count__gt=0).values_list("pk", "click_count")
    )


def carry_counts_back(apps, schema_editor):
    Offer = apps.get_model("evidence", "Offer")
    OfferClicks = apps.get_model("evidence", "OfferClicks")
    totals = OfferClicks.objects.values("offer").annotate(total=Sum("count"))
    for row in totals:
        Offer.objects.filter(pk=row["offer"]).update(click_count=row["total"])


class Migration(migrations.Migration):

    dependencies = [
        ('evidence', '0012_finding_direction'),
    ]

    operations = [
        migrations.CreateModel(
            name='OfferClicks',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('count', models.PositiveBigIntegerField(default=0)),
                ('offer', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='clicks', to='evidence.offer')),
            ],
            options={
                'verbose_name_plural': 'offer clicks',
                'constraints': [models.UniqueConstraint(fields=('offer', 'day'), name='offer_clicks_one_row_per_day', violation_error_message='An offer has one click count per day.')],
            },
        ),
        migrations.RunPython(carry_counts_over, carry_counts_back),
        migrations.RemoveField(
            model_name='offer',
            name='click_count',
        ),
    ]
