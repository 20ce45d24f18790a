"""Offers as vendors list them worldwide, imported through the interchange format: a price in
any ISO 4217 currency costs only in that currency (no exchange rates), and a price shown only
after login or on request is listed but enters no cost, price per mg, budget or comparison."""

import copy
from decimal import Decimal

import pytest

from evidence.interchange import FORMAT, ValidationFailed, dumps, export_document, import_document
from evidence.models import Goal, Offer
from stacks.ranking import Constraints, build_stack, rank_goal

pytestmark = pytest.mark.django_db

GOAL = "synthetic-worldwide-goal"
PRICED = "synthetic-worldwide-compound"
UNPRICED = "synthetic-unpriced-compound"
VENDOR = "synthetic-worldwide-vendor"
SITE = "https://synthetic-worldwide.example.com"


def offer(key: str, compound: str, **fields) -> dict:
    return {
        "key": key,
        "compound": compound,
        "product_name": f"Synthetic {key}",
        "url": f"{SITE}/{key}",
        "amount_per_unit": "10",
        "unit": "mg",
        "form": "vial",
        **fields,
    }


def compound(slug: str, name: str) -> dict:
    # 1 mg a day: 1 x 7 x 52 / 12 = 30.333333 mg a month (docs/methodology.md, section 8).
    dose = {"amount": "1", "unit": "mg", "frequency": "daily", "doses_per_week": "7"}
    return {
        "slug": slug,
        "name": name,
        "kind": "peptide",
        "published": True,
        "dosing": [{**dose, "route": "oral"}],
    }


def document() -> dict:
    """Two rated compounds: one priced publicly in JPY (300 JPY/mg) and on request in USD, one
    priced only after login (in USD)."""
    finding = {
        "goal": GOAL,
        "outcome": "Synthetic outcome",
        "comparator": "placebo",
        "measure": "odds_ratio",
        "value": "1.5",
        "ci_low": "1.2",
        "ci_high": "1.9",
    }
    return {
        "format": FORMAT,
        "version": 2,
        "goals": [{"slug": GOAL, "name": "Synthetic worldwide goal", "category": "Synthetic"}],
        "compounds": [
            compound(PRICED, "Synthetic worldwide compound"),
            compound(UNPRICED, "Synthetic unpriced compound"),
        ],
        "ratings": [
            {"compound": PRICED, "goal": GOAL, "tier": 3, "bottom_line": "Synthetic."},
            {"compound": UNPRICED, "goal": GOAL, "tier": 3, "bottom_line": "Synthetic."},
        ],
        "studies": [
            {
                "slug": "synthetic-worldwide-study",
                "title": "Synthetic worldwide study",
                "design": "rct",
                "n": 100,
                "url": "https://synthetic-worldwide.example.com/study",
                "findings": [{**finding, "compound": PRICED}, {**finding, "compound": UNPRICED}],
            }
        ],
        "vendors": [
            {
                "slug": VENDOR,
                "name": "Synthetic worldwide vendor",
                "website": SITE,
                "offers": [
                    offer("jpy-vial", PRICED, price="3000", currency="JPY"),  # 300 JPY/mg
                    offer("usd-kit", PRICED, price=None, price_availability="on_request"),
                    offer(
                        "usd-pen",
                        UNPRICED,
                        price=None,
                        price_availability="after_login",
                        form="pen",
                    ),
                ],
            }
        ],
    }


def goal() -> Goal:
    return Goal.objects.get(slug=GOAL)


@pytest.fixture
def imported():
    import_document(document())


# A price in another currency than USD, EUR or GBP


def test_an_offer_priced_in_yen_imports_with_its_currency(imported):
    stored = Offer.objects.get(key="jpy-vial")
    assert (stored.price, stored.currency) == (Decimal(3000), "JPY")


def test_an_offer_priced_in_yen_shows_with_its_currency_on_the_compound_and_vendor_pages(
    client, imported
):
    for page in (f"/compounds/{PRICED}/", f"/vendors/{VENDOR}/"):
        html = client.get(page).content.decode()
        assert "3,000.00 JPY" in html
        assert "300.00 JPY/mg" in html


def test_an_offer_priced_in_yen_answers_in_the_api_with_its_currency(client, imported):
    offers = {
        o["product_name"]: o for o in client.get(f"/api/compounds/{PRICED}/").json()["offers"]
    }
    yen = offers["Synthetic jpy-vial"]
    assert (yen["currency"], Decimal(str(yen["price"]))) == ("JPY", Decimal(3000))
    assert Decimal(str(yen["price_per_mg"])) == Decimal(300)


def test_a_cost_in_yen_is_the_dose_per_month_times_the_cheapest_yen_price_per_mg(imported):
    ranking = rank_goal(goal(), Constraints(currency="JPY"))
    [entry] = [e for e in ranking.ranked if e.slug == PRICED]
    # 30.333333 mg a month x 300 JPY/mg, to the cent.
    assert entry.monthly_cost == Decimal("9100.00")


def test_a_yen_price_never_costs_in_another_currency(imported):
    """No exchange rates: in USD the compound has no estimate, and a budget excludes it."""
    ranking = rank_goal(goal(), Constraints(currency="USD", monthly_budget=Decimal(1_000_000)))
    reasons = {e.slug: e.reasons for e in ranking.excluded}
    assert reasons[PRICED] == ("Monthly cost cannot be estimated in USD",)


def test_a_yen_budget_keeps_what_it_affords_and_excludes_the_rest(imported):
    within = rank_goal(goal(), Constraints(currency="JPY", monthly_budget=Decimal(10_000)))
    assert [e.slug for e in within.ranked] == [PRICED]
    under = rank_goal(goal(), Constraints(currency="JPY", monthly_budget=Decimal(5_000)))
    reasons = {e.slug: e.reasons[0] for e in under.excluded}
    assert reasons[PRICED] == "Estimated 9100.00 JPY/month is over the budget of 5000 JPY"


