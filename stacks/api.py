"""Read-only JSON API over the scoring service, documented at /api/openapi.json.

Every read answers with an ETag and Last-Modified and revalidates with 304
(evidence.cache.conditional_get); any origin may read it (evidence.http). The paginated
lists of the whole knowledge base are in stacks/api_lists.py.
"""

import re
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Annotated, get_origin

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Field, NinjaAPI, Query, Schema
from ninja.errors import HttpError, ValidationError
from pydantic import BaseModel, TypeAdapter, field_validator

from evidence.cache import Param, cached_json, conditional_get
from evidence.currencies import CODE_PATTERN, is_currency
from evidence.models import (
    AntiDopingStatus,
    Compound,
    Condition,
    Dosing,
    Finding,
    Goal,
    Offer,
    Rating,
    RegulatoryStatus,
)
from evidence.synthesis import synthesise
from stacks.ranking import (
    BUDGET_DECIMAL_PLACES,
    BUDGET_MAX_DIGITS,
    DEFAULT_LIMIT,
    DEFAULT_STACK_SIZE,
    MAX_BUDGET,
    MAX_GOALS,
    MAX_LIMIT,
    MAX_STACK_SIZE,
    Constraints,
    RankedCompound,
    Ranking,
    build_stack,
    rank_goal,
)

api = NinjaAPI(
    title="Evidence Stack Builder API",
    version="1",
    description=(
        "Compounds ranked for health goals by the strength of the scientific evidence. "
        "Educational purposes only, not medical advice."
    ),
    urls_namespace="api",
)


def get_and_head(path: str, params: tuple[Param, ...] = (), **options):
    """A GET operation, documented once; HEAD answered by the same view (the server drops
    the body), left out of the schema so no operation id appears twice. Both revalidate
    (ETag, Last-Modified, 304) by the path and `params`, the query parameters the answer
    depends on (those its cache key holds)."""

    def register(view):
        view = conditional_get(*params, kind="json")(view)
        api.api_operation(["HEAD"], path, include_in_schema=False)(view)
        return api.get(path, **options)(view)

    return register


SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"


def _is_slug(text: str) -> bool:
    """Slugs are ASCII; anything else (NUL bytes included) can name nothing here."""
    return re.fullmatch(SLUG_PATTERN, text) is not None


class ConstraintParams(Schema):
    condition: list[Condition] = Field(
        default_factory=list,
        description="Declared conditions; contraindicated compounds are excluded.",
    )
    no_injections: bool = Field(False, description="Exclude compounds only given by injection.")
    exclude_kind: list[Compound.Kind] = Field(default_factory=list)
    min_tier: int | None = Field(None, ge=1, le=20, description="Weakest tier still shown.")
    in_stock: bool = Field(False, description="Only compounds with an offer in stock.")
    budget: Decimal | None = Field(
        None,
        ge=0,
        le=MAX_BUDGET,
        max_digits=BUDGET_MAX_DIGITS,
        decimal_places=BUDGET_DECIMAL_PLACES,
        description="Monthly budget.",
    )
    currency: Annotated[str, Field(pattern=CODE_PATTERN)] = Field(
        Offer.DEFAULT_CURRENCY,
        description="ISO 4217 code. Costs and the budget read only offers priced in it "
        "(no exchange rates).",
    )
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Entries per list.")

    @field_validator("currency")
    @classmethod
    def iso_4217(cls, code: str) -> str:
        if not is_currency(code):
            raise ValueError(f"{code} is not an ISO 4217 currency code (e.g. USD, EUR, JPY)")
        return code

    def to_constraints(self) -> Constraints:
        return Constraints(
            conditions=frozenset(self.condition),
            no_injections=self.no_injections,
            excluded_kinds=frozenset(self.exclude_kind),
            min_tier=self.min_tier,
            in_stock_only=self.in_stock,
            monthly_budget=self.budget,
            currency=self.currency,
        )


