"""The scoring service's read side: rank compounds for goals and build a stack.

Views, the JSON API and the benchmarks call `rank_goal`, `rank_goals` and `build_stack`. Two
queries read the precomputed GoalScore rows of every asked goal: each list cut at its limit
with its full size beside it, the visitor's exclusions and the cheapest price per mg worked out
in SQL; a stack's candidates carry their contraindications. A stack needs at most two more
(its picks' details, unless the ranking shows them, and the interactions between them).
The arithmetic of a score is stacks.scoring's. Prices (the precomputed CompoundPrice rows)
are read only to apply the visitor's own "in stock" and budget constraints and to estimate
cost; they never touch a score.
"""

import operator
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from functools import reduce
from itertools import groupby
from types import SimpleNamespace
from typing import NamedTuple

from django.db import connections
from django.db.models import (
    BooleanField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    StringAgg,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Round
from django.db.models.lookups import IsNull, LessThanOrEqual

from evidence.cache import shared_parts, until_content_changes
from evidence.certainty import Level, Step
from evidence.models import (
    Compound,
    Condition,
    Contraindication,
    Goal,
    Interaction,
    Offer,
    TierRef,
)
from stacks.models import CompoundPrice, GoalScore
from stacks.scoring import Component

# What a visitor may ask for: the builder form and the API both take these limits from here.
DEFAULT_STACK_SIZE = 5
MAX_STACK_SIZE = 10
DEFAULT_LIMIT = 20
MAX_LIMIT = 200
MAX_GOALS = 10
MAX_BUDGET = Decimal(1_000_000)
BUDGET_MAX_DIGITS = 9
BUDGET_DECIMAL_PLACES = 2
# A stack chooses among this many of the best-ranked compounds of each goal.
STACK_CANDIDATES = 100
# Of those, this many are read whole with the goal's lists (the rest only by their place):
# the most a stack of one goal can pick.
CANDIDATES_READ = MAX_STACK_SIZE
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
    currency: str = Offer.DEFAULT_CURRENCY  # the only currency whose offers price a cost

    @property
    def exclude_any(self) -> bool:
        """Whether these constraints may leave compounds out: any but the currency, which only
        prices them, differs from its default (so a constraint added later counts as one that
        excludes, and its rankings take the reads that work the exclusions out, which are
        always right)."""
        return replace(self, currency=Offer.DEFAULT_CURRENCY) != Constraints()

    @property
    def key(self) -> str:
        """The constraints in one spelling, whatever the order they were given in: what a
        cached part of a page they shaped is named by."""
        return "|".join(
            (
                ",".join(sorted(map(str, self.conditions))),
                "no-injections" if self.no_injections else "",
                ",".join(sorted(map(str, self.excluded_kinds))),
                "" if self.min_tier is None else str(self.min_tier),
                "in-stock" if self.in_stock_only else "",
                "" if self.monthly_budget is None else str(self.monthly_budget),
                self.currency,
            )
        )


@dataclass(frozen=True)
class RankedCompound:
    slug: str
    name: str
    kind: str
    score: float | None  # None: insufficient evidence (no direction found), so not ranked
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
    computed: bool = False  # placed by the computed certainty: no editor's tier
    certainty: int | None = None  # of the evidence of benefit, 1 (very low) to 4 (high)
    certainty_steps: tuple[Step, ...] = ()

    @property
    def certainty_label(self) -> str:
        return Level(self.certainty).label if self.certainty else "Not assessable"

    @property
    def tier(self) -> TierRef | None:
        return None if self.tier_number is None else TierRef(self.tier_number, self.tier_label)

    def sort_key(self):
        """The documented order (`ranking_order`)."""
        return ranking_order(
            self.score,
            self.tier_number,
            self.randomised_study_count,
            self.participants,
            self.design_weighted_studies,
            self.study_count,
            self.name.casefold(),
            self.slug,
        )


def ranking_order(
    score: float | None,
    tier_number: int | None,
    randomised_study_count: int,
    participants: int,
    design_weighted_studies: float,
    study_count: int,
    sort_name: str,
    slug: str,
) -> tuple:
    """The documented order of a list, as a key (lower first): score, then tier, randomised
    studies, participants, studies weighted by design, studies, casefolded name; the
    insufficient (no score, no tier) after the rest. At equal scores an editor's tier comes
    before a computed place. stacks.models.RANKING_ORDER_SQL is the same in SQL."""
    return (
        -score if score is not None else float("inf"),
        tier_number if tier_number is not None else 99,
        -randomised_study_count,
        -participants,
        -design_weighted_studies,
        -study_count,
        sort_name,
        slug,
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
    insufficient: tuple[RankedCompound, ...]
    excluded: tuple[Exclusion, ...]
    totals: dict[str, int] = field(default_factory=dict)  # full counts per group
    limit: int = DEFAULT_LIMIT
    # What names this ranking among every goal's under any constraints (its goal, limit and
    # constraints): what a page caches its rendered lists under while the content is the same.
    key: str = ""


@dataclass(frozen=True)
class Candidate:
    """A compound a stack may pick for one goal (one of its STACK_CANDIDATES best ranked),
    drawn without its components, steps and bottom line."""

    entry: RankedCompound
    score_id: int  # its GoalScore row: where those are read if it is picked `with_why`
    compound_id: int
    mechanism_class: str
    conditions: tuple[str, ...]  # every condition it is contraindicated in


class Contender(NamedTuple):
    """One of a goal's STACK_CANDIDATES best ranked rows, known by its place alone: enough for
    a stack to tell which candidates it must read whole (`_contending`)."""

    score_id: int
    compound_id: int
    place: int  # in the goal's ranked list under the visitor's constraints


@dataclass(frozen=True)
class GoalCandidates:
    """A goal's candidates for a stack: every contender, best first, and the first
    CANDIDATES_READ of them read whole, by their GoalScore row."""

    contenders: tuple[Contender, ...]
    read: dict[int, Candidate]


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

# Rows the visitor's constraints exclude form a list of their own, whatever their group.
EXCLUDED = "excluded"
LISTS = (GoalScore.Group.RANKED, GoalScore.Group.NO_EFFECT, GoalScore.Group.INSUFFICIENT, EXCLUDED)


def _cheapest_price_per_mg(constraints: Constraints, compound_id) -> QuerySet:
    """The cheapest usable price per mg of the compound `compound_id` names (an OuterRef), as
    a one-value subquery of the precomputed prices (stacks.prices): in the visitor's currency
    (no exchange rates: docs/methodology.md, "Cost"), of the offers in stock when they asked
    for that."""
    column = "cheapest_in_stock_per_mg" if constraints.in_stock_only else "cheapest_per_mg"
    return CompoundPrice.objects.filter(
        compound_id=compound_id, currency=constraints.currency
    ).values(column)[:1]


def _contraindicated_in(compound_id) -> Subquery:
    """Every condition the compound `compound_id` (an OuterRef) is contraindicated in, as one
    comma-separated value in no particular order; None when there is none. DISTINCT with a
    comma is what Django writes as GROUP_CONCAT on SQLite before 3.44, which has no
    STRING_AGG (a compound names each condition once anyway)."""
    conditions = (
        Contraindication.objects.filter(compound_id=compound_id)
        .order_by()
        .values("compound_id")
        .annotate(all=StringAgg("condition", Value(","), distinct=True))
        .values("all")
    )
    return Subquery(conditions, output_field=TextField())


def _in_stock() -> IsNull:
    """Whether the row's compound has an offer in stock, in any currency (its precomputed
    price rows), as a condition. A one-value subquery, not EXISTS: PostgreSQL would answer an
    EXISTS by hashing every in-stock price row of the catalogue, even for a goal of a few rows;
    this one looks up each row's compound by index."""
    in_stock = CompoundPrice.objects.filter(compound_id=OuterRef("compound_id"), in_stock=True)
    return IsNull(Subquery(in_stock.values("compound_id")[:1]), False)


def _with_price(rows: QuerySet, constraints: Constraints) -> QuerySet:
    """The rows annotated with `price_per_mg`: their compound's cheapest usable price per mg
    under the constraints (`_cheapest_price_per_mg`)."""
    cheapest = _cheapest_price_per_mg(constraints, OuterRef("compound_id"))
    return rows.annotate(price_per_mg=Subquery(cheapest, output_field=DecimalField()))


def _left_in_by(constraints: Constraints) -> list[Q]:
    """Each of the visitor's constraints as what a row must meet to be left in by it, never
    NULL (none without constraints). A budget's compares the row's `price_per_mg`: the rows
    must carry it (`_with_price`). Stated as what a row must meet, so that a read filtered by
    them can take a goal's rows in order and stop at the first it needs
    (`_candidates_left_in`); the rows they exclude are their negation (`_with_exclusions`)."""
    left_in = []
    if constraints.conditions:
        contraindicated = Contraindication.objects.filter(
            compound_id=OuterRef("compound_id"), condition__in=constraints.conditions
        )
        left_in.append(~Exists(contraindicated))
    if constraints.no_injections:
        left_in.append(Q(injection_only=False))
    if constraints.excluded_kinds:
        left_in.append(~Q(kind__in=constraints.excluded_kinds))
    if constraints.min_tier is not None:
        left_in.append(Q(tier_number__isnull=False, tier_number__lte=constraints.min_tier))
    if constraints.in_stock_only:
        left_in.append(Q(_in_stock()))
    if constraints.monthly_budget is not None:
        # To the cent, as the visitor sees it (`_cost`): 30.333 fits a budget of 30.33.
        cost = Round(
            ExpressionWrapper(
                F("milligrams_per_month") * F("price_per_mg"), output_field=DecimalField()
            ),
            2,
        )
        left_in.append(
            Q(IsNull(cost, False)) & Q(LessThanOrEqual(cost, Value(constraints.monthly_budget)))
        )
    return [Q(condition) for condition in left_in]


def _with_exclusions(rows: QuerySet, constraints: Constraints) -> QuerySet:
    """The rows annotated with `x_excluded`: whether the visitor's constraints leave the row
    out (never, without constraints); and what that needed: the cheapest usable price per mg
    for a budget (worked out once per row)."""
    left_in = _left_in_by(constraints)
    if constraints.monthly_budget is not None:
        rows = _with_price(rows, constraints)
    if not left_in:
        return rows.annotate(x_excluded=Value(False))
    return rows.annotate(
        x_excluded=ExpressionWrapper(~reduce(operator.and_, left_in), BooleanField())
    )


# What a row's place is read with: where it is, and whether it may be a stack's candidate.
PLACE_COLUMNS = ("id", "goal_id", "compound_id", "score")
# What the window over a goal's rows reads: those, the row's place among the goal's rows in
# the documented order (GoalScore.goal_place), its group, and whether the filters exclude it.
WINDOW_COLUMNS = (*PLACE_COLUMNS, "goal_place", "group", "x_excluded")


class Place(SimpleNamespace):
    """A row's place in its list: `in_list`, `place`, `list_size`, its PLACE_COLUMNS, and what
    the exclusions computed on the way (`price_per_mg`); once read whole (`whole`), also its
    columns (SHOWN_COLUMNS, or CANDIDATE_COLUMNS for a stack's candidate below the shown
    rows) and `x_in_stock` under "only in stock"."""


# What only a shown entry or a pick draws: a stack's other candidates are read without them.
# An entry's "why this rank": the pages draw it only when asked (stacks.views.why_rank).
WHY = ("components", "certainty_steps")
DETAILS = (*WHY, "bottom_line")
# What a stack's candidate below the shown ones is read with when it cannot share the shown
# entries' read (they carry their WHY, or none is shown; plain values, not model instances: a
# popular goal has a hundred of them): every field `_entry` (without its why and bottom line),
# `_cost` and `_candidates` read of a row; a field added there belongs here too.
CANDIDATE_COLUMNS = (
    "id",
    "goal_id",
    "compound_id",
    "slug",
    "name",
    "kind",
    "score",
    "tier_number",
    "tier_label",
    "computed",
    "certainty",
    "study_count",
    "randomised_study_count",
    "participants",
    "design_weighted_studies",
    "mechanism_class",
    "milligrams_per_month",
)


# What a shown entry is read with: every column (its WHY only when asked for), as plain values.
SHOWN_COLUMNS = tuple(field.attname for field in GoalScore._meta.concrete_fields)
SHOWN_BRIEF_COLUMNS = tuple(name for name in SHOWN_COLUMNS if name not in WHY)


def _places_by_window(
    goal_ids: Sequence[int], constraints: Constraints, wanted: tuple[int, str, int]
) -> tuple[list[Place], list[str]]:
    """The rows `_read_lists` keeps (`wanted`: the shown limit, the ranked list, the
    candidates' limit) under constraints that exclude some: the exclusions worked out once per
    row over the few columns they and the order need, the rows numbered within their lists by
    a window over every row of the goals in their goal's order (`goal_place`: one integer,
    where the lists as scored have their own `place`, and the excluded list mixes them); and
    what the exclusions computed on the way."""
    rows = _with_exclusions(GoalScore.objects.filter(goal_id__in=goal_ids), constraints)
    computed = [name for name in ("price_per_mg",) if name in rows.query.annotations]
    inner, params = rows.values(*WINDOW_COLUMNS, *computed).query.sql_with_params()
    carried = "".join(f", numbered.{name}" for name in (*PLACE_COLUMNS, *computed))
    sql = (
        f"SELECT numbered.in_list, numbered.place, numbered.list_size{carried}"
        " FROM ("
        "  SELECT listed.*,"
        "   ROW_NUMBER() OVER (PARTITION BY goal_id, in_list ORDER BY goal_place) AS place,"
        "   COUNT(*) OVER (PARTITION BY goal_id, in_list) AS list_size"
        "  FROM ("
        "   SELECT annotated.*,"
        f"    CASE WHEN annotated.x_excluded THEN '{EXCLUDED}' ELSE annotated.\"group\" END"
        "     AS in_list"
        f"   FROM ({inner}) annotated"
        "  ) listed"
        " ) numbered"
        " WHERE numbered.place <= %s OR (numbered.in_list = %s AND numbered.place <= %s)"
        " ORDER BY numbered.goal_id, numbered.in_list, numbered.place"
    )
    return _fetch_places(sql, (*params, *wanted)), computed


def _fetch_places(sql: str, params: Sequence) -> list[Place]:
    """The rows of this query over the scores as Places: plain rows, not model instances, as
    the numbers are all such a query is for. The database is the one the router gives the
    scores' reads (a replica's, on public pages)."""
    with connections[GoalScore.objects.all().db].cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [Place(**dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


def _candidates_left_in(
    goal_ids: Sequence[int], constraints: Constraints, count: int
) -> tuple[list[Place], list[str]]:
    """The rows `_read_lists` keeps when only a stack's candidates are wanted (no list is
    shown) under constraints that exclude some: each goal's first `count` ranked rows the
    constraints leave in, read in their order as scored (GoalScore.place) by index, one
    sub-select a goal, each stopping at its `count`th row; and what the exclusions computed
    on the way. No list's size is wanted, so the rows past them are never read (those a
    window numbers: `_places_by_window`). Their places are renumbered without the excluded."""
    selects, params = [], []
    priced = constraints.monthly_budget is not None
    left_in = _left_in_by(constraints)
    for goal_id in goal_ids:
        rows = GoalScore.objects.filter(goal_id=goal_id, group=GoalScore.Group.RANKED)
        rows = _with_price(rows, constraints) if priced else rows
        first = rows.filter(*left_in).order_by("place")[:count]
        sql, goal_params = first.values(
            *PLACE_COLUMNS, "place", *rows.query.annotations
        ).query.sql_with_params()
        selects.append(f"SELECT * FROM ({sql}) goal_{len(selects)}")
        params.extend(goal_params)
    computed = ["price_per_mg"] if priced else []
    if not selects:
        return [], computed
    union = " UNION ALL ".join(selects)
    found = _fetch_places(f"SELECT * FROM ({union}) found ORDER BY goal_id, place", params)
    places = []
    for _, rows in groupby(found, key=operator.attrgetter("goal_id")):
        for number, place in enumerate(rows, start=1):
            place.in_list, place.place, place.list_size = GoalScore.Group.RANKED, number, None
            places.append(place)
    return places, computed


def _places_as_scored(goal_ids: Sequence[int], wanted: tuple[int, str, int]) -> list[Place]:
    """The rows `_read_lists` keeps when nothing is excluded: each list's first rows as
    numbered when scored (GoalScore.place), read by index, not by numbering every row."""
    limit, ranked, candidates = wanted
    first = Q(place__lte=limit) | Q(group=ranked, place__lte=candidates)
    numbered = (
        GoalScore.objects.filter(first, goal_id__in=goal_ids)
        .order_by("goal_id", "group", "place")
        .values(*PLACE_COLUMNS, "place", in_list=F("group"), list_size=F("group_size"))
    )
    return [Place(**row) for row in numbered]


def _read_lists(
    goal_ids: Sequence[int],
    constraints: Constraints,
    limit: int,
    candidates: int = 0,
    with_why: bool = True,
) -> list[Place]:
    """Two queries: the best `limit` rows of each list of each goal, each row carrying its
    list (`in_list`), its place in it, the list's full size and the cheapest usable price per
    mg; and, when `candidates` is larger, that many of each goal's ranked rows for a stack
    to choose from.

    The first reads each list's first rows by their place as scored (`_places_as_scored`)
    or, when the constraints exclude some, works out the exclusions once per row and numbers
    the rows within their lists (`_places_by_window`), or, when no list is shown (a stack's
    candidates alone), reads each goal's first ranked rows the constraints leave in and stops
    (`_candidates_left_in`); the second reads the shown rows whole
    (without their WHY unless `with_why`) as plain values, not model instances, by primary key,
    and prices them (unless a budget needed every row's price already). Of a stack's other
    candidates it reads whole only those a stack may pick without another query (each goal's
    first CANDIDATES_READ, and those that are candidates for two of these goals): without
    their WHY, with the shown rows; with it, by a third query, only their CANDIDATE_COLUMNS.
    The rest keep only their place (`whole` is False). For a stack, every row read
    whole also carries the conditions its compound is contraindicated in
    (`contraindicated_in`). One query joining the first two made PostgreSQL scan the whole
    table: it cannot foresee how few rows the window keeps.
    """
    wanted = (limit, GoalScore.Group.RANKED.value, max(limit, candidates))
    if constraints.exclude_any and not limit:
        places, computed = _candidates_left_in(goal_ids, constraints, candidates)
    elif constraints.exclude_any:
        places, computed = _places_by_window(goal_ids, constraints, wanted)
    else:
        places, computed = _places_as_scored(goal_ids, wanted), []
    shown = [place.id for place in places if place.place <= limit]
    # A stack's first candidates of each goal, and those that are candidates for two of these
    # goals (a stack of them may pick any: `_contending`), are read whole now.
    contending = [place for place in places if candidates and _is_candidate(place)]
    shared = _shared_compounds(contending)
    candidates_read = [
        place.id
        for place in contending
        if place.place > limit and (place.place <= CANDIDATES_READ or place.compound_id in shared)
    ]
    if with_why or not shown:
        shown_columns = SHOWN_COLUMNS if with_why else SHOWN_BRIEF_COLUMNS
        reads = ((shown, shown_columns), (candidates_read, CANDIDATE_COLUMNS))
    else:  # a candidate's few further columns cost less than a query of its own
        reads = ((shown + candidates_read, SHOWN_BRIEF_COLUMNS),)
    priced = "price_per_mg" not in computed
    whole = {}
    for ids, columns in reads:
        whole.update(_read_rows(ids, columns, constraints, bool(candidates), priced))
    found = []
    for place in places:
        row = whole.get(place.id)
        if row is None:
            place.whole = False
            found.append(place)
            continue
        vars(row).update(vars(place))  # its place in its list, not its place as scored
        row.whole = True
        found.append(_priced(row))
    return found


def _read_rows(
    ids: Sequence[int],
    columns: Sequence[str],
    constraints: Constraints,
    with_conditions: bool,
    with_price: bool,
) -> dict[int, Place]:
    """These GoalScore rows with these columns as plain values (no query for none), by id;
    `with_conditions`, with the conditions their compound is contraindicated in (a stack's
    warnings name those of its picks); `with_price`, with their cheapest usable price per mg
    under the constraints; under "only in stock", with whether their compound has an offer in
    stock (`x_in_stock`: an excluded row's reasons say so)."""
    if not ids:
        return {}
    rows = GoalScore.objects.filter(pk__in=ids)
    if constraints.in_stock_only:
        rows = rows.annotate(x_in_stock=_in_stock())
    if with_conditions:
        rows = rows.annotate(contraindicated_in=_contraindicated_in(OuterRef("compound_id")))
    if with_price:
        rows = _with_price(rows, constraints)
    return {row["id"]: Place(**row) for row in rows.values(*columns, *rows.query.annotations)}


def _priced(row: Place) -> Place:
    if row.price_per_mg is not None and not isinstance(row.price_per_mg, Decimal):
        row.price_per_mg = Decimal(str(row.price_per_mg))  # SQLite: a float
    return row


def _cost(row: Place) -> Decimal | None:
    """Estimated monthly cost: the documented dose per month x the cheapest price per mg.

    Pack rounding is ignored: this is an estimate of the ongoing cost.
    """
    if row.price_per_mg is None or row.milligrams_per_month is None:
        return None
    return (row.milligrams_per_month * row.price_per_mg).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def _entry(row: Place, with_why: bool = True, with_bottom_line: bool = True) -> RankedCompound:
    """The row as a ranking shows it; `with_why`, with its "why this rank": the score's
    components and the certainty's steps."""
    return RankedCompound(
        slug=row.slug,
        name=row.name,
        kind=row.kind,
        score=row.score,
        tier_number=row.tier_number,
        tier_label=row.tier_label,
        components=tuple(Component(**c) for c in row.components) if with_why else (),
        study_count=row.study_count,
        randomised_study_count=row.randomised_study_count,
        participants=row.participants,
        bottom_line=row.bottom_line if with_bottom_line else "",
        monthly_cost=_cost(row),
        design_weighted_studies=row.design_weighted_studies,
        computed=row.computed,
        certainty=row.certainty,
        certainty_steps=tuple(Step(**step) for step in row.certainty_steps) if with_why else (),
    )


def _reasons(row: Place, constraints: Constraints, notes) -> tuple[str, ...]:
    """Why the visitor's constraints exclude this row, in words."""
    reasons = []
    if constraints.conditions:
        for contraindication in notes.get(row.compound_id, []):  # only the declared ones
            label = Condition(contraindication.condition).label
            note = contraindication.note
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
        cost = _cost(row)
        currency = constraints.currency
        if cost is None:
            reasons.append(f"Monthly cost cannot be estimated in {currency}")
        elif cost > constraints.monthly_budget:
            reasons.append(
                f"Estimated {cost} {currency}/month is over the budget of "
                f"{constraints.monthly_budget} {currency}"
            )
    return tuple(reasons)


class Note(NamedTuple):
    """A contraindication of a compound the visitor declared, as an exclusion's reasons name
    it."""

    condition: str
    note: str


def _contraindications(
    constraints: Constraints, excluded: Sequence[Place]
) -> dict[int, list[Note]]:
    """The declared conditions that exclude the `excluded` rows, by compound id: one query,
    none when the visitor declared no condition or nothing is excluded."""
    if not (constraints.conditions and excluded):
        return {}
    by_compound = defaultdict(list)
    found = Contraindication.objects.filter(
        compound_id__in={row.compound_id for row in excluded},
        condition__in=constraints.conditions,
    ).order_by("condition")
    for compound_id, condition, note in found.values_list("compound_id", "condition", "note"):
        by_compound[compound_id].append(Note(condition, note))
    return by_compound


# --- ranking -------------------------------------------------------------------------------


def _rankings(
    goals: Sequence[Goal],
    rows: Sequence[Place],
    constraints: Constraints,
    limit: int,
    notes,
    with_why: bool,
) -> tuple[Ranking, ...]:
    lists: dict[tuple[int, str], list[Place]] = defaultdict(list)
    for row in rows:
        if row.place <= limit:
            lists[(row.goal_id, row.in_list)].append(row)
    rankings = []
    for goal in goals:
        shown = {name: lists.get((goal.pk, name), []) for name in LISTS}
        rankings.append(
            Ranking(
                goal=goal,
                ranked=tuple(_entry(row, with_why) for row in shown[GoalScore.Group.RANKED]),
                no_effect=tuple(_entry(row, with_why) for row in shown[GoalScore.Group.NO_EFFECT]),
                insufficient=tuple(
                    _entry(row, with_why) for row in shown[GoalScore.Group.INSUFFICIENT]
                ),
                excluded=tuple(
                    Exclusion(
                        row.slug, row.name, row.tier_number, _reasons(row, constraints, notes)
                    )
                    for row in shown[EXCLUDED]
                ),
                totals={
                    str(name): shown[name][0].list_size if shown[name] else 0 for name in LISTS
                },
                limit=limit,
                key=_ranking_key(goal, limit, constraints),
            )
        )
    return tuple(rankings)


def _ranking_key(goal: Goal, limit: int, constraints: Constraints) -> str:
    return f"{goal.pk}:{limit}:{constraints.key}"


def _is_candidate(row: Place) -> bool:
    """One of the goal's best STACK_CANDIDATES ranked rows, with some benefit to add."""
    return row.in_list == GoalScore.Group.RANKED and row.place <= STACK_CANDIDATES and row.score


def _shared_compounds(candidates: Iterable[Place | Contender]) -> set[int]:
    """The compounds among these candidates of several goals that are a candidate of two or
    more of them."""
    counts = Counter(candidate.compound_id for candidate in candidates)
    return {compound_id for compound_id, count in counts.items() if count > 1}


def _candidate(row: Place) -> Candidate:
    conditions = tuple(sorted(filter(None, (row.contraindicated_in or "").split(","))))
    return Candidate(
        _entry(row, with_why=False, with_bottom_line=False),
        row.id,
        row.compound_id,
        row.mechanism_class,
        conditions,
    )


NO_CANDIDATES = GoalCandidates((), {})


def _candidates(rows: Sequence[Place]) -> dict[int, GoalCandidates]:
    """Each goal's candidates for a stack, best first: the contenders, and those read whole."""
    contenders: dict[int, list[Contender]] = defaultdict(list)
    read: dict[int, dict[int, Candidate]] = defaultdict(dict)
    for row in filter(_is_candidate, rows):
        contenders[row.goal_id].append(Contender(row.id, row.compound_id, row.place))
        if row.whole:
            read[row.goal_id][row.id] = _candidate(row)
    return {
        goal_id: GoalCandidates(tuple(found), read[goal_id])
        for goal_id, found in contenders.items()
    }


def _contending(
    goals: Sequence[Goal], found: Mapping[int, GoalCandidates], size: int, constraints: Constraints
) -> dict[int, tuple[Candidate, ...]]:
    """The candidates a stack of `size` may pick, by goal, best first: every compound that is
    a candidate for two of the goals or more, and of the others the best `size` of each goal.
    A compound serving one of the goals only is always picked after a better one serving the
    same goal (it adds less to that goal and nothing to the others, and it covers the same
    goal), so a stack of `size` never reaches past the first `size` of them. Those the goals'
    lists did not read whole are read in one more query."""
    shared = _shared_compounds(c for goal in goals for c in found[goal.pk].contenders)
    kept: dict[int, list[Contender]] = {}
    for goal in goals:
        contenders = found[goal.pk].contenders
        alone = [c for c in contenders if c.compound_id not in shared]  # best first
        best_alone = {c.score_id for c in alone[:size]}
        kept[goal.pk] = [
            c for c in contenders if c.compound_id in shared or c.score_id in best_alone
        ]
    unread = [
        c.score_id for goal in goals for c in kept[goal.pk] if c.score_id not in found[goal.pk].read
    ]
    rows = _read_rows(unread, CANDIDATE_COLUMNS, constraints, with_conditions=True, with_price=True)
    also_read = {score_id: _candidate(_priced(row)) for score_id, row in rows.items()}
    return {
        goal.pk: tuple(
            found[goal.pk].read.get(c.score_id) or also_read[c.score_id] for c in kept[goal.pk]
        )
        for goal in goals
    }


def _goal_lists(
    goals: Sequence[Goal],
    constraints: Constraints,
    limit: int,
    with_candidates: bool,
    with_why: bool = True,
) -> tuple[dict[int, Ranking], dict[int, GoalCandidates]]:
    """Each goal's ranking cut at `limit` (none when it is 0; its entries with their "why
    this rank" when `with_why`) and, `with_candidates`, its candidates for a stack, by goal id.

    Every part is one goal's under these constraints, shared by every page that draws it (the
    builder, the goal's page, the API) while the content is unchanged (evidence.cache.
    shared_parts): a popular goal's ranking is worked out once, whichever goals it is asked
    with. The missing parts of all the goals are read together, in two or three queries and a
    fourth for the declared conditions' contraindications that exclude shown rows (a stack's
    candidates carry their own: its warnings name them)."""
    wanted: dict[str, tuple[str, Goal]] = {}
    ranking_part = "ranking" if with_why else "ranking-brief"
    for goal in goals:
        if limit:
            wanted[f"{ranking_part}:{_ranking_key(goal, limit, constraints)}"] = ("ranking", goal)
        if with_candidates:
            wanted[f"candidates:{goal.pk}:{constraints.key}"] = ("candidates", goal)

    def read(missing: list[str]) -> dict[str, Ranking | tuple[Candidate, ...]]:
        parts = [wanted[name] for name in missing]
        missing_goals = list({goal.pk: goal for _, goal in parts}.values())
        shown = limit if any(part == "ranking" for part, _ in parts) else 0
        stack = STACK_CANDIDATES if any(part == "candidates" for part, _ in parts) else 0
        goal_ids = [goal.pk for goal in missing_goals]
        rows = _read_lists(goal_ids, constraints, shown, stack, with_why)
        notes = _contraindications(constraints, _excluded_shown(rows, shown))
        rankings: dict[int, Ranking] = {}
        if shown:
            found = _rankings(missing_goals, rows, constraints, shown, notes, with_why)
            rankings = {ranking.goal.pk: ranking for ranking in found}
        candidates = _candidates(rows) if stack else {}
        return {
            name: rankings[goal.pk] if part == "ranking" else candidates.get(goal.pk, NO_CANDIDATES)
            for name, (part, goal) in zip(missing, parts, strict=True)
        }

    found = shared_parts("goal-lists", list(wanted), read)
    rankings, candidates = {}, {}
    for name, (part, goal) in wanted.items():
        if part == "ranking":
            rankings[goal.pk] = replace(found[name], goal=goal)  # the caller's own goal
        else:
            candidates[goal.pk] = found[name]
    return rankings, candidates


def _excluded_shown(rows: Sequence[Place], limit: int) -> list[Place]:
    return [row for row in rows if row.in_list == EXCLUDED and row.place <= limit]


def rank_goals(
    goals: Sequence[Goal],
    constraints: Constraints = Constraints(),
    limit: int = DEFAULT_LIMIT,
    with_why: bool = True,
) -> tuple[Ranking, ...]:
    """Rank the published compounds for each goal, best first, under the constraints.

    Each ranking has the best `limit` ranked compounds with their score and, `with_why`,
    their "why this rank" (the score's components and the certainty's steps; a page that
    fetches it only when asked passes False), the
    compounds whose evidence shows no effect (kept apart, never ranked as merely unproven),
    compounds with findings but no rating yet, and the compounds the constraints excluded with
    the reasons, each list cut at `limit` with its full size in `totals`. Reads at most three
    queries, whatever the number of goals and the size of the catalogue, and none for a
    goal whose ranking a page built earlier in this content version (`_goal_lists`).
    """
    goals = tuple(dict.fromkeys(goals))
    limit = max(1, min(limit, MAX_LIMIT))
    rankings, _ = _goal_lists(goals, constraints, limit, with_candidates=False, with_why=with_why)
    return tuple(rankings[goal.pk] for goal in goals)


def ranked_entry(goal: Goal, compound_slug: str) -> RankedCompound | None:
    """One published compound's place for one goal with its "why this rank" (the score's
    components and the certainty's steps), whatever the visitor's constraints; None when it
    has none (not published, or nothing recorded for the goal). No cost: that depends on the
    visitor's currency."""
    row = GoalScore.objects.filter(goal=goal, slug=compound_slug).first()
    if row is None:
        return None
    row.price_per_mg = None
    return _entry(row)


def rank_goal(
    goal: Goal,
    constraints: Constraints = Constraints(),
    limit: int = DEFAULT_LIMIT,
    with_why: bool = True,
) -> Ranking:
    """One goal's ranking (see `rank_goals`)."""
    return rank_goals([goal], constraints, limit, with_why)[0]


# --- stacks --------------------------------------------------------------------------------


def _with_details(
    picked: Sequence[tuple[Goal, Candidate]], rankings: Mapping[int, Ranking], with_why: bool
) -> list[RankedCompound]:
    """The picks' entries with their bottom line and, `with_why`, their components and
    steps: as the ranking of the goal a pick was chosen for shows it, or else read, in one
    query for all (without `with_why`, none: a pick the ranking does not show is drawn as its
    candidate, without a bottom line)."""
    shown = {
        (goal_id, entry.slug): entry
        for goal_id, ranking in rankings.items()
        for entry in ranking.ranked
    }
    unseen = [c.score_id for goal, c in picked if (goal.pk, c.entry.slug) not in shown]
    details = {}
    if unseen and with_why:
        details = {
            values.pop("pk"): values
            for values in GoalScore.objects.filter(pk__in=unseen).values("pk", *DETAILS)
        }
    entries = []
    for goal, candidate in picked:
        entry = shown.get((goal.pk, candidate.entry.slug))
        if entry is None and not with_why:
            entry = candidate.entry
        elif entry is None:
            row = details[candidate.score_id]
            entry = replace(
                candidate.entry,
                components=tuple(Component(**c) for c in row["components"]),
                certainty_steps=tuple(Step(**step) for step in row["certainty_steps"]),
                bottom_line=row["bottom_line"],
            )
        entries.append(entry)
    return entries


def build_stack(
    goals: Sequence[Goal],
    constraints: Constraints = Constraints(),
    priorities: Mapping[str, float] | None = None,
    size: int = DEFAULT_STACK_SIZE,
    limit: int = DEFAULT_LIMIT,
    with_rankings: bool = True,
    with_why: bool = True,
) -> Stack:
    """Recommend up to `size` compounds covering the goals, chosen greedily by marginal gain.

    A compound's gain is the sum over the goals it serves of priority x score/100, where each
    earlier pick serving the same goal halves what the next one is worth for it. While some
    goal that has evidence is still uncovered, only compounds covering an uncovered goal are
    considered, so every coverable goal gets a compound before any goal gets a second one.
    A goal's priority is a weight of 0 or more (a negative one counts as 0).
    The candidates are the STACK_CANDIDATES best-ranked compounds of each goal, of which only
    those the stack may pick are read whole (`_contending`). Each goal's ranking (cut at
    `limit`) comes with the stack, read by the same queries, unless `with_rankings` is False
    (the API's stack returns none): at most seven queries in all (the seventh only for
    candidates below the first CANDIDATES_READ of a goal), and one more once per content
    version (`stack_warnings`).
    Without `with_why` the entries and picks come without their "why this rank" (see
    `rank_goals` and `_with_details`): two queries fewer (no details read; the candidates read
    with the shown entries, `_read_lists`).
    """
    goals = tuple(dict.fromkeys(goals))
    priorities = {g.slug: max(0.0, float((priorities or {}).get(g.slug, 1.0))) for g in goals}
    size = max(1, min(size, MAX_STACK_SIZE))
    limit = max(1, min(limit, MAX_LIMIT))
    shown = limit if with_rankings else 0
    rankings, found = _goal_lists(goals, constraints, shown, True, with_why)
    candidates = _contending(goals, found, size, constraints)

    scores: dict[str, dict[str, float]] = defaultdict(dict)  # compound slug -> goal -> score
    # Each candidate at its best-ranked goal (the first goal by id at a tie, as read).
    best: dict[str, tuple[Goal, Candidate]] = {}
    costs: dict[str, list[Decimal]] = defaultdict(list)
    for goal in sorted(goals, key=lambda g: g.pk):
        for candidate in candidates[goal.pk]:
            entry = candidate.entry
            scores[entry.slug][goal.slug] = entry.score
            if entry.monthly_cost is not None:
                costs[entry.slug].append(entry.monthly_cost)
            if entry.slug not in best or entry.sort_key() < best[entry.slug][1].entry.sort_key():
                best[entry.slug] = (goal, candidate)

    order = {slug: candidate.entry.sort_key() for slug, (_, candidate) in best.items()}

    chosen: list[tuple[str, float]] = []  # (compound slug, its marginal gain)
    picks_per_goal = dict.fromkeys(priorities, 0)
    remaining = set(best)
    # What each candidate is worth for each goal before any pick: priority x score / 100.
    worth = {
        slug: [(g, priorities[g] * score / 100) for g, score in goal_scores.items()]
        for slug, goal_scores in scores.items()
    }
    while remaining and len(chosen) < size:
        uncovered = {g for g, count in picks_per_goal.items() if count == 0}
        covering = {s for s in remaining if uncovered & scores[s].keys()}
        pool = covering or remaining
        left = {g: DIMINISHING_RETURN**count for g, count in picks_per_goal.items()}
        gains = {s: sum(value * left[g] for g, value in worth[s]) for s in pool}
        chosen_slug = min(pool, key=lambda s: (-gains[s], order[s]))
        chosen_gain = gains[chosen_slug]
        if chosen_gain <= 0:
            break
        chosen.append((chosen_slug, round(chosen_gain, 3)))
        for goal_slug in scores[chosen_slug]:
            picks_per_goal[goal_slug] += 1
        remaining.discard(chosen_slug)

    # A pick explains itself with the "why this rank" of the goal it was chosen from.
    picked = [best[slug] for slug, _ in chosen]
    picks = [
        Pick(entry, dict(sorted(scores[entry.slug].items())), gain)
        for entry, (_, gain) in zip(_with_details(picked, rankings, with_why), chosen, strict=True)
    ]
    # A pick is taken once: its cost is that of the dearest dose among the goals it serves.
    pick_costs = {p.compound.slug: max(costs[p.compound.slug], default=None) for p in picks}
    known = [c for c in pick_costs.values() if c is not None]
    return Stack(
        goals=goals,
        picks=tuple(picks),
        uncovered_goals=tuple(g for g in goals if picks_per_goal[g.slug] == 0),
        warnings=stack_warnings(
            [
                StackMember(
                    compound_id=c.compound_id,
                    slug=c.entry.slug,
                    name=c.entry.name,
                    mechanism_class=c.mechanism_class,
                    conditions=c.conditions,
                )
                for _, c in picked
            ]
        ),
        monthly_cost=sum(known, Decimal(0)) if known else None,
        cost_unknown_for=tuple(slug for slug, c in pick_costs.items() if c is None),
        rankings=tuple(rankings[goal.pk] for goal in goals) if with_rankings else (),
    )


@dataclass(frozen=True)
class StackMember:
    """What the stack's warnings need to know of one pick."""

    compound_id: int
    slug: str
    name: str
    mechanism_class: str = ""
    conditions: tuple[str, ...] = ()  # every condition the compound is contraindicated in


SEVERITY_ORDER = {"major": 0, "moderate": 1, "minor": 2, "caution": 3}


def stack_warnings(members: Sequence[StackMember]) -> tuple[StackWarning, ...]:
    """Interactions between picks, contraindications they share, and duplicated mechanisms.

    The interactions are read only when two picks have some interaction on record (which
    compounds have one is read once per content version): few compounds have any."""
    if len(members) < 2:
        return ()
    interacting = until_content_changes("interacting-compounds", Interaction.objects.compound_ids)
    by_id = {m.compound_id: m for m in members if m.compound_id in interacting}
    interactions = ()  # not even an empty query's compiling: most stacks have none
    if len(by_id) > 1:
        interactions = Interaction.objects.filter(
            compound_a_id__in=by_id, compound_b_id__in=by_id
        ).order_by("compound_a_id", "compound_b_id")
    warnings = []
    for interaction in interactions:
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
    shared: dict[str, list[StackMember]] = defaultdict(list)
    mechanisms: dict[str, list[StackMember]] = defaultdict(list)
    for member in sorted(members, key=lambda m: m.compound_id):
        for condition in member.conditions:
            shared[condition].append(member)
        if member.mechanism_class:
            mechanisms[member.mechanism_class.strip().casefold()].append(member)
    for condition, sharing in sorted(shared.items()):
        if len(sharing) > 1:
            names = ", ".join(m.name for m in sharing)
            warnings.append(
                StackWarning(
                    kind="shared_contraindication",
                    severity="caution",
                    message=f"{names} are all not recommended for: {Condition(condition).label}",
                    compounds=tuple(m.slug for m in sharing),
                )
            )
    for sharing in mechanisms.values():
        if len(sharing) > 1:
            names = ", ".join(m.name for m in sharing)
            warnings.append(
                StackWarning(
                    kind="same_mechanism",
                    severity="caution",
                    message=f"{names} share a mechanism ({sharing[0].mechanism_class}); "
                    "taking both may add little or add up side effects",
                    compounds=tuple(m.slug for m in sharing),
                )
            )
    return tuple(sorted(warnings, key=lambda w: (SEVERITY_ORDER[w.severity], w.kind, w.message)))
