"""The visitor pages of the evidence app: the compound index and detail, the evidence for one
compound and goal, vendors, the outbound offer redirect, the methodology and a health check.

Views are thin: they fetch published objects (404 for anything unknown or unpublished) with a
constant number of queries and hand them to one template per page.
"""

import unicodedata
from itertools import groupby

from django import forms
from django.conf import settings
from django.contrib.sitemaps import views as sitemap_views
from django.contrib.syndication.views import Feed
from django.core.paginator import InvalidPage, Paginator
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.http import http_date
from django.utils.safestring import mark_safe
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_http_methods, require_safe

from evidence import charts, data_export
from evidence.cache import (
    PUBLIC_MAX_AGE,
    Param,
    cache_page_until_content_changes,
    cache_status,
    content_version,
    form_params,
    until_content_changes,
)
from evidence.changelog import ChangeLog, recent_changes
from evidence.clicks import counts_as_click
from evidence.formatting import format_dose, format_effect, format_favours, plain
from evidence.htmx import HtmxHttpRequest, render_page, wants_fragment
from evidence.markdown import render_markdown
from evidence.models import (
    AntiDopingStatus,
    Article,
    Compound,
    CompoundAlias,
    Dosing,
    Finding,
    Goal,
    Interaction,
    Offer,
    OfferClicks,
    Rating,
    RegulatoryStatus,
    SideEffect,
    Study,
    Tier,
    Vendor,
)
from evidence.pooling import METHOD_NAME as POOLING_METHOD
from evidence.pooling import Pooled
from evidence.reports import ErrorReportForm, may_report
from evidence.sitemaps import SITEMAPS
from evidence.study_table import study_groups_html
from evidence.synthesis import synthesise

# The compound index -----------------------------------------------------------------------


COMPOUNDS_PER_PAGE = 50
# Search results come best match first: a visitor reads the first few, so a page holds fewer.
SEARCH_RESULTS_PER_PAGE = 25
# A search naming many goals (every goal's name holds "sleep"...) lists the best few and links
# to the goals index's own search for the rest.
SEARCH_GOALS_SHOWN = 10


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Search compounds",
        max_length=100,
        required=False,
        strip=True,
        error_messages={"max_length": "Search text can be at most 100 characters long."},
    )
    page = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=1_000_000,
        error_messages={
            **dict.fromkeys(
                ("invalid", "min_value"), "The page must be a whole number, 1 or more."
            ),
            "max_value": "There are not that many pages.",
        },
    )


def _index_letter(name: str) -> str:
    """The A-Z heading a name is filed under; accents dropped, anything else under "#"."""
    first = unicodedata.normalize("NFKD", name.strip()[:1])[:1].upper()
    return first if "A" <= first <= "Z" else "#"


def _aliases_in_order() -> Prefetch:
    """A compound's aliases in the order editors entered them (the page lists them so)."""
    return Prefetch("aliases", queryset=CompoundAlias.objects.order_by("pk"))


def _ratings_by_tier():
    return Rating.objects.select_related("tier", "goal").order_by("tier__number", "goal__name")


