"""The public change log: what changed in the evidence, when, and (for a tier) why.

Built from the history tables django-simple-history already records, nothing stored twice.
Each `LogSource` reads one history table and keeps the rows that change something visitors
rely on, by comparing each row with the one before it for the same object (a SQL window,
`LAG`, so a page of the log costs a few queries whatever the size of the history):

* ratings: a tier given, changed or removed, and a bottom line rewritten;
* findings: a finding added or removed, and any change of its numbers (Finding.FIGURE_FIELDS);
* compounds: published, or withdrawn and published again;
* computed certainty: a change of the certainty of benefit of a compound for a goal
  (evidence.models.CertaintyChange, written by the rescore that computes it: certainty is
  computed, never edited, so that table is its history).

Only changes of compounds published now are listed: an unpublished compound, and everything
about it, never appears. The editor's public reason (evidence.models.PublicChangeNote, set in
the admin, required for a tier change) is shown; the editor's name never is. Edits the
editor marked minor are left out unless `include_minor`.

Each source is a `LogSource` in SOURCES (a query of its rows that are changes, and a function
describing one row as a `Change`); the pages and feeds need no other change for a new one.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    F,
    Lookup,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
    Window,
)
from django.db.models.functions import Lag
from django.urls import reverse

from evidence.certainty import Level
from evidence.formatting import format_effect
from evidence.models import CertaintyChange, Compound, Finding, Goal, Rating, Study, Tier


@dataclass(frozen=True)
class Change:
    """One change as the public reads it."""

    key: str  # stable and unique: the history table and row ("rating-12")
    when: datetime
    compound: Compound
    text: str  # what changed, in a sentence or two
    url: str  # where to read the evidence as it is now
    reason: str = ""  # the editor's public reason, if given
    minor: bool = False
    tier_change: bool = False


@dataclass(frozen=True)
class LogSource:
    """One history table's contribution to the log."""

    name: str
    # (compound or None, include_minor, since or None) -> the history rows that are changes
    # (since that time, when given), newest first, as dicts (values()) holding at least
    # history_id, history_date and compound_id.
    rows: Callable[[Compound | None, bool, datetime | None], QuerySet]
    # (row, lookups) -> the Change it describes.
    describe: Callable[[dict, "Lookups"], Change]


class IsDistinctFrom(Lookup):
    """`a IS DISTINCT FROM b`: unequal, NULL counting as a value (NULL and 1 differ, two NULLs
    do not); SQLite spells it `IS NOT`. One comparison where `=` needs three around NULLs,
    which keeps the finding log's query small to compile."""

    lookup_name = "distinct_from"

    def as_sql(self, compiler, connection, operator="IS DISTINCT FROM"):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} {operator} {rhs}", [*lhs_params, *rhs_params]

    def as_sqlite(self, compiler, connection):
        return self.as_sql(compiler, connection, operator="IS NOT")


def _previous(field: str) -> Window:
    """The field's value in the object's previous history row (None for its first)."""
    return Window(
        Lag(field),
        partition_by=[F("id")],
        order_by=[F("history_date").asc(), F("history_id").asc()],
    )


def _changes_only(
    rows: QuerySet, changed: Q, include_minor: bool, since: datetime | None = None
) -> QuerySet:
    """The rows where `changed` holds (a condition on the `previous_*` annotations), minor
    ones dropped unless asked for, and those before `since`. One CASE over the window:
    filters on it apply after the window is computed, so a hidden row (an earlier one too)
    still serves as the next row's predecessor."""
    whens = [] if include_minor else [When(minor_edit=True, then=Value(False))]
    if since is not None:
        whens.append(When(history_date__lt=since, then=Value(False)))
    whens.append(When(changed, then=Value(True)))
    logged = Case(*whens, default=Value(False), output_field=BooleanField())
    return rows.annotate(logged=logged).filter(logged=True)


def _scope(model, compound: Compound | None, compound_field: str) -> QuerySet:
    rows = model.history.model.objects.all()
    if compound is not None:
        return rows.filter(**{compound_field: compound.pk})
    return rows.filter(**{f"{compound_field}__in": Compound.objects.published().values("pk")})


NEWEST_FIRST = ("-history_date", "-history_id")
ROW_FIELDS = ("history_id", "history_date", "history_type", "public_reason", "minor_edit")


# Ratings -----------------------------------------------------------------------------------


