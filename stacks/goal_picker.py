"""The builder's goal picker, bounded however many goals the site holds.

A page draws the goals the visitor chose, the most researched ones, a search box and the
categories with their counts; a category's goals, or a search's matches, only when asked for
(`goal_category`, `goal_q`: with JavaScript the picker fetches them as the visitor opens a
category or types, without it the page is asked again with them). A site with a thousand
goals thus costs a page a few dozen goal names, not a thousand checkboxes. The goals index
(/goals/, stacks.views.goal_index) lists its goals by the same functions.
"""

from dataclasses import dataclass
from functools import cached_property

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce, Lower, Trim
from django.http import QueryDict
from django.utils.text import slugify

from evidence.cache import until_content_changes
from evidence.models import Compound, Goal
from stacks.models import GoalScore
from stacks.ranking import MAX_GOALS

# The heading for goals whose category is blank: none is invented for them.
UNCATEGORISED = "Uncategorised"
# How many goals the "most researched" list and a search show at most.
MOST_RESEARCHED = 12
SEARCH_MATCHES = 30


@dataclass(frozen=True)
class GoalCategory:
    name: str
    goal_count: int
    # The same goals index with this category's goals listed: the link a visitor without
    # JavaScript follows (with it, the list is fetched in place). The builder's picker opens
    # one with its form's own button instead, keeping the visitor's choices.
    open_query: str
    # The category's HTML id, unique on the page (category_anchors).
    anchor: str


@dataclass(frozen=True)
class GoalMatches:
    """What a search for goals found: the best SEARCH_MATCHES, how many more there were, and
    the corrected text when they were found only after correcting a typo."""

    text: str
    goals: tuple[Goal, ...] = ()
    more: int = 0
    corrected: str = ""


@dataclass(frozen=True)
class GoalPicker:
    chosen: tuple[Goal, ...]
    most_researched: tuple[Goal, ...]
    matches: GoalMatches | None = None
    open_category: str = ""
    category_goals: tuple[Goal, ...] = ()

    @cached_property
    def categories(self) -> tuple[GoalCategory, ...]:
        """Read only when the page draws them: the closed categories are drawn once for
        every builder page (`categories_key`). A category opens by the form's own submit
        button, which keeps every choice the visitor made, so no link carries their query."""
        return goal_categories()

    @property
    def categories_key(self) -> str:
        """What names the categories as drawn (stacks/builder.html, a shared part): the
        same on every page with all of them closed; none, so drawn each time, with one open
        (its goals are ticked as the visitor ticked them)."""
        return "" if self.open_category else "all-closed"


def build_goal_picker(chosen: list[Goal], search: str = "", category: str = "") -> GoalPicker:
    """The picker for a builder page: `chosen` goals first, then the most researched others,
    the categories, and the matches of `search` and the goals of `category` when asked for
    (leaving out the chosen ones, which are listed already)."""
    chosen_slugs = {goal.slug for goal in chosen}
    matches = find_goals(search, leaving_out=chosen_slugs) if search else None
    category_goals = goals_in_category(category, leaving_out=chosen_slugs) if category else ()
    return GoalPicker(
        chosen=tuple(chosen),
        most_researched=most_researched_goals(leaving_out=chosen_slugs),
        matches=matches,
        open_category=category,
        category_goals=category_goals,
    )


def most_researched_goals(leaving_out: set[str] = frozenset()) -> tuple[Goal, ...]:
    """The MOST_RESEARCHED goals with the most ranked compounds (at least one), most first,
    then A-Z; `leaving_out`: slugs not to list. Read once per content version."""
    goals = until_content_changes("most-researched-goals", _most_researched_goals)
    return tuple([goal for goal in goals if goal.slug not in leaving_out][:MOST_RESEARCHED])


