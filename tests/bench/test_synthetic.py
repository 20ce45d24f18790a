"""The synthetic data generator (bench/synthetic.py): reproducible, marked synthetic, valid,
and kept apart."""

from dataclasses import replace

import pytest
from django.db import connection

from bench import synthetic
from evidence.models import (
    Article,
    Compound,
    CompoundAlias,
    Contraindication,
    Dosing,
    Finding,
    Goal,
    Interaction,
    Offer,
    Rating,
    SideEffect,
    Source,
    Study,
    Tier,
    Vendor,
)
from stacks.models import GoalScore
from stacks.ranking import build_stack, rank_goal
from stacks.refresh import score_rows

pytestmark = pytest.mark.django_db

TINY = synthetic.Sizes(compounds=20, goals=4, studies=60, findings=150, offers=20)
TINY_ARGS = ["--compounds=20", "--goals=4", "--studies=60", "--findings=150", "--offers=20"]

GENERATED = [
    Goal,
    Compound,
    CompoundAlias,
    Rating,
    Dosing,
    SideEffect,
    Contraindication,
    Interaction,
    Vendor,
    Offer,
    Study,
    Finding,
]
# How a row points at another one independently of database ids.
NATURAL_KEYS = {
    Goal: "slug",
    Compound: "slug",
    Study: "slug",
    Vendor: "slug",
    Tier: "number",
    Source: "slug",
    Article: "slug",
}
# The fields that name a synthetic object, all of which must say so.
NAME_FIELDS = {
    Goal: ["name", "category"],
    Compound: ["name", "mechanism_class"],
    CompoundAlias: ["name"],
    SideEffect: ["name"],
    Vendor: ["name"],
    Offer: ["product_name"],
    Study: ["title"],
    Finding: ["outcome"],
}


def snapshot() -> dict[str, list[tuple]]:
    """Every generated row, with foreign keys as natural keys and without ids."""
    rows = {}
    for model in GENERATED:
        columns = []
        for field in model._meta.concrete_fields:
            if field.primary_key or field.name == "updated_at":
                continue
            if field.is_relation:
                columns.append(f"{field.name}__{NATURAL_KEYS[field.related_model]}")
            else:
                columns.append(field.name)
        rows[model.__name__] = sorted(model.objects.values_list(*columns), key=repr)
    return rows


def test_the_same_seed_gives_identical_rows():
    synthetic.generate(TINY, seed=7)
    first = snapshot()
    synthetic.delete_synthetic()
    assert not synthetic.synthetic_data_exists()
    synthetic.generate(TINY, seed=7)
    assert snapshot() == first
    assert len(first["Finding"]) == TINY.findings
    assert len(first["Study"]) == TINY.studies


def test_another_seed_gives_other_rows():
    synthetic.generate(TINY, seed=7)
    first = snapshot()
    synthetic.delete_synthetic()
    synthetic.generate(TINY, seed=8)
    assert snapshot()["Finding"] != first["Finding"]


def test_every_name_says_synthetic_and_every_slug_starts_with_synthetic():
    synthetic.generate(TINY)
    for model, names in NAME_FIELDS.items():
        for name in names:
            values = list(model.objects.values_list(name, flat=True))
            assert values, f"no {model.__name__} generated"
            assert all("Synthetic" in value for value in values), (model.__name__, name)
    for model, pattern in synthetic.SLUG_PATTERNS.items():
        assert all(s.startswith("synthetic-") for s in model.objects.values_list("slug", flat=True))
        # What delete_synthetic() finds them by.
        assert not model.objects.exclude(slug__regex=pattern).exists(), model.__name__
    comparator_names = Finding.objects.exclude(comparator_name="")
    assert comparator_names
    assert all("Synthetic" in f.comparator_name for f in comparator_names)
    assert all(".example.com" in url for url in Vendor.objects.values_list("website", flat=True))


def test_tiny_data_has_every_design_measure_comparator_and_significance():
    synthetic.generate(TINY)
    connection.check_constraints()  # the deferred foreign keys too, not only the CHECKs
    findings = list(Finding.objects.select_related("study"))
    assert {s.design for s in Study.objects.all()} == set(Study.Design.values)
    assert {f.measure for f in findings} == set(Finding.Measure.values)
    assert {f.comparator for f in findings} == set(Finding.Comparator.values)
    assert {f.significant for f in findings} >= {True, False}
    assert any(f.significant and f.ci_low is not None for f in findings)
    assert any(f.significant is False and f.ci_low is not None for f in findings)
    assert any(f.stated_significance is not None for f in findings)
    assert any(f.p_value is not None for f in findings)
    meta = Study.objects.filter(design=Study.Design.META_ANALYSIS)
    assert all(s.trial_count for s in meta)
    # Sample sizes where the design has participants; an in vitro study has none.
    assert Study.objects.filter(design=Study.Design.RCT).exclude(n=None).exists()
    assert not Study.objects.filter(design=Study.Design.IN_VITRO).exclude(n=None).exists()


