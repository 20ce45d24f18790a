"""Properties of the scoring method itself, on plain data (no database)."""

import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.certainty import FindingFacts, facts_from_finding
from evidence.models import Finding, Study
from evidence.stats import Favours
from stacks.ranking import RankedCompound
from stacks.scoring import (
    OBSERVATIONAL_CAP,
    CompoundEvidence,
    Outcome,
    classify,
    score_evidence,
    size_factor,
    summarise,
)
from tests.factories import make_compound, make_finding, make_goal, make_study

TIER_WEIGHTS = {1: 90, 2: 75, 3: 60, 4: 40, 5: 20}
OBSERVATIONAL = [d for d in Study.Design.values if d not in Study.RANDOMISED_DESIGNS]


def facts(study="s1", design=Study.Design.RCT, n=100, **fields):
    defaults = {
        "study_title": f"Synthetic {study}",
        "trial_count": None,
        "outcome": "Synthetic outcome",
        "comparator": Finding.Comparator.PLACEBO,
        "significant": True,
        "favours": Favours.COMPOUND,
    }
    return FindingFacts(study_slug=study, design=design, n=n, **{**defaults, **fields})


def evidence(tier=3, findings=(), serious=()):
    return CompoundEvidence(
        tier_number=tier,
        tier_label=f"Synthetic tier {tier}",
        tier_weight=TIER_WEIGHTS[tier],
        tier_means_no_effect=False,
        findings=tuple(findings),
        serious_side_effects=tuple(serious),
    )


def ranked(name, tier, score):
    return RankedCompound(
        slug=name,
        name=name,
        kind="supplement",
        score=score.value,
        tier_number=tier,
        tier_label="",
        components=score.components,
        study_count=score.study_count,
        randomised_study_count=score.randomised_study_count,
        participants=score.participants,
    )


@st.composite
def finding_lists(draw):
    """Findings from up to five studies; every finding of a study shares its design and size."""
    studies = {
        slug: (draw(st.sampled_from(Study.Design.values)), draw(st.integers(1, 100_000)))
        for slug in draw(st.sets(st.sampled_from(["s1", "s2", "s3", "s4", "s5"]), max_size=5))
    }
    if not studies:
        return []
    findings = []
    for _ in range(draw(st.integers(0, 8))):
        slug = draw(st.sampled_from(sorted(studies)))
        design, n = studies[slug]
        findings.append(
            FindingFacts(
                study_slug=slug,
                study_title=f"Synthetic study {slug}",
                design=design,
                n=n,
                trial_count=None,
                outcome=draw(st.sampled_from(["Synthetic A", "Synthetic B", "Synthetic C"])),
                comparator=draw(st.sampled_from(Finding.Comparator.values)),
                significant=draw(st.sampled_from([True, False, None])),
                favours=draw(st.sampled_from(list(Favours))),
                is_qualitative=draw(st.booleans()),
            )
        )
    return findings


tiers = st.sampled_from(sorted(TIER_WEIGHTS))


@given(tier=tiers, findings=finding_lists(), n=st.integers(min_value=1, max_value=100_000))
def test_adding_a_significant_rct_benefit_never_lowers_a_score(tier, findings, n):
    before = score_evidence(evidence(tier, findings))
    benefit = facts(study="zz-new-rct", design=Study.Design.RCT, n=n)
    after = score_evidence(evidence(tier, [*findings, benefit]))
    assert after.value >= before.value


@given(higher=tiers, lower=tiers, findings=finding_lists())
def test_a_higher_tier_never_ranks_below_a_lower_one_with_equal_findings(higher, lower, findings):
    if higher >= lower:
        higher, lower = min(higher, lower), max(higher, lower)
    if higher == lower:
        return
    strong = ranked("zzz-synthetic", higher, score_evidence(evidence(higher, findings)))
    weak = ranked("aaa-synthetic", lower, score_evidence(evidence(lower, findings)))
    assert sorted([weak, strong], key=RankedCompound.sort_key)[0] is strong


@given(tier=tiers, findings=finding_lists(), n=st.integers(min_value=1, max_value=100_000))
def test_observational_only_never_outranks_the_same_with_randomised_benefit(tier, findings, n):
    observational = [
        replace(f, design=random.Random(f.study_slug).choice(OBSERVATIONAL)) for f in findings
    ]
    with_rct = [*observational, facts(study="zz-rct", design=Study.Design.RCT, n=n)]
    only_obs = ranked("aaa-synthetic", tier, score_evidence(evidence(tier, observational)))
    randomised = ranked("zzz-synthetic", tier, score_evidence(evidence(tier, with_rct)))
    assert sorted([only_obs, randomised], key=RankedCompound.sort_key)[0] is randomised


