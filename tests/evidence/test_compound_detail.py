"""A compound's page (/compounds/<slug>/): overview, ratings, dosing, safety and offers."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from evidence.models import Interaction
from tests.factories import (
    make_anti_doping_status,
    make_article,
    make_compound,
    make_contraindication,
    make_dosing,
    make_finding,
    make_goal,
    make_offer,
    make_rating,
    make_regulatory_status,
    make_side_effect,
    make_vendor,
)
from tests.factories.pages import full_page, make_thymosin

pytestmark = pytest.mark.django_db


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


# The page also reads the content version once, for its cache key (evidence.cache); this
# count is for a cold cache.
@pytest.mark.parametrize("size", [1, 10])
def test_compound_detail_query_count_is_constant(client, django_assert_max_num_queries, size):
    compound = build_compound(size)
    make_regulatory_status(compound)
    make_anti_doping_status(compound)
    make_article(compound)
    # 14: one each for the regulatory and the anti-doping statuses, the published deep dives
    # and the interactions, read because the compound has some. "What changed" is fetched
    # when it comes into view (test_changes).
    with django_assert_max_num_queries(14):
        response = client.get(reverse("compound_detail", args=[compound.slug]))
    assert response.status_code == 200


def test_a_compound_without_statuses_deep_dives_or_interactions_is_read_in_four_fewer(
    client, settings, django_assert_num_queries
):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    compound = make_compound()
    # The content version, the compound (asking whether it has any of those four), its
    # aliases, contraindications, ratings, dosings, side effects and offers, its goals
    # without a rating, and the pages where it is a comparator.
    with django_assert_num_queries(10):
        response = client.get(reverse("compound_detail", args=[compound.slug]))
    html = full_page(response)
    assert "No interactions recorded." in html
    assert "Not stated." in html


def test_compound_detail_shows_a_dose_range_per_kg_with_its_timing(client):
    compound = make_compound()
    make_dosing(
        compound,
        amount=Decimal(1),
        amount_max=Decimal(3),
        unit="g",
        per_kg=True,
        frequency="",
        route="not_reported",
        timing="Synthetic timing: at bedtime",
    )

    html = full_page(client.get(reverse("compound_detail", args=[compound.slug])))

    assert "1–3 g per kg of body weight" in html
    assert "Frequency not reported" in html
    assert "Route not reported" in html
    assert "Synthetic timing: at bedtime" in html


def test_compound_detail_shows_each_status_with_its_source_link_and_verification_date(client):
    compound = make_compound()
    make_regulatory_status(
        compound,
        jurisdiction="Synthetic jurisdiction",
        regulator="Synthetic regulator",
        status="warning_list",
        source_name="Synthetic regulator notice",
        source_url="https://regulator.example.org/synthetic-notice",
        verified_on=date(2026, 1, 15),
    )
    make_anti_doping_status(
        compound,
        list_name="Synthetic prohibited list",
        list_class="Synthetic class S0",
        source_url="https://anti-doping.example.org/synthetic-list",
        verified_on=date(2026, 2, 1),
    )

    html = full_page(client.get(reverse("compound_detail", args=[compound.slug])))

    assert "<strong>Synthetic jurisdiction</strong> (Synthetic regulator)" in html
    assert "On a regulator&#x27;s warning list" in html
    assert (
        '<a href="https://regulator.example.org/synthetic-notice" rel="noopener">'
        "Synthetic regulator notice</a>, verified "
        '<time datetime="2026-01-15">15 January 2026</time>'
    ) in html
    assert "<strong>Synthetic prohibited list</strong>: Prohibited, Synthetic class S0." in html
    assert '<a href="https://anti-doping.example.org/synthetic-list" rel="noopener">' in html
    assert '<time datetime="2026-02-01">1 February 2026</time>' in html


def test_compound_detail_without_statuses_says_none_are_recorded(client):
    compound = make_compound()

    html = full_page(client.get(reverse("compound_detail", args=[compound.slug])))

    assert "Sport (anti-doping) status" in html
    assert "Not recorded." in html


def test_a_compound_without_findings_or_ratings_says_no_evidence_recorded_yet(client):
    from tests.factories import make_compound

    compound = make_compound("Synthetic Nothingyet")

    html = client.get(compound.get_absolute_url()).content.decode()

    assert "No evidence recorded yet." in html


def test_offers_are_listed_in_stock_first_then_cheapest_and_the_page_says_so(client):
    ta1 = make_compound()
    make_offer(ta1, product_name="Synthetic dear", price=Decimal("90.00"))
    make_offer(ta1, product_name="Synthetic sold out", price=Decimal("10.00"), in_stock=False)
    make_offer(ta1, product_name="Synthetic cheap", price=Decimal("30.00"))
    html = full_page(client.get(reverse("compound_detail", args=[ta1.slug])))
    shown = re.findall(r"<h3>(Synthetic [a-z ]+)</h3>", html)
    assert shown == ["Synthetic cheap", "Synthetic dear", "Synthetic sold out"]
    assert "Offers in stock come first, then the lowest pack price." in html