def test_every_compound_is_rated_for_one_to_five_goals():
    # More goals than five, so the upper bound is the generator's and not the goal count's.
    synthetic.generate(replace(TINY, goals=8))
    counts = [c.ratings.count() for c in Compound.objects.all()]
    assert len(counts) == TINY.compounds
    assert all(1 <= n <= 5 for n in counts)
    assert max(counts) > 1
    ratings = list(Rating.objects.select_related("tier"))
    # Each rating points at the tier it was drawn with, which its bottom line names.
    assert all(f"Tier {r.tier.number} for" in r.bottom_line for r in ratings)
    assert len({r.tier.number for r in ratings}) >= 3


def test_the_most_popular_goal_has_the_most_ratings():
    synthetic.generate(synthetic.PRESETS["small"])
    ratings = {g.slug: g.ratings.count() for g in Goal.objects.all()}
    assert max(ratings, key=ratings.get) == "synthetic-goal-0001"
    assert ratings["synthetic-goal-0001"] > 3 * min(ratings.values())


def test_the_ranking_service_runs_over_the_generated_data():
    # The command line, not generate() alone: it also rebuilds the precomputed scores.
    synthetic.main(TINY_ARGS)
    stored = {(row.goal_id, row.compound_id): row.score for row in GoalScore.objects.all()}
    assert stored
    assert stored == pytest.approx({(r.goal_id, r.compound_id): r.score for r in score_rows()})
    goals = list(Goal.objects.order_by("slug"))
    ranking = rank_goal(goals[0])
    assert ranking.ranked
    stack = build_stack(goals[:3])
    assert stack.picks


def test_the_command_line_refuses_to_add_to_existing_synthetic_data():
    synthetic.main(TINY_ARGS)
    with pytest.raises(SystemExit, match="already exists"):
        synthetic.main(TINY_ARGS)


def test_replace_and_delete_leave_other_rows_alone():
    demo = Compound.objects.create(name="Demo compound", slug="demo-compound", kind="peptide")
    # The demo data's example vendors have slugs starting "synthetic-" too.
    demo_vendor = Vendor.objects.create(
        name="Synthetic Example Vendor",
        slug="synthetic-example-vendor",
        website="https://vendor.example.com",
    )
    demo_goal = Goal.objects.create(name="Demo goal", slug="demo-goal", category="Demo")
    demo_rating = Rating.objects.create(
        compound=demo, goal=demo_goal, tier=Tier.objects.get(number=3), bottom_line="Demo."
    )
    synthetic.main(TINY_ARGS)
    synthetic.main([*TINY_ARGS, "--replace"])
    assert Compound.objects.count() == TINY.compounds + 1
    synthetic.main(["--delete"])
    connection.check_constraints()  # nothing left pointing at a deleted row
    assert list(Compound.objects.all()) == [demo]
    assert list(Vendor.objects.all()) == [demo_vendor]
    assert list(Goal.objects.all()) == [demo_goal]
    assert list(Rating.objects.all()) == [demo_rating]
    assert not Finding.objects.exists()
    assert not Study.objects.exists()


def test_presets_and_explicit_counts():
    assert synthetic.sizes_from("large") == synthetic.PRESETS["large"]
    explicit = synthetic.sizes_from(None, compounds=50, studies=10)
    assert (explicit.compounds, explicit.studies, explicit.findings) == (50, 10, 30)
    assert explicit.offers == 150
    with pytest.raises(ValueError, match="findings must be at least studies"):
        synthetic.sizes_from(None, studies=10, findings=5)


def test_the_command_line_rejects_impossible_sizes_before_touching_the_database(capsys):
    with pytest.raises(SystemExit) as exit_info:
        synthetic.main(["--studies=10", "--findings=5"])
    assert exit_info.value.code == 2
    assert "findings must be at least studies" in capsys.readouterr().err
    assert not synthetic.synthetic_data_exists()
