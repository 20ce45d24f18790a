"""The scoring service against the database: constraints, groups, stacks, query counts."""

from dataclasses import replace
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Value
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence.models import Condition, Finding, Interaction, SideEffect, Study
from stacks import ranking
from stacks.models import GoalScore
from stacks.ranking import Constraints, build_stack, rank_goal
from tests.factories import (
    make_compound,
    make_contraindication,
    make_dosing,
    make_finding,
    make_goal,
    make_offer,
    make_rated_compound,
    make_rating,
    make_side_effect,
    make_study,
    tier,
)

pytestmark = pytest.mark.django_db


def slugs(entries):
    return [entry.slug for entry in entries]


def test_ranks_rated_compounds_best_first_with_components():
    goal = make_goal()
    weak = make_rated_compound(goal, tier_number=4)
    strong = make_rated_compound(goal, tier_number=2)
    ranking = rank_goal(goal)
    assert slugs(ranking.ranked) == [strong.slug, weak.slug]
    top = ranking.ranked[0]
    assert top.tier_number == 2
    # "Why this rank": the components add up to the score, anchored on the tier's weight.
    assert top.score == pytest.approx(sum(c.points for c in top.components), abs=0.05)
    assert top.components[0].kind == "tier"
    assert top.components[0].points == tier(2).weight
    assert any(c.kind == "study" for c in top.components)


def test_a_ranking_without_its_why_has_the_same_entries_without_components_or_steps():
    goal = make_goal()
    for tier_number in (2, 4):
        make_rated_compound(goal, tier_number=tier_number)
    full, brief = rank_goal(goal), rank_goal(goal, with_why=False)
    assert slugs(brief.ranked) == slugs(full.ranked)
    for shown, whole in zip(brief.ranked, full.ranked, strict=True):
        assert shown.components == () and shown.certainty_steps == ()
        assert whole.components and whole.certainty_steps
        # Everything a ranked list draws is there.
        assert (shown.score, shown.certainty, shown.bottom_line, shown.tier) == (
            whole.score,
            whole.certainty,
            whole.bottom_line,
            whole.tier,
        )


def test_a_stack_without_its_why_picks_the_same_and_reads_no_details():
    goals = [make_goal() for _ in range(3)]
    build_catalogue(goals, 8, 1)
    build_stack(goals)  # what is read once per content version (stack_warnings) is read now
    with CaptureQueriesContext(connection) as whole:
        full = build_stack(goals, limit=1)
    with CaptureQueriesContext(connection) as without_why:
        brief = build_stack(goals, limit=1, with_why=False)
    # The picks below the one entry shown per goal are not read again for their details, and
    # the candidates below the shown entries are read with them, in one query.
    assert len(without_why) == len(whole) - 2
    assert [p.compound.slug for p in brief.picks] == [p.compound.slug for p in full.picks]
    assert all(p.compound.components == () for p in brief.picks)
    assert all(p.compound.components for p in full.picks)


def test_unpublished_compounds_are_not_ranked():
    goal = make_goal()
    hidden = make_rated_compound(goal, published=False)
    assert hidden.slug not in slugs(rank_goal(goal).ranked)


def test_contraindication_excludes_compound_with_the_reason():
    goal = make_goal()
    compound = make_rated_compound(goal)
    make_contraindication(compound, Condition.PREGNANCY, note="Synthetic reason")
    ranking = rank_goal(goal, Constraints(conditions=frozenset({Condition.PREGNANCY})))
    assert ranking.ranked == ()
    [exclusion] = ranking.excluded
    assert exclusion.slug == compound.slug
    assert exclusion.reasons == ("Contraindicated: Pregnancy (Synthetic reason)",)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    contraindicated=st.sets(st.sampled_from(Condition.values)),
    declared=st.sets(st.sampled_from(Condition.values)),
)
def test_a_declared_contraindication_always_excludes(contraindicated, declared):
    goal = make_goal()
    compound = make_rated_compound(goal)
    for condition in contraindicated:
        make_contraindication(compound, condition)
    ranking = rank_goal(goal, Constraints(conditions=frozenset(declared)))
    excluded = compound.slug in slugs(ranking.excluded)
    assert excluded == bool(contraindicated & declared)
    assert excluded != (compound.slug in slugs(ranking.ranked))


