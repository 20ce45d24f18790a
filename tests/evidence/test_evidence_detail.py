"""The visitor pages of the evidence app, as an anonymous visitor sees them."""

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.middleware.csrf import _unmask_cipher_token
from django.template.loader import get_template
from django.test import Client
from django.urls import reverse

from evidence.models import Article, Finding, Interaction, Offer, Study
from evidence.templatetags.evidence_tags import format_effect
from tests.factories import (
    make_compound,
    make_contraindication,
    make_dosing,
    make_finding,
    make_goal,
    make_offer,
    make_rating,
    make_side_effect,
    make_study,
    make_vendor,
    tier,
)

DISCLAIMER = "Educational purposes only, not medical advice."
FOOTER = "Consult a qualified healthcare provider before using any compound."
HTMX = {"HX-Request": "true"}

pytestmark = pytest.mark.django_db


# Helpers ------------------------------------------------------------------------------------


def make_thymosin():
    """Thymosin alpha-1 for liver health, shaped like the seed article (synthetic figures)."""
    liver = make_goal("Liver health", slug="liver-health")
    ta1 = make_compound(
        "Thymosin alpha-1",
        slug="thymosin-alpha-1",
        kind="peptide",
        aliases=["Thymalfasin", "Zadaxin", "Tα1"],
        summary="A 28-amino-acid thymic peptide.",
        mechanism="Immunomodulator acting on dendritic cells and T cells.",
        regulatory_status="Not FDA approved.",
    )
    interferon = make_compound("Interferon-alpha", slug="interferon-alpha", kind="drug")
    rating = make_rating(
        ta1,
        liver,
        tier_number=3,
        bottom_line="Probable benefit, limited by moderate sample sizes.",
        data_suggests="Modest responses in chronic hepatitis B.",
        limitations="Few randomised trials.",
    )
    meta = make_study(
        Study.Design.META_ANALYSIS, n=199, trial_count=4, title="Tα1 vs interferon meta-analysis"
    )
    make_finding(
        ta1,
        liver,
        meta,
        outcome="Complete response",
        comparator=Finding.Comparator.ACTIVE,
        comparator_name="Interferon-alpha",
        comparator_compound=interferon,
        value=Decimal("0.54"),
        ci_low=Decimal("0.30"),
        ci_high=Decimal("0.97"),
    )
    make_finding(
        ta1,
        liver,
        meta,
        outcome="Virologic response",
        comparator=Finding.Comparator.ACTIVE,
        comparator_name="Interferon-alpha",
        comparator_compound=interferon,
        value=Decimal("0.62"),
        ci_low=Decimal("0.35"),
        ci_high=Decimal("1.10"),
    )
    cohort = make_study(
        Study.Design.COHORT, n=468, title="HCC after resection", design_detail="propensity"
    )
    make_finding(
        ta1,
        liver,
        cohort,
        outcome="Overall survival",
        comparator=Finding.Comparator.NO_TREATMENT,
        measure=Finding.Measure.HAZARD_RATIO,
        value=Decimal("0.308"),
        ci_low=Decimal("0.175"),
        ci_high=Decimal("0.541"),
        p_value=Decimal("0.001"),
        p_value_is_bound=True,
        higher_is_better=False,
    )
    rct = make_study(Study.Design.RCT, n=316, title="Monotherapy in hepatitis B", pmid="12345678")
    make_finding(
        ta1,
        liver,
        rct,
        outcome="ALT normalisation",
        comparator=Finding.Comparator.NOT_REPORTED,
        measure=Finding.Measure.PROPORTION,
        value=Decimal("36.4"),
        ci_low=None,
        ci_high=None,
    )
    cirrhosis = make_study(Study.Design.RCT, n=690, title="Add-on to entecavir in cirrhosis")
    make_finding(
        ta1,
        liver,
        cirrhosis,
        outcome="HCC incidence",
        comparator=Finding.Comparator.ADD_ON,
        comparator_name="Entecavir alone",
        measure=Finding.Measure.PROPORTION,
        value=Decimal("1.7"),
        comparator_value=Decimal("2.1"),
        ci_low=None,
        ci_high=None,
        stated_significance=False,
        higher_is_better=False,
    )
    make_finding(
        ta1,
        liver,
        cirrhosis,
        outcome="Immune cell counts",
        measure=Finding.Measure.QUALITATIVE,
        stated_significance=True,
    )
    return ta1, liver, rating, interferon