class StackParams(ConstraintParams):
    goals: list[Annotated[str, Field(min_length=1, max_length=120, pattern=SLUG_PATTERN)]] = Field(
        ..., min_length=1, max_length=MAX_GOALS, description="Goal slugs, repeated."
    )
    priority: list[Annotated[str, Field(pattern=r"^[-a-zA-Z0-9_]+:\d{1,2}(\.\d{1,2})?$")]] = Field(
        default_factory=list,
        description='Optional goal weights as "slug:weight", e.g. liver-health:2 (default 1).',
    )
    size: int = Field(DEFAULT_STACK_SIZE, ge=1, le=MAX_STACK_SIZE)


# Lists whose order the answer keeps (the stack lists its goals as asked; a repeated
# priority's last weight wins); the other lists are sets.
ORDERED_LISTS = {"goals", "priority"}


def query_params(schema: type[Schema]) -> tuple[Param, ...]:
    """The parameters a query schema reads, for the cache key: lists repeat; any other
    parameter is one value (django-ninja reads the last), left out when it is the default."""
    params = []
    for name, field in schema.model_fields.items():
        if get_origin(field.annotation) is list:
            params.append(Param(name, repeated=True, ordered=name in ORDERED_LISTS))
        elif isinstance(field.default, int | str) and not isinstance(field.default, bool):
            params.append(Param(name, defaults=(str(field.default),)))
        else:
            params.append(Param(name))
    return tuple(params)


RANKING_PARAMS = query_params(ConstraintParams)
STACK_PARAMS = query_params(StackParams)


class Out(BaseModel):
    """The schema of an answer. Every answer is built as plain values and validated once
    before it is cached (`_dump`), so a plain pydantic model: ninja's Schema reads its input
    through a getter made for model instances, which cost half of a ranking answer's time."""


class GoalOut(Out):
    slug: str
    name: str
    category: str


class ComponentOut(Out):
    kind: str
    label: str
    points: float
    detail: str
    study_slug: str


class CertaintyStepOut(Out):
    domain: str = Field(
        description="start | risk_of_bias | imprecision | inconsistency | indirectness | "
        "large_effect"
    )
    change: int = Field(
        description="For `start`, the starting level (4 high, 2 low); "
        "otherwise levels moved (-2 to +1)."
    )
    reason: str


class CertaintyOut(Out):
    level: int = Field(description="1 very low, 2 low, 3 moderate, 4 high.")
    label: str
    steps: list[CertaintyStepOut]


class RankedOut(Out):
    slug: str
    name: str
    kind: str
    score: float | None = Field(
        description="0-100; null outside the ranking (insufficient evidence: no direction)."
    )
    tier: int | None
    tier_label: str
    computed: bool = Field(
        description="Placed by the computed certainty: no editor has tiered it for this goal "
        "(not yet reviewed by an editor)."
    )
    certainty: CertaintyOut | None = Field(
        description="GRADE-style certainty of the evidence of benefit, every step with its "
        "reason; null when nothing is in the compound's favour."
    )
    components: list[ComponentOut]
    study_count: int
    randomised_study_count: int
    participants: int
    monthly_cost: float | None


class ExclusionOut(Out):
    slug: str
    name: str
    tier: int | None
    reasons: list[str]


class RankingOut(Out):
    goal: GoalOut
    ranked: list[RankedOut]
    no_effect: list[RankedOut]
    insufficient: list[RankedOut]
    excluded: list[ExclusionOut]
    totals: dict[str, int] = Field(description="Full size of each list before the limit.")
    limit: int


class PickOut(Out):
    compound: RankedOut
    goals: dict[str, float]
    marginal_gain: float


class WarningOut(Out):
    kind: str
    severity: str
    message: str
    compounds: list[str]


class StackOut(Out):
    goals: list[GoalOut]
    picks: list[PickOut]
    uncovered_goals: list[GoalOut]
    warnings: list[WarningOut]
    monthly_cost: float | None
    currency: str
    cost_unknown_for: list[str]


class SourceOut(Out):
    slug: str
    name: str
    publisher: str
    url: str
    licence: str
    licence_url: str
    version: str = Field(description="The release, version or commit that was used.")
    retrieved: date
    attribution: str = Field(description="The credit the licence asks for.")
    attribution_required: bool = Field(
        description="The licence requires the attribution to be shown with the data."
    )