def rating_rows(
    compound: Compound | None, include_minor: bool, since: datetime | None = None
) -> QuerySet:
    rows = _scope(Rating, compound, "compound_id").annotate(
        previous_tier=_previous("tier_id"), previous_bottom_line=_previous("bottom_line")
    )
    changed = (
        Q(history_type__in=["+", "-"])
        | ~Q(previous_tier=F("tier_id"))
        | ~Q(previous_bottom_line=F("bottom_line"))
    )
    return (
        _changes_only(rows, changed, include_minor, since)
        .order_by(*NEWEST_FIRST)
        .values(
            *ROW_FIELDS,
            "compound_id",
            "goal_id",
            "tier_id",
            "previous_tier",
            "bottom_line",
            "previous_bottom_line",
        )
    )


def describe_rating(row: dict, lookups: "Lookups") -> Change:
    goal = lookups.goal(row["goal_id"])
    tier = lookups.tier(row["tier_id"])
    tier_change = False
    if row["history_type"] == "+":
        text = f"Rated {tier} for {goal.name}."
    elif row["history_type"] == "-":
        text = f"Rating for {goal.name} removed (it was {tier})."
    else:
        parts = []
        if row["previous_tier"] != row["tier_id"]:
            tier_change = True
            before = lookups.tier(row["previous_tier"])
            parts.append(f"Tier for {goal.name} changed from {before} to {tier}.")
        if row["previous_bottom_line"] != row["bottom_line"]:
            parts.append(f"Bottom line for {goal.name} rewritten.")
        text = " ".join(parts)
    return _change("rating", row, lookups, text, goal, tier_change=tier_change)


# Findings ----------------------------------------------------------------------------------


def finding_rows(
    compound: Compound | None, include_minor: bool, since: datetime | None = None
) -> QuerySet:
    previous = {f"previous_{name}": _previous(name) for name in Finding.FIGURE_FIELDS}
    rows = _scope(Finding, compound, "compound_id").annotate(**previous)
    changed = Q(history_type__in=["+", "-"])
    for name in Finding.FIGURE_FIELDS:
        # NULL to a value and back are changes too.
        changed |= Q(IsDistinctFrom(F(f"previous_{name}"), F(name)))
    return (
        _changes_only(rows, changed, include_minor, since)
        .order_by(*NEWEST_FIRST)
        .values(
            *ROW_FIELDS,
            "compound_id",
            "goal_id",
            "study_id",
            "outcome",
            *Finding.FIGURE_FIELDS,
            *previous,
        )
    )


def _effect(row: dict, prefix: str = "") -> str:
    figures = {name: row[f"{prefix}{name}"] for name in Finding.FIGURE_FIELDS}
    return format_effect(Finding(**figures))


def describe_finding(row: dict, lookups: "Lookups") -> Change:
    goal = lookups.goal(row["goal_id"])
    what = f"{row['outcome']} in {lookups.study_title(row['study_id'])}"
    if row["history_type"] == "+":
        text = f"Finding added for {goal.name}: {what}, {_effect(row)}."
    elif row["history_type"] == "-":
        text = f"Finding removed for {goal.name}: {what}."
    else:
        text = (
            f"Figures changed for {goal.name}: {what}, from {_effect(row, 'previous_')} "
            f"to {_effect(row)}."
        )
    return _change("finding", row, lookups, text, goal)


# Compounds ---------------------------------------------------------------------------------


def compound_rows(
    compound: Compound | None, include_minor: bool, since: datetime | None = None
) -> QuerySet:
    rows = _scope(Compound, compound, "id").annotate(previous_published=_previous("published"))
    changed = Q(history_type="+", published=True) | (
        Q(history_type="~") & ~Q(previous_published=F("published"))
    )
    return (
        _changes_only(rows, changed, include_minor, since)
        .order_by(*NEWEST_FIRST)
        .values(*ROW_FIELDS, "published", compound_id=F("id"))
    )


def describe_compound(row: dict, lookups: "Lookups") -> Change:
    text = "Published on this site." if row["published"] else "Withdrawn from this site."
    return _change("compound", row, lookups, text, None)


# Computed certainty --------------------------------------------------------------------------


def certainty_rows(
    compound: Compound | None, include_minor: bool, since: datetime | None = None
) -> QuerySet:
    rows = CertaintyChange.objects.all()
    if since is not None:
        rows = rows.filter(changed_at__gte=since)
    if compound is not None:
        rows = rows.filter(compound_id=compound.pk)
    else:
        rows = rows.filter(compound_id__in=Compound.objects.published().values("pk"))
    # A computed change has no editor: no reason, never minor.
    return (
        rows.annotate(history_id=F("pk"), history_date=F("changed_at"))
        .order_by(*NEWEST_FIRST)
        .values(
            "history_id",
            "history_date",
            "compound_id",
            "goal_id",
            "previous",
            "certainty",
            history_type=Value("~", output_field=CharField()),
            public_reason=Value("", output_field=TextField()),
            minor_edit=Value(False, output_field=BooleanField()),
        )
    )