def full_page(response) -> str:
    return response.content.decode()


# Layout -------------------------------------------------------------------------------------


def test_layout_has_nav_footer_disclaimer_and_local_htmx(client):
    html = full_page(client.get(reverse("compound_index")))
    for name in ("builder", "compound_index", "vendor_index", "methodology"):
        assert f'href="{reverse(name)}"' in html
    assert DISCLAIMER in html and FOOTER in html
    assert re.search(r'<script src="/static/django_htmx/htmx-2[^"]*\.js"', html)
    assert "unpkg" not in html and "cdn" not in html.lower()
    assert 'hx-headers=\'{"x-csrftoken": "' in html


def test_the_disclaimer_is_on_every_page(client):
    ta1, liver, _, _ = make_thymosin()
    vendor = make_vendor(slug="acme")
    make_offer(ta1, vendor)
    urls = [
        reverse("compound_index"),
        reverse("compound_detail", args=[ta1.slug]),
        reverse("evidence_detail", args=[ta1.slug, liver.slug]),
        reverse("vendor_index"),
        reverse("vendor_detail", args=[vendor.slug]),
        reverse("methodology"),
        "/no-such-page/",
    ]
    for url in urls:
        assert DISCLAIMER in full_page(client.get(url)), url


def test_the_404_page_is_friendly_and_extends_the_layout(client):
    response = client.get("/compounds/no-such-compound/")
    assert response.status_code == 404
    html = full_page(response)
    assert "We could not find that page" in html
    assert 'href="/compounds/"' in html


def test_the_500_page_renders_without_context_and_carries_the_disclaimer():
    html = get_template("500.html").render()
    assert "Something went wrong" in html
    assert DISCLAIMER in html
    assert "{%" not in html and "{{" not in html


TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"
SCRIPT_WITH_BODY = re.compile(r"<script\b[^>]*>\s*[^<\s]", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE)
HX_ON = re.compile(r"\shx-on[:-]", re.IGNORECASE)  # htmx evaluates these as script
JAVASCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