class ArticleRefOut(Out):
    slug: str
    title: str
    url: str | None = Field(description="The article's page; null while it is unpublished.")


class StudyOut(Out):
    slug: str
    title: str = Field(description='Empty when the source does not report it ("not reported").')
    design: str
    n: int | None
    trial_count: int | None
    population: str
    country: str
    year: int | None
    pmid: str
    doi: str
    url: str
    source: SourceOut | None = Field(description="The dataset or publication it was taken from.")
    source_record_id: str
    contributor: str
    reported_in: ArticleRefOut | None = Field(
        description="For a study known only through an article: that article."
    )
    reviewed: bool = Field(description="False until an editor has reviewed imported content.")


class FindingFieldsOut(Out):
    outcome: str
    comparator: str
    comparator_name: str
    measure: str
    value: Decimal | None
    comparator_value: Decimal | None
    ci_low: Decimal | None
    ci_high: Decimal | None
    p_value: Decimal | None
    p_value_is_bound: bool | None = Field(
        description="true for a bound (p<0.001); null when the source does not say which."
    )
    stated_significance: bool | None = Field(
        description="Only without a CI or p-value: whether the source states significance."
    )
    outcome_kind: str = Field(description='"clinical", or "surrogate" for a biomarker.')
    value_unit: str = Field(description="The unit of a mean difference; empty when not reported.")
    higher_is_better: bool | None = Field(
        description="The outcome's desirable direction: a rise is better; null when unknown."
    )
    direction: str = Field(
        description="Only for a finding reported without figures: what the source states."
    )
    significant: bool | None
    favours: str
    source_direction: str = Field(description="The source's own direction word, as given.")
    source_grade: str = Field(description="The source's own strength grade, as given.")
    source_grade_scale: str = Field(description="The name of that grade's scale.")
    dose: Decimal | None = Field(description="The dose studied, or the low end of its range.")
    dose_max: Decimal | None
    dose_unit: str
    dose_per_kg: bool
    dose_timing: str
    notes: str
    source_record_id: str
    contributor: str
    quote: str = Field(description="The source's own words, verbatim; empty when none.")
    reviewed: bool = Field(description="False while an import's doubt awaits an editor.")
    review_note: str = Field(description="Why an import flagged the finding for review.")


class FindingOut(FindingFieldsOut):
    study: StudyOut
    goal: str


class RatingOut(Out):
    goal: str
    tier: int
    tier_label: str
    bottom_line: str
    last_reviewed: date | None


class DosingOut(Out):
    goal: str | None = Field(description="null when the dose applies to every goal.")
    amount: Decimal = Field(description="The dose, or the low end of a range.")
    amount_max: Decimal | None = Field(description="The high end of a range; null for one dose.")
    unit: str
    per_kg: bool = Field(description="The amount is per kg of body weight.")
    frequency: str = Field(description="Empty when the source does not report it.")
    doses_per_week: Decimal | None
    route: str = Field(description='"not_reported" when the source does not say.')
    timing: str = Field(description='e.g. "at bedtime", "with meals"; empty when not stated.')
    duration: str


class RegulatoryStatusOut(Out):
    jurisdiction: str
    regulator: str
    status: str = Field(description="approved, not_approved, warning_list or other.")
    status_detail: str
    source_name: str
    source_url: str
    verified_on: date = Field(description="When an editor last checked the source.")


class AntiDopingStatusOut(Out):
    list_name: str
    list_class: str
    status: str = Field(description="prohibited, not_prohibited or monitored.")
    source_url: str
    verified_on: date = Field(description="When an editor last checked the list.")


class OfferOut(Out):
    vendor: str = Field(description="The vendor's slug.")
    vendor_name: str
    product_name: str
    url: str = Field(description="The product's page at the vendor.")
    price_availability: str = Field(
        description="public, after_login (shown only after login at the vendor) or on_request."
    )
    price: Decimal | None = Field(description="The pack price; null unless the price is public.")
    currency: str = Field(description="ISO 4217 code; prices are never converted.")
    price_per_mg: Decimal | None = Field(
        description="null without a public price or for a unit without a mass (IU, ml)."
    )
    amount_per_unit: Decimal
    unit: str
    units_per_pack: int
    form: str
    in_stock: bool
    last_checked: date | None
    certificate_of_analysis_url: str = Field(description="The vendor's certificate; may be empty.")
    vendor_claim: str = Field(
        description="The vendor's own words about the product, quoted: a claim, not evidence."
    )


