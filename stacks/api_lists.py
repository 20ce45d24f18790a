"""The whole knowledge base as paginated lists: compounds, goals, studies with their findings,
sources, and the public change log (evidence.changelog).

Every list pages the same way: `page` (from 1) and `page_size` (DEFAULT_PAGE_SIZE, at most
MAX_PAGE_SIZE); the answer says the total `count`, the number of `pages`, and links to the
`next` and `previous` pages (relative URLs holding the same filters, null at either end). The
order is stable and documented per list (by slug, the change log newest first), so walking
the pages while the content stays the same (the ETag says so) meets every entry exactly
once. Only what visitors may see: published compounds, and studies and findings of published
compounds. A filter naming an unknown goal, compound or source answers 404, a malformed
value 422, each with a message.

Each list costs a constant number of queries, whatever its page size (the tests pin them).
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.core.paginator import InvalidPage, Paginator
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import HttpRequest, QueryDict
from django.urls import reverse
from ninja import Field, Query, Schema
from ninja.errors import HttpError
from pydantic import field_validator

from evidence.cache import cached_json, canonical_query, until_content_changes
from evidence.changelog import Change, ChangeLog
from evidence.models import Compound, CompoundAlias, Finding, Goal, Rating, Source, Study
from stacks import paging
from stacks.api import (
    SLUG_PATTERN,
    ErrorOut,
    FindingFieldsOut,
    GoalOut,
    Out,
    SourceOut,
    StudyOut,
    _dump,
    _finding_fields,
    _goal,
    _study,
    get_and_head,
    query_params,
)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_PAGE = 100_000


class PageParams(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="The page, from 1.")
    page_size: int = Field(
        DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Entries per page."
    )


class CompoundFilters(PageParams):
    goal: str | None = Field(
        None,
        min_length=1,
        max_length=120,
        pattern=SLUG_PATTERN,
        description="Only compounds rated or studied for this goal (its slug).",
    )
    kind: Compound.Kind | None = Field(None, description="Only compounds of this kind.")


class GoalFilters(PageParams):
    category: str | None = Field(
        None,
        min_length=1,
        max_length=80,
        pattern=r"^[^\x00]*$",
        description="Only goals under this heading, e.g. Sleep (exact, as listed).",
    )


class StudyFilters(PageParams):
    design: Study.Design | None = Field(None, description="Only studies of this design.")
    source: str | None = Field(
        None,
        min_length=1,
        max_length=160,
        pattern=SLUG_PATTERN,
        description="Only studies taken from this source (its slug).",
    )
    goal: str | None = Field(
        None,
        min_length=1,
        max_length=120,
        pattern=SLUG_PATTERN,
        description="Only studies with a finding for this goal (its slug), and only those "
        "findings.",
    )
    compound: str | None = Field(
        None,
        min_length=1,
        max_length=160,
        pattern=SLUG_PATTERN,
        description="Only studies with a finding for this compound (its slug), and only those "
        "findings.",
    )


class ChangeFilters(PageParams):
    since: datetime | None = Field(
        None,
        description="Only changes at or after this time (ISO 8601; without a time zone, UTC; "
        "a date alone means its midnight).",
    )
    compound: str | None = Field(
        None,
        min_length=1,
        max_length=160,
        pattern=SLUG_PATTERN,
        description="Only this compound's changes (its slug).",
    )
    minor: bool = Field(False, description="Include edits the editor marked minor.")

    @field_validator("since")
    @classmethod
    def in_utc(cls, value: datetime | None) -> datetime | None:
        """A time without a zone is UTC; one that UTC cannot hold (year 1 at +14:00) is
        refused here rather than by the database."""
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        try:
            return value.astimezone(UTC)
        except OverflowError as exc:
            raise ValueError("the time is out of range") from exc


COMPOUND_PARAMS = query_params(CompoundFilters)
GOAL_PARAMS = query_params(GoalFilters)
STUDY_PARAMS = query_params(StudyFilters)
SOURCE_PARAMS = query_params(PageParams)
CHANGE_PARAMS = query_params(ChangeFilters)


class PageOut(Out):
    count: int = Field(description="Entries in the whole list, on every page.")
    page: int
    page_size: int
    pages: int = Field(description="The number of pages (1 for an empty list).")
    next: str | None = Field(
        description="The next page's URL, relative to the site; null on the last."
    )
    previous: str | None = Field(
        description="The previous page's URL, relative to the site; null on the first."
    )


class RatingSummaryOut(Out):
    goal: str
    tier: int
    tier_label: str


class CompoundSummaryOut(Out):
    slug: str
    name: str
    kind: str
    mechanism_class: str
    aliases: list[str]
    ratings: list[RatingSummaryOut] = Field(description="The editors' tiers, by goal slug.")
    url: str = Field(description="The compound in full: its API URL, relative to the site.")
    page_url: str = Field(description="Its page on the site.")


class CompoundPageOut(PageOut):
    results: list[CompoundSummaryOut] = Field(description="Published compounds, by slug.")


class GoalPageOut(PageOut):
    results: list[GoalOut] = Field(description="Goals, by slug.")


class StudyFindingOut(FindingFieldsOut):
    compound: str
    goal: str


class StudyWithFindingsOut(StudyOut):
    findings: list[StudyFindingOut] = Field(
        description="Its findings for published compounds, by compound, goal and outcome."
    )


class StudyPageOut(PageOut):
    results: list[StudyWithFindingsOut] = Field(
        description="Studies with a finding for a published compound, by slug."
    )


class SourcePageOut(PageOut):
    results: list[SourceOut] = Field(description="Sources, by slug.")


class ChangeOut(Out):
    key: str = Field(description='Stable and unique, e.g. "rating-12".')
    when: datetime
    compound: str
    compound_name: str
    text: str = Field(description="What changed, in a sentence or two.")
    reason: str = Field(description="The editor's public reason; empty when none was given.")
    minor: bool
    tier_change: bool
    page_url: str = Field(description="Where to read the evidence as it is now.")


class ChangePageOut(PageOut):
    results: list[ChangeOut] = Field(description="Changes, newest first.")


LIST_ERRORS = {404: ErrorOut, 422: ErrorOut}


def _page_link(request: HttpRequest, params, number: int) -> str:
    """The page's URL: the path and the normalised parameters, `page` first (absent for 1),
    so every link to one page is spelled the same."""
    query = QueryDict(mutable=True)
    if number > 1:
        query["page"] = str(number)
    for name, values in canonical_query(request, params).lists():
        if name != "page":
            query.setlist(name, values)
    text = query.urlencode()
    return f"{request.path}?{text}" if text else request.path


def _paginated(
    request: HttpRequest,
    entries: QuerySet | Sequence,
    filters: PageParams,
    params,
    item: Callable,
) -> dict:
    """One page of `entries` (already in their documented order: a queryset by one unique
    field, ascending) as the lists answer it; 404 for a page past the last."""
    paginator = Paginator(entries, filters.page_size)
    # The size of a filtered list is the same for every page of it: counted once per content
    # version (a count over 200,000 studies is most of a page's cost). A page past the first
    # stretch of a queryset reads the list's outline instead, also once per version: its
    # size and where each stretch starts, so that the page reads only its own stretch
    # (stacks.paging) rather than walking every entry before it.
    narrowing = sorted(
        (name, str(value))
        for name, value in filters.model_dump().items()
        if name not in ("page", "page_size") and value not in (None, "")
    )
    narrowed = f"{request.path}?{urlencode(narrowing)}"
    offset = (filters.page - 1) * filters.page_size
    shape = None
    if isinstance(entries, QuerySet):
        (key,) = entries.query.order_by
        if paging.past_first_stretch(offset, filters.page_size):
            shape = until_content_changes(
                f"outline:{narrowed}", lambda: paging.outline(entries, key)
            )
    if shape is not None:
        paginator.count = shape.count
    else:
        paginator.count = until_content_changes(
            f"count:{narrowed}", lambda: Paginator(entries, filters.page_size).count
        )
    try:
        page = paginator.page(filters.page)
    except InvalidPage:
        raise HttpError(404, f"No page {filters.page}: there are {paginator.num_pages}.") from None
    if isinstance(entries, QuerySet):
        rows = paging.stretch(entries, key, shape, offset, filters.page_size)
    else:
        rows = page.object_list
    return {
        "count": paginator.count,
        "page": page.number,
        "page_size": filters.page_size,
        "pages": paginator.num_pages,
        "next": _page_link(request, params, page.number + 1) if page.has_next() else None,
        "previous": _page_link(request, params, page.number - 1) if page.has_previous() else None,
        "results": [item(entry) for entry in rows],
    }


def _known(queryset: QuerySet, slug: str | None, what: str):
    """The object the filter names (None without the filter); 404 when it names none."""
    if slug is None:
        return None
    found = queryset.filter(slug=slug).first()
    if found is None:
        raise HttpError(404, f"Unknown {what}: {slug}")
    return found


# Compounds ---------------------------------------------------------------------------------


@get_and_head(
    "/compounds/",
    COMPOUND_PARAMS,
    response={200: CompoundPageOut, **LIST_ERRORS},
    summary="Published compounds, by slug",
)
def list_compounds(request: HttpRequest, filters: Query[CompoundFilters]):
    def build() -> bytes:
        compounds = (
            Compound.objects.published()
            .order_by("slug")
            .prefetch_related(
                Prefetch("aliases", queryset=CompoundAlias.objects.order_by("name")),
                Prefetch(
                    "ratings",
                    queryset=Rating.objects.select_related("goal", "tier").order_by("goal__slug"),
                ),
            )
        )
        if goal := _known(Goal.objects.all(), filters.goal, "goal"):
            rated = Rating.objects.filter(compound=OuterRef("pk"), goal=goal)
            studied = Finding.objects.filter(compound=OuterRef("pk"), goal=goal)
            compounds = compounds.filter(Q(Exists(rated)) | Q(Exists(studied)))
        if filters.kind:
            compounds = compounds.filter(kind=filters.kind)
        page = _paginated(request, compounds, filters, COMPOUND_PARAMS, _compound_summary)
        return _dump(CompoundPageOut, page)

    return cached_json(request, build, COMPOUND_PARAMS)


def _compound_summary(compound: Compound) -> dict:
    return {
        "slug": compound.slug,
        "name": compound.name,
        "kind": compound.kind,
        "mechanism_class": compound.mechanism_class,
        "aliases": [alias.name for alias in compound.aliases.all()],
        "ratings": [
            {"goal": r.goal.slug, "tier": r.tier.number, "tier_label": r.tier.label}
            for r in compound.ratings.all()
        ],
        "url": reverse("api:compound_detail", args=[compound.slug]),
        "page_url": compound.get_absolute_url(),
    }


# Goals -------------------------------------------------------------------------------------


@get_and_head(
    "/goals/",
    GOAL_PARAMS,
    response={200: GoalPageOut, **LIST_ERRORS},
    summary="Goals, by slug",
)
def list_goals(request: HttpRequest, filters: Query[GoalFilters]):
    def build() -> bytes:
        goals = Goal.objects.order_by("slug")
        if filters.category is not None:
            goals = goals.filter(category=filters.category)
        return _dump(GoalPageOut, _paginated(request, goals, filters, GOAL_PARAMS, _goal))

    return cached_json(request, build, GOAL_PARAMS)


# Studies -----------------------------------------------------------------------------------


@get_and_head(
    "/studies/",
    STUDY_PARAMS,
    response={200: StudyPageOut, **LIST_ERRORS},
    summary="Studies with their findings, by slug",
)
def list_studies(request: HttpRequest, filters: Query[StudyFilters]):
    def build() -> bytes:
        findings = Finding.objects.filter(compound__published=True)
        if goal := _known(Goal.objects.all(), filters.goal, "goal"):
            findings = findings.filter(goal=goal)
        compound = _known(Compound.objects.published(), filters.compound, "compound")
        if compound:
            findings = findings.filter(compound=compound)
        studies = (
            Study.objects.filter(Exists(findings.filter(study=OuterRef("pk"))))
            .order_by("slug")
            .select_related("source", "reported_in__compound", "reported_in__goal")
            .prefetch_related(
                Prefetch(
                    "findings",
                    queryset=findings.select_related("compound", "goal").order_by(
                        "compound__slug", "goal__slug", "outcome", "pk"
                    ),
                    to_attr="public_findings",
                )
            )
        )
        if filters.design:
            studies = studies.filter(design=filters.design)
        if source := _known(Source.objects.all(), filters.source, "source"):
            studies = studies.filter(source=source)
        page = _paginated(request, studies, filters, STUDY_PARAMS, _study_with_findings)
        return _dump(StudyPageOut, page)

    return cached_json(request, build, STUDY_PARAMS)


def _study_with_findings(study: Study) -> dict:
    return {
        **_study(study),
        "findings": [
            {"compound": f.compound.slug, "goal": f.goal.slug, **_finding_fields(f)}
            for f in study.public_findings
        ],
    }


# Sources -----------------------------------------------------------------------------------


@get_and_head(
    "/sources/",
    SOURCE_PARAMS,
    response={200: SourcePageOut, **LIST_ERRORS},
    summary="The datasets and publications evidence was taken from, with their licences",
)
def list_sources(request: HttpRequest, filters: Query[PageParams]):
    def build() -> bytes:
        sources = Source.objects.order_by("slug")
        page = _paginated(
            request,
            sources,
            filters,
            SOURCE_PARAMS,
            lambda source: {k: getattr(source, k) for k in SourceOut.model_fields},
        )
        return _dump(SourcePageOut, page)

    return cached_json(request, build, SOURCE_PARAMS)


# Changes -----------------------------------------------------------------------------------


@get_and_head(
    "/changes/",
    CHANGE_PARAMS,
    response={200: ChangePageOut, **LIST_ERRORS},
    summary="The public change log, newest first",
)
def list_changes(request: HttpRequest, filters: Query[ChangeFilters]):
    def build() -> bytes:
        compound = _known(Compound.objects.published(), filters.compound, "compound")
        log = ChangeLog(compound, include_minor=filters.minor, since=filters.since)
        return _dump(ChangePageOut, _paginated(request, log, filters, CHANGE_PARAMS, _change))

    return cached_json(request, build, CHANGE_PARAMS)


def _change(change: Change) -> dict:
    return {
        "key": change.key,
        "when": change.when,
        "compound": change.compound.slug,
        "compound_name": change.compound.name,
        "text": change.text,
        "reason": change.reason,
        "minor": change.minor,
        "tier_change": change.tier_change,
        "page_url": change.url,
    }