def test_no_template_has_inline_scripts_event_handlers_or_styles():
    # A Content-Security-Policy without 'unsafe-inline' would block all of these.
    offenders = []
    for path in sorted(TEMPLATES_DIR.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for name, pattern in [
            ("inline <script>", SCRIPT_WITH_BODY),
            ("on...= handler", EVENT_HANDLER),
            ("style=", INLINE_STYLE),
            ("hx-on", HX_ON),
            ("javascript: URL", JAVASCRIPT_URL),
        ]:
            if pattern.search(text):
                offenders.append(f"{path.relative_to(TEMPLATES_DIR)}: {name}")
    assert offenders == []


def test_the_template_scan_catches_what_it_should():
    assert SCRIPT_WITH_BODY.search("<script>alert(1)</script>")
    assert not SCRIPT_WITH_BODY.search('<script src="/static/x.js" defer></script>')
    assert EVENT_HANDLER.search('<img src="x" onerror="alert(1)">')
    assert EVENT_HANDLER.search('<button type="button" onclick="go()">')
    assert not EVENT_HANDLER.search('<input hx-trigger="input changed">')
    assert INLINE_STYLE.search('<p style="color: red">')
    assert HX_ON.search('<button hx-on:click="alert(1)">')
    assert JAVASCRIPT_URL.search('<a href="javascript:alert(1)">')


def test_tier_badges_carry_number_and_label_as_text(client):
    make_rating(make_compound("Badge compound"), tier_number=2)
    html = full_page(client.get(reverse("compound_index")))
    assert re.search(
        r'class="tier-badge tier-2"><span class="tier-badge__number">Tier 2</span>'
        r'<span class="tier-badge__label">Likely efficacy</span>',
        html,
    )


# Compound index -------------------------------------------------------------------------------


def test_compound_index_lists_published_compounds_grouped_by_letter(client):
    ta1, liver, _, _ = make_thymosin()
    make_compound("Zinc", slug="zinc", kind="nutrient")
    make_compound("5-HTP", slug="5-htp")
    make_compound("Hidden draft", slug="hidden-draft", published=False)
    response = client.get(reverse("compound_index"))
    assert response.status_code == 200
    html = full_page(response)
    assert "<html" in html
    assert 'id="letter-T"' in html and 'id="letter-Z"' in html and 'id="letter-other"' in html
    assert (
        html.index('id="letter-other"') < html.index('id="letter-I"') < html.index('id="letter-T"')
    )
    assert "Thymosin alpha-1" in html and "Zadaxin" in html and "Peptide" in html
    assert "Hidden draft" not in html
    assert reverse("evidence_detail", args=[ta1.slug, liver.slug]) in html
    assert "Probable efficacy" in html


@pytest.mark.parametrize("text", ["Zadaxin", "thymalfasin", "Tα1", "thymosin"])
def test_search_finds_a_compound_by_name_or_alias(client, text):
    make_thymosin()
    make_compound("Zinc", slug="zinc")
    html = full_page(client.get(reverse("compound_index"), {"q": text}))
    assert "Thymosin alpha-1" in html
    assert ">Zinc<" not in html
    assert "1 compound matching" in html


@pytest.mark.parametrize("text", ["Zadaxin", "thymalfasin"])
def test_htmx_search_returns_only_the_results_fragment(client, text):
    make_thymosin()
    make_compound("Zinc", slug="zinc")
    response = client.get(reverse("compound_index"), {"q": text}, headers=HTMX)
    assert response.status_code == 200
    html = full_page(response)
    assert "<html" not in html
    assert html.strip().startswith('<section id="results"')
    assert "Thymosin alpha-1" in html and ">Zinc<" not in html
    assert "HX-Request" in response["Vary"]


def test_compound_index_varies_on_hx_request_for_plain_requests_too(client):
    response = client.get(reverse("compound_index"))
    assert "HX-Request" in response["Vary"]


def test_an_htmx_history_restore_gets_the_full_page(client):
    response = client.get(
        reverse("compound_index"), headers={**HTMX, "HX-History-Restore-Request": "true"}
    )
    assert "<html" in full_page(response)


def test_search_form_works_without_javascript_and_is_enhanced_with_htmx(client):
    html = full_page(client.get(reverse("compound_index")))
    assert '<form class="search-form" method="get" action="/compounds/"' in html
    assert 'hx-get="/compounds/"' in html
    assert 'hx-trigger="input changed delay:250ms, search"' in html
    assert 'hx-target="#results"' in html and 'hx-push-url="true"' in html
    assert 'class="htmx-indicator' in html


def test_too_long_search_is_shown_again_with_the_error_and_status_400(client):
    make_thymosin()
    response = client.get(reverse("compound_index"), {"q": "x" * 101})
    assert response.status_code == 400
    html = full_page(response)
    assert "<html" in html
    assert "at most 100 characters" in html
    assert 'aria-invalid="true"' in html


def test_a_search_with_no_match_says_so(client):
    make_thymosin()
    html = full_page(client.get(reverse("compound_index"), {"q": "no such thing"}))
    assert "0 compounds matching" in html
    assert "Show all compounds" in html


# Compound detail ------------------------------------------------------------------------------


def test_compound_detail_shows_overview_ratings_dosing_safety_and_offers(client):
    ta1, liver, _, interferon = make_thymosin()
    make_dosing(ta1, amount=Decimal("1.6"), route="subcutaneous", duration="24 weeks")
    make_side_effect(ta1, name="Injection site reactions", frequency="common")
    make_side_effect(ta1, name="Anaphylaxis", frequency="serious")
    make_side_effect(ta1, name="Headache", frequency="not_stated")
    make_contraindication(ta1, "pregnancy", note="Immunostimulatory profile.")
    Interaction.objects.create(
        compound_a=ta1, compound_b=interferon, severity="moderate", note="Additive effects."
    )
    vendor = make_vendor("Good Labs", third_party_tested=True, certificate_of_analysis=True)
    offer = make_offer(
        ta1,
        vendor,
        product_name="Tα1 5 mg vial",
        price=Decimal("40.00"),
        amount_per_unit=Decimal(5),
        last_checked=date(2025, 5, 2),
    )
    response = client.get(reverse("compound_detail", args=[ta1.slug]))
    assert response.status_code == 200
    html = full_page(response)
    for text in [
        "Thymosin alpha-1",
        "Thymalfasin, Zadaxin, Tα1",
        "A 28-amino-acid thymic peptide.",
        "Immunomodulator acting on dendritic cells",
        "Not FDA approved.",
        "Probable benefit, limited by moderate sample sizes.",
        "1.6 mg",
        "twice weekly",
        "Subcutaneous injection",
        "24 weeks",
        "Injection site reactions",
        "Frequency not stated",
        "Serious",
        "Pregnancy",
        "Immunostimulatory profile.",
        "Moderate interaction",
        "Additive effects.",
        "Good Labs",
        "Tα1 5 mg vial",
        "$40.00",
        "$8.00/mg",
        "In stock",
        "2 May 2025",
        "Third-party tested",
        "Certificate of analysis",
        "Vendors never influence rankings",
    ]:
        assert text in html, text
    assert html.index("Common") < html.index("Serious") < html.index("Frequency not stated")
    assert reverse("evidence_detail", args=[ta1.slug, liver.slug]) in html
    assert reverse("vendor_detail", args=[vendor.slug]) in html
    assert f'href="/go/{offer.pk}/" rel="nofollow sponsored noopener"' in html
    assert offer.url not in html


def test_offer_links_always_go_through_the_outbound_redirect(client):
    ta1 = make_compound()
    offers = [make_offer(ta1) for _ in range(3)]
    html = full_page(client.get(reverse("compound_detail", args=[ta1.slug])))
    links = re.findall(r'<a [^>]*href="(/go/\d+/)"[^>]*>', html)
    assert sorted(links) == sorted(f"/go/{offer.pk}/" for offer in offers)
    for tag in re.findall(r'<a [^>]*href="/go/\d+/"[^>]*>', html):
        assert 'rel="nofollow sponsored noopener"' in tag


def test_offers_of_inactive_vendors_are_not_shown(client):
    ta1 = make_compound()
    make_offer(ta1, make_vendor(active=False), product_name="Gone product")
    html = full_page(client.get(reverse("compound_detail", args=[ta1.slug])))
    assert "Gone product" not in html
    assert "No vendor offers listed." in html


def test_a_comparator_compound_links_to_the_pages_it_was_studied_in(client):
    ta1, liver, _, interferon = make_thymosin()
    html = full_page(client.get(reverse("compound_detail", args=[interferon.slug])))
    assert "Studied as a comparator in" in html
    assert reverse("evidence_detail", args=[ta1.slug, liver.slug]) in html


def test_unknown_compound_is_404(client):
    assert client.get(reverse("compound_detail", args=["no-such"])).status_code == 404


def test_unpublished_compound_is_404(client):
    draft = make_compound(published=False)
    assert client.get(reverse("compound_detail", args=[draft.slug])).status_code == 404


# Evidence detail ------------------------------------------------------------------------------


def test_evidence_page_shows_rating_counts_studies_plot_and_article(client):
    ta1, liver, rating, _ = make_thymosin()
    Article.objects.create(
        compound=ta1,
        goal=liver,
        slug="ta1-liver",
        title="Thymosin Alpha-1 for Liver Health",
        body="## Overview\n\nIt is **immune**.\n\n<script>alert('x')</script>",
        last_updated=date(2025, 4, 1),
        published=True,
    )
    response = client.get(reverse("evidence_detail", args=[ta1.slug, liver.slug]))
    assert response.status_code == 200
    html = full_page(response)
    for text in [
        "Tier 3",
        "Probable efficacy",
        rating.bottom_line,
        "Modest responses in chronic hepatitis B.",
        "Few randomised trials.",
        "Review date not stated",
        "Meta-analysis of RCTs",
        "n = 199 in 4 trials",
        "OR 0.54 (95% CI 0.30–0.97)",
        "HR 0.308 (95% CI 0.175–0.541), p&lt;0.001",
        "36.4%",
        "1.7% vs 2.1%",
        "reported without figures",
        "Active comparator: ",
        "Interferon-alpha",
        "Not assessable",
        "https://pubmed.ncbi.nlm.nih.gov/12345678/",
        "citation not given",
        "Thymosin Alpha-1 for Liver Health",
        "1 April 2025",
        "<strong>immune</strong>",
    ]:
        assert text in html, text
    assert "alert('x')" not in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html
    # 4 studies, 3 randomised (a meta-analysis and 2 RCTs), 199 + 468 + 316 + 690 participants.
    assert re.search(r'stat-value">4<.*?stud', html, re.S)
    assert re.search(r'stat-value">3<.*?randomised', html, re.S)
    assert 'stat-value">1673<' in html
    # The disclaimer sits above the article.
    assert html.index(DISCLAIMER, html.index('id="article-title"')) < html.index("<strong>immune")


def test_an_unpublished_comparator_is_neither_linked_nor_named_from_its_record(client):
    compound, goal = make_compound(), make_goal()
    draft = make_compound("Secret draft comparator", published=False)
    make_finding(compound, goal, comparator=Finding.Comparator.ACTIVE, comparator_compound=draft)
    html = full_page(client.get(reverse("evidence_detail", args=[compound.slug, goal.slug])))
    assert "Secret draft comparator" not in html
    assert reverse("compound_detail", args=[draft.slug]) not in html


def test_evidence_page_significance_column_reads_yes_no_or_not_assessable(client):
    ta1, liver, _, _ = make_thymosin()
    html = full_page(client.get(reverse("evidence_detail", args=[ta1.slug, liver.slug])))
    significance = re.findall(r'data-label="Significant"><span><span class="\w+">([^<]+)<', html)
    assert set(significance) == {"Yes", "No", "Not assessable"}


def test_evidence_page_says_when_the_review_and_article_dates_are_known(client):
    ta1, liver, rating, _ = make_thymosin()
    rating.last_reviewed = date(2025, 3, 1)
    rating.save()
    Article.objects.create(
        compound=ta1, goal=liver, slug="a", title="Deep dive", body="Text", published=True
    )
    html = full_page(client.get(reverse("evidence_detail", args=[ta1.slug, liver.slug])))
    assert "Last reviewed" in html and "1 March 2025" in html
    assert "Last updated: not stated" in html


def test_unpublished_articles_are_not_shown(client):
    ta1, liver, _, _ = make_thymosin()
    Article.objects.create(
        compound=ta1, goal=liver, slug="draft", title="Draft dive", body="x", published=False
    )
    html = full_page(client.get(reverse("evidence_detail", args=[ta1.slug, liver.slug])))
    assert "Draft dive" not in html


def test_evidence_page_with_findings_but_no_rating_is_shown(client):
    compound, goal = make_compound(), make_goal()
    make_finding(compound, goal)
    response = client.get(reverse("evidence_detail", args=[compound.slug, goal.slug]))
    assert response.status_code == 200
    assert "no tier has been assigned yet" in full_page(response)


def test_evidence_page_of_an_unrated_goal_is_404(client):
    compound, goal = make_compound(), make_goal()
    make_rating(compound)  # rated for another goal only
    response = client.get(reverse("evidence_detail", args=[compound.slug, goal.slug]))
    assert response.status_code == 404


def test_evidence_page_of_an_unknown_goal_or_unpublished_compound_is_404(client):
    rating = make_rating(make_compound(published=False))
    assert (
        client.get(
            reverse("evidence_detail", args=[rating.compound.slug, rating.goal.slug])
        ).status_code
        == 404
    )
    published = make_rating()
    assert (
        client.get(reverse("evidence_detail", args=[published.compound.slug, "nope"])).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"value": Decimal("0.54"), "ci_low": Decimal("0.30"), "ci_high": Decimal("0.97")},
            "OR 0.54 (95% CI 0.30–0.97)",
        ),
        (
            {
                "measure": Finding.Measure.HAZARD_RATIO,
                "value": Decimal("0.308"),
                "ci_low": Decimal("0.175"),
                "ci_high": Decimal("0.541"),
                "p_value": Decimal("0.001"),
                "p_value_is_bound": True,
            },
            "HR 0.308 (95% CI 0.175–0.541), p<0.001",
        ),
        (
            {"measure": Finding.Measure.PROPORTION, "value": Decimal("36.4")},
            "36.4%",
        ),
        (
            {
                "measure": Finding.Measure.PROPORTION,
                "value": Decimal("1.7"),
                "comparator_value": Decimal("2.1"),
            },
            "1.7% vs 2.1%",
        ),
        ({"measure": Finding.Measure.QUALITATIVE}, "reported without figures"),
        (
            {
                "measure": Finding.Measure.MEAN_DIFFERENCE,
                "value": Decimal("-2.5"),
                "ci_low": Decimal("-4.1"),
                "ci_high": Decimal("-0.5"),
            },
            "MD −2.5 (95% CI −4.1 to −0.5)",
        ),
        (
            {"value": Decimal("0.62"), "ci_low": None, "ci_high": None, "p_value": Decimal("0.2")},
            "OR 0.62, p=0.2",
        ),
    ],
)
def test_effects_are_written_as_papers_write_them(fields, expected):
    defaults = {
        "measure": Finding.Measure.ODDS_RATIO,
        "value": None,
        "ci_low": None,
        "ci_high": None,
        "comparator_value": None,
        "p_value": None,
        "p_value_is_bound": False,
    }
    assert format_effect(Finding(**{**defaults, **fields})) == expected