def _a_to_z() -> tuple[list[int], dict[str, int]]:
    """Every published compound's id in A-Z order, and the page of the index where each
    letter's first entry is (read once per content version: every page of the index shares
    it). Each name's letter is worked out once."""
    names = Compound.objects.published().values_list("pk", "name")
    in_order = sorted((_index_letter(name), name.casefold(), pk) for pk, name in names)
    letter_pages: dict[str, int] = {}
    for position, (letter, _, _) in enumerate(in_order):
        letter_pages.setdefault(letter, position // COMPOUNDS_PER_PAGE + 1)
    return [pk for _, _, pk in in_order], letter_pages


@require_safe
@cache_page_until_content_changes(*form_params(SearchForm, page="1"))
def compound_index(request: HtmxHttpRequest) -> HttpResponse:
    """The A-Z index (COMPOUNDS_PER_PAGE at a time), or search results best match first
    (SEARCH_RESULTS_PER_PAGE at a time), so the page stays small whatever the catalogue's
    size."""
    form = SearchForm(request.GET)
    valid = form.is_valid()
    query = form.cleaned_data["q"] if valid else ""
    found = Compound.objects.published().find(query) if query else None
    if found is None:  # the A-Z index: the order of every name, then one page in full
        ids, letter_pages = until_content_changes("compound-a-to-z-pages", _a_to_z)
    else:
        ids, letter_pages = list(found.compound_ids), {}
    paginator = Paginator(ids, COMPOUNDS_PER_PAGE if found is None else SEARCH_RESULTS_PER_PAGE)
    try:
        page = paginator.page((form.cleaned_data["page"] if valid else None) or 1)
    except InvalidPage:
        raise Http404("No such page of compounds.") from None
    by_id = Compound.objects.published().index_cards(page.object_list)
    compounds = [by_id[pk] for pk in page.object_list if pk in by_id]
    groups = []
    if found is None:
        groups = [
            (letter, list(items))
            for letter, items in groupby(compounds, key=lambda c: _index_letter(c.name))
        ]
    # An alias naming several of the compounds found: the page says so and lists the choice.
    shared_aliases = (
        CompoundAlias.shared_among(compounds, found.corrected or query) if found else []
    )
    context = {
        "form": form,
        "query": query,
        "corrected": found.corrected if found else "",
        "shared_aliases": shared_aliases,
        "groups": groups,
        "letter_pages": letter_pages.items(),
        "page": page,
        "found": compounds if found else [],
        "goals": found.goals[:SEARCH_GOALS_SHOWN] if found else [],
        "more_goals": max(0, len(found.goals) - SEARCH_GOALS_SHOWN) if found else 0,
        "goals_matched": (found.corrected or query) if found else "",
        "result_count": paginator.count,
    }
    return render_page(request, "evidence/compound_index.html", context, 200 if valid else 400)


# One compound -------------------------------------------------------------------------------

SIDE_EFFECT_ORDER = [
    SideEffect.Frequency.COMMON,
    SideEffect.Frequency.UNCOMMON,
    SideEffect.Frequency.RARE,
    SideEffect.Frequency.SERIOUS,
    SideEffect.Frequency.NOT_STATED,
]


@require_safe
@cache_page_until_content_changes()
def compound_detail(request: HttpRequest, slug: str) -> HttpResponse:
    # Most compounds have no regulatory or anti-doping status, deep dive or interaction on
    # record: the compound's own query asks whether each has any, and only those are read.
    compound = get_object_or_404(
        Compound.objects.published()
        .annotate(
            any_regulatory_statuses=Exists(
                RegulatoryStatus.objects.filter(compound=OuterRef("pk"))
            ),
            any_anti_doping_statuses=Exists(
                AntiDopingStatus.objects.filter(compound=OuterRef("pk"))
            ),
            any_published_articles=Exists(
                Article.objects.filter(compound=OuterRef("pk"), published=True)
            ),
            any_interactions=Exists(Interaction.objects.involving(OuterRef("pk"))),
        )
        .prefetch_related(
            _aliases_in_order(),
            "contraindications",
            Prefetch("ratings", queryset=_ratings_by_tier()),
            Prefetch(
                "dosings",
                queryset=Dosing.objects.select_related("goal").order_by(
                    F("goal__name").asc(nulls_first=True), "pk"
                ),
            ),
            Prefetch("side_effects", queryset=SideEffect.objects.order_by("name")),
            Prefetch(
                "offers",
                # The price per mg is worked out for each offer in hand (a few a page):
                # annotated, it cost the query more than its rows.
                queryset=Offer.objects.visible().select_related("vendor").in_display_order(),
                to_attr="visible_offers",
            ),
        ),
        slug=slug,
    )
    ratings = list(compound.ratings.all())
    # Goals with findings but no rating yet still have an evidence page.
    unrated_goals = (
        Goal.objects.filter(findings__compound=compound)
        .exclude(pk__in=[rating.goal_id for rating in ratings])
        .values("name", "slug")  # all a card draws: DISTINCT compares only these
        .distinct()
        .order_by("name")
    )
    interactions = []
    if compound.any_interactions:
        interactions = [
            {
                "other": i.compound_b if i.compound_a_id == compound.pk else i.compound_a,
                "severity": i.get_severity_display(),
                "severity_code": i.severity,
                "note": i.note,
            }
            for i in Interaction.objects.involving(compound)
            .select_related("compound_a", "compound_b")
            .order_by("pk")
        ]
    severity_rank = {code: rank for rank, code in enumerate(Interaction.Severity.values)}
    interactions.sort(key=lambda i: (severity_rank[i["severity_code"]], i["other"].name))
    # "Studied as a comparator in": evidence pages where this compound is the comparator.
    comparator_in = (
        Finding.objects.filter(comparator_compound=compound, compound__published=True)
        .values("compound__name", "compound__slug", "goal__name", "goal__slug")
        .distinct()
        .order_by("compound__name", "goal__name")
    )
    by_frequency = {frequency: [] for frequency in SIDE_EFFECT_ORDER}
    for effect in compound.side_effects.all():
        by_frequency.setdefault(effect.frequency, []).append(effect)
    side_effect_groups = [
        (SideEffect.Frequency(frequency).label, effects)
        for frequency, effects in by_frequency.items()
        if effects
    ]
    context = {
        "compound": compound,
        "aliases": [alias.name for alias in compound.aliases.all()],
        "ratings": ratings,
        "unrated_goals": unrated_goals,
        "dosings": compound.dosings.all(),
        "side_effect_groups": side_effect_groups,
        "contraindications": sorted(
            compound.contraindications.all(), key=lambda c: c.get_condition_display()
        ),
        "regulatory_statuses": compound.regulatory_statuses.order_by("jurisdiction")
        if compound.any_regulatory_statuses
        else [],
        "anti_doping_statuses": compound.anti_doping_statuses.order_by("list_name")
        if compound.any_anti_doping_statuses
        else [],
        "interactions": interactions,
        "comparator_in": comparator_in,
        "offers": compound.visible_offers,
        "articles": compound.articles.filter(published=True).select_related("goal").newest_first()
        if compound.any_published_articles
        else [],
    }
    return render(request, "evidence/compound_detail.html", context)


@require_safe
@cache_page_until_content_changes()
def compound_recent_changes(request: HttpRequest, slug: str) -> HttpResponse:
    """A published compound's latest changes (minor edits left out), which its page fetches
    when its "What changed" comes into view (htmx): reading the history tables is most of
    what a compound's page would cost otherwise. Without JavaScript the page links to
    /changes/?compound= instead."""
    compound = get_object_or_404(Compound.objects.published(), slug=slug)
    context = {"compound": compound, "recent_changes": recent_changes(compound)}
    return render(request, "evidence/changes.html#recent_changes", context)


# The evidence for one compound and goal -----------------------------------------------------


# Study.Design is declared strongest first; studies are listed in that order.
def _published_comparator(finding: Finding) -> Compound | None:
    compound = finding.comparator_compound
    return compound if compound is not None and compound.published else None


def _comparator_text(finding: Finding) -> str:
    """ "Active comparator: Interferon-alpha", "Placebo", ..."""
    kind = finding.get_comparator_display()
    comparator = _published_comparator(finding)
    name = finding.comparator_name or (comparator.name if comparator else "")
    return f"{kind}: {name}" if name else kind


def _comparator_side(finding: Finding) -> str:
    """What the comparator arm is called when the point estimate favours it."""
    if finding.comparator_name:
        return finding.comparator_name
    if comparator := _published_comparator(finding):
        return comparator.name
    if finding.comparator == Finding.Comparator.ADD_ON:
        return "standard care alone"
    return finding.get_comparator_display().lower()


def _forest_row(finding: Finding, study: Study, effect_text: str) -> charts.ForestRow:
    """The finding as the forest plot draws it: a comparison on its measure's own scale."""
    if finding.measure == Finding.Measure.QUALITATIVE:
        kind = charts.NO_FIGURES
    elif not finding.is_comparative:
        kind = charts.NOT_COMPARATIVE
    else:
        kind = charts.RATIO if finding.is_ratio else charts.DIFFERENCE
    if finding.measure == Finding.Measure.PROPORTION:
        scale_label = "Difference in percentage points"
        if finding.comparator_value is not None and finding.ci_low is None:
            effect_text += f", a difference of {plain(finding.effect)} points"
    elif finding.value_unit:
        scale_label = f"{finding.get_measure_display()} ({finding.value_unit})"
    else:
        scale_label = finding.get_measure_display()
    if kind in (charts.RATIO, charts.DIFFERENCE) and finding.ci_low is None:
        effect_text += " (95% CI not reported)"
    return charts.ForestRow(
        label=study.title_with_year,
        outcome=finding.outcome,
        kind=kind,
        value=finding.effect,
        ci_low=finding.ci_low,
        ci_high=finding.ci_high,
        significant=finding.significant,
        higher_is_better=finding.higher_is_better,
        comparator=_comparator_side(finding),
        measure=finding.measure,
        unit=finding.value_unit,
        scale_label=scale_label,
        effect_text=effect_text,
    )


def _forest_pooled(pooled: Pooled) -> charts.PooledEstimate:
    return charts.PooledEstimate(
        outcome=pooled.outcome,
        measure=pooled.measure,
        unit=pooled.unit,
        estimate=pooled.estimate,
        ci_low=pooled.ci_low,
        ci_high=pooled.ci_high,
        study_count=pooled.study_count,
        text=f"{pooled.effect_text}, I² {pooled.i2 * 100:.0f}%",
    )


# Beyond this many rows a forest plot is unreadable (and a page heavy on a phone); the
# table still lists every finding.
FOREST_MAX_ROWS = 40
# Studies listed before "show all": the strongest designs come first.
STUDIES_SHOWN = 25


class StudiesForm(forms.Form):
    studies = forms.ChoiceField(choices=[("all", "all")], required=False)


@require_safe
@cache_page_until_content_changes(*form_params(StudiesForm))
def evidence_detail(request: HttpRequest, slug: str, goal_slug: str) -> HttpResponse:
    options = StudiesForm(request.GET)
    if not options.is_valid():
        return HttpResponseBadRequest("Unknown value for studies: use studies=all or nothing.")
    show_all = options.cleaned_data["studies"] == "all"
    compound = get_object_or_404(Compound.objects.published(), slug=slug)
    rating = (
        Rating.objects.filter(compound=compound, goal__slug=goal_slug)
        .select_related("goal", "tier")
        .first()
    )
    # A rated goal came with its rating; a goal with findings alone is read on its own.
    goal = rating.goal if rating else get_object_or_404(Goal, slug=goal_slug)
    findings = list(
        Finding.objects.filter(compound=compound, goal=goal)
        .select_related("study__source", "study__reported_in__compound", "comparator_compound")
        # A study reported in a deep dive links to it: the article's body is not drawn here.
        .defer("study__reported_in__body")
        # Natural keys, not ids: a restored backup lists the rows in the same order.
        .order_by("study__slug", "outcome")
    )
    if rating is None and not findings:
        raise Http404("No evidence for this compound and goal.")

    studies: dict[int, dict] = {}
    for finding in findings:
        entry = studies.setdefault(finding.study_id, {"study": finding.study, "findings": []})
        entry["findings"].append(
            {
                "finding": finding,
                "effect": format_effect(finding),
                "dose": format_dose(finding),
                "significant": finding.significant,
                "favours": format_favours(
                    finding.favours, compound.name, _comparator_side(finding)
                ),
                "comparator": _comparator_text(finding),
                "comparator_link": _published_comparator(finding),
            }
        )
    study_entries = sorted(
        studies.values(),
        key=lambda e: (
            Study.DESIGN_RANK.get(e["study"].design, 99),
            -(e["study"].year or 0),
            e["study"].slug,
        ),
    )
    # The plot lists the findings in the same order as the table.
    forest_rows = [
        _forest_row(row["finding"], entry["study"], row["effect"])
        for entry in study_entries
        for row in entry["findings"]
    ]
    synthesis = synthesise(findings)
    forest = charts.forest_layout(
        forest_rows[:FOREST_MAX_ROWS],
        compound=compound.name,
        pooled=[_forest_pooled(o.pooled) for o in synthesis.outcomes if o.pooled],
    )
    sample_sizes = [e["study"].n for e in study_entries]
    # Every source named on the page whose licence asks for attribution: credited once each.
    attributions = {
        e["study"].source.slug: e["study"].source
        for e in study_entries
        if e["study"].source and e["study"].source.attribution_required
    }
    article = (
        Article.objects.published().filter(compound=compound, goal=goal).newest_first().first()
    )
    shown = study_entries if show_all else study_entries[:STUDIES_SHOWN]
    context = {
        "compound": compound,
        "goal": goal,
        "rating": rating,
        "synthesis": synthesis,
        "pooling_method": POOLING_METHOD,
        "studies": shown,
        # study_groups_html escapes every text itself.
        "study_groups": mark_safe(study_groups_html(shown)),
        "studies_hidden": 0 if show_all else max(0, len(study_entries) - STUDIES_SHOWN),
        "study_count": len(study_entries),
        "randomised_count": sum(1 for e in study_entries if e["study"].is_randomised),
        "participants": sum(n for n in sample_sizes if n),
        "studies_without_n": sum(1 for n in sample_sizes if not n),
        "finding_count": len(findings),
        "forest_cut": len(forest_rows) > FOREST_MAX_ROWS,
        "forest_max_rows": FOREST_MAX_ROWS,
        "forest": forest,
        # forest_groups_html escapes every text itself.
        "forest_groups": mark_safe(charts.forest_groups_html(forest)),
        "attributions": sorted(attributions.values(), key=lambda source: source.name),
        "article": article,
    }
    return render(request, "evidence/evidence_detail.html", context)


# Research deep dives -----------------------------------------------------------------------


class ResearchForm(forms.Form):
    goal = forms.SlugField(required=False, max_length=120)


@require_safe
@cache_page_until_content_changes(*form_params(ResearchForm))
def research_index(request: HttpRequest) -> HttpResponse:
    """Every published deep dive, newest first; `?goal=<slug>` keeps one goal's."""
    form = ResearchForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Unknown value for goal: use a goal's slug or nothing.")
    articles = Article.objects.published().select_related("compound", "goal").newest_first()
    goal = None
    if slug := form.cleaned_data["goal"]:
        goal = get_object_or_404(Goal, slug=slug)
        articles = articles.filter(goal=goal)
    goals = (
        Goal.objects.filter(articles__in=Article.objects.published())
        .distinct()
        .order_by("name")
        .only("name", "slug")
    )
    context = {"articles": articles, "goal": goal, "goals": goals}
    return render(request, "evidence/research_index.html", context)


@require_safe
@cache_page_until_content_changes()
def research_article(request: HttpRequest, slug: str) -> HttpResponse:
    """One deep dive with its tier: the editors' rating for its goal, else the certainty
    computed from the studies; links to the evidence, the vendors and the builder."""
    article = get_object_or_404(
        Article.objects.published().select_related("compound", "goal"), slug=slug
    )
    compound, goal = article.compound, article.goal
    rating = certainty = None
    has_evidence = False
    if goal is not None:
        rating = Rating.objects.filter(compound=compound, goal=goal).select_related("tier").first()
        has_evidence = rating is not None
        if rating is None:
            findings = list(
                Finding.objects.filter(compound=compound, goal=goal).select_related("study")
            )
            has_evidence = bool(findings)
            certainty = synthesise(findings).certainty_of_benefit if findings else None
    disclaimer, body = article.split_disclaimer()
    context = {
        "article": article,
        "compound": compound,
        "goal": goal,
        "rating": rating,
        "certainty": certainty,
        "has_evidence": has_evidence,
        # Both sanitised by nh3.
        "disclaimer_html": mark_safe(render_markdown(f"**Disclaimer:** {disclaimer}"))
        if disclaimer
        else "",
        "body_html": mark_safe(render_markdown(body)),
    }
    return render(request, "evidence/research_article.html", context)


# The public change log ------------------------------------------------------------------------

CHANGES_PER_PAGE = 30
FEED_ITEMS = 50


class ChangesForm(forms.Form):
    compound = forms.SlugField(required=False, max_length=160)
    minor = forms.ChoiceField(choices=[("1", "show"), ("0", "hide")], required=False)
    page = forms.IntegerField(required=False, min_value=1, max_value=1_000_000)


@require_safe
@cache_page_until_content_changes(*form_params(ChangesForm, minor="0", page="1"))
def changes(request: HtmxHttpRequest) -> HttpResponse:
    """Every public change newest first (evidence.changelog), or one compound's; minor edits
    only when asked for (`minor=1`)."""
    form = ChangesForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(
            "Unknown values: compound is a compound's slug, minor is 1 or 0, page a number."
        )
    compound = None
    if slug := form.cleaned_data["compound"]:
        compound = get_object_or_404(Compound.objects.published(), slug=slug)
    include_minor = form.cleaned_data["minor"] == "1"
    paginator = Paginator(ChangeLog(compound, include_minor), CHANGES_PER_PAGE)
    try:
        page = paginator.page(form.cleaned_data["page"] or 1)
    except InvalidPage:
        raise Http404("No such page of changes.") from None
    context = {
        "compound": compound,
        "include_minor": include_minor,
        "page": page,
        "changes": page.object_list,
    }
    return render_page(request, "evidence/changes.html", context)


class ChangesFeed(Feed):
    """The site-wide change log as an Atom feed (minor edits left out)."""

    feed_type = Atom1Feed
    author_name = "Evidence Stack Builder editors"

    def title(self, compound=None):
        name = f"{compound.name}: " if compound else ""
        return f"{name}What changed · Evidence Stack Builder"

    def subtitle(self, compound=None):
        return (
            "Changes of tiers, bottom lines, findings' figures and publication, newest first. "
            "Educational purposes only, not medical advice."
        )

    def link(self, compound=None):
        url = reverse("changes")
        return f"{url}?compound={compound.slug}" if compound else url

    def items(self, compound=None):
        return ChangeLog(compound)[:FEED_ITEMS]

    def item_title(self, change):
        return f"{change.compound.name}: {change.text}"

    def item_description(self, change):
        text = change.text
        if change.reason:
            text += f" Reason: {change.reason}"
        return escape(text)  # Atom's summary is HTML; our text is plain

    def item_link(self, change):
        return change.url

    def item_guid(self, change):
        return f"tag:evidence-stack-builder,2026:change/{change.key}"

    item_guid_is_permalink = False

    def item_pubdate(self, change):
        return change.when

    def item_updateddate(self, change):
        return change.when


class CompoundChangesFeed(ChangesFeed):
    """One published compound's changes as an Atom feed."""

    def get_object(self, request, slug):
        return get_object_or_404(Compound.objects.published(), slug=slug)


changes_feed = require_safe(cache_page_until_content_changes()(ChangesFeed()))
compound_changes_feed = require_safe(cache_page_until_content_changes()(CompoundChangesFeed()))


# Visitors' error reports -------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def report_error(request: HtmxHttpRequest) -> HttpResponse:
    """A visitor's error report on a compound or evidence page (evidence.reports): the form
    posted from the page (or shown here for `?page=<its address>`), stored for the editors.
    Errors re-show the form (400); past the rate limit, 429."""
    if request.method == "POST":
        form = ErrorReportForm(request.POST)
        if not form.is_valid():
            return _report_page(request, form, status=400)
        if not may_report(request):
            return _report_page(request, form, status=429, limited=True)
        form.save()
        return _report_page(request, form, sent=True)
    form = ErrorReportForm(initial={"page": request.GET.get("page", "")})
    if form.subject is None:
        return HttpResponseBadRequest(
            "Errors are reported from a compound or evidence page of this site: "
            "?page= names its address."
        )
    return _report_page(request, form)


def _report_page(request, form, status=200, **flags) -> HttpResponse:
    template = "evidence/report_error.html"
    if wants_fragment(request):
        template += "#report"
    context = {
        "report_form": form,
        "page": form.data.get("page") if form.is_bound else form.initial.get("page"),
        "subject": form.subject,
        **flags,
    }
    return render(request, template, context, status=status)


# Vendors and the outbound redirect ----------------------------------------------------------


@require_safe
@cache_page_until_content_changes()
def vendor_index(request: HttpRequest) -> HttpResponse:
    vendors = (
        Vendor.objects.active()
        .annotate(offer_count=Count("offers", filter=Q(offers__in=Offer.objects.visible())))
        .order_by("name")
    )
    return render(request, "evidence/vendor_index.html", {"vendors": vendors})


@require_safe
@cache_page_until_content_changes()
def vendor_detail(request: HttpRequest, slug: str) -> HttpResponse:
    vendor = get_object_or_404(Vendor.objects.active(), slug=slug)
    offers = (
        vendor.offers.visible()
        .with_price_per_mg()
        .select_related("compound", "vendor")
        .order_by("compound__name", "currency", F("price").asc(nulls_last=True), "pk")
    )
    return render(request, "evidence/vendor_detail.html", {"vendor": vendor, "offers": offers})


@never_cache
@require_safe
def outbound(request: HttpRequest, offer_id: int) -> HttpResponse:
    """Count a click on an offer (evidence.clicks: which count), then send the visitor to the
    offer's stored URL (only)."""
    offer = get_object_or_404(Offer.objects.visible().only("pk", "url"), pk=offer_id)
    # A HEAD (a link preview, a checker) is no visit; nor is a bot's GET or a repeat.
    if request.method == "GET" and counts_as_click(request, offer.pk):
        OfferClicks.count_click(offer.pk)
    response = HttpResponseRedirect(offer.url)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


# Crawlers ------------------------------------------------------------------------------------

ROBOTS_TXT = """\
# Outbound offer links count visits; crawlers have nothing to find behind them or the admin.
# A clinician's report (and its PDF) exists for every combination of the builder's choices:
# each is one visitor's, and the builder pages hold the same evidence.
User-agent: *
Disallow: /go/
Disallow: /admin/
Disallow: /stack/

Sitemap: {sitemap}
"""


@require_safe
@cache_control(public=True, max_age=24 * 60 * 60)
def robots_txt(request: HttpRequest) -> HttpResponse:
    text = ROBOTS_TXT.format(sitemap=request.build_absolute_uri(reverse("sitemap")))
    return HttpResponse(text, content_type="text/plain; charset=utf-8")


@require_safe
@cache_page_until_content_changes(Param("p", defaults=("1",)))
def sitemap(request: HttpRequest) -> HttpResponse:
    """sitemap.xml: every public page (evidence.sitemaps); `?p=` pages past 50,000."""
    return sitemap_views.sitemap(request, sitemaps=SITEMAPS).render()


# The open data download -----------------------------------------------------------------------


@require_safe
def data(request: HttpRequest) -> HttpResponse:
    """The public download (evidence.data_export): what it holds, when it was built, and the
    licence and attribution of every source in it. Not cached: a rebuild changes the page
    without any content edit, and reading the manifest is one small file."""
    manifest = data_export.read_manifest()
    context = {
        "manifest": manifest,
        "current": manifest is not None and manifest.content_version == content_version(),
    }
    return render(request, "evidence/data.html", context)


@require_safe
def data_download(request: HttpRequest) -> HttpResponse:
    """The prebuilt file itself, as an attachment; its checksum is its ETag."""
    manifest = data_export.read_manifest()
    if manifest is None:
        raise Http404("The download has not been built yet.")
    etag = f'"{manifest.sha256}"'
    last_modified = int(manifest.built_at.timestamp())
    response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is None:
        try:
            file = manifest.path.open("rb")
        except FileNotFoundError:  # a newer build removed it since the manifest was read
            raise Http404("The download is being rebuilt; try again in a moment.") from None
        response = FileResponse(
            file,
            as_attachment=True,
            filename=data_export.DOWNLOAD_NAME,
            content_type="application/json",
        )
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
    return response


# Methodology and health -----------------------------------------------------------------------


@require_safe
@cache_page_until_content_changes()
def methodology(request: HttpRequest) -> HttpResponse:
    path = settings.BASE_DIR / "docs" / "methodology.md"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        body = ""
    else:
        body = mark_safe(render_markdown(text, heading_offset=1))  # sanitised by nh3
    context = {"body": body, "tiers": Tier.objects.order_by("number")}
    return render(request, "evidence/methodology.html", context)


@require_safe
@cache_page_until_content_changes()
def disclosure(request: HttpRequest) -> HttpResponse:
    """How we make money: whether links earn money (they do not) and that rankings never
    depend on vendors. Linked from the footer and beside every list of offer links."""
    return render(request, "evidence/disclosure.html")


# The streaming replica public pages read, when DATABASE_REPLICA_URL configures one.
REPLICA_ALIAS = "replica"


def _database_status(alias: str = DEFAULT_DB_ALIAS) -> str:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return "unavailable"
    return "ok"


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """The database and the cache, as JSON: 200 while the database answers, even with the
    cache degraded (pages are then rendered for every request), 503 when it does not, so a
    load balancer stops sending traffic only where nothing could be served. With a replica,
    it is reported too, and its outage leaves the answer 200: the primary then serves the
    public reads (config.replica). GET and HEAD."""
    database = _database_status()
    report = {"database": database, "cache": cache_status()}
    if REPLICA_ALIAS in connections:
        report["replica"] = _database_status(REPLICA_ALIAS)
    return JsonResponse(report, status=200 if database == "ok" else 503)


@never_cache
@require_safe
def healthz_database(request: HttpRequest) -> HttpResponse:
    """The database alone, as JSON (200 or 503): one round trip and nothing else, for a probe
    that must not touch the cache, and the benchmarks' floor (bench/run.py)."""
    database = _database_status()
    return JsonResponse({"database": database}, status=200 if database == "ok" else 503)
