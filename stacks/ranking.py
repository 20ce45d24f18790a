"""The scoring service: rank compounds for a goal and build a stack for several goals.

Views, the JSON API and the benchmarks all call `rank_goal` and `build_stack`. Both read the
database in a fixed number of queries, whatever the number of compounds and findings, and
leave the arithmetic to stacks.scoring. Offers are read only to apply the visitor's own
"in stock" and budget constraints and to estimate cost; they never touch a score.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Prefetch, Q, prefetch_related_objects

from evidence.models import (
    Compound,
    Condition,
    Contraindication,
    Dosing,
    Finding,
    Goal,
    Interaction,
    Offer,
    Rating,
    Route,
    SideEffect,
)
from stacks.scoring import Component, CompoundEvidence, facts_from_finding, score_evidence

DEFAULT_STACK_SIZE = 5
MAX_STACK_SIZE = 10
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

    @property
    def needs_offers(self) -> bool:
        return self.in_stock_only or self.monthly_budget is not None


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

    @property
    def tier(self) -> TierRef | None:
        return None if self.tier_number is None else TierRef(self.tier_number, self.tier_label)

    @property
    def design_weighted_studies(self) -> float:
        """Studies counted by design weight (an RCT 0.8, a cohort 0.4...), for the map."""
        return round(sum(c.design_weight for c in self.components if c.kind == "study"), 2)

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


@dataclass(frozen=True)
class Pick:
    compound: RankedCompound
    goal_scores: dict[str, float]  # goal slug -> score for that goal
    marginal_gain: float


@dataclass(frozen=True)
class Warning:
    kind: str  # interaction | shared_contraindication | same_mechanism
    severity: str
    message: str
    compounds: tuple[str, ...]


@dataclass(frozen=True)
class Stack:
    goals: tuple[Goal, ...]
    picks: tuple[Pick, ...]
    uncovered_goals: tuple[Goal, ...]
    warnings: tuple[Warning, ...]
    monthly_cost: Decimal | None
    cost_unknown_for: tuple[str, ...]
    rankings: tuple[Ranking, ...] = field(default=())


# --- loading -------------------------------------------------------------------------------


@dataclass
class _Loaded:
    """The rows of one or more goals, read in a fixed number of queries."""

    ratings: dict[int, list[Rating]]  # goal id -> ratings
    findings: dict[tuple[int, int], list[Finding]]  # (goal id, compound id) -> findings
    compounds: dict[int, Compound]

    def compound(self, slug: str) -> Compound:
        return next(c for c in self.compounds.values() if c.slug == slug)


def _load(goals: Sequence[Goal]) -> _Loaded:
    goal_ids = [goal.pk for goal in goals]
    compound_prefetches = (
        Prefetch("dosings", queryset=Dosing.objects.order_by("pk")),
        Prefetch(
            "side_effects",
            queryset=SideEffect.objects.filter(frequency=SideEffect.Frequency.SERIOUS).order_by(
                "name"
            ),
            to_attr="serious_side_effects",
        ),
        Prefetch("contraindications", queryset=Contraindication.objects.order_by("condition")),
        # Offers only filter (in stock, budget) and estimate cost; they never enter a score.
        Prefetch(
            "offers",
            queryset=Offer.objects.filter(vendor__active=True).order_by("pk"),
            to_attr="live_offers",
        ),
    )
    compounds_with_findings = Finding.objects.filter(
        goal_id__in=goal_ids, compound__published=True
    ).values("compound_id")
    rated = Rating.objects.filter(goal_id__in=goal_ids, compound__published=True).values(
        "compound_id"
    )
    compounds = {
        compound.pk: compound
        for compound in Compound.objects.filter(
            Q(pk__in=rated) | Q(pk__in=compounds_with_findings)
        ).order_by("pk")
    }
    prefetch_related_objects(list(compounds.values()), *compound_prefetches)

    ratings: dict[int, list[Rating]] = defaultdict(list)
    for rating in Rating.objects.filter(
        goal_id__in=goal_ids, compound__published=True
    ).select_related("tier"):
        ratings[rating.goal_id].append(rating)

    findings: dict[tuple[int, int], list[Finding]] = defaultdict(list)
    for finding in Finding.objects.filter(
        goal_id__in=goal_ids, compound__published=True
    ).select_related("study"):
        findings[(finding.goal_id, finding.compound_id)].append(finding)
    return _Loaded(ratings=ratings, findings=findings, compounds=compounds)


# --- constraints ---------------------------------------------------------------------------


def monthly_cost(compound: Compound, goal_id: int | None, constraints: Constraints):
    """Cheapest estimated monthly cost in the visitor's currency, or None if not computable.

    Uses the goal's own dosing where there is one, else the general dosing, and the cheapest
    price per mg among the compound's offers in that currency (in stock ones when asked).
    Pack rounding is ignored: this is an estimate of the ongoing cost.
    """
    dosings = [d for d in compound.dosings.all() if d.goal_id == goal_id] or [
        d for d in compound.dosings.all() if d.goal_id is None
    ]
    monthly_mg = [mg for d in dosings if (mg := d.milligrams_per_month) is not None]
    prices = [
        price
        for offer in getattr(compound, "live_offers", [])
        if offer.currency == constraints.currency
        and (offer.in_stock or not constraints.in_stock_only)
        and (price := offer.price_per_mg) is not None
    ]
    if not monthly_mg or not prices:
        return None
    cost = min(monthly_mg) * min(prices)
    return cost.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def exclusion_reasons(
    compound: Compound, tier_number: int | None, goal_id: int | None, constraints: Constraints
) -> list[str]:
    """Why the visitor's constraints exclude this compound (empty when it stays in)."""
    reasons = []
    conditions = {c.condition: c for c in compound.contraindications.all()}
    for condition in sorted(constraints.conditions & conditions.keys()):
        note = conditions[condition].note
        label = Condition(condition).label
        reasons.append(f"Contraindicated: {label}" + (f" ({note})" if note else ""))
    if constraints.no_injections:
        routes = {d.route for d in compound.dosings.all()}
        if routes and routes <= Route.injections():
            labels = ", ".join(sorted(Route(r).label.lower() for r in routes))
            reasons.append(f"Only given by injection ({labels})")
    if compound.kind in constraints.excluded_kinds:
        reasons.append(f"Kind excluded: {compound.get_kind_display()}")
    if constraints.min_tier is not None and (
        tier_number is None or tier_number > constraints.min_tier
    ):
        shown = f"Tier {tier_number}" if tier_number is not None else "Not rated"
        reasons.append(f"Below the minimum tier: {shown}, minimum Tier {constraints.min_tier}")
    if constraints.in_stock_only and not any(o.in_stock for o in compound.live_offers):
        reasons.append("No offer in stock")
    if constraints.monthly_budget is not None:
        cost = monthly_cost(compound, goal_id, constraints)
        if cost is None:
            reasons.append(f"Monthly cost cannot be estimated in {constraints.currency}")
        elif cost > constraints.monthly_budget:
            reasons.append(
                f"Estimated {cost} {constraints.currency}/month is over the budget of "
                f"{constraints.monthly_budget} {constraints.currency}"
            )
    return reasons


