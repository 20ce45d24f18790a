"""Deep pages of a long list at the cost of the first: an outline of the list, read once per
content version, says where each stretch of it starts.

A list ordered by a unique key (a slug) is outlined by one query: its length and the key of
every ANCHOR_EVERY-th entry. A page then reads only its own stretch of the list, between the
anchors around it, instead of an OFFSET that walks (and tests against the list's filters)
every entry before it. The page is read as a deferred join: the primary keys of the page
from the narrow key index first, then those rows whole (with whatever they select and
prefetch), so no wide row is read and dropped on the way.

The outline costs more than a count (it sorts the whole list), so a page within the first
stretch is read from the start of the list (its OFFSET walks fewer than ANCHOR_EVERY
entries) and the list's count will do. The outline is as old as the content version it was
read for (the caller memoises it per version, as it does the count): while the content stays
the same, a page holds exactly the entries a plain `entries[offset:offset + size]` would.
"""

from dataclasses import dataclass

from django.db.models import Count, F, QuerySet, Window
from django.db.models.functions import Mod, RowNumber

ANCHOR_EVERY = 100


@dataclass(frozen=True)
class Outline:
    count: int
    anchors: tuple[str, ...]  # the key of entry 0, ANCHOR_EVERY, 2 * ANCHOR_EVERY, ...


def past_first_stretch(offset: int, size: int) -> bool:
    """Whether the page needs the outline: within the first stretch a plain OFFSET walks at
    most ANCHOR_EVERY entries, and the list's count (cheaper than its outline) will do."""
    return offset + size > ANCHOR_EVERY


def outline(entries: QuerySet, key: str) -> Outline:
    """The list's length and its anchors, in one query."""
    numbered = (
        entries.select_related(None)
        .prefetch_related(None)
        .order_by()
        .annotate(
            position=Window(RowNumber(), order_by=F(key).asc()),
            total=Window(Count("pk")),
        )
        .annotate(step=Mod(F("position") - 1, ANCHOR_EVERY))
        .filter(step=0)
        .order_by(key)
        .values_list(key, "total")
    )
    rows = list(numbered)
    return Outline(count=rows[0][1] if rows else 0, anchors=tuple(anchor for anchor, _ in rows))


def stretch(
    entries: QuerySet, key: str, outline: Outline | None, offset: int, size: int
) -> QuerySet:
    """Entries offset to offset + size of the list (ordered by `key`), read from the stretch
    between the anchors around them; without an outline (a page within the first stretch),
    from the start of the list."""
    start, bounded = offset, entries
    if outline is not None:
        first = offset // ANCHOR_EVERY
        if first >= len(outline.anchors):
            return entries.none()
        last = first + -(-(offset % ANCHOR_EVERY + size) // ANCHOR_EVERY)  # past the page
        bounded = bounded.filter(**{f"{key}__gte": outline.anchors[first]})
        if last < len(outline.anchors):
            bounded = bounded.filter(**{f"{key}__lt": outline.anchors[last]})
        start = offset - first * ANCHOR_EVERY
    keys = (
        bounded.select_related(None)
        .prefetch_related(None)
        .order_by(key)
        .values("pk")[start : start + size]
    )
    return entries.filter(pk__in=keys).order_by(key)
