from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from evidence.cache import cache_page_until_content_changes, form_params
from evidence.htmx import render_page, wants_fragment
from evidence.models import Goal
from stacks.charts import MapPoint, evidence_map
from stacks.forms import (
    BuilderForm,
    ConstraintsForm,
    GoalIndexForm,
    GoalPickerForm,
    goals_asked_for,
)
from stacks.goal_picker import (
    build_goal_picker,
    category_heading,
    find_goals,
    goal_categories,
    goals_in_category,
    most_researched_goals,
)
from stacks.ranking import DEFAULT_LIMIT, build_stack, rank_goal, ranked_entry
from stacks.report import build_report, render_pdf

BUILDER_PARAMS = (*form_params(BuilderForm, limit=DEFAULT_LIMIT), *form_params(GoalPickerForm))


@require_safe
@cache_page_until_content_changes(*BUILDER_PARAMS)
def builder(request):
    # Only the goals asked for are read: the picker lists the others a few at a time.
    form = BuilderForm(request.GET or None, goals=goals_asked_for(request.GET))
    picker_form = GoalPickerForm(request.GET)
    stack = None
    if form.is_bound and form.is_valid() and form.cleaned_data["goals"]:
        # "Why this rank" is fetched when a visitor opens it (why_rank).
        stack = build_stack(
            form.cleaned_data["goals"],
            form.constraints(),
            limit=form.entries_per_list(),
            with_why=False,
        )
    context = {
        "form": form,
        "picker_form": picker_form,
        "selected_goals": set(request.GET.getlist("goals")),
        "stack": stack,
        "constraints": form.constraints(),
    }
    if not wants_fragment(request):  # the fragment draws no goal picker
        context["picker"] = build_goal_picker(
            form.goal_list,
            search=picker_form.search(),
            category=picker_form.category(),
        )
    invalid = (form.is_bound and not form.is_valid()) or not picker_form.is_valid()
    return render_page(request, "stacks/builder.html", context, 400 if invalid else 200)


@require_safe
@cache_page_until_content_changes(*form_params(GoalPickerForm))
def goal_options(request):
    """The goals the picker fetches as a visitor types a search (`goal_q`: the matching goals)
    or opens a category (`goal_category`: its goals), as a fragment of the builder's page."""
    form = GoalPickerForm(request.GET)
    if not form.is_valid():
        return render(request, "stacks/builder.html#goal_options_error", {"form": form}, status=400)
    if search := form.search():
        context = {"matches": find_goals(search)}
        return render(request, "stacks/builder.html#goal_matches", context)
    if category := form.category():
        context = {"chip_goals": goals_in_category(category), "chip_list": "in"}
        return render(request, "stacks/builder.html#goal_chips", context)
    return HttpResponse("")  # an emptied search box: nothing to list


GOAL_INDEX = "stacks/goal_index.html"
# Up to this many goals in all, /goals/ lists every one open under its category (a few
# screens to read at a glance); above it, only the categories closed (goal_index says why).
GOAL_INDEX_ALL_OPEN = 60


@require_safe
@cache_page_until_content_changes(*form_params(GoalIndexForm))
def goal_index(request):
    """The goals by category, categories A-Z and goals without one last (under
    "Uncategorised"), each goal linking to its page, with a search ("Find a goal", `q`).

    Up to GOAL_INDEX_ALL_OPEN goals in all, the page lists every goal with its description,
    open under its category. Above it the page stays bounded however many goals the site
    holds, like the builder's goal picker (stacks.goal_picker): the most researched goals and
    every category closed with its count. Opening one fetches its goals (htmx, `?category=`:
    the `category_goals` partial); without JavaScript its link asks for the page with that
    category open. With htmx a search answers with its matches alone (`goal_matches`). An
    unknown category or an overlong search is answered 400 with a sentence saying so. Every
    goal page stays reachable in the sitemap whatever the page shows."""
    form = GoalIndexForm(request.GET)
    status = 200 if form.is_valid() else 400
    search, category = form.search(), form.open_category()
    if wants_fragment(request):
        if status == 400:
            return render(request, GOAL_INDEX + "#errors", {"form": form}, status=status)
        if category:
            goals = goals_in_category(category, with_descriptions=True)
            return render(request, GOAL_INDEX + "#category_goals", {"goals": goals})
        matches = find_goals(search) if search else None  # none for an emptied search box
        return render(request, GOAL_INDEX + "#goal_matches", {"matches": matches})
    matches = find_goals(search) if search else None
    categories = goal_categories(request.GET, param="category")
    goal_count = sum(each.goal_count for each in categories)
    context = {"form": form, "matches": matches, "goal_count": goal_count}
    if goal_count <= GOAL_INDEX_ALL_OPEN:
        by_heading: dict[str, list[Goal]] = {}
        for goal in Goal.objects.only("name", "slug", "category", "description"):
            by_heading.setdefault(category_heading(goal.category), []).append(goal)
        context["groups"] = [
            (each, sorted(by_heading.get(each.name, []), key=lambda goal: goal.name.casefold()))
            for each in categories
        ]
    else:
        context |= {
            "categories": categories,
            "most_researched": most_researched_goals(),
            "open_category": category,
            "category_goals": (
                goals_in_category(category, with_descriptions=True) if category else ()
            ),
        }
    return render(request, GOAL_INDEX, context, status=status)