class CompoundOut(Out):
    slug: str
    name: str
    aliases: list[str]
    kind: str
    summary: str
    mechanism: str
    regulatory_status: str
    regulatory_statuses: list[RegulatoryStatusOut]
    anti_doping_statuses: list[AntiDopingStatusOut]
    dosing: list[DosingOut]
    ratings: list[RatingOut]
    findings: list[FindingOut]
    offers: list[OfferOut] = Field(
        description="Visible offers in every currency, those without a public price included."
    )


class ParamErrorOut(Out):
    param: str
    message: str


class ErrorOut(Out):
    detail: str
    errors: list[ParamErrorOut] = []


@api.exception_handler(ValidationError)
def invalid_parameters(request: HttpRequest, exc: ValidationError):
    """422 with a readable message naming every bad parameter."""
    errors = []
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("query", "params")]
        param = location[0] if location else "request"
        errors.append({"param": param, "message": error.get("msg", "invalid value")})
    detail = "; ".join(f"{e['param']}: {e['message']}" for e in errors)
    return api.create_response(request, {"detail": detail, "errors": errors}, status=422)


def _ranked(entry: RankedCompound) -> dict:
    return {
        **{k: getattr(entry, k) for k in RankedOut.model_fields if hasattr(entry, k)},
        "tier": entry.tier_number,
        "certainty": {
            "level": entry.certainty,
            "label": entry.certainty_label,
            "steps": [step.__dict__ for step in entry.certainty_steps],
        }
        if entry.certainty
        else None,
        "components": [c.__dict__ for c in entry.components],
        "monthly_cost": float(entry.monthly_cost) if entry.monthly_cost is not None else None,
    }


@cache
def _adapter(schema) -> TypeAdapter:
    """Building a schema's validator is costly; each schema's is built once per process."""
    return TypeAdapter(schema)


def _dump(schema, data) -> bytes:
    """Validate an answer against its schema once and serialise it, ready to cache."""
    adapter = _adapter(schema)
    return adapter.dump_json(adapter.validate_python(data))


def _goal(goal: Goal) -> dict:
    return {"slug": goal.slug, "name": goal.name, "category": goal.category}


def _ranking(ranking: Ranking) -> dict:
    return {
        "goal": _goal(ranking.goal),
        "ranked": [_ranked(e) for e in ranking.ranked],
        "no_effect": [_ranked(e) for e in ranking.no_effect],
        "insufficient": [_ranked(e) for e in ranking.insufficient],
        "excluded": [
            {"slug": e.slug, "name": e.name, "tier": e.tier_number, "reasons": list(e.reasons)}
            for e in ranking.excluded
        ],
        "totals": ranking.totals,
        "limit": ranking.limit,
    }


@get_and_head(
    "/goals/{slug}/ranking/",
    RANKING_PARAMS,
    response={200: RankingOut, 404: ErrorOut, 422: ErrorOut},
    summary="Compounds ranked for one goal",
)
def goal_ranking(request: HttpRequest, slug: str, params: Query[ConstraintParams]):
    def build() -> bytes:
        goal = Goal.objects.filter(slug=slug).first() if _is_slug(slug) else None
        if goal is None:
            raise HttpError(404, f"Unknown goal: {slug}")
        ranking = rank_goal(goal, params.to_constraints(), params.limit)
        return _dump(RankingOut, _ranking(ranking))

    return cached_json(request, build, RANKING_PARAMS)


