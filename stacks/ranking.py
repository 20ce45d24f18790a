"""The scoring service: rank compounds for a goal and build a stack for several goals.

Views, the JSON API and the benchmarks all call `rank_goal` and `build_stack`. Both read the
database in a fixed number of queries, whatever the number of compounds and findings, and
leave the arithmetic to stacks.scoring. Offers are read only to apply the visitor's own
"in stock" and budget constraints and to estimate cost; they never touch a score.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)

from evidence.models import Compound, Condition, Contraindication, Goal, Interaction, Offer, Unit
from stacks.models import GoalScore
from stacks.scoring import Component

DEFAULT_STACK_SIZE = 5
MAX_STACK_SIZE = 10
DEFAULT_LIMIT = 20
MAX_LIMIT = 200
# A stack chooses among this many of the best-ranked compounds of each goal.
STACK_CANDIDATES = 100
# Each further pick for a goal is worth this fraction of the previous one for that goal.
DIMINISHING_RETURN = 0.5


@dataclass(frozen=True)
class Constraints:
    """What the visitor told us about themselves; every field narrows the results."""

    conditions: frozenset[str] = frozenset()
    no_injections: bool = False
    excluded_kinds: frozenset[str] = frozenset()
    min_tier: int | None = None  # the weakest tier number still shown (1 is strongest)
    in_stock_only: bool = False
    monthly_budget: Decimal | None = None
    currency: str = Offer.Currency.USD


@dataclass(frozen=True)
class TierRef:
    """A tier's number and label, enough to draw its badge."""

    number: int
    label: str


@dataclass(frozen=True)
class RankedCompound:
    slug: str
    name: str
    kind: str
    score: float
    tier_number: int | None
    tier_label: str
    components: tuple[Component, ...]
    study_count: int
    randomised_study_count: int
    participants: int
    bottom_line: str = ""
    monthly_cost: Decimal | None = None
    # Studies counted by design weight (an RCT 0.8, a cohort 0.4...), for the evidence map.
    design_weighted_studies: float = 0.0

    @property
    def tier(self) -> TierRef | None:
        return None if self.tier_number is None else TierRef(self.tier_number, self.tier_label)

    def sort_key(self):
        """The documented order: score, then tier, randomised studies, participants, name."""
        return (
            -self.score,
            self.tier_number if self.tier_number is not None else 99,
            -self.randomised_study_count,
            -self.participants,
            self.name.casefold(),
            self.slug,
        )


@dataclass(frozen=True)
class Exclusion:
    slug: str
    name: str
    tier_number: int | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Ranking:
    goal: Goal
    ranked: tuple[RankedCompound, ...]
    no_effect: tuple[RankedCompound, ...]
    unrated: tuple[RankedCompound, ...]
    excluded: tuple[Exclusion, ...]
    totals: dict[str, int] = field(default_factory=dict)  # full counts per group
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True)
class Pick:
    compound: RankedCompound
    goal_scores: dict[str, float]  # goal slug -> score for that goal
    marginal_gain: float


@dataclass(frozen=True)
class StackWarning:
    kind: str  # interaction | shared_contraindication | same_mechanism
    severity: str
    message: str
    compounds: tuple[str, ...]


@dataclass(frozen=True)
class Stack:
    goals: tuple[Goal, ...]
    picks: tuple[Pick, ...]
    uncovered_goals: tuple[Goal, ...]
    warnings: tuple[StackWarning, ...]
    monthly_cost: Decimal | None
    cost_unknown_for: tuple[str, ...]
    rankings: tuple[Ranking, ...] = field(default=())


# --- reading the precomputed scores ---------------------------------------------------------