def test_no_injections_excludes_compounds_only_given_by_injection():
    goal = make_goal()
    injected = make_rated_compound(goal)
    make_dosing(injected, route="subcutaneous")
    make_dosing(injected, route="intramuscular")
    either = make_rated_compound(goal)
    make_dosing(either, route="subcutaneous")
    make_dosing(either, route="oral")
    ranking = rank_goal(goal, Constraints(no_injections=True))
    assert slugs(ranking.ranked) == [either.slug]
    assert "Only given by injection" in ranking.excluded[0].reasons[0]


def test_a_route_not_reported_is_not_an_injection():
    goal = make_goal()
    unknown = make_rated_compound(goal)
    make_dosing(unknown, route="not_reported")
    partly_unknown = make_rated_compound(goal)
    make_dosing(partly_unknown, route="subcutaneous")
    make_dosing(partly_unknown, route="not_reported")
    ranking = rank_goal(goal, Constraints(no_injections=True))
    assert sorted(slugs(ranking.ranked)) == sorted([unknown.slug, partly_unknown.slug])


def test_a_dose_range_is_costed_at_its_low_end():
    goal = make_goal()
    ranged = make_rated_compound(goal)
    make_dosing(ranged, amount=Decimal(1), amount_max=Decimal(3), doses_per_week=Decimal(7))
    make_offer(ranged, price=Decimal("10.00"), amount_per_unit=Decimal(10))  # 1 USD/mg
    ranking = rank_goal(goal, Constraints(monthly_budget=Decimal(50)))
    assert slugs(ranking.ranked) == [ranged.slug]
    assert ranking.ranked[0].monthly_cost == Decimal("30.33")  # 1 mg a day, not 3


def test_a_dose_per_kg_of_body_weight_gives_no_cost_estimate():
    goal = make_goal()
    per_kg = make_rated_compound(goal)
    make_dosing(per_kg, amount=Decimal("0.1"), unit="mg", per_kg=True, doses_per_week=Decimal(7))
    make_offer(per_kg, price=Decimal("10.00"), amount_per_unit=Decimal(10))
    ranking = rank_goal(goal, Constraints(monthly_budget=Decimal(50)))
    assert ranking.ranked == ()
    assert ranking.excluded[0].reasons == ("Monthly cost cannot be estimated in USD",)


def test_kind_and_minimum_tier_exclude_with_reasons():
    goal = make_goal()
    peptide = make_rated_compound(goal, kind="peptide", tier_number=2)
    weak = make_rated_compound(goal, kind="supplement", tier_number=4)
    ranking = rank_goal(goal, Constraints(excluded_kinds=frozenset({"peptide"}), min_tier=3))
    reasons = {e.slug: e.reasons for e in ranking.excluded}
    assert reasons[peptide.slug] == ("Kind excluded: Peptide",)
    assert reasons[weak.slug] == ("Below the minimum tier: Tier 4, minimum Tier 3",)


def test_in_stock_only_and_budget_filter_on_offers():
    goal = make_goal()
    cheap = make_rated_compound(goal)
    make_dosing(cheap, amount=Decimal(1), doses_per_week=Decimal(7))  # ~30.3 mg a month
    make_offer(cheap, price=Decimal("10.00"), amount_per_unit=Decimal(10))  # 1 USD/mg
    dear = make_rated_compound(goal)
    make_dosing(dear, amount=Decimal(1), doses_per_week=Decimal(7))
    make_offer(dear, price=Decimal("100.00"), amount_per_unit=Decimal(10), in_stock=False)
    unsold = make_rated_compound(goal)

    in_stock = rank_goal(goal, Constraints(in_stock_only=True))
    assert slugs(in_stock.ranked) == [cheap.slug]
    assert {e.slug for e in in_stock.excluded} == {dear.slug, unsold.slug}
    assert {e.reasons for e in in_stock.excluded} == {("No offer in stock",)}

    budget = rank_goal(goal, Constraints(monthly_budget=Decimal(50)))
    assert slugs(budget.ranked) == [cheap.slug]
    assert budget.ranked[0].monthly_cost == Decimal("30.33")
    reasons = {e.slug: e.reasons[0] for e in budget.excluded}
    assert reasons[dear.slug].startswith("Estimated 303.33 USD/month is over the budget")
    assert reasons[unsold.slug] == "Monthly cost cannot be estimated in USD"