# Vendors and the outbound redirect ----------------------------------------------------------


def test_vendor_index_lists_active_vendors_with_testing_and_offer_counts(client):
    good = make_vendor(
        "Good Labs", country="Germany", third_party_tested=True, description="Tests every batch."
    )
    make_vendor("Closed Shop", active=False)
    make_offer(make_compound(), good)
    make_offer(make_compound(), good)
    make_offer(make_compound(published=False), good)
    response = client.get(reverse("vendor_index"))
    assert response.status_code == 200
    html = full_page(response)
    assert "Good Labs" in html and "Germany" in html and "Tests every batch." in html
    assert "2 offers" in html
    assert "Third-party tested" in html and "No certificate of analysis" in html
    assert "Closed Shop" not in html


def test_vendor_detail_lists_offers_with_compound_links(client):
    vendor = make_vendor("Good Labs")
    compound = make_compound("Zinc", slug="zinc")
    offer = make_offer(compound, vendor, product_name="Zinc 50 mg caps")
    make_offer(make_compound("Draft", published=False), vendor, product_name="Draft product")
    response = client.get(reverse("vendor_detail", args=[vendor.slug]))
    assert response.status_code == 200
    html = full_page(response)
    assert "Zinc 50 mg caps" in html and reverse("compound_detail", args=["zinc"]) in html
    assert f'href="/go/{offer.pk}/" rel="nofollow sponsored noopener"' in html
    assert "Draft product" not in html


