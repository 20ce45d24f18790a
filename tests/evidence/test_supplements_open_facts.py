"""The Supplements Open Facts importer (evidence/sources/supplements_open_facts.py) and its
command, on the project's pinned snapshot and on edited copies of it."""

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import CommandError, call_command

from evidence.models import Compound, CompoundAlias, Finding, Goal, Source, Study
from evidence.sources import supplements_open_facts as sof

pytestmark = pytest.mark.django_db

PINNED = Path(settings.BASE_DIR) / "data" / "supplements-open-facts"
CLAIM_FILES = sorted(
    p.relative_to(PINNED).as_posix() for p in PINNED.glob("supplements/*/claims/**/*.yml")
)
ANXIETY = "supplements/ashwagandha/claims/effects/intended-anxiety-negative-strong.yml"
SORENESS = "supplements/omega-3/claims/effects/intended-soreness-negative-weak.yml"
VO2MAX = "supplements/creatine/claims/biomarkers/vo2max-negative-strong.yml"
SYNTHETIC_CLAIM = """\
created: 2025-06-01
contributor: synthetic-test-contributor@example.invalid
paper: 10.99999/synthetic-test-paper
paper_quotes:
  abstract:
    - "Synthetic test quote, not from any paper"
effect: sleep-quality
kind: intended
direction: positive
strength: moderate
"""


def claim(path: str, root: Path = PINNED) -> dict:
    return yaml.safe_load((root / path).read_text(encoding="utf-8"))


def finding(path: str) -> Finding:
    return Finding.objects.select_related("study__source", "compound", "goal").get(
        source_record_id=path
    )


def copy_snapshot(tmp_path, *supplements: str) -> Path:
    """An editable copy of the pinned snapshot with only some supplements (an import of the
    whole snapshot validates every row through full_clean() and takes tens of seconds)."""
    root = tmp_path / "snapshot"
    shutil.copytree(PINNED, root, ignore=shutil.ignore_patterns("supplements"))
    for name in supplements:
        shutil.copytree(PINNED / "supplements" / name, root / "supplements" / name)
    return root


@pytest.fixture
def snapshot(tmp_path) -> Path:
    """Four supplements: 14 claims, one synonym shared by two of them, one without claims."""
    return copy_snapshot(tmp_path, "ashwagandha", "niacin", "nicotinamide", "zinc")


def test_the_pinned_snapshot_holds_only_effect_and_biomarker_claims():
    assert len(CLAIM_FILES) == 221
    assert {path.split("/")[3] for path in CLAIM_FILES} == {"effects", "biomarkers"}


def test_the_pinned_snapshot_imports_with_every_claim_file_counted():
    # One import of the whole snapshot (slow: every row goes through full_clean()); the
    # checks of its three findings field by field follow, as helpers of this test.
    report = sof.import_snapshot(PINNED)

    assert sorted(c.path for c in report.claims) == CLAIM_FILES
    imported = report.count("imported") + report.count("flagged")
    assert imported + report.count("rejected") == len(CLAIM_FILES)
    assert report.count("rejected") == 0
    assert Finding.objects.filter(study__source__slug=sof.SLUG).count() == imported
    papers = {claim(path)["paper"].lower() for path in CLAIM_FILES}
    assert Study.objects.filter(source__slug=sof.SLUG).count() == len(papers) == 125
    assert Compound.objects.count() == 56
    assert len(report.without_claims) == 23
    lines = "\n".join(report.lines())
    assert "221 claim files: 221 imported (18 of them flagged for review), 0 rejected." in lines
    assert (
        f'flagged: {SORENESS}: graded "weak" (non-significant by its scale) but p = 0.0004' in lines
    )
    assert set(Compound.objects.values_list("kind", flat=True)) == {Compound.Kind.NOT_STATED}
    assert not Compound.objects.filter(published=False).exists()
    assert_a_fall_in_anxiety_is_imported_field_by_field_as_a_benefit()
    assert_a_weak_grade_with_p_0_0004_is_imported_as_given_and_flagged()
    assert_creatine_lowering_vo2max_is_a_surrogate_harm()
    assert_the_source_carries_the_notice_commit_licence_and_attribution()
    assert_every_goal_is_under_a_vocabulary_category_with_a_readable_name()
    assert_every_goal_places_its_compounds_and_a_three_goal_stack_is_built()


