"""GRADE-style certainty: where a body of findings starts and every step with its reason."""

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from evidence.certainty import (
    OPTIMAL_INFORMATION_SIZE,
    FindingFacts,
    Level,
    assess,
)
from evidence.models import Finding, Study
from evidence.stats import Favours


def fact(study="synthetic-s1", design=Study.Design.RCT, n=500, **fields) -> FindingFacts:
    defaults = {
        "study_title": f"Synthetic {study}",
        "trial_count": None,
        "outcome": "Synthetic outcome",
        "comparator": Finding.Comparator.PLACEBO,
        "significant": True,
        "favours": Favours.COMPOUND,
        "ci_excludes_null": True,
    }
    return FindingFacts(study_slug=study, design=design, n=n, **{**defaults, **fields})


def domains(certainty) -> dict[str, str]:
    return {step.domain: step.reason for step in certainty.steps}


def test_a_large_positive_rct_is_high_certainty_with_only_its_start():
    certainty = assess([fact()])
    assert certainty.level == Level.HIGH
    assert [step.domain for step in certainty.steps] == ["start"]
    assert "1 randomised study" in certainty.steps[0].reason


def test_a_study_whose_design_is_not_reported_starts_low_and_is_rated_down_for_risk_of_bias():
    certainty = assess([fact(design=Study.Design.NOT_REPORTED, n=None, ci_excludes_null=None)])
    reasons = domains(certainty)
    assert reasons["start"] == "Starts Low: the design is not reported"
    assert "design not reported" in reasons["risk_of_bias"]
    assert certainty.level == Level.VERY_LOW


def test_a_ci_crossing_no_effect_is_rated_down_for_imprecision():
    certainty = assess([fact(ci_excludes_null=False, significant=False)])
    assert "every 95% CI crosses no effect" in domains(certainty)["imprecision"]
    assert certainty.level == Level.MODERATE


def test_too_few_participants_are_rated_down_for_imprecision():
    certainty = assess([fact(n=OPTIMAL_INFORMATION_SIZE - 1)])
    assert f"fewer than the {OPTIMAL_INFORMATION_SIZE}" in domains(certainty)["imprecision"]


def test_opposite_directions_are_rated_down_for_inconsistency():
    body = [fact(), fact(study="synthetic-s2", favours=Favours.COMPARATOR)]
    assert "opposite directions" in domains(assess(body))["inconsistency"]
    assert "the other way" in domains(assess(body, for_benefit=True))["inconsistency"]


def test_a_biomarker_outcome_is_rated_down_for_indirectness():
    certainty = assess([fact(outcome_kind=Finding.OutcomeKind.SURROGATE)])
    assert "surrogate outcomes (biomarkers) only" in domains(certainty)["indirectness"]
    assert certainty.level == Level.MODERATE


def test_animal_evidence_on_a_biomarker_is_rated_down_twice_for_indirectness():
    certainty = assess(
        [fact(design=Study.Design.ANIMAL, outcome_kind=Finding.OutcomeKind.SURROGATE)]
    )
    [step] = [s for s in certainty.steps if s.domain == "indirectness"]
    assert step.change == -2


def test_a_large_observational_effect_is_rated_up():
    certainty = assess([fact(design=Study.Design.COHORT, n=5000, ratio_ci=(2.5, 4.0))])
    assert "Large effect" in domains(certainty)["large_effect"]
    assert certainty.level == Level.MODERATE


def test_nothing_in_the_compounds_favour_has_no_certainty_of_benefit():
    assert assess([fact(favours=Favours.COMPARATOR)], for_benefit=True) is None


findings = st.lists(
    st.builds(
        fact,
        study=st.sampled_from(["synthetic-s1", "synthetic-s2", "synthetic-s3"]),
        design=st.sampled_from(Study.Design.values),
        n=st.one_of(st.none(), st.integers(1, 5000)),
        favours=st.sampled_from(list(Favours)),
        significant=st.sampled_from([True, False, None]),
        ci_excludes_null=st.sampled_from([True, False, None]),
        outcome_kind=st.sampled_from(Finding.OutcomeKind.values),
    ),
    max_size=6,
)


def level(body) -> int:
    certainty = assess(body, for_benefit=True)
    return 0 if certainty is None else int(certainty.level)


def consistent(body):
    """Every finding of a study shares its design and size, as in the database."""
    first = {}
    for f in body:
        first.setdefault(f.study_slug, f)
    return [replace(f, design=first[f.study_slug].design, n=first[f.study_slug].n) for f in body]


@given(findings, st.integers(1, 5000), st.sampled_from(sorted(Study.RANDOMISED_DESIGNS)))
def test_more_randomised_evidence_of_benefit_never_lowers_the_certainty_of_benefit(body, n, design):
    body = consistent(body)
    benefit = fact(study="synthetic-new", design=design, n=n)
    assert level([*body, benefit]) >= level(body)


@given(findings, st.sampled_from([True, False, None]))
def test_evidence_of_harm_never_raises_the_certainty_of_benefit(body, significant):
    body = consistent(body)
    harm = fact(study="synthetic-new", favours=Favours.COMPARATOR, significant=significant)
    assert level([*body, harm]) <= level(body)