@given(findings=finding_lists())
def test_observational_only_evidence_is_capped(findings):
    observational = [
        replace(f, design=random.Random(f.study_slug).choice(OBSERVATIONAL)) for f in findings
    ]
    assert score_evidence(evidence(1, observational)).value <= OBSERVATIONAL_CAP


@given(tier=tiers, findings=finding_lists())
def test_score_stays_between_0_and_100(tier, findings):
    assert 0 <= score_evidence(evidence(tier, findings)).value <= 100


@settings(max_examples=50)
@given(tier=tiers, findings=finding_lists(), seed=st.integers())
def test_score_is_the_same_for_findings_in_any_order(tier, findings, seed):
    shuffled = list(findings)
    random.Random(seed).shuffle(shuffled)
    assert score_evidence(evidence(tier, findings)) == score_evidence(evidence(tier, shuffled))


@given(
    scores=st.lists(st.tuples(tiers, st.floats(0, 100), st.integers(0, 3)), max_size=12),
    seed=st.integers(),
)
def test_ranking_order_is_stable_under_shuffled_input(scores, seed):
    entries = [
        RankedCompound(
            slug=f"synthetic-{i}",
            name=f"Synthetic {i % 3}",
            kind="supplement",
            score=round(score, 1),
            tier_number=tier,
            tier_label="",
            components=(),
            study_count=rct,
            randomised_study_count=rct,
            participants=10 * rct,
        )
        for i, (tier, score, rct) in enumerate(scores)
    ]
    shuffled = list(entries)
    random.Random(seed).shuffle(shuffled)
    assert sorted(shuffled, key=RankedCompound.sort_key) == sorted(
        entries, key=RankedCompound.sort_key
    )


def test_inferiority_to_an_active_comparator_is_not_harm():
    inferior = facts(comparator=Finding.Comparator.ACTIVE, favours=Favours.COMPARATOR)
    harm = facts(comparator=Finding.Comparator.PLACEBO, favours=Favours.COMPARATOR)
    assert classify(inferior) == Outcome.INFERIOR_TO_ACTIVE
    assert classify(harm) == Outcome.HARM
    assert score_evidence(evidence(3, [inferior])).value > score_evidence(evidence(3, [harm])).value


def test_a_non_significant_result_adds_nothing():
    null = facts(significant=False, favours=Favours.COMPOUND)
    assert score_evidence(evidence(3, [null])).value == TIER_WEIGHTS[3]


def test_significant_harm_subtracts():
    harm = facts(favours=Favours.COMPARATOR)
    assert score_evidence(evidence(3, [harm])).value < TIER_WEIGHTS[3]


def test_serious_side_effects_lower_the_score():
    plain = score_evidence(evidence(3))
    risky = score_evidence(evidence(3, serious=["Synthetic serious effect"]))
    assert risky.value < plain.value
    assert any(c.kind == "safety" for c in risky.components)


def test_null_randomised_results_against_placebo_put_a_compound_in_the_no_effect_group():
    nulls = [facts(study="s1", significant=False), facts(study="s2", significant=False)]
    assert score_evidence(evidence(3, nulls)).no_effect
    assert not score_evidence(evidence(3, [])).no_effect  # not yet studied is not "no effect"
    assert not score_evidence(evidence(3, [*nulls, facts(study="s3")])).no_effect


def test_sample_size_adds_weight_with_diminishing_returns_up_to_a_cap():
    assert size_factor(10) < size_factor(100) < size_factor(1000) == size_factor(50_000) == 1
    assert size_factor(100) - size_factor(10) > size_factor(1000) - size_factor(900)


def test_study_design_sets_the_weight_of_equal_findings():
    order = [
        Study.Design.META_ANALYSIS,
        Study.Design.RCT,
        Study.Design.NON_RANDOMISED,
        Study.Design.COHORT,
        Study.Design.CASE_CONTROL,
        Study.Design.CASE_SERIES,
        Study.Design.ANIMAL,
        Study.Design.IN_VITRO,
    ]
    scores = [score_evidence(evidence(4, [facts(design=d, n=500)])).value for d in order]
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) == len(scores)