def assert_a_fall_in_anxiety_is_imported_field_by_field_as_a_benefit():
    data, row = claim(ANXIETY), finding(ANXIETY)

    assert row.compound.slug == "ashwagandha"
    assert (row.goal.slug, row.goal.name, row.goal.category) == (
        "anxiety",
        "Anxiety",
        "Mood and stress",
    )
    assert row.outcome == "Anxiety"
    assert row.outcome_kind == Finding.OutcomeKind.CLINICAL
    assert row.measure == Finding.Measure.QUALITATIVE
    assert row.comparator == Finding.Comparator.NOT_REPORTED
    assert row.value is None
    assert row.higher_is_better is False
    assert row.source_direction == data["direction"] == "negative"
    assert row.direction == Finding.Direction.BENEFIT
    assert (row.source_grade, row.source_grade_scale) == (data["strength"], sof.GRADE_SCALE)
    assert row.p_value == Decimal(str(data["p_value"])) == Decimal("0.005")
    assert row.p_value_is_bound is None  # the dataset does not say whether it is exact
    assert row.stated_significance is None  # a p-value is given: significance is derived
    assert (row.dose, row.dose_max, row.dose_unit, row.dose_per_kg) == (
        Decimal(300),
        Decimal(600),
        "mg",
        False,
    )
    assert row.dose_timing == ""
    assert row.contributor == data["contributor"]
    assert row.quote == "\n".join(f"Abstract: “{q}”" for q in data["paper_quotes"]["abstract"])
    assert (row.reviewed, row.review_note) == (True, "")
    study = row.study
    assert study.doi == data["paper"]
    assert study.citation_url == f"https://doi.org/{data['paper']}"
    assert (study.title, study.design, study.n) == ("", Study.Design.NOT_REPORTED, None)
    assert study.reviewed is False
    assert study.source.slug == sof.SLUG
    # Another claim from the same paper is another finding of the same study.
    stress = finding(ANXIETY.replace("anxiety-negative", "stress-resilience-positive"))
    assert stress.study == study


def assert_a_weak_grade_with_p_0_0004_is_imported_as_given_and_flagged():
    data, row = claim(SORENESS), finding(SORENESS)

    assert (row.goal.slug, row.outcome, row.higher_is_better) == (
        "soreness",
        "Muscle soreness",
        False,
    )
    assert (row.source_direction, row.source_grade) == ("negative", "weak")
    assert row.direction == Finding.Direction.BENEFIT
    assert row.p_value == Decimal(str(data["p_value"])) == Decimal("0.0004")
    assert row.reviewed is False
    assert row.review_note == 'Graded "weak" (non-significant by its scale) but p = 0.0004.'


def assert_creatine_lowering_vo2max_is_a_surrogate_harm():
    data, row = claim(VO2MAX), finding(VO2MAX)

    assert data["biomarker"] == "vo2max"
    assert (row.goal.slug, row.outcome) == ("aerobic-performance", "VO2max")
    assert row.outcome_kind == Finding.OutcomeKind.SURROGATE
    assert row.higher_is_better is True
    assert (row.source_direction, row.direction) == ("negative", Finding.Direction.HARM)
    assert row.source_grade == data["strength"] == "strong"
    assert row.p_value is None
    assert row.stated_significance is True  # "strong" means p < 0.05 on the dataset's scale
    assert row.study.doi == data["paper"]


def assert_the_source_carries_the_notice_commit_licence_and_attribution():
    source = Source.objects.get(slug=sof.SLUG)

    assert source.version == "304f884cdd6d26eff26d9ea18ceb992a90c65dca"
    assert source.retrieved.isoformat() == "2025-06-12"
    assert (source.licence, source.licence_url) == (
        "CC BY 4.0",
        "https://creativecommons.org/licenses/by/4.0/",
    )
    assert source.attribution.startswith("Source: Supplements Open Facts (CC BY 4.0)")
    assert source.attribution_required