def test_a_budget_compares_the_cost_to_the_cent_as_shown():
    goal = make_goal()
    compound = make_rated_compound(goal)
    make_dosing(compound, amount=Decimal(1), doses_per_week=Decimal(7))  # ~30.333 mg a month
    make_offer(compound, price=Decimal("10.00"), amount_per_unit=Decimal(10))  # 1 USD/mg

    shown_cost = rank_goal(goal, Constraints(monthly_budget=Decimal("30.33")))
    assert slugs(shown_cost.ranked) == [compound.slug]
    assert shown_cost.ranked[0].monthly_cost == Decimal("30.33")
    a_cent_less = rank_goal(goal, Constraints(monthly_budget=Decimal("30.32")))
    assert a_cent_less.ranked == ()
    assert a_cent_less.excluded[0].reasons[0].startswith("Estimated 30.33 USD/month is over")


def test_an_offer_held_for_review_moves_no_cost_or_filter():
    """Issue 13 finding 5: 0.01 for 2,000,000,000 units of 99,999,999 g ranked a compound at
    a monthly cost of 0.0. Such a pack is refused; one far below the median is held."""
    goal = make_goal()
    compound = make_rated_compound(goal)
    make_dosing(compound, amount=Decimal(1), doses_per_week=Decimal(7))  # ~30.3 mg a month
    make_offer(compound, price=Decimal("100.00"), amount_per_unit=Decimal(10), in_stock=False)
    held = make_offer(compound, price=Decimal("0.50"), amount_per_unit=Decimal(1000))
    assert held.review == held.Review.HELD

    budget = rank_goal(goal, Constraints(monthly_budget=Decimal(5)))
    assert budget.ranked == ()
    assert budget.excluded[0].reasons[0].startswith("Estimated 303.33 USD/month is over")
    assert rank_goal(goal, Constraints(in_stock_only=True)).ranked == ()


def test_offers_never_change_a_score():
    goal = make_goal()
    compounds = [make_rated_compound(goal, tier_number=t, findings=t) for t in (2, 3, 4)]
    before = [(e.slug, e.score, e.components) for e in rank_goal(goal).ranked]

    offers = [make_offer(c, price=Decimal("1.00")) for c in compounds]
    added = [(e.slug, e.score, e.components) for e in rank_goal(goal).ranked]
    for offer in offers:
        offer.price = Decimal("9999.00")
        offer.in_stock = False
        offer.save()
    repriced = [(e.slug, e.score, e.components) for e in rank_goal(goal).ranked]
    offers[0].delete()
    removed = [(e.slug, e.score, e.components) for e in rank_goal(goal).ranked]

    assert before == added == repriced == removed


def test_no_effect_compounds_are_reported_apart_from_unproven_ones():
    goal = make_goal()
    null = make_compound()
    make_rating(null, goal, 4)
    for _ in range(2):
        make_finding(
            null, goal, value=Decimal("1.1"), ci_low=Decimal("0.8"), ci_high=Decimal("1.4")
        )
    unstudied = make_compound()
    make_rating(unstudied, goal, 5)
    ranking = rank_goal(goal)
    assert slugs(ranking.no_effect) == [null.slug]
    assert slugs(ranking.ranked) == [unstudied.slug]


def test_a_compound_with_findings_but_no_rating_gets_a_computed_place():
    goal = make_goal()
    compound = make_compound()
    make_finding(compound, goal)
    ranking = rank_goal(goal)
    [entry] = ranking.ranked
    assert (entry.slug, entry.computed, entry.tier) == (compound.slug, True, None)
    assert entry.score is not None and entry.certainty is not None
    assert entry.components[0].kind == "certainty"
    assert "not yet reviewed by an editor" in entry.components[0].label


