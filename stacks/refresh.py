"""Keep the precomputed GoalScore table equal to a fresh computation.

Every edit that can move a score (ratings, findings, studies, tiers, serious side effects,
dosing, a compound's name, kind or published flag) calls `mark_compounds`, through the signals
in stacks/signals.py; the affected compounds' rows are recomputed at once, or once at the end
of an `evidence.batch.bulk_edit()` block (the importer uses one). Bulk writes that bypass signals
(the synthetic data generator) call `rescore_all()`, also available as `manage.py rescore`; it
rebuilds the price table (stacks.prices) too.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable

from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

from evidence.batch import run_or_defer
from evidence.cache import bump_content_version
from evidence.certainty import facts_from_finding
from evidence.models import (
    CertaintyChange,
    Compound,
    Dosing,
    Finding,
    Goal,
    Rating,
    Route,
    SideEffect,
    Study,
    Tier,
)
from stacks.models import GoalScore
from stacks.prices import reprice_all
from stacks.scoring import (
    CompoundEvidence,
    score_evidence,
    summarise,
)

GOALS_PER_BATCH = 25

# The fields each GoalScore row is computed from, model by model: an edit that changes none
# of them cannot move a score (stacks.signals then skips the refresh).
SCORED_FIELDS: dict[type, frozenset[str]] = {
    Compound: frozenset({"name", "slug", "kind", "mechanism_class", "published"}),
    Rating: frozenset({"compound", "goal", "tier", "bottom_line"}),
    Tier: frozenset({"number", "label", "weight", "means_no_effect"}),
    Study: frozenset({"slug", "title", "design", "n", "trial_count"}),
    Finding: frozenset(
        {
            "study",
            "compound",
            "goal",
            "outcome",
            "comparator",
            "measure",
            "value",
            "comparator_value",
            "ci_low",
            "ci_high",
            "p_value",
            "p_value_is_bound",
            "stated_significance",
            "higher_is_better",
            "direction",
            "outcome_kind",
        }
    ),
    # A range counts at its low end (amount), so amount_max moves no score; per_kg does.
    Dosing: frozenset({"compound", "goal", "amount", "unit", "per_kg", "doses_per_week", "route"}),
    SideEffect: frozenset({"compound", "name", "frequency"}),
}


def score_rows(goal_ids: Iterable[int] | None = None, compound_ids: Iterable[int] | None = None):
    """Fresh GoalScore rows (unsaved) for every published pair within the goals and compounds.

    None means all. A pair has a row when the compound is rated for the goal or has findings
    for it. Without a rating the place is computed; a pair whose findings show no direction
    goes in the "insufficient" group without a score.
    """
    scope = Q(compound__published=True)
    if goal_ids is not None:
        scope &= Q(goal_id__in=list(goal_ids))
    if compound_ids is not None:
        scope &= Q(compound_id__in=list(compound_ids))
    ratings = {
        (r.goal_id, r.compound_id): r for r in Rating.objects.filter(scope).select_related("tier")
    }
    findings = defaultdict(list)
    for finding in Finding.objects.filter(scope).select_related("study").order_by("pk"):
        findings[(finding.goal_id, finding.compound_id)].append(finding)
    pairs = set(ratings) | set(findings)
    compounds = Compound.objects.filter(pk__in={c for _, c in pairs}).prefetch_related(
        Prefetch("dosings", queryset=Dosing.objects.order_by("pk")),
        Prefetch(
            "side_effects",
            queryset=SideEffect.objects.filter(frequency=SideEffect.Frequency.SERIOUS).order_by(
                "name"
            ),
            to_attr="serious_side_effects",
        ),
    )
    compounds = {c.pk: c for c in compounds}
    return [
        _row(goal_id, compounds[compound_id], ratings.get((goal_id, compound_id)), found)
        for (goal_id, compound_id) in sorted(pairs)
        for found in [findings.get((goal_id, compound_id), [])]
    ]


def _row(goal_id: int, compound: Compound, rating: Rating | None, findings: list[Finding]):
    dosings = list(compound.dosings.all())
    routes = {d.route for d in dosings}
    goal_dosings = [d for d in dosings if d.goal_id == goal_id] or [
        d for d in dosings if d.goal_id is None
    ]
    monthly = [mg for d in goal_dosings if (mg := d.milligrams_per_month) is not None]
    common = {
        "goal_id": goal_id,
        "compound_id": compound.pk,
        "name": compound.name,
        "sort_name": compound.name.casefold(),
        "slug": compound.slug,
        "kind": compound.kind,
        "mechanism_class": compound.mechanism_class,
        "injection_only": bool(routes) and routes <= Route.injections(),
        "milligrams_per_month": min(monthly) if monthly else None,
    }
    score = score_evidence(
        CompoundEvidence(
            tier_number=rating.tier.number if rating else None,
            tier_label=rating.tier.label if rating else "",
            tier_weight=rating.tier.weight if rating else 0,
            tier_means_no_effect=rating.tier.means_no_effect if rating else False,
            findings=tuple(facts_from_finding(f) for f in findings),
            serious_side_effects=tuple(s.name for s in compound.serious_side_effects),
        )
    )
    if score.no_effect:
        group = GoalScore.Group.NO_EFFECT
    elif rating is not None or score.in_favour:
        group = GoalScore.Group.RANKED
    else:
        group = GoalScore.Group.INSUFFICIENT
    return GoalScore(
        **common,
        group=group,
        score=None if group == GoalScore.Group.INSUFFICIENT else score.value,
        tier_number=rating.tier.number if rating else None,
        tier_label=rating.tier.label if rating else "",
        computed=rating is None,
        certainty=int(score.certainty.level) if score.certainty else None,
        certainty_steps=[step.__dict__ for step in score.certainty.steps]
        if score.certainty
        else [],
        components=[component.__dict__ for component in summarise(score.components)],
        study_count=score.study_count,
        randomised_study_count=score.randomised_study_count,
        participants=score.participants,
        design_weighted_studies=round(
            sum(c.design_weight for c in score.components if c.kind == "study"), 2
        ),
        bottom_line=rating.bottom_line if rating else "",
    )


@transaction.atomic
def refresh_compounds(compound_ids: Iterable[int]) -> int:
    """Recompute every row of these compounds; returns the number of rows written.

    Called after an edit of content, which has moved the content version already."""
    compound_ids = set(compound_ids)
    if not compound_ids:
        return 0
    rows = score_rows(compound_ids=compound_ids)
    old = GoalScore.objects.filter(compound_id__in=compound_ids)
    before = _certainties(old)
    old.delete()
    GoalScore.objects.bulk_create(rows, batch_size=1000)
    # The other compounds of these goals move up or down a place too.
    GoalScore.objects.number_places({goal_id for goal_id, _ in before} | {r.goal_id for r in rows})
    record_certainty_changes(before, rows)
    return len(rows)


def _certainties(scores) -> dict[tuple[int, int], int | None]:
    return {
        (g, c): level for g, c, level in scores.values_list("goal_id", "compound_id", "certainty")
    }


def record_certainty_changes(
    before: dict[tuple[int, int], int | None], rows: Iterable[GoalScore]
) -> int:
    """Record, for the public change log, every pair scored before whose computed certainty
    the fresh rows change (evidence.models.CertaintyChange); returns how many."""
    now = timezone.now()
    changes = [
        CertaintyChange(
            compound_id=row.compound_id,
            goal_id=row.goal_id,
            previous=before[key],
            certainty=row.certainty,
            changed_at=now,
        )
        for row in rows
        if (key := (row.goal_id, row.compound_id)) in before and before[key] != row.certainty
    ]
    CertaintyChange.objects.bulk_create(changes, batch_size=1000)
    return len(changes)


def rescore_all(progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild the whole table, goal batch by goal batch, and the price table beside it
    (stacks.prices.reprice_all); returns the number of score rows."""
    goal_ids = list(Goal.objects.order_by("pk").values_list("pk", flat=True))
    written = 0
    with transaction.atomic():
        before = _certainties(GoalScore.objects.all())
        GoalScore.objects.all().delete()
        for start in range(0, len(goal_ids), GOALS_PER_BATCH):
            batch = goal_ids[start : start + GOALS_PER_BATCH]
            rows = score_rows(goal_ids=batch)
            GoalScore.objects.bulk_create(rows, batch_size=2000)
            GoalScore.objects.number_places(batch)
            record_certainty_changes(before, rows)
            written += len(rows)
            if progress:
                progress(min(start + GOALS_PER_BATCH, len(goal_ids)), len(goal_ids))
        reprice_all()
        bump_content_version()
    return written


def mark_compounds(compound_ids: Iterable[int]) -> None:
    """Scores of these compounds may have changed: refresh now, or once when the open
    bulk edit (evidence.batch) ends."""
    run_or_defer(refresh_compounds, (c for c in compound_ids if c is not None))