def test_a_synonym_of_two_supplements_is_kept_on_both_and_flagged(snapshot):
    report = sof.import_snapshot(snapshot)

    aliases = CompoundAlias.objects.filter(name="vitamin b3").select_related("compound")
    assert {a.compound.slug for a in aliases} == {"niacin", "nicotinamide"}
    assert {a.reviewed for a in aliases} == {False}
    assert {a.review_note for a in aliases} == {
        "Also a synonym of Nicotinamide in the dataset.",
        "Also a synonym of Niacin in the dataset.",
    }
    assert len(report.flagged_aliases) == 2
    assert CompoundAlias.objects.filter(reviewed=True, name="nicotinic acid").exists()


def test_a_supplement_without_claims_is_imported_without_findings(snapshot):
    report = sof.import_snapshot(snapshot)

    zinc = Compound.objects.get(slug="zinc")
    assert not zinc.findings.exists()
    assert zinc.published
    assert report.without_claims == ["zinc"]


def test_importing_the_same_snapshot_again_changes_nothing(snapshot):
    sof.import_snapshot(snapshot)
    report = sof.import_snapshot(snapshot)

    assert report.database.changed == 0
    assert report.studies_removed == 0


def test_reimporting_an_edited_copy_changes_exactly_the_edits(snapshot):
    sof.import_snapshot(snapshot)
    before = {f.source_record_id: f for f in Finding.objects.all()}
    # Edit one claim, delete the only claim of one paper, add a synthetic claim.
    edited = "supplements/niacin/claims/effects/intended-healthspan-positive-moderate.yml"
    text = (snapshot / edited).read_text(encoding="utf-8")
    (snapshot / edited).write_text(text.replace("strength: moderate", "strength: strong"))
    papers = {}
    for path in sorted(before):
        papers.setdefault(claim(path, snapshot)["paper"].lower(), []).append(path)
    removed = next(p[0] for p in papers.values() if len(p) == 1 and p[0] != edited)
    removed_doi = claim(removed, snapshot)["paper"]
    (snapshot / removed).unlink()
    added = "supplements/zinc/claims/effects/intended-sleep-quality-positive-moderate.yml"
    (snapshot / added).parent.mkdir(parents=True)
    (snapshot / added).write_text(SYNTHETIC_CLAIM)

    report = sof.import_snapshot(snapshot)

    counts = report.database.counts
    assert (counts["findings"].created, counts["findings"].updated) == (1, 1)
    assert counts["findings"].deleted == 1
    assert (counts["studies"].created, counts["studies"].deleted) == (1, 1)
    assert report.database.changed == 5
    after = {f.source_record_id: f for f in Finding.objects.all()}
    assert set(before) - set(after) == {removed}
    assert set(after) - set(before) == {added}
    assert after[edited].source_grade == "strong"
    assert not Study.objects.filter(doi=removed_doi).exists()
    for path in set(before) & set(after) - {edited}:
        assert before[path].history.count() == after[path].history.count() == 1, path
    assert (
        Compound.objects.get(slug="zinc").findings.get().study.doi
        == "10.99999/synthetic-test-paper"
    )
    assert "zinc" not in report.without_claims


def test_an_editors_review_stands_until_the_source_changes_the_finding(tmp_path):
    snapshot = copy_snapshot(tmp_path, "omega-3")
    sof.import_snapshot(snapshot)
    row = finding(SORENESS)
    row.reviewed = True
    row.save(update_fields=["reviewed"])

    sof.import_snapshot(snapshot)
    assert finding(SORENESS).reviewed is True

    text = (snapshot / SORENESS).read_text(encoding="utf-8")
    (snapshot / SORENESS).write_text(text.replace("p_value: 0.0004", "p_value: 0.0003"))
    sof.import_snapshot(snapshot)
    assert finding(SORENESS).reviewed is False


def test_a_claim_the_model_refuses_is_rejected_with_the_models_message(snapshot):
    text = (snapshot / ANXIETY).read_text(encoding="utf-8")
    (snapshot / ANXIETY).write_text(text.replace("p_value: 0.005", "p_value: 5"))

    report = sof.import_snapshot(snapshot)

    rejected = [c for c in report.claims if c.status == "rejected"]
    assert [c.path for c in rejected] == [ANXIETY]
    assert "p-value must be above 0 and at most 1" in rejected[0].reasons[0]
    assert not Finding.objects.filter(source_record_id=ANXIETY).exists()
    assert Finding.objects.count() == 13