def test_the_builder_offers_the_currencies_offers_are_priced_in_and_costs_in_the_chosen_one(
    client, imported
):
    plain = client.get("/").content.decode()
    assert '<option value="JPY">JPY – Yen</option>' in plain
    assert '<option value="USD" selected>USD – US Dollar</option>' in plain

    html = client.get(f"/?goals={GOAL}&currency=JPY").content.decode()
    assert '<option value="JPY" selected>JPY – Yen</option>' in html
    assert "about 9,100.00 JPY/month" in html


def test_the_builder_accepts_any_iso_4217_code_and_refuses_others(client, imported):
    response = client.get(f"/?goals={GOAL}&currency=CHF")
    assert response.status_code == 200
    assert '<option value="CHF" selected>CHF – Swiss Franc</option>' in response.content.decode()
    refused = client.get(f"/?goals={GOAL}&currency=XYZ")
    assert refused.status_code == 400
    assert "not an ISO 4217 currency code" in refused.content.decode()


def test_the_api_costs_in_the_currency_asked_and_refuses_a_code_outside_iso_4217(client, imported):
    body = client.get(f"/api/stack/?goals={GOAL}&currency=JPY").json()
    assert body["currency"] == "JPY"
    costs = {p["compound"]["slug"]: p["compound"]["monthly_cost"] for p in body["picks"]}
    assert costs[PRICED] == pytest.approx(9100.0)
    response = client.get(f"/api/stack/?goals={GOAL}&currency=XYZ")
    assert response.status_code == 422
    assert [e["param"] for e in response.json()["errors"]] == ["currency"]


# A price shown only after login or on request


def test_an_offer_without_a_public_price_imports_without_a_price(imported):
    assert Offer.objects.get(key="usd-kit").price is None
    pen = Offer.objects.get(key="usd-pen")
    assert (pen.price, pen.price_availability, pen.form) == (None, "after_login", "pen")
    assert {pen, Offer.objects.get(key="usd-kit")} <= set(Offer.objects.visible())


def test_an_offer_without_a_public_price_shows_why_on_the_compound_and_vendor_pages(
    client, imported
):
    compound_page = client.get(f"/compounds/{PRICED}/").content.decode()
    assert "Price on request" in compound_page
    unpriced_page = client.get(f"/compounds/{UNPRICED}/").content.decode()
    assert "Price shown after login at the vendor" in unpriced_page
    assert "Pen" in unpriced_page
    vendor_page = client.get(f"/vendors/{VENDOR}/").content.decode()
    assert "Price on request" in vendor_page
    assert "Price shown after login at the vendor" in vendor_page


def test_an_offer_without_a_public_price_answers_in_the_api_with_a_null_price(client, imported):
    [pen] = client.get(f"/api/compounds/{UNPRICED}/").json()["offers"]
    assert (pen["price"], pen["price_per_mg"]) == (None, None)
    assert (pen["price_availability"], pen["form"]) == ("after_login", "pen")


def test_an_offer_without_a_public_price_stays_out_of_every_cost_estimate(imported):
    ranking = rank_goal(goal(), Constraints(currency="USD"))
    costs = {e.slug: e.monthly_cost for e in ranking.ranked}
    assert costs == {PRICED: None, UNPRICED: None}
    stack = build_stack([goal()], Constraints(currency="USD"))
    assert stack.monthly_cost is None
    assert set(stack.cost_unknown_for) == {PRICED, UNPRICED}
    budget = rank_goal(goal(), Constraints(currency="USD", monthly_budget=Decimal(1_000_000)))
    assert budget.ranked == ()
    assert {e.reasons for e in budget.excluded} == {("Monthly cost cannot be estimated in USD",)}


def test_an_offer_without_a_public_price_never_undercuts_a_public_one(imported):
    """The cheapest price per mg reads public prices only, however the database sorts nulls."""
    usd = copy.deepcopy(document())
    usd["vendors"][0]["offers"].append(offer("usd-vial", PRICED, price="10.00"))  # 1 USD/mg
    import_document(usd)
    [entry] = [e for e in rank_goal(goal(), Constraints(currency="USD")).ranked if e.slug == PRICED]
    assert entry.monthly_cost == Decimal("30.33")


def test_an_offer_with_a_public_price_but_none_given_is_refused_with_the_models_words():
    bad = document()
    bad["vendors"][0]["offers"][0]["price"] = None
    with pytest.raises(ValidationFailed) as refused:
        import_document(bad)
    assert refused.value.errors == [
        "vendors[0].offers[0]: An offer with a public price needs the price; one whose price "
        "is shown only after login or on request has none."
    ]


def test_offers_worldwide_round_trip_byte_identical(imported):
    first = dumps(export_document())
    import_document(document())
    assert dumps(export_document()) == first


def test_offers_are_listed_by_currency_then_price_with_unpriced_ones_after_the_priced(
    client, imported
):
    more = document()
    more["vendors"][0]["offers"] += [
        offer("usd-vial", PRICED, price="10.00"),
        offer("eur-vial", PRICED, price="90.00", currency="EUR"),
    ]
    import_document(more)
    html = client.get(f"/compounds/{PRICED}/").content.decode()
    names = ["eur-vial", "jpy-vial", "usd-vial", "usd-kit"]
    places = [html.index(f"Synthetic {name}</h3>") for name in names]
    assert places == sorted(places)
    api_names = [
        o["product_name"] for o in client.get(f"/api/compounds/{PRICED}/").json()["offers"]
    ]
    assert api_names == [f"Synthetic {name}" for name in names]