@require_safe
@cache_page_until_content_changes(*form_params(ConstraintsForm, limit=DEFAULT_LIMIT))
def goal_detail(request, slug):
    goal = get_object_or_404(Goal, slug=slug)
    form = ConstraintsForm(request.GET or None)
    status = 400 if form.is_bound and not form.is_valid() else 200
    ranking = rank_goal(goal, form.constraints(), form.entries_per_list(), with_why=False)
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


@require_safe
@cache_page_until_content_changes()
def why_rank(request, slug, compound_slug):
    """Why a compound ranks where it does for a goal: its score's components and its
    certainty's steps. The rankings fetch it into their "Why this rank" when opened (htmx);
    without JavaScript they link here."""
    goal = get_object_or_404(Goal, slug=slug)
    entry = ranked_entry(goal, compound_slug)
    if entry is None:
        raise Http404("This compound has no place for this goal.")
    return render_page(request, "stacks/why_rank.html", {"goal": goal, "entry": entry})


# The clinician's report --------------------------------------------------------------------

REPORT_TEMPLATE = "stacks/report.html"


def _report_context(request) -> tuple[dict, str]:
    """The report's context for the builder's choices in the query, or the errors that stop
    it (a plain message; empty when there are none). Reads only the goals asked for."""
    form = BuilderForm(request.GET, goals=goals_asked_for(request.GET))
    context = {"form": form, "report": None, "query": request.GET.urlencode()}
    if not form.is_valid():
        errors = [
            f"{form[name].label}: {error}" for name, el in form.errors.items() for error in el
        ]
        return context, "This report cannot be made: " + " ".join(errors)
    if not form.cleaned_data["goals"]:
        return context, "Pick at least one goal in the stack builder to make a report."
    query = request.GET.urlencode()
    context.update(
        # Links printed in the report are whole addresses: paper has no "current site".
        site=request.build_absolute_uri("/").rstrip("/"),
        report=build_report(
            form.cleaned_data["goals"], form.constraints(), form.entries_per_list()
        ),
        page_url=request.build_absolute_uri(f"{reverse('stack_report')}?{query}"),
        pdf_url=f"{reverse('stack_report_pdf')}?{query}",
    )
    return context, ""


@require_safe
@cache_page_until_content_changes(*form_params(BuilderForm, limit=DEFAULT_LIMIT))
def stack_report(request):
    """The stack the builder shows for the same query, as a print-ready report for a
    clinician: 400 with the reason for choices the builder would refuse, or no goal."""
    context, error = _report_context(request)
    context["error"] = error
    return render(request, REPORT_TEMPLATE, context, status=400 if error else 200)


@require_safe
@cache_page_until_content_changes(*form_params(BuilderForm, limit=DEFAULT_LIMIT))
def stack_report_pdf(request):
    """The same report as a PDF: the same query always gives the same bytes while the content
    is unchanged (its date is the content version's, never the time of rendering)."""
    context, error = _report_context(request)
    if error:
        return HttpResponseBadRequest(error, content_type="text/plain; charset=utf-8")
    report = context["report"]
    html = render_to_string(f"{REPORT_TEMPLATE}#report", context, request=request)
    names = ", ".join(goal.name for goal in report.stack.goals)
    pdf = render_pdf(
        html,
        base_url=request.build_absolute_uri("/"),
        title=f"Evidence report for {names}",
        created=report.content_date,
    )
    return HttpResponse(pdf, content_type="application/pdf")