def unclear(compound, goal, **study):
    """A finding whose source states no direction."""
    return make_finding(
        compound,
        goal,
        study=make_study(**study),
        measure=Finding.Measure.QUALITATIVE,
        direction=Finding.Direction.UNCLEAR,
    )


def test_compounds_whose_findings_show_no_direction_are_listed_as_insufficient():
    goal = make_goal()
    compound = make_compound()
    unclear(compound, goal)
    ranking = rank_goal(goal)
    assert ranking.ranked == ()
    assert slugs(ranking.insufficient) == [compound.slug]


def stated(compound, goal, direction, comparator=Finding.Comparator.PLACEBO):
    """A significant result its source reports without figures, in the given direction."""
    return make_finding(
        compound,
        goal,
        measure=Finding.Measure.QUALITATIVE,
        stated_significance=True,
        direction=direction,
        comparator=comparator,
    )


def test_a_harm_reported_without_figures_lowers_the_score_and_a_benefit_raises_it():
    goal = make_goal()
    harmed, helped, untouched = (make_rated_compound(goal, findings=0) for _ in range(3))
    stated(harmed, goal, Finding.Direction.HARM)
    stated(helped, goal, Finding.Direction.BENEFIT)
    scores = {entry.slug: entry.score for entry in rank_goal(goal).ranked}
    assert scores[harmed.slug] < scores[untouched.slug] < scores[helped.slug]
    [harm_line] = [c for c in rank_goal(goal).ranked if c.slug == harmed.slug][0].components[1:]
    assert "significant harm, reported without figures" in harm_line.detail


@pytest.mark.parametrize(
    "direction",
    [Finding.Direction.NO_DIFFERENCE, Finding.Direction.MIXED, Finding.Direction.UNCLEAR],
)
def test_a_result_without_figures_that_states_no_side_moves_nothing(direction):
    goal = make_goal()
    studied, untouched = (
        make_rated_compound(goal, findings=0),
        make_rated_compound(goal, findings=0),
    )
    stated(studied, goal, direction)
    scores = {entry.slug: entry.score for entry in rank_goal(goal).ranked}
    assert scores[studied.slug] == scores[untouched.slug]


def test_insufficient_compounds_are_listed_by_their_evidence_not_alphabetically():
    goal = make_goal()
    animal_only = make_compound("Synthetic A animal only")
    unclear(animal_only, goal, design=Study.Design.ANIMAL, n=None)
    one_cohort = make_compound("Synthetic B one cohort")
    unclear(one_cohort, goal, design=Study.Design.COHORT, n=None)
    two_cohorts = make_compound("Synthetic C two cohorts")
    for _ in range(2):
        unclear(two_cohorts, goal, design=Study.Design.COHORT, n=None)
    randomised = make_compound("Synthetic D one trial")
    unclear(randomised, goal, design=Study.Design.RCT, n=None)
    assert slugs(rank_goal(goal).insufficient) == [
        randomised.slug,
        two_cohorts.slug,
        one_cohort.slug,
        animal_only.slug,
    ]


def test_an_insufficient_compound_has_no_score():
    goal = make_goal()
    compound = make_compound()
    unclear(compound, goal)
    [entry] = rank_goal(goal).insufficient
    assert (entry.score, entry.tier) == (None, None)


def test_ties_are_broken_by_the_documented_rule_not_database_order():
    goal = make_goal()
    names = ["Synthetic Zeta", "Synthetic alpha", "Synthetic Beta"]
    for name in names:
        make_rating(make_compound(name=name), goal, 3)
    assert [e.name for e in rank_goal(goal).ranked] == sorted(names, key=str.casefold)


def build_catalogue(goals, compounds_per_goal, findings_per_compound):
    for goal in goals:
        for i in range(compounds_per_goal):
            compound = make_compound()
            make_rating(compound, goal, 2 + i % 3)
            make_dosing(compound, goal=goal)
            make_side_effect(compound, SideEffect.Frequency.SERIOUS)
            make_contraindication(compound, Condition.PREGNANCY)
            make_offer(compound)
            study = make_study(design=Study.Design.META_ANALYSIS)
            for j in range(findings_per_compound):
                make_finding(compound, goal, study=study, outcome=f"Synthetic outcome {j}")