# The documented order (RankedCompound.sort_key), as the ranking index serves it.
RANKING_ORDER = (
    "-score",
    "tier_number",
    "-randomised_study_count",
    "-participants",
    "sort_name",
    "slug",
)
_MG_PER_UNIT = Case(
    When(unit=Unit.MG, then=Value(Decimal(1))),
    When(unit=Unit.MCG, then=Value(Decimal("0.001"))),
    When(unit=Unit.G, then=Value(Decimal(1000))),
    default=None,
    output_field=DecimalField(),
)


def _live_offers(constraints: Constraints):
    """Offers that may price a compound for this visitor: active vendor, their currency."""
    offers = Offer.objects.filter(vendor__active=True, currency=constraints.currency)
    return offers.filter(in_stock=True) if constraints.in_stock_only else offers


def _annotated_rows(goal_ids: Sequence[int], constraints: Constraints):
    """GoalScore rows of the goals, annotated with one boolean per active exclusion."""
    rows = GoalScore.objects.filter(goal_id__in=goal_ids)
    flags = []
    if constraints.conditions:
        rows = rows.annotate(
            x_contraindicated=Exists(
                Contraindication.objects.filter(
                    compound_id=OuterRef("compound_id"), condition__in=constraints.conditions
                )
            )
        )
        flags.append(Q(x_contraindicated=True))
    if constraints.no_injections:
        flags.append(Q(injection_only=True))
    if constraints.excluded_kinds:
        flags.append(Q(kind__in=constraints.excluded_kinds))
    if constraints.min_tier is not None:
        flags.append(Q(tier_number__isnull=True) | Q(tier_number__gt=constraints.min_tier))
    if constraints.in_stock_only:
        rows = rows.annotate(
            x_in_stock=Exists(
                Offer.objects.filter(
                    compound_id=OuterRef("compound_id"), in_stock=True, vendor__active=True
                )
            )
        )
        flags.append(Q(x_in_stock=False))
    if constraints.monthly_budget is not None:
        cheapest = (
            _live_offers(constraints)
            .filter(compound_id=OuterRef("compound_id"))
            .annotate(
                per_mg=ExpressionWrapper(
                    F("price") / (F("amount_per_unit") * _MG_PER_UNIT * F("units_per_pack")),
                    output_field=DecimalField(),
                )
            )
            .filter(per_mg__isnull=False)
            .order_by("per_mg")
            .values("per_mg")[:1]
        )
        rows = rows.annotate(
            x_cost=ExpressionWrapper(
                F("milligrams_per_month") * Subquery(cheapest), output_field=DecimalField()
            )
        )
        flags.append(Q(x_cost__isnull=True) | Q(x_cost__gt=constraints.monthly_budget))
    excluded = Q(pk__in=[])
    for flag in flags:
        excluded |= flag
    return rows, excluded, bool(flags)


def _prices(compound_ids: Iterable[int], constraints: Constraints) -> dict[int, Decimal]:
    """Cheapest price per mg of each compound among the visitor's usable offers."""
    cheapest: dict[int, Decimal] = {}
    for offer in _live_offers(constraints).filter(compound_id__in=set(compound_ids)):
        price = offer.price_per_mg
        if price is not None and (
            offer.compound_id not in cheapest or price < cheapest[offer.compound_id]
        ):
            cheapest[offer.compound_id] = price
    return cheapest


def _cost(row: GoalScore, prices: Mapping[int, Decimal]) -> Decimal | None:
    """Estimated monthly cost: the documented dose per month x the cheapest price per mg.

    Pack rounding is ignored: this is an estimate of the ongoing cost.
    """
    price = prices.get(row.compound_id)
    if price is None or row.milligrams_per_month is None:
        return None
    return (row.milligrams_per_month * price).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _entry(row: GoalScore, prices: Mapping[int, Decimal], with_components=True) -> RankedCompound:
    return RankedCompound(
        slug=row.slug,
        name=row.name,
        kind=row.kind,
        score=row.score,
        tier_number=row.tier_number,
        tier_label=row.tier_label,
        components=tuple(Component(**c) for c in row.components) if with_components else (),
        study_count=row.study_count,
        randomised_study_count=row.randomised_study_count,
        participants=row.participants,
        bottom_line=row.bottom_line if with_components else "",
        monthly_cost=_cost(row, prices),
        design_weighted_studies=row.design_weighted_studies,
    )