def test_claims_of_other_types_and_unknown_effects_are_rejected_with_the_reason(snapshot):
    interaction = snapshot / "supplements/niacin/claims/interactions/caffeine-low.yml"
    interaction.parent.mkdir()
    interaction.write_text("target: caffeine\ndanger_level: low\n")
    unknown = snapshot / "supplements/zinc/claims/effects/intended-flying-positive-strong.yml"
    unknown.parent.mkdir(parents=True)
    unknown.write_text(SYNTHETIC_CLAIM.replace("effect: sleep-quality", "effect: flying"))

    report = sof.import_snapshot(snapshot)

    reasons = {
        c.path.rsplit("/", 1)[-1]: c.reasons for c in report.claims if c.status == "rejected"
    }
    assert reasons == {
        "caffeine-low.yml": ["claim type 'interactions' is not imported (yet)"],
        "intended-flying-positive-strong.yml": ["effect 'flying' is not in the vocabulary mapping"],
    }
    assert len(report.claims) == 16


def test_a_snapshot_without_its_notice_imports_nothing(snapshot):
    (snapshot / "NOTICE.md").unlink()

    with pytest.raises(sof.SnapshotError, match="NOTICE.md"):
        sof.import_snapshot(snapshot)
    assert not Compound.objects.exists()


def assert_every_goal_is_under_a_vocabulary_category_with_a_readable_name():
    mapping = sof.load_mapping()["effects"]

    goals = Goal.objects.all()
    assert goals.count() >= 40
    for goal in goals:
        assert (goal.name, goal.category) == (
            mapping[goal.slug]["name"],
            mapping[goal.slug]["category"],
        )


def test_the_command_prints_the_report(snapshot, capsys):
    call_command("import_source", "supplements-open-facts", str(snapshot))

    out = capsys.readouterr().out
    assert "14 claim files: 14 imported (0 of them flagged for review), 0 rejected." in out
    assert 'alias flagged: "vitamin b3" of Niacin: Also a synonym of Nicotinamide' in out


def test_the_command_refuses_a_folder_that_is_not_a_snapshot(tmp_path):
    with pytest.raises(CommandError, match="NOTICE.md"):
        call_command("import_source", "supplements-open-facts", str(tmp_path))


def test_the_mapping_covers_every_vocabulary_effect_and_each_biomarker_names_a_goal():
    mapping = sof.load_mapping()
    effects = yaml.safe_load((PINNED / "vocab" / "effects.yml").read_text(encoding="utf-8"))

    assert set(mapping["effects"]) == set(effects)
    for slug, target in mapping["effects"].items():
        assert set(target) == {"category", "name", "higher_is_better"}, slug
        assert target["higher_is_better"] in (True, False, None), slug
    for slug, target in mapping["biomarkers"].items():
        assert (
            {"outcome", "goal", "higher_is_better"}
            <= set(target)
            <= {
                "outcome",
                "goal",
                "higher_is_better",
                "why",
            }
        ), slug
        assert target["goal"] in mapping["effects"], slug
        # An unknown desirable direction always says why.
        assert target["higher_is_better"] is not None or target.get("why"), slug


def assert_every_goal_places_its_compounds_and_a_three_goal_stack_is_built():
    """Issue 12's promise to a visitor: no goal is empty, and the computed places (no editor
    has tiered any of this data) build a stack for sleep, anxiety and strength."""
    from stacks.models import GoalScore
    from stacks.ranking import build_stack

    goals = Goal.objects.all()
    assert goals.count() >= 40
    placed = set(GoalScore.objects.values_list("goal_id", flat=True))
    assert [g.slug for g in goals if g.pk not in placed] == []
    assert GoalScore.objects.filter(group=GoalScore.Group.RANKED, computed=True).count() >= 30
    wanted = Goal.objects.filter(slug__in=["sleep-quality", "anxiety", "muscle-strength"])
    stack = build_stack(list(wanted))
    assert stack.picks and stack.uncovered_goals == ()
