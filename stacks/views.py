from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from evidence.cache import cache_page_until_content_changes, form_params
from evidence.htmx import render_page, wants_fragment
from evidence.models import Goal
from stacks.charts import MapPoint, evidence_map
from stacks.forms import BuilderForm, ConstraintsForm
from stacks.ranking import DEFAULT_LIMIT, build_stack, rank_goal


@require_safe
@cache_page_until_content_changes(*form_params(BuilderForm, limit=DEFAULT_LIMIT))
def builder(request):
    goals = Goal.objects.order_by("category", "name")
    if wants_fragment(request):  # the fragment draws no goal picker: read only those asked for
        goals = goals.filter(slug__in=request.GET.getlist("goals"))
    form = BuilderForm(request.GET or None, goals=list(goals))
    stack = None
    if form.is_bound and form.is_valid() and form.cleaned_data["goals"]:
        stack = build_stack(
            form.cleaned_data["goals"], form.constraints(), limit=form.entries_per_list()
        )
    context = {
        "form": form,
        "goals": form.goal_list,
        "selected_goals": set(request.GET.getlist("goals")),
        "stack": stack,
        "constraints": form.constraints(),
    }
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render_page(request, "stacks/builder.html", context, status)


# The heading for goals whose category is blank: none is invented for them.
UNCATEGORISED = "Uncategorised"


@require_safe
@cache_page_until_content_changes()
def goal_index(request):
    """Every goal under its category, categories and goals A-Z; goals without a category
    last, under "Uncategorised"."""
    groups: dict[str, list[Goal]] = {}
    for goal in Goal.objects.only("name", "slug", "category", "description"):
        groups.setdefault(goal.category.strip() or UNCATEGORISED, []).append(goal)
    categories = [
        (category, sorted(goals, key=lambda goal: goal.name.casefold()))
        for category, goals in sorted(
            groups.items(), key=lambda item: (item[0] == UNCATEGORISED, item[0].casefold())
        )
    ]
    context = {"categories": categories, "goal_count": sum(len(g) for _, g in categories)}
    return render(request, "stacks/goal_index.html", context)


@require_safe
@cache_page_until_content_changes(*form_params(ConstraintsForm, limit=DEFAULT_LIMIT))
def goal_detail(request, slug):
    goal = get_object_or_404(Goal, slug=slug)
    form = ConstraintsForm(request.GET or None)
    status = 400 if form.is_bound and not form.is_valid() else 200
    ranking = rank_goal(goal, form.constraints(), form.entries_per_list())
    entries = [*ranking.ranked, *ranking.no_effect]
    chart = evidence_map(
        [
            MapPoint(
                label=entry.name,
                url=reverse("evidence_detail", args=[entry.slug, goal.slug]),
                studies=entry.design_weighted_studies,
                score=entry.score,
                tier_number=entry.tier_number,
            )
            for entry in entries
        ],
        title=f"Evidence map for {goal.name}",
    )
    context = {
        "goal": goal,
        "form": form,
        "constraints": form.constraints(),
        "ranking": ranking,
        "map_entries": entries,
        # evidence_map escapes every label and URL itself.
        "evidence_map": mark_safe(chart),
    }
    return render_page(request, "stacks/goal_detail.html", context, status)