def _reasons(row: GoalScore, constraints: Constraints, notes, prices) -> tuple[str, ...]:
    """Why the visitor's constraints exclude this row, in words."""
    reasons = []
    if getattr(row, "x_contraindicated", False):
        for condition, note in notes.get(row.compound_id, []):
            label = Condition(condition).label
            reasons.append(f"Contraindicated: {label}" + (f" ({note})" if note else ""))
    if constraints.no_injections and row.injection_only:
        reasons.append("Only given by injection")
    if row.kind in constraints.excluded_kinds:
        reasons.append(f"Kind excluded: {Compound.Kind(row.kind).label}")
    min_tier = constraints.min_tier
    if min_tier is not None and (row.tier_number is None or row.tier_number > min_tier):
        shown = f"Tier {row.tier_number}" if row.tier_number is not None else "Not rated"
        reasons.append(f"Below the minimum tier: {shown}, minimum Tier {min_tier}")
    if constraints.in_stock_only and not row.x_in_stock:
        reasons.append("No offer in stock")
    if constraints.monthly_budget is not None:
        cost = _cost(row, prices)
        currency = constraints.currency
        if cost is None:
            reasons.append(f"Monthly cost cannot be estimated in {currency}")
        elif cost > constraints.monthly_budget:
            reasons.append(
                f"Estimated {cost} {currency}/month is over the budget of "
                f"{constraints.monthly_budget} {currency}"
            )
    return tuple(reasons)


# --- ranking -------------------------------------------------------------------------------