def _most_researched_goals() -> list[Goal]:
    """Enough of them whichever goals (at most MAX_GOALS) are chosen."""
    ranked = (
        GoalScore.objects.filter(goal=OuterRef("pk"), group=GoalScore.Group.RANKED)
        .order_by()
        .values("goal")
        .annotate(count=Count("pk"))
        .values("count")
    )
    goals = (
        Goal.objects.annotate(ranked_compounds=Coalesce(Subquery(ranked), 0))
        .filter(ranked_compounds__gt=0)
        .only("name", "slug", "category")
        .order_by("-ranked_compounds", "name")
    )
    return list(goals[: MOST_RESEARCHED + MAX_GOALS])


def goal_categories(
    query: QueryDict | None = None, param: str = "goal_category"
) -> tuple[GoalCategory, ...]:
    """Every category with its number of goals, A-Z, goals without one last (UNCATEGORISED);
    counted once per content version. Each opens with `query` and `param`=its name (the
    goals index's links; the builder's picker opens one with its form instead)."""
    counts = until_content_changes("goal-categories", _goal_counts_by_category)
    names = sorted(counts, key=category_order)
    opened = query.copy() if query is not None else QueryDict(mutable=True)
    categories = []
    for name, anchor in zip(names, category_anchors(names), strict=True):
        opened[param] = name  # one copy of the query: the links differ only in this value
        categories.append(GoalCategory(name, counts[name], opened.urlencode(), anchor))
    return tuple(categories)


def category_anchors(names: list[str]) -> list[str]:
    """An HTML id for each heading, in order, none the same: "goal-category-" and its slug
    (in any script), numbered from the second heading on that has the same slug ("Sleep"
    and "sleep", "Bone & joint" and "Bone joint"; a name of punctuation alone has none)."""
    anchors, used = [], set()
    for name in names:
        base = "goal-category-" + (slugify(name, allow_unicode=True) or "unnamed")
        anchor, number = base, 1
        while anchor in used:
            number += 1
            anchor = f"{base}-{number}"
        used.add(anchor)
        anchors.append(anchor)
    return anchors


def _goal_counts_by_category() -> dict[str, int]:
    counts: dict[str, int] = {}
    rows = Goal.objects.order_by().values(heading=Trim("category")).annotate(count=Count("pk"))
    for row in rows:
        name = category_heading(row["heading"])
        counts[name] = counts.get(name, 0) + row["count"]
    return counts


def category_heading(category: str) -> str:
    """The heading a goal is listed under: its category, or UNCATEGORISED when blank."""
    return category.strip() or UNCATEGORISED


def category_order(heading: str):
    """Headings A-Z, UNCATEGORISED last; two that differ only in case in a fixed order (so
    each keeps its anchor from page to page)."""
    return (heading == UNCATEGORISED, heading.casefold(), heading)


def goals_in_category(
    category: str, leaving_out: set[str] = frozenset(), *, with_descriptions: bool = False
) -> tuple[Goal, ...]:
    """The goals under `category` (UNCATEGORISED: those without one), A-Z; their
    descriptions loaded only when asked for (the goals index shows them, the picker not)."""
    fields = ("name", "slug", "category", *(("description",) if with_descriptions else ()))
    goals = (
        _in_category(category)
        .exclude(slug__in=leaving_out)
        .only(*fields)
        .order_by(Lower("name"), "name")
    )
    return tuple(goals)


def find_goals(text: str, leaving_out: set[str] = frozenset()) -> GoalMatches:
    """The goals whose name matches `text` by the site's search rules (evidence.search:
    word order, accents, a small typo), best first, at most SEARCH_MATCHES."""
    found = Compound.objects.none().find(text)
    goals = [goal for goal in found.goals if goal.slug not in leaving_out]
    return GoalMatches(
        text=text,
        goals=tuple(goals[:SEARCH_MATCHES]),
        more=max(0, len(goals) - SEARCH_MATCHES),
        corrected=found.corrected,
    )


def category_exists(category: str) -> bool:
    return _in_category(category).exists()


def _in_category(category: str):
    named = "" if category == UNCATEGORISED else category.strip()
    return Goal.objects.annotate(trimmed=Trim("category")).filter(trimmed=named)