@pytest.mark.parametrize("scale", [1, 10])
def test_ranking_reads_a_fixed_number_of_queries(scale, django_assert_max_num_queries):
    goal = make_goal()
    build_catalogue([goal], 2 * scale, 2 * scale)
    constraints = Constraints(
        conditions=frozenset({Condition.BREASTFEEDING}),
        in_stock_only=True,
        monthly_budget=Decimal(500),
    )
    # Every list of the goal with its size and exclusions; the rows kept, priced; then the
    # declared conditions' notes for the excluded.
    with django_assert_max_num_queries(3):
        ranking = rank_goal(goal, constraints)
    assert len(ranking.ranked) == 2 * scale


@pytest.mark.parametrize("scale", [1, 10])
def test_a_stack_reads_a_fixed_number_of_queries(scale, django_assert_max_num_queries):
    goals = [make_goal() for _ in range(3)]
    build_catalogue(goals, 2 * scale, 2 * scale)
    # Every goal's lists and candidates numbered in one query, the rows kept (with their
    # contraindications) read in another; then the picks' interactions. One spare.
    with django_assert_max_num_queries(4):
        stack = build_stack(goals)
    assert len(stack.picks) == 5


def test_a_stack_covers_every_goal_before_doubling_up():
    liver, immune, sleep = make_goal(), make_goal(), make_goal()
    strong_liver = [make_rated_compound(liver, tier_number=1) for _ in range(3)]
    weak_immune = make_rated_compound(immune, tier_number=5)
    stack = build_stack([liver, immune, sleep], size=2)
    picked = [p.compound.slug for p in stack.picks]
    assert weak_immune.slug in picked
    assert len(set(picked) & {c.slug for c in strong_liver}) == 1
    assert stack.uncovered_goals == (sleep,)


def test_a_compound_serving_two_goals_counts_for_each():
    liver, immune = make_goal(), make_goal()
    both = make_compound()
    make_rating(both, liver, 3)
    make_rating(both, immune, 3)
    one = make_rated_compound(liver, tier_number=2)
    stack = build_stack([liver, immune], size=1)
    [pick] = stack.picks
    assert pick.compound.slug == both.slug
    assert set(pick.goal_scores) == {liver.slug, immune.slug}
    assert one.slug not in [p.compound.slug for p in stack.picks]


def test_a_second_compound_for_a_covered_goal_is_worth_less():
    goal = make_goal()
    first, second = (
        make_rated_compound(goal, tier_number=2),
        make_rated_compound(goal, tier_number=2),
    )
    picks = build_stack([goal]).picks
    assert [p.compound.slug for p in picks] == sorted([first.slug, second.slug], key=str)
    assert picks[1].marginal_gain == pytest.approx(picks[0].marginal_gain / 2, rel=0.05)


def test_priorities_weigh_goals():
    liver, immune = make_goal(), make_goal()
    for_liver, for_immune = (
        make_rated_compound(liver, tier_number=3),
        make_rated_compound(immune, tier_number=3),
    )
    stack = build_stack([liver, immune], priorities={immune.slug: 3}, size=2)
    assert [p.compound.slug for p in stack.picks] == [for_immune.slug, for_liver.slug]


def test_stack_warns_of_interactions_shared_contraindications_and_same_mechanism():
    goal = make_goal()
    a = make_rated_compound(goal, mechanism_class="Synthetic class")
    b = make_rated_compound(goal, mechanism_class="Synthetic class")
    for compound in (a, b):
        make_contraindication(compound, Condition.PREGNANCY)
    Interaction.objects.create(
        compound_a=b, compound_b=a, severity=Interaction.Severity.MAJOR, note="Synthetic note"
    )
    warnings = build_stack([goal]).warnings
    assert [w.kind for w in warnings] == [
        "interaction",
        "same_mechanism",
        "shared_contraindication",
    ]
    assert warnings[0].severity == "major"
    assert "Synthetic note" in warnings[0].message