def rank_goal(
    goal: Goal, constraints: Constraints = Constraints(), limit: int = DEFAULT_LIMIT
) -> Ranking:
    """Rank the published compounds rated for a goal, best first, under the constraints.

    Returns the best `limit` ranked compounds with score and components, the compounds whose
    evidence shows no effect (kept apart, never ranked as merely unproven), compounds with
    findings but no rating yet, and the compounds the constraints excluded with the reasons,
    each list cut at `limit` with its full count beside it. Reads the precomputed scores in a
    fixed number of queries, whatever the size of the catalogue.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    rows, excluded, constrained = _annotated_rows([goal.pk], constraints)
    included = rows.exclude(excluded) if constrained else rows
    Group = GoalScore.Group
    totals = rows.aggregate(
        ranked=Count("pk", filter=Q(group=Group.RANKED) & ~excluded),
        no_effect=Count("pk", filter=Q(group=Group.NO_EFFECT) & ~excluded),
        unrated=Count("pk", filter=Q(group=Group.UNRATED) & ~excluded),
        excluded=Count("pk", filter=excluded),
    )
    shown = {
        group: list(included.filter(group=group).order_by(*RANKING_ORDER)[:limit])
        if totals[key]
        else []
        for group, key in (
            (Group.RANKED, "ranked"),
            (Group.NO_EFFECT, "no_effect"),
            (Group.UNRATED, "unrated"),
        )
    }
    excluded_rows = (
        list(rows.filter(excluded).order_by(*RANKING_ORDER)[:limit]) if totals["excluded"] else []
    )
    displayed = [row for group in shown.values() for row in group] + excluded_rows
    prices = _prices((row.compound_id for row in displayed), constraints) if displayed else {}
    notes = defaultdict(list)
    if constraints.conditions and excluded_rows:
        for contraindication in Contraindication.objects.filter(
            compound_id__in={row.compound_id for row in excluded_rows},
            condition__in=constraints.conditions,
        ).order_by("condition"):
            notes[contraindication.compound_id].append(
                (contraindication.condition, contraindication.note)
            )
    return Ranking(
        goal=goal,
        ranked=tuple(_entry(row, prices) for row in shown[Group.RANKED]),
        no_effect=tuple(_entry(row, prices) for row in shown[Group.NO_EFFECT]),
        unrated=tuple(_entry(row, prices) for row in shown[Group.UNRATED]),
        excluded=tuple(
            Exclusion(
                row.slug, row.name, row.tier_number, _reasons(row, constraints, notes, prices)
            )
            for row in excluded_rows
        ),
        totals=totals,
        limit=limit,
    )


# --- stacks --------------------------------------------------------------------------------


def build_stack(
    goals: Sequence[Goal],
    constraints: Constraints = Constraints(),
    priorities: Mapping[str, float] | None = None,
    size: int = DEFAULT_STACK_SIZE,
    limit: int = DEFAULT_LIMIT,
) -> Stack:
    """Recommend up to `size` compounds covering the goals, chosen greedily by marginal gain.

    A compound's gain is the sum over the goals it serves of priority x score/100, where each
    earlier pick serving the same goal halves what the next one is worth for it. While some
    goal that has evidence is still uncovered, only compounds covering an uncovered goal are
    considered, so every coverable goal gets a compound before any goal gets a second one.
    The candidates are the STACK_CANDIDATES best-ranked compounds of each goal. Each goal's
    ranking (cut at `limit`) comes with the stack.
    """
    goals = tuple(dict.fromkeys(goals))
    priorities = {g.slug: float((priorities or {}).get(g.slug, 1.0)) for g in goals}
    size = max(1, min(size, MAX_STACK_SIZE))
    rankings = tuple(rank_goal(goal, constraints, limit) for goal in goals)

    slug_of_goal = {g.pk: g.slug for g in goals}
    rows, excluded, constrained = _annotated_rows(list(slug_of_goal), constraints)
    if constrained:
        rows = rows.exclude(excluded)
    ranked = rows.filter(group=GoalScore.Group.RANKED, score__gt=0).defer(
        "components", "bottom_line"
    )
    candidates = [
        row
        for goal_id in slug_of_goal
        for row in ranked.filter(goal_id=goal_id).order_by(*RANKING_ORDER)[:STACK_CANDIDATES]
    ]
    prices = _prices({row.compound_id for row in candidates}, constraints)
    scores: dict[str, dict[str, float]] = defaultdict(dict)  # compound slug -> goal -> score
    entries: dict[str, RankedCompound] = {}
    best_row: dict[str, GoalScore] = {}
    costs: dict[str, list[Decimal]] = defaultdict(list)
    for row in candidates:
        entry = _entry(row, prices, with_components=False)
        scores[row.slug][slug_of_goal[row.goal_id]] = row.score
        if entry.monthly_cost is not None:
            costs[row.slug].append(entry.monthly_cost)
        if row.slug not in entries or entry.sort_key() < entries[row.slug].sort_key():
            entries[row.slug] = entry
            best_row[row.slug] = row

    picks: list[Pick] = []
    picks_per_goal = dict.fromkeys(priorities, 0)
    remaining = set(entries)
    while remaining and len(picks) < size:
        uncovered = {g for g, count in picks_per_goal.items() if count == 0}
        covering = {s for s in remaining if uncovered & scores[s].keys()}
        pool = covering or remaining

        def gain(slug: str) -> float:
            return sum(
                priorities[g] * score / 100 * DIMINISHING_RETURN ** picks_per_goal[g]
                for g, score in scores[slug].items()
            )

        best = min(pool, key=lambda s: (-gain(s), entries[s].sort_key()))
        best_gain = gain(best)
        if best_gain <= 0:
            break
        picks.append(Pick(entries[best], dict(sorted(scores[best].items())), round(best_gain, 3)))
        for goal_slug in scores[best]:
            picks_per_goal[goal_slug] += 1
        remaining.discard(best)

    picks = _with_components(picks, [best_row[p.compound.slug] for p in picks])
    picked = (
        list(
            Compound.objects.filter(pk__in=[best_row[p.compound.slug].compound_id for p in picks])
            .prefetch_related(
                Prefetch(
                    "contraindications", queryset=Contraindication.objects.order_by("condition")
                )
            )
            .order_by("pk")
        )
        if picks
        else []
    )
    # A pick is taken once: its cost is that of the dearest dose among the goals it serves.
    pick_costs = {p.compound.slug: max(costs[p.compound.slug], default=None) for p in picks}
    known = [c for c in pick_costs.values() if c is not None]
    return Stack(
        goals=goals,
        picks=tuple(picks),
        uncovered_goals=tuple(g for g in goals if picks_per_goal[g.slug] == 0),
        warnings=stack_warnings(picked),
        monthly_cost=sum(known, Decimal(0)) if known else None,
        cost_unknown_for=tuple(slug for slug, c in pick_costs.items() if c is None),
        rankings=rankings,
    )


def _with_components(picks: list[Pick], rows: list[GoalScore]) -> list[Pick]:
    """Give each pick the "why this rank" of the goal row it was chosen from (one query)."""
    if not picks:
        return picks
    stored = {
        (r["goal_id"], r["compound_id"]): r
        for r in GoalScore.objects.filter(pk__in=[row.pk for row in rows]).values(
            "goal_id", "compound_id", "components", "bottom_line"
        )
    }
    completed = []
    for pick, row in zip(picks, rows, strict=True):
        found = stored[(row.goal_id, row.compound_id)]
        compound = replace(
            pick.compound,
            components=tuple(Component(**c) for c in found["components"]),
            bottom_line=found["bottom_line"],
        )
        completed.append(replace(pick, compound=compound))
    return completed


SEVERITY_ORDER = {"major": 0, "moderate": 1, "minor": 2, "caution": 3}


def stack_warnings(compounds: Sequence[Compound]) -> tuple[StackWarning, ...]:
    """Interactions between picks, contraindications they share, and duplicated mechanisms."""
    if len(compounds) < 2:
        return ()
    by_id = {c.pk: c for c in compounds}
    warnings = []
    for interaction in Interaction.objects.filter(
        compound_a_id__in=by_id, compound_b_id__in=by_id
    ).order_by("compound_a_id", "compound_b_id"):
        a, b = by_id[interaction.compound_a_id], by_id[interaction.compound_b_id]
        warnings.append(
            StackWarning(
                kind="interaction",
                severity=interaction.severity,
                message=f"{interaction.get_severity_display()} interaction between {a.name} "
                f"and {b.name}: {interaction.note}",
                compounds=(a.slug, b.slug),
            )
        )
    shared: dict[str, list[Compound]] = defaultdict(list)
    mechanisms: dict[str, list[Compound]] = defaultdict(list)
    for compound in compounds:
        for contraindication in compound.contraindications.all():
            shared[contraindication.condition].append(compound)
        if compound.mechanism_class:
            mechanisms[compound.mechanism_class.strip().casefold()].append(compound)
    for condition, members in sorted(shared.items()):
        if len(members) > 1:
            names = ", ".join(c.name for c in members)
            warnings.append(
                StackWarning(
                    kind="shared_contraindication",
                    severity="caution",
                    message=f"{names} are all not recommended for: {Condition(condition).label}",
                    compounds=tuple(c.slug for c in members),
                )
            )
    for members in mechanisms.values():
        if len(members) > 1:
            names = ", ".join(c.name for c in members)
            warnings.append(
                StackWarning(
                    kind="same_mechanism",
                    severity="caution",
                    message=f"{names} share a mechanism ({members[0].mechanism_class}); "
                    "taking both may add little or add up side effects",
                    compounds=tuple(c.slug for c in members),
                )
            )
    return tuple(sorted(warnings, key=lambda w: (SEVERITY_ORDER[w.severity], w.kind, w.message)))