def test_inactive_or_unknown_vendor_is_404(client):
    closed = make_vendor(active=False)
    assert client.get(reverse("vendor_detail", args=[closed.slug])).status_code == 404
    assert client.get(reverse("vendor_detail", args=["no-such"])).status_code == 404


def test_outbound_counts_a_click_and_redirects_to_the_stored_url(client):
    offer = make_offer(make_compound(), url="https://shop.example.com/product/1")
    response = client.get(
        reverse("outbound", args=[offer.pk]), {"next": "https://evil.example.com/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "https://shop.example.com/product/1"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    offer.refresh_from_db()
    assert offer.click_count == 1
    client.get(reverse("outbound", args=[offer.pk]))
    offer.refresh_from_db()
    assert offer.click_count == 2


def test_outbound_is_404_for_unknown_offer(client):
    assert client.get(reverse("outbound", args=[999999])).status_code == 404


def test_outbound_is_404_for_inactive_vendor_or_unpublished_compound(client):
    hidden_vendor = make_offer(make_compound(), make_vendor(active=False))
    hidden_compound = make_offer(make_compound(published=False))
    for offer in (hidden_vendor, hidden_compound):
        assert client.get(reverse("outbound", args=[offer.pk])).status_code == 404
        offer.refresh_from_db()
        assert offer.click_count == 0


def test_outbound_accepts_only_get(client):
    offer = make_offer(make_compound())
    assert client.post(reverse("outbound", args=[offer.pk])).status_code == 405
    assert Offer.objects.get(pk=offer.pk).click_count == 0


# Methodology and health -----------------------------------------------------------------------


def test_methodology_renders_the_document_and_the_tier_ladder(client, settings, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "methodology.md").write_text(
        "# How we rate\n\nWeights are **public**.\n\n<script>alert(1)</script>", encoding="utf-8"
    )
    settings.BASE_DIR = tmp_path
    response = client.get(reverse("methodology"))
    assert response.status_code == 200
    html = full_page(response)
    assert "Weights are <strong>public</strong>." in html
    assert "alert(1)" not in html
    for number in range(1, 7):
        assert f"Tier {number}</span>" in html
    assert tier(6).label in html and tier(1).description in html


def test_methodology_without_its_document_says_it_is_being_written(client, settings, tmp_path):
    settings.BASE_DIR = tmp_path
    response = client.get(reverse("methodology"))
    assert response.status_code == 200
    assert "being written" in full_page(response)


def test_healthz_is_ok_when_the_database_answers(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_healthz_is_503_when_the_database_is_unavailable(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.content == b"database unavailable"
    assert response["Content-Type"].startswith("text/plain")


# Query counts do not grow with the data -------------------------------------------------------


def build_catalogue(size: int):
    """size published compounds, each with aliases, two ratings, findings and offers."""
    vendor = make_vendor()
    goals = [make_goal(), make_goal()]
    for _ in range(size):
        compound = make_compound(aliases=[f"Alias {_ + 1} of {size}"])
        for goal in goals:
            make_rating(compound, goal)
        make_offer(compound, vendor)
    return vendor


def build_compound(size: int):
    """One compound with size ratings, dosings, side effects, offers, interactions, ..."""
    compound = make_compound(aliases=[f"First name of {size}", f"Second name of {size}"])
    conditions = ["pregnancy", "children", "kidney_disease", "breastfeeding"]
    for i in range(size):
        goal = make_goal()
        make_rating(compound, goal, tier_number=i % 6 + 1)
        make_dosing(compound, goal=goal)
        make_side_effect(compound, frequency=["common", "rare", "serious"][i % 3])
        if i < len(conditions):
            make_contraindication(compound, condition=conditions[i])
        make_offer(compound)
        Interaction.objects.create(
            compound_a=compound, compound_b=make_compound(), severity="minor", note="Synthetic."
        )
        make_finding(make_compound(), goal, comparator="active", comparator_compound=compound)
        make_finding(compound, make_goal())  # a goal with findings but no rating
    return compound


def build_evidence(size: int):
    compound, goal = make_compound(), make_goal()
    make_rating(compound, goal)
    comparator = make_compound()
    for i in range(size):
        study = make_study(pmid=str(1000 + i))
        make_finding(compound, goal, study, comparator="active", comparator_compound=comparator)
        make_finding(compound, goal, study, measure=Finding.Measure.QUALITATIVE)
    Article.objects.create(
        compound=compound, goal=goal, slug=f"article-{size}", title="A", body="B", published=True
    )
    return compound, goal


# Each page also reads the content version once, for its cache key (stacks.cache); these
# counts are for a cold cache.
@pytest.mark.parametrize("size", [1, 10])
def test_compound_index_query_count_is_constant(client, django_assert_max_num_queries, size):
    build_catalogue(size)
    with django_assert_max_num_queries(4):
        response = client.get(reverse("compound_index"))
    assert response.status_code == 200
    with django_assert_max_num_queries(4):
        client.get(reverse("compound_index"), {"q": "Alias"}, headers=HTMX)


@pytest.mark.parametrize("size", [1, 10])
def test_compound_detail_query_count_is_constant(client, django_assert_max_num_queries, size):
    compound = build_compound(size)
    with django_assert_max_num_queries(11):
        response = client.get(reverse("compound_detail", args=[compound.slug]))
    assert response.status_code == 200


@pytest.mark.parametrize("size", [1, 10])
def test_evidence_detail_query_count_is_constant(client, django_assert_max_num_queries, size):
    compound, goal = build_evidence(size)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("evidence_detail", args=[compound.slug, goal.slug]))
    assert response.status_code == 200


@pytest.mark.parametrize("size", [1, 10])
def test_vendor_pages_query_count_is_constant(client, django_assert_max_num_queries, size):
    vendor = build_catalogue(size)
    with django_assert_max_num_queries(3):
        assert client.get(reverse("vendor_detail", args=[vendor.slug])).status_code == 200
    with django_assert_max_num_queries(2):
        assert client.get(reverse("vendor_index")).status_code == 200


@pytest.mark.parametrize("size", [1, 10])
def test_a_cached_page_costs_one_query(client, django_assert_max_num_queries, size):
    compound, goal = build_evidence(size)
    url = reverse("evidence_detail", args=[compound.slug, goal.slug])
    first = client.get(url)
    with django_assert_max_num_queries(1):
        again = client.get(url)
    without_token = re.compile(rb'"x-csrftoken": "[^"]*"')
    assert without_token.sub(b"", again.content) == without_token.sub(b"", first.content)
    assert b"__csrf_token_placeholder__" not in again.content


def test_a_cached_page_never_hands_one_visitors_csrf_token_to_another(client):
    compound, goal = build_evidence(1)
    url = reverse("evidence_detail", args=[compound.slug, goal.slug])
    token = re.compile(rb'"x-csrftoken": "([^"]*)"')
    first = token.search(client.get(url).content).group(1)
    other_visitor = Client()
    second = token.search(other_visitor.get(url).content).group(1)
    assert first and second and b"placeholder" not in second
    assert _unmask_cipher_token(first.decode()) != _unmask_cipher_token(second.decode())


def test_favicon_ico_points_at_the_site_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("favicon.svg")


def test_the_forest_plot_is_cut_to_a_readable_size_while_the_table_keeps_every_finding(client):
    compound, goal = make_compound(), make_goal()
    study = make_study()
    for i in range(45):
        make_finding(compound, goal, study=study, outcome=f"Synthetic outcome {i:02}")
    html = client.get(reverse("evidence_detail", args=[compound.slug, goal.slug])).content.decode()
    assert "The plot shows the first 40 of the 45 findings" in html
    assert html.count('data-label="Outcome"') == 45
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert "Synthetic outcome 39" in svg and "Synthetic outcome 40" not in svg


def test_long_evidence_pages_list_the_strongest_studies_first_and_offer_all(client):
    compound, goal = make_compound(), make_goal()
    for i in range(27):
        make_finding(compound, goal, study=make_study(title=f"Synthetic trial {i:02}"))
    url = reverse("evidence_detail", args=[compound.slug, goal.slug])
    html = client.get(url).content.decode()
    assert "Showing the 25 strongest-designed of 27 studies." in html
    assert html.count('class="study-group"') == 25
    everything = client.get(url, {"studies": "all"}).content.decode()
    assert everything.count('class="study-group"') == 27
    assert client.get(url, {"studies": "some"}).status_code == 400


def test_a_404_from_a_cached_view_carries_a_real_csrf_token(client):
    response = client.get(reverse("compound_detail", args=["no-such-compound"]))
    assert response.status_code == 404
    assert b"__csrf_token_placeholder__" not in response.content