def test_consistent_benefits_raise_and_contradictions_lower_confidence():
    one = score_evidence(evidence(4, [facts(study="s1")]))
    two = score_evidence(evidence(4, [facts(study="s1"), facts(study="s2")]))
    mixed = score_evidence(
        evidence(4, [facts(study="s1"), facts(study="s2", favours=Favours.COMPARATOR)])
    )
    assert any(c.kind == "consistency" and c.points > 0 for c in two.components)
    assert any(c.kind == "consistency" and c.points < 0 for c in mixed.components)
    assert two.value > one.value > mixed.value


@given(tier=tiers, findings=finding_lists(), listed=st.integers(1, 4))
def test_a_summary_keeps_the_biggest_studies_and_the_same_total(tier, findings, listed):
    score = score_evidence(evidence(tier, findings))
    summary = summarise(score.components, listed)
    studies = [c for c in score.components if c.kind == "study"]
    assert sum(c.points for c in summary) == pytest.approx(sum(c.points for c in score.components))
    if len(studies) <= listed:
        assert summary == score.components
    else:
        assert len([c for c in summary if c.kind == "study"]) == listed + 1
        [others] = [c for c in summary if c.kind == "study" and not c.study_slug]
        hidden = [c for c in studies if c not in summary]
        assert others.label == f"{len(hidden)} more studies, each listed on the evidence page"
        assert others.points == pytest.approx(sum(c.points for c in hidden), abs=0.01)
        smallest_shown = min(abs(c.points) for c in summary if c.kind == "study" and c.study_slug)
        assert all(abs(c.points) <= smallest_shown for c in hidden)


@pytest.mark.django_db
def test_a_study_without_a_title_is_explained_as_title_not_reported():
    finding = make_finding(make_compound(), make_goal(), make_study(title=""))

    assert facts_from_finding(finding).study_title == "Title not reported"


# Places computed without an editor's tier, and the precedence between the two.


def computed(findings=(), serious=()):
    return CompoundEvidence(findings=tuple(findings), serious_side_effects=tuple(serious))


tiers_or_computed = st.one_of(st.none(), tiers)


def scored(tier, findings):
    return score_evidence(computed(findings) if tier is None else evidence(tier, findings))


@given(findings=finding_lists(), n=st.integers(min_value=1, max_value=100_000))
def test_adding_a_significant_rct_benefit_never_lowers_a_computed_score(findings, n):
    before = score_evidence(computed(findings))
    benefit = facts(study="zz-new-rct", design=Study.Design.RCT, n=n)
    after = score_evidence(computed([*findings, benefit]))
    assert after.value >= before.value


@given(
    tier=tiers_or_computed,
    findings=finding_lists(),
    design=st.sampled_from(Study.Design.values),
    significant=st.sampled_from([True, False, None]),
    qualitative=st.booleans(),
)
def test_harm_never_raises_a_score(tier, findings, design, significant, qualitative):
    harm = facts(
        study="zz-new-harm",
        design=design,
        favours=Favours.COMPARATOR,
        significant=significant,
        is_qualitative=qualitative,
    )
    assert scored(tier, [*findings, harm]).value <= scored(tier, findings).value


@given(findings=finding_lists())
def test_a_computed_place_never_starts_above_tier_3(findings):
    anchor = score_evidence(computed(findings)).components[0]
    assert anchor.kind == "certainty"
    assert anchor.points <= TIER_WEIGHTS[3]


@given(tier=tiers, findings=finding_lists(), score=st.floats(0, 100))
def test_at_equal_scores_an_editors_tier_ranks_before_a_computed_place(tier, findings, score):
    editor = RankedCompound(
        slug="zzz-synthetic-editor",
        name="Zzz synthetic editor",
        kind="supplement",
        score=round(score, 1),
        tier_number=tier,
        tier_label="",
        components=(),
        study_count=0,
        randomised_study_count=0,
        participants=0,
    )
    machine = replace(
        editor,
        slug="aaa-synthetic-computed",
        name="Aaa synthetic computed",
        tier_number=None,
        computed=True,
        study_count=9,
        randomised_study_count=9,
        participants=9_000,
    )
    assert sorted([machine, editor], key=RankedCompound.sort_key)[0] is editor


def test_a_computed_place_says_it_is_not_yet_reviewed_by_an_editor():
    score = score_evidence(computed([facts()]))
    assert score.computed
    assert "Computed from 1 study, not yet reviewed by an editor" in score.components[0].label
    assert score.certainty.label == "Moderate"  # one RCT of 100: imprecise