# --- ranking -------------------------------------------------------------------------------


def _rank_loaded(goal: Goal, loaded: _Loaded, constraints: Constraints) -> Ranking:
    ranked, no_effect, unrated, excluded = [], [], [], []
    rated_ids = set()
    for rating in loaded.ratings.get(goal.pk, []):
        compound = loaded.compounds[rating.compound_id]
        rated_ids.add(compound.pk)
        findings = loaded.findings.get((goal.pk, compound.pk), [])
        score = score_evidence(
            CompoundEvidence(
                tier_number=rating.tier.number,
                tier_label=rating.tier.label,
                tier_weight=rating.tier.weight,
                tier_means_no_effect=rating.tier.means_no_effect,
                findings=tuple(facts_from_finding(f) for f in findings),
                serious_side_effects=tuple(s.name for s in compound.serious_side_effects),
            )
        )
        reasons = exclusion_reasons(compound, rating.tier.number, goal.pk, constraints)
        if reasons:
            excluded.append(
                Exclusion(compound.slug, compound.name, rating.tier.number, tuple(reasons))
            )
            continue
        entry = RankedCompound(
            slug=compound.slug,
            name=compound.name,
            kind=compound.kind,
            score=score.value,
            tier_number=rating.tier.number,
            tier_label=rating.tier.label,
            components=score.components,
            study_count=score.study_count,
            randomised_study_count=score.randomised_study_count,
            participants=score.participants,
            bottom_line=rating.bottom_line,
            monthly_cost=monthly_cost(compound, goal.pk, constraints),
        )
        (no_effect if score.no_effect else ranked).append(entry)

    for (goal_id, compound_id), findings in loaded.findings.items():
        if goal_id != goal.pk or compound_id in rated_ids:
            continue
        compound = loaded.compounds[compound_id]
        reasons = exclusion_reasons(compound, None, goal.pk, constraints)
        if reasons:
            excluded.append(Exclusion(compound.slug, compound.name, None, tuple(reasons)))
            continue
        studies = {f.study.slug: f.study for f in findings}
        unrated.append(
            RankedCompound(
                slug=compound.slug,
                name=compound.name,
                kind=compound.kind,
                score=0.0,
                tier_number=None,
                tier_label="Not yet rated",
                components=(),
                study_count=len(studies),
                randomised_study_count=sum(s.is_randomised for s in studies.values()),
                participants=sum(s.n or 0 for s in studies.values()),
            )
        )

    def order(entries: Iterable[RankedCompound]):
        return tuple(sorted(entries, key=RankedCompound.sort_key))

    return Ranking(
        goal=goal,
        ranked=order(ranked),
        no_effect=order(no_effect),
        unrated=order(unrated),
        excluded=tuple(sorted(excluded, key=lambda e: (e.name.casefold(), e.slug))),
    )