@get_and_head(
    "/stack/",
    STACK_PARAMS,
    response={200: StackOut, 404: ErrorOut, 422: ErrorOut},
    summary="A recommended stack for several goals",
)
def stack(request: HttpRequest, params: Query[StackParams]):
    slugs = list(dict.fromkeys(params.goals))

    def build() -> bytes:
        goals = {g.slug: g for g in Goal.objects.filter(slug__in=slugs)}
        missing = [s for s in slugs if s not in goals]
        if missing:
            raise HttpError(404, f"Unknown goal: {', '.join(missing)}")
        priorities = {}
        for item in params.priority:
            goal_slug, weight = item.split(":")
            if goal_slug not in goals:
                raise HttpError(422, f"priority: {goal_slug} is not one of the chosen goals")
            priorities[goal_slug] = float(weight)
        constraints = params.to_constraints()
        result = build_stack(
            [goals[s] for s in slugs], constraints, priorities, params.size, with_rankings=False
        )
        return _dump(StackOut, _stack(result, constraints))

    return cached_json(request, build, STACK_PARAMS)


def _stack(result, constraints) -> dict:
    return {
        "goals": [_goal(g) for g in result.goals],
        "picks": [
            {
                "compound": _ranked(p.compound),
                "goals": p.goal_scores,
                "marginal_gain": p.marginal_gain,
            }
            for p in result.picks
        ],
        "uncovered_goals": [_goal(g) for g in result.uncovered_goals],
        "warnings": [w.__dict__ for w in result.warnings],
        "monthly_cost": float(result.monthly_cost) if result.monthly_cost is not None else None,
        "currency": constraints.currency,
        "cost_unknown_for": list(result.cost_unknown_for),
    }


@get_and_head(
    "/compounds/{slug}/",
    response={200: CompoundOut, 404: ErrorOut},
    summary="A compound with its ratings and findings",
)
def compound_detail(request: HttpRequest, slug: str):
    return cached_json(request, lambda: _dump(CompoundOut, _compound(slug)))


def _compound(slug: str) -> dict:
    compound = (
        Compound.objects.published()
        .prefetch_related(
            "aliases",
            Prefetch("ratings", queryset=Rating.objects.select_related("goal", "tier")),
            Prefetch("dosings", queryset=Dosing.objects.select_related("goal").order_by("pk")),
            Prefetch(
                "regulatory_statuses", queryset=RegulatoryStatus.objects.order_by("jurisdiction")
            ),
            Prefetch(
                "anti_doping_statuses", queryset=AntiDopingStatus.objects.order_by("list_name")
            ),
            Prefetch(
                "offers",
                queryset=Offer.objects.visible()
                .with_price_per_mg()
                .select_related("vendor")
                .in_display_order(),
                to_attr="visible_offers",
            ),
            Prefetch(
                "findings",
                queryset=Finding.objects.select_related(
                    "study__source",
                    "study__reported_in__compound",
                    "study__reported_in__goal",
                    "goal",
                ).order_by("study__slug", "goal__slug", "outcome"),
            ),
        )
        .filter(slug=slug)
        .first()
        if _is_slug(slug)
        else None
    )
    if compound is None:
        raise HttpError(404, f"Unknown compound: {slug}")
    return {
        "slug": compound.slug,
        "name": compound.name,
        "aliases": sorted(a.name for a in compound.aliases.all()),
        "kind": compound.kind,
        "summary": compound.summary,
        "mechanism": compound.mechanism,
        "regulatory_status": compound.regulatory_status,
        "regulatory_statuses": [
            {k: getattr(r, k) for k in RegulatoryStatusOut.model_fields}
            for r in compound.regulatory_statuses.all()
        ],
        "anti_doping_statuses": [
            {k: getattr(a, k) for k in AntiDopingStatusOut.model_fields}
            for a in compound.anti_doping_statuses.all()
        ],
        "dosing": [
            {
                **{k: getattr(d, k) for k in DosingOut.model_fields if k != "goal"},
                "goal": d.goal.slug if d.goal else None,
            }
            for d in compound.dosings.all()
        ],
        "offers": [
            {
                **{
                    k: getattr(o, k)
                    for k in OfferOut.model_fields
                    if k not in ("vendor", "vendor_name")
                },
                "vendor": o.vendor.slug,
                "vendor_name": o.vendor.name,
            }
            for o in compound.visible_offers
        ],
        "ratings": [
            {
                "goal": r.goal.slug,
                "tier": r.tier.number,
                "tier_label": r.tier.label,
                "bottom_line": r.bottom_line,
                "last_reviewed": r.last_reviewed,
            }
            for r in sorted(compound.ratings.all(), key=lambda r: r.goal.slug)
        ],
        "findings": [
            {
                "study": _study(f.study),
                "goal": f.goal.slug,
                **_finding_fields(f),
            }
            for f in compound.findings.all()
        ],
    }