def _level(level: int | None) -> str:
    return Level(level).label if level else "not assessable"


def describe_certainty(row: dict, lookups: "Lookups") -> Change:
    goal = lookups.goal(row["goal_id"])
    text = (
        f"Computed certainty of benefit for {goal.name} changed from "
        f"{_level(row['previous'])} to {_level(row['certainty'])}."
    )
    return _change("certainty", row, lookups, text, goal)


# The log -------------------------------------------------------------------------------------

SOURCES = (
    LogSource("rating", rating_rows, describe_rating),
    LogSource("finding", finding_rows, describe_finding),
    LogSource("compound", compound_rows, describe_compound),
    LogSource("certainty", certainty_rows, describe_certainty),
)


def _change(name, row, lookups, text, goal: Goal | None, tier_change=False) -> Change:
    compound = lookups.compound(row["compound_id"])
    if goal is not None:
        url = reverse("evidence_detail", args=[compound.slug, goal.slug])
    else:
        url = compound.get_absolute_url()
    return Change(
        key=f"{name}-{row['history_id']}",
        when=row["history_date"],
        compound=compound,
        text=text,
        url=url,
        reason=row["public_reason"],
        minor=row["minor_edit"],
        tier_change=tier_change,
    )


class Lookups:
    """The names a page of changes mentions, read in one query per model (none when nothing
    needs it): the compounds and goals as they are now, the tiers, the studies' titles."""

    def __init__(self, rows: list[dict], compound: Compound | None = None):
        def ids(key):
            return {row[key] for row in rows if row.get(key) is not None}

        known = {compound.pk: compound} if compound is not None else {}
        self.compounds = known or Compound.objects.in_bulk(ids("compound_id"))
        self.goals = Goal.objects.in_bulk(ids("goal_id"))
        tier_ids = ids("tier_id") | ids("previous_tier")
        self.tiers = Tier.objects.in_bulk(tier_ids) if tier_ids else {}
        study_ids = ids("study_id")
        self.studies = (
            dict(Study.objects.filter(pk__in=study_ids).values_list("pk", "title"))
            if study_ids
            else {}
        )

    def compound(self, pk: int) -> Compound:
        return self.compounds[pk]

    def goal(self, pk: int) -> Goal:
        return self.goals.get(pk) or Goal(name="a goal since removed", slug="")

    def tier(self, pk: int | None) -> str:
        tier = self.tiers.get(pk)
        return f"Tier {tier.number} ({tier.label})" if tier else "a tier since removed"

    def study_title(self, pk: int) -> str:
        """The study's title in quotes; a study whose source reports no title is not one
        "since removed"."""
        if pk not in self.studies:
            return "a study since removed"
        title = self.studies[pk]
        return f"“{title}”" if title else "a study whose title is not reported"


class ChangeLog:
    """The changes, newest first, for the whole site or one compound: a sequence a Paginator
    can page through (`count()` and slices), reading only as many rows as the slice needs."""

    def __init__(
        self,
        compound: Compound | None = None,
        include_minor: bool = False,
        since: datetime | None = None,
    ):
        self.compound = compound
        self.include_minor = include_minor
        self.since = since

    def _rows(self, source: LogSource) -> QuerySet:
        return source.rows(self.compound, self.include_minor, self.since)

    def count(self) -> int:
        return sum(self._rows(source).count() for source in SOURCES)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[Change]:
        if not isinstance(index, slice) or index.stop is None:
            raise TypeError("ChangeLog is read in slices with an end: log[0:20].")
        merged = [(row, source) for source in SOURCES for row in self._rows(source)[: index.stop]]
        merged.sort(key=lambda pair: (pair[0]["history_date"], pair[0]["history_id"]), reverse=True)
        page = merged[index]
        lookups = Lookups([row for row, _ in page], self.compound)
        return [
            source.describe(row, lookups)
            for row, source in page
            if row["compound_id"] in lookups.compounds
        ]


def recent_changes(compound: Compound, limit: int = 5) -> list[Change]:
    """The compound's latest changes that are not minor, for its page's "What changed"."""
    return ChangeLog(compound)[:limit]