def test_picks_without_an_interaction_on_record_read_no_interactions():
    goal = make_goal()
    a = make_rated_compound(goal)
    make_rated_compound(goal)
    Interaction.objects.create(
        compound_a=a,
        compound_b=make_rated_compound(make_goal()),
        severity=Interaction.Severity.MAJOR,
        note="Synthetic note",
    )
    build_stack([goal])  # which compounds have an interaction: read once per content version
    with CaptureQueriesContext(connection) as queries:
        stack = build_stack([goal])
    assert len(stack.picks) == 2 and not stack.warnings
    assert not [q for q in queries if Interaction._meta.db_table in q["sql"]]


def test_an_interaction_recorded_after_a_stack_was_built_is_warned_of_at_once():
    goal = make_goal()
    a, b = make_rated_compound(goal), make_rated_compound(goal)
    assert not build_stack([goal]).warnings
    Interaction.objects.create(
        compound_a=a, compound_b=b, severity=Interaction.Severity.MAJOR, note="Synthetic note"
    )
    assert [w.kind for w in build_stack([goal]).warnings] == ["interaction"]


@pytest.mark.parametrize("with_why", [True, False])
def test_picks_below_the_shown_entries_carry_every_contraindication_into_the_warnings(with_why):
    goals = [make_goal(), make_goal()]
    picks = []
    for goal in goals:  # each goal's best compound, then the one the stack picks second
        make_rated_compound(goal, tier_number=1)
        picks.append(make_rated_compound(goal, tier_number=2))
    for compound in picks:
        make_contraindication(compound, Condition.PREGNANCY)
        make_contraindication(compound, Condition.KIDNEY_DISEASE)
    # One entry shown per goal: the second picks are read as candidates only.
    stack = build_stack(goals, size=4, limit=1, with_why=with_why)
    assert {p.slug for p in picks} <= {p.compound.slug for p in stack.picks}
    shared = [w for w in stack.warnings if w.kind == "shared_contraindication"]
    assert [w.message.rsplit(": ", 1)[1] for w in shared] == [
        Condition.KIDNEY_DISEASE.label,
        Condition.PREGNANCY.label,
    ]
    assert all(set(w.compounds) == {p.slug for p in picks} for w in shared)


def test_stack_estimates_monthly_cost_where_offers_allow():
    goal = make_goal()
    priced = make_rated_compound(goal)
    make_dosing(priced, amount=Decimal(1), doses_per_week=Decimal(7))
    make_offer(priced, price=Decimal("10.00"), amount_per_unit=Decimal(10))
    unpriced = make_rated_compound(goal)
    stack = build_stack([goal])
    assert stack.monthly_cost == Decimal("30.33")
    assert stack.cost_unknown_for == (unpriced.slug,)


def test_contraindicated_compounds_never_enter_a_stack():
    goal = make_goal()
    compound = make_rated_compound(goal, tier_number=1)
    make_contraindication(compound, Condition.AUTOIMMUNE_DISEASE)
    stack = build_stack([goal], Constraints(conditions=frozenset({Condition.AUTOIMMUNE_DISEASE})))
    assert stack.picks == ()
    assert stack.uncovered_goals == (goal,)
    # The declared condition is what keeps it out: without it, it is picked.
    assert [p.compound.slug for p in build_stack([goal]).picks] == [compound.slug]


# Cached parts of pages are named by Constraints.key: two constraints share a name only when
# they are the same constraints, however their sets were ordered.
constraints_drawn = st.builds(
    Constraints,
    conditions=st.frozensets(st.sampled_from(Condition.values), max_size=3),
    no_injections=st.booleans(),
    excluded_kinds=st.frozensets(st.sampled_from(["peptide", "drug", "herbal"]), max_size=2),
    min_tier=st.none() | st.integers(1, 5),
    in_stock_only=st.booleans(),
    monthly_budget=st.none() | st.decimals(0, 1_000, places=2).map(lambda d: d.normalize()),
    currency=st.sampled_from(["USD", "EUR"]),
)


