from django.db import migrations

DEFAULT_LADDER = [
    (
        1,
        "Established efficacy",
        "Consistent benefit in several adequately sized randomised trials or a meta-analysis of "
        "them, on outcomes that matter to patients.",
        90,
        False,
    ),
    (
        2,
        "Likely efficacy",
        "Benefit in randomised human trials, with some inconsistency, small samples or "
        "indirect outcomes holding it back from the top tier.",
        75,
        False,
    ),
    (
        3,
        "Probable efficacy",
        "Meaningful benefit in human research, limited by moderate sample sizes, heterogeneous "
        "designs or few head-to-head comparisons.",
        60,
        False,
    ),
    (
        4,
        "Preliminary evidence",
        "Early human data (small, uncontrolled or observational studies) that hint at a benefit "
        "but cannot yet establish one.",
        40,
        False,
    ),
    (
        5,
        "Theoretical",
        "Mechanistic, animal or in vitro evidence only; no meaningful human outcome data yet.",
        20,
        False,
    ),
    (
        6,
        "Evidence of no effect",
        "Studied in adequate human trials, which found no meaningful benefit.",
        0,
        True,
    ),
]


def create_ladder(apps, schema_editor):
    Tier = apps.get_model("evidence", "Tier")
    for number, label, description, weight, means_no_effect in DEFAULT_LADDER:
        Tier.objects.update_or_create(
            number=number,
            defaults={
                "label": label,
                "description": description,
                "weight": weight,
                "means_no_effect": means_no_effect,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("evidence", "0001_initial")]

    operations = [migrations.RunPython(create_ladder, migrations.RunPython.noop)]