def _finding_fields(finding: Finding) -> dict:
    """A finding's own fields (FindingFieldsOut), without its study and goal."""
    return {
        **{k: getattr(finding, k) for k in FindingFieldsOut.model_fields if k != "favours"},
        "favours": str(finding.favours),
    }


STUDY_PROVENANCE = {"source", "reported_in"}


def _study(study) -> dict:
    """A study with its citation and provenance: the source, or the article it is reported in."""
    source, article = study.source, study.reported_in
    return {
        **{k: getattr(study, k) for k in StudyOut.model_fields if k not in STUDY_PROVENANCE},
        "source": None
        if source is None
        else {k: getattr(source, k) for k in SourceOut.model_fields},
        "reported_in": None
        if article is None
        else {
            "slug": article.slug,
            "title": article.title,
            "url": article.get_absolute_url() if article.is_published else None,
        },
    }


class PooledOut(Out):
    outcome: str
    measure: str
    unit: str = Field(description="A mean difference's unit; empty otherwise.")
    study_count: int
    participants: int
    estimate: float = Field(description="On the measure's own scale (ratios back-transformed).")
    ci_low: float
    ci_high: float
    tau2: float = Field(description="Between-study variance (log scale for ratios).")
    i2: float = Field(description="Share of variability beyond chance, 0 to 1.")
    q: float = Field(description="Cochran's Q.")
    method: str


class OutcomeSummaryOut(Out):
    outcome: str
    outcome_kind: str
    study_count: int
    participants: int
    effect: str = Field(description="The single finding's effect in words, or how they stand.")
    pooled: PooledOut | None
    certainty: CertaintyOut


class EvidenceOut(Out):
    compound: str
    goal: GoalOut
    tier: int | None = Field(description="The editor's tier; null when the place is computed.")
    certainty_of_benefit: CertaintyOut | None
    summary_of_findings: list[OutcomeSummaryOut]


@get_and_head(
    "/compounds/{slug}/evidence/{goal_slug}/",
    response={200: EvidenceOut, 404: ErrorOut},
    summary="The Summary of findings of a compound for a goal: certainty and pooled estimates",
)
def compound_evidence(request: HttpRequest, slug: str, goal_slug: str):
    return cached_json(request, lambda: _dump(EvidenceOut, _evidence(slug, goal_slug)))


def _evidence(slug: str, goal_slug: str) -> dict:
    compound = Compound.objects.published().filter(slug=slug).first() if _is_slug(slug) else None
    goal = Goal.objects.filter(slug=goal_slug).first() if _is_slug(goal_slug) else None
    if compound is None or goal is None:
        raise HttpError(404, f"Unknown compound or goal: {slug}, {goal_slug}")
    findings = list(
        Finding.objects.filter(compound=compound, goal=goal)
        .select_related("study")
        .order_by("study__slug", "outcome")
    )
    rating = Rating.objects.filter(compound=compound, goal=goal).select_related("tier").first()
    if rating is None and not findings:
        raise HttpError(404, f"No evidence for {slug} and {goal_slug}")
    result = synthesise(findings)
    return {
        "compound": compound.slug,
        "goal": _goal(goal),
        "tier": rating.tier.number if rating else None,
        "certainty_of_benefit": result.certainty_of_benefit.as_dict()
        if result.certainty_of_benefit
        else None,
        "summary_of_findings": [
            {
                "outcome": row.outcome,
                "outcome_kind": row.outcome_kind,
                "study_count": row.study_count,
                "participants": row.participants,
                "effect": row.effect,
                "pooled": row.pooled.as_dict() if row.pooled else None,
                "certainty": row.certainty.as_dict(),
            }
            for row in result.outcomes
        ],
    }


# The paginated lists register their operations on `api` (last, as they read the schemas
# and helpers above).
from stacks import api_lists  # noqa: E402, F401