@given(constraints_drawn, constraints_drawn)
def test_constraints_share_a_key_only_when_they_are_the_same(a, b):
    assert (a.key == b.key) == (a == b)


# A ranking no constraint narrows reads each list's first rows by the place numbered when the
# rows were scored (GoalScore.place); under constraints, a window numbers every row. The two
# must agree whenever the constraints exclude nothing.
EXCLUDING_NOTHING = Constraints(excluded_kinds=frozenset({"synthetic-kind-of-nothing"}))


def test_a_ranking_nothing_narrows_reads_its_rows_by_place_not_by_a_window():
    goal = make_goal()
    for tier_number in (2, 3, 3):
        make_rated_compound(goal, tier_number)
    with CaptureQueriesContext(connection) as plain:
        plain_ranking = rank_goal(goal, limit=2)
    with CaptureQueriesContext(connection) as narrowed:
        narrowed_ranking = rank_goal(goal, EXCLUDING_NOTHING, limit=2)
    assert not any("ROW_NUMBER" in query["sql"] for query in plain.captured_queries)
    assert any("ROW_NUMBER" in query["sql"] for query in narrowed.captured_queries)
    assert replace(plain_ranking, key="") == replace(narrowed_ranking, key="")
    assert plain_ranking.totals["ranked"] == 3


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    compounds=st.lists(
        st.tuples(st.integers(1, 5), st.integers(0, 2), st.booleans()), min_size=1, max_size=7
    ),
    limit=st.integers(1, 4),
)
def test_rows_read_by_place_are_the_rows_a_window_numbers(compounds, limit):
    goal, other = make_goal(), make_goal()
    for tier_number, findings, also_other in compounds:
        compound = make_compound()
        if findings or tier_number < 5:
            make_rating(compound, goal, tier_number)
        for _ in range(findings):
            make_finding(compound, goal)
        if also_other:
            make_rating(compound, other, tier_number)
    for goals in ([goal], [goal, other]):
        plain = build_stack(goals, limit=limit, size=3)
        narrowed = build_stack(goals, EXCLUDING_NOTHING, limit=limit, size=3)
        assert [replace(r, key="") for r in plain.rankings] == [
            replace(r, key="") for r in narrowed.rankings
        ]
        assert plain.picks == narrowed.picks


# A stack without its rankings (the API's) reads only each goal's first candidates the
# constraints leave in, stopping there (stacks.ranking._candidates_left_in); with them, a window
# numbers every row. The two must pick the same.


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    compounds=st.lists(
        st.tuples(
            st.integers(1, 5),  # tier (5: findings only)
            st.sampled_from(["peptide", "supplement", "herbal"]),
            st.booleans(),  # contraindicated in pregnancy
            st.sampled_from(["oral", "subcutaneous"]),
            st.sampled_from([None, ("USD", True), ("USD", False), ("EUR", True)]),  # an offer
            st.booleans(),  # also rated for the second goal
        ),
        min_size=1,
        max_size=8,
    ),
    constraints=constraints_drawn,
    size=st.integers(1, 4),
)
def test_a_stack_without_its_rankings_picks_what_it_picks_with_them(
    compounds, constraints, size, monkeypatch
):
    # Few enough candidates that the read stops before a goal's last row, and reads some of
    # them whole only when a stack may pick them (`_contending`).
    monkeypatch.setattr(ranking, "STACK_CANDIDATES", 3)
    monkeypatch.setattr(ranking, "CANDIDATES_READ", 2)
    goal, other = make_goal(), make_goal()
    for tier_number, kind, contraindicated, route, offer, also_other in compounds:
        compound = make_compound(kind=kind)
        if tier_number < 5:
            make_rating(compound, goal, tier_number)
        make_finding(compound, goal)
        if also_other:
            make_rating(compound, other, min(tier_number, 4))
        if contraindicated:
            make_contraindication(compound, "pregnancy")
        make_dosing(compound, route=route)
        if offer is not None:
            currency, in_stock = offer
            make_offer(compound, currency=currency, in_stock=in_stock)
    for goals in ([goal], [goal, other]):
        with_rankings = build_stack(goals, constraints, size=size, limit=3)
        with CaptureQueriesContext(connection) as read:
            alone = build_stack(goals, constraints, size=size, with_rankings=False)
        assert alone == replace(with_rankings, rankings=())
        assert not any("ROW_NUMBER" in query["sql"] for query in read.captured_queries)