def rank_goal(goal: Goal, constraints: Constraints = Constraints()) -> Ranking:
    """Rank the published compounds rated for a goal, best first, under the constraints.

    Returns the ranked compounds with score and components, the compounds whose evidence
    shows no effect (kept apart, never ranked as merely unproven), compounds with findings
    but no rating yet, and the compounds the constraints excluded with the reasons.
    """
    return _rank_loaded(goal, _load([goal]), constraints)


# --- stacks --------------------------------------------------------------------------------


def build_stack(
    goals: Sequence[Goal],
    constraints: Constraints = Constraints(),
    priorities: Mapping[str, float] | None = None,
    size: int = DEFAULT_STACK_SIZE,
) -> Stack:
    """Recommend up to `size` compounds covering the goals, chosen greedily by marginal gain.

    A compound's gain is the sum over the goals it serves of priority x score/100, where each
    earlier pick serving the same goal halves what the next one is worth for it. While some
    goal that has evidence is still uncovered, only compounds covering an uncovered goal are
    considered, so every coverable goal gets a compound before any goal gets a second one.
    """
    goals = tuple(dict.fromkeys(goals))
    priorities = {g.slug: float((priorities or {}).get(g.slug, 1.0)) for g in goals}
    size = max(1, min(size, MAX_STACK_SIZE))
    loaded = _load(goals)
    rankings = tuple(_rank_loaded(goal, loaded, constraints) for goal in goals)

    scores: dict[str, dict[str, float]] = defaultdict(dict)  # compound slug -> goal -> score
    entries: dict[str, RankedCompound] = {}
    for ranking in rankings:
        for entry in ranking.ranked:
            if entry.score > 0:
                scores[entry.slug][ranking.goal.slug] = entry.score
                best = entries.get(entry.slug)
                if best is None or entry.sort_key() < best.sort_key():
                    entries[entry.slug] = entry

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

    picked = [loaded.compound(p.compound.slug) for p in picks]
    costs = {c.slug: _stack_cost(c, goals, constraints) for c in picked}
    known = [c for c in costs.values() if c is not None]
    return Stack(
        goals=goals,
        picks=tuple(picks),
        uncovered_goals=tuple(g for g in goals if picks_per_goal[g.slug] == 0),
        warnings=stack_warnings(picked),
        monthly_cost=sum(known, Decimal(0)) if known else None,
        cost_unknown_for=tuple(slug for slug, c in costs.items() if c is None),
        rankings=rankings,
    )


def _stack_cost(compound: Compound, goals: Sequence[Goal], constraints: Constraints):
    """A pick's monthly cost: the dearest of its chosen goals' doses (it is taken once)."""
    costs = [monthly_cost(compound, goal.pk, constraints) for goal in goals]
    known = [c for c in costs if c is not None]
    return max(known) if known else None


SEVERITY_ORDER = {"major": 0, "moderate": 1, "minor": 2, "caution": 3}


def stack_warnings(compounds: Sequence[Compound]) -> tuple[Warning, ...]:
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
            Warning(
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
                Warning(
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
                Warning(
                    kind="same_mechanism",
                    severity="caution",
                    message=f"{names} share a mechanism ({members[0].mechanism_class}); "
                    "taking both may add little or add up side effects",
                    compounds=tuple(c.slug for c in members),
                )
            )
    return tuple(sorted(warnings, key=lambda w: (SEVERITY_ORDER[w.severity], w.kind, w.message)))