# A stack reads whole only the candidates it may pick (stacks.ranking._contending): it picks
# exactly what it would pick from every goal's STACK_CANDIDATES best.


def _from_every_candidate(contending):
    def every(goals, found, size, constraints):
        return contending(goals, found, ranking.STACK_CANDIDATES, constraints)

    return every


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    compounds=st.lists(
        st.tuples(st.sets(st.integers(0, 2), min_size=1), st.integers(1, 4), st.sampled_from("ab")),
        min_size=1,
        max_size=14,
    ),
    goal_count=st.integers(1, 3),
    priorities=st.tuples(*[st.sampled_from([0, 0.5, 1, 3])] * 3),
    size=st.integers(1, 4),
)
def test_a_stack_picks_from_its_contending_candidates_what_it_picks_from_all(
    compounds, goal_count, priorities, size, monkeypatch
):
    goals = [make_goal() for _ in range(goal_count)]
    for goal_indexes, tier_number, mechanism in compounds:
        compound = make_compound(mechanism_class=f"Synthetic mechanism {mechanism}")
        for index in {index % goal_count for index in goal_indexes}:
            make_rating(compound, goals[index], tier_number)
    weights = {goal.slug: weight for goal, weight in zip(goals, priorities, strict=False)}
    contending = build_stack(goals, priorities=weights, size=size)
    with monkeypatch.context() as patch:
        patch.setattr(ranking, "_contending", _from_every_candidate(ranking._contending))
        every = build_stack(goals, priorities=weights, size=size)
    assert contending == every


def liver_and_sleep_sharing_a_candidate_below_the_first_ones():
    liver, sleep = make_goal(), make_goal()
    # The first CANDIDATES_READ of the liver goal serve it alone; one further down serves both.
    for _ in range(ranking.CANDIDATES_READ):
        make_rated_compound(liver, 1)
    both = make_rated_compound(liver, 3)
    make_rating(both, sleep, 3)
    return liver, sleep, both


def test_a_candidate_for_two_goals_below_the_first_ones_is_read_with_their_lists():
    liver, sleep, both = liver_and_sleep_sharing_a_candidate_below_the_first_ones()
    build_stack([liver])  # what is read once per content version (stack_warnings) is read now
    with CaptureQueriesContext(connection) as alone:
        build_stack([liver], limit=1)
    with CaptureQueriesContext(connection) as together:
        stack = build_stack([liver, sleep], limit=1)
    assert len(together) == len(alone)
    assert both.slug in [pick.compound.slug for pick in stack.picks]


def test_candidates_a_stack_may_pick_that_its_lists_did_not_read_are_read_in_one_query(
    django_assert_num_queries,
):
    liver, sleep, both = liver_and_sleep_sharing_a_candidate_below_the_first_ones()
    # Each goal's candidates as a page built for that goal alone stored them.
    found = {}
    for goal in (liver, sleep):
        found.update(ranking._goal_lists([goal], Constraints(), 0, with_candidates=True)[1])
    assert len(found[liver.pk].read) == ranking.CANDIDATES_READ
    with django_assert_num_queries(1):
        contending = ranking._contending([liver, sleep], found, 5, Constraints())
    assert both.slug in [candidate.entry.slug for candidate in contending[liver.pk]]
    assert len(contending[liver.pk]) == 5 + 1  # the best five serving liver alone, and both


@given(constraints_drawn)
def test_constraints_exclude_any_exactly_when_they_give_a_reason_to(constraints):
    rows = ranking._with_exclusions(GoalScore.objects.all(), constraints)
    gives_no_reason = isinstance(rows.query.annotations["x_excluded"], Value)
    assert constraints.exclude_any == (not gives_no_reason)
