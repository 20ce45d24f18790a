"""A synthetic version 2 document that uses every new field imports, every page type renders
it, and each new field's value is found on its page and in the API.

Every name is "Synthetic v2 ..." (made-up test data, not evidence). The document holds a
finding with a mean difference in mg/dL on a biomarker, graded by its source, with an unknown
p-value bound, a dose range per kg with a timing, a quote and a review note; a finding without
figures stating harm; a source with its licence and required attribution; a dose range per kg
with a timing; a regulatory and an anti-doping status; an alias shared by two compounds; and
offers priced in yen (a pen, with a certificate of analysis and the vendor's claim) and on
request (a kit).
"""

import json

import pytest

from evidence.interchange import FORMAT, dumps, export_document, import_document

pytestmark = pytest.mark.django_db

GOAL = "synthetic-v2-goal"
A = "synthetic-v2-niacin"
B = "synthetic-v2-nicotinamide"
SOURCE = "synthetic-v2-dataset"
VENDOR = "synthetic-v2-vendor"
SITE = "https://synthetic-v2-vendor.example.com"


def document() -> dict:
    """Every new field of version 2 once, each value synthetic and labelled so."""
    return {
        "format": FORMAT,
        "version": 2,
        "goals": [{"slug": GOAL, "name": "Synthetic v2 goal", "category": "Synthetic v2 category"}],
        "compounds": [
            {
                "slug": A,
                "name": "Synthetic v2 niacin",
                "kind": "nutrient",
                "published": True,
                "aliases": ["Synthetic v2 shared alias"],
                "dosing": [
                    {
                        "goal": GOAL,
                        "amount": "0.1",
                        "amount_max": "0.3",
                        "unit": "g",
                        "per_kg": True,
                        "frequency": "",
                        "route": "not_reported",
                        "timing": "Synthetic v2 bedtime",
                    }
                ],
                "regulatory_statuses": [
                    {
                        "jurisdiction": "Synthetic v2 jurisdiction",
                        "regulator": "Synthetic v2 regulator",
                        "status": "warning_list",
                        "status_detail": "Synthetic v2 warning detail",
                        "source_name": "Synthetic v2 regulator notice",
                        "source_url": "https://synthetic-v2-regulator.example.org/notice",
                        "verified_on": "2026-01-15",
                    }
                ],
                "anti_doping_statuses": [
                    {
                        "list_name": "Synthetic v2 prohibited list",
                        "list_class": "S0 Synthetic v2 class",
                        "status": "prohibited",
                        "source_url": "https://synthetic-v2-antidoping.example.org/list",
                        "verified_on": "2026-02-20",
                    }
                ],
            },
            {
                "slug": B,
                "name": "Synthetic v2 nicotinamide",
                "kind": "nutrient",
                "published": True,
                "aliases": ["Synthetic v2 shared alias"],
            },
        ],
        "ratings": [
            {"compound": A, "goal": GOAL, "tier": 3, "bottom_line": "Synthetic v2 bottom line."}
        ],
        "sources": [
            {
                "slug": SOURCE,
                "name": "Synthetic v2 dataset",
                "publisher": "Synthetic v2 publisher",
                "url": "https://synthetic-v2-data.example.com",
                "licence": "Synthetic v2 licence 1.0",
                "licence_url": "https://synthetic-v2-data.example.com/licence",
                "version": "Synthetic v2 commit 0000000",
                "retrieved": "2026-03-01",
                "attribution": "Synthetic v2 dataset by the Synthetic v2 publisher.",
                "attribution_required": True,
            }
        ],
        "studies": [
            {
                "slug": "synthetic-v2-study",
                "title": "",
                "design": "not_reported",
                "n": None,
                "source": SOURCE,
                "source_record_id": "synthetic-v2-paper-1",
                "contributor": "Synthetic v2 contributor",
                "findings": [
                    {
                        "compound": A,
                        "goal": GOAL,
                        "outcome": "Synthetic v2 LDL cholesterol",
                        "outcome_kind": "surrogate",
                        "comparator": "placebo",
                        "measure": "mean_difference",
                        "value": "-12.5",
                        "value_unit": "mg/dL",
                        "ci_low": "-20",
                        "ci_high": "-5",
                        "p_value": "0.04",
                        "p_value_is_bound": None,
                        "higher_is_better": False,
                        "source_direction": "Synthetic-v2-positive",
                        "source_grade": "Synthetic v2 moderate",
                        "source_grade_scale": "Synthetic v2 grade scale",
                        "dose": "0.1",
                        "dose_max": "0.3",
                        "dose_unit": "g",
                        "dose_per_kg": True,
                        "dose_timing": "Synthetic v2 with meals",
                        "source_record_id": "synthetic-v2-claim-1a",
                        "contributor": "Synthetic v2 finding contributor",
                        "quote": "Synthetic v2 words, verbatim.",
                        "reviewed": False,
                        "review_note": "Synthetic v2 review note",
                    },
                    {
                        "compound": A,
                        "goal": GOAL,
                        "outcome": "Synthetic v2 endurance",
                        "comparator": "not_reported",
                        "measure": "qualitative",
                        "direction": "harm",
                        "stated_significance": True,
                    },
                ],
            }
        ],
        "vendors": [
            {
                "slug": VENDOR,
                "name": "Synthetic v2 vendor",
                "website": SITE,
                "offers": [
                    {
                        "key": "synthetic-v2-yen-pen",
                        "compound": A,
                        "product_name": "Synthetic v2 yen pen",
                        "url": f"{SITE}/yen-pen",
                        "price": "4500",
                        "currency": "JPY",
                        "amount_per_unit": "10",
                        "unit": "mg",
                        "form": "pen",
                        "certificate_of_analysis_url": f"{SITE}/coa/yen-pen.pdf",
                        "vendor_claim": "Synthetic v2 purest pen on the market",
                    },
                    {
                        "key": "synthetic-v2-kit",
                        "compound": A,
                        "product_name": "Synthetic v2 kit on request",
                        "url": f"{SITE}/kit",
                        "price": None,
                        "price_availability": "on_request",
                        "amount_per_unit": "5",
                        "unit": "mg",
                        "units_per_pack": 10,
                        "form": "kit",
                    },
                ],
            }
        ],
    }


@pytest.fixture
def imported():
    report = import_document(document())
    assert report.changed > 0


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def api(client, url: str) -> str:
    """The API's answer as text, its unicode unescaped, for finding values in it."""
    response = client.get(url)
    assert response.status_code == 200, url
    return json.dumps(response.json(), ensure_ascii=False)


def assert_all_in(text: str, values: list[str], where: str) -> None:
    missing = [value for value in values if value not in text]
    assert not missing, f"{where} lacks {missing}"


def test_the_builder_with_the_goal_renders_it(client, imported):
    html = page(client, f"/?goals={GOAL}&currency=JPY")
    assert_all_in(
        html,
        ["Synthetic v2 goal", "Synthetic v2 niacin", '<option value="JPY" selected>'],
        "builder",
    )


def test_the_goal_page_renders_it(client, imported):
    html = page(client, f"/goals/{GOAL}/")
    assert_all_in(html, ["Synthetic v2 goal", "Synthetic v2 niacin"], "goal page")


def test_the_compound_index_and_search_find_both_compounds_of_the_shared_alias(client, imported):
    both = ["Synthetic v2 niacin", "Synthetic v2 nicotinamide", "Synthetic v2 shared alias"]
    assert_all_in(page(client, "/compounds/"), both, "compound index")
    assert_all_in(page(client, "/compounds/?q=Synthetic+v2+shared+alias"), both, "search")


def test_the_compound_page_shows_dosing_statuses_and_offers(client, imported):
    html = page(client, f"/compounds/{A}/")
    assert_all_in(
        html,
        [
            # dose range per kg with its timing
            "0.1–0.3 g per kg",
            "Synthetic v2 bedtime",
            # regulatory status, with its source and verification date
            "Synthetic v2 jurisdiction",
            "Synthetic v2 regulator",
            "warning list",
            "Synthetic v2 warning detail",
            "Synthetic v2 regulator notice",
            "https://synthetic-v2-regulator.example.org/notice",
            "2026-01-15",
            # anti-doping status
            "Synthetic v2 prohibited list",
            "S0 Synthetic v2 class",
            "Prohibited",
            "https://synthetic-v2-antidoping.example.org/list",
            "2026-02-20",
            # the shared alias
            "Synthetic v2 shared alias",
            # offers: yen, a pen, its certificate and the vendor's claim; a kit on request
            "Synthetic v2 yen pen",
            "4,500.00 JPY",
            "450.00 JPY/mg",
            "Pen",
            f'href="{SITE}/coa/yen-pen.pdf"',
            "The vendor says: “Synthetic v2 purest pen on the market”",
            "the vendor's claim, not our evidence",
            "Synthetic v2 kit on request",
            "Price on request",
            "Kit",
        ],
        "compound page",
    )


def test_the_evidence_page_shows_provenance_and_every_finding_field(client, imported):
    html = page(client, f"/compounds/{A}/evidence/{GOAL}/")
    assert_all_in(
        html,
        [
            # the source, its licence, version, retrieval date and attribution
            "Synthetic v2 dataset",
            "Synthetic v2 publisher",
            "Synthetic v2 licence 1.0",
            "https://synthetic-v2-data.example.com/licence",
            "Synthetic v2 commit 0000000",
            "2026-03-01",
            "Synthetic v2 dataset by the Synthetic v2 publisher.",
            # the study: title and design not reported, its record and contributor, unreviewed
            "Title not reported",
            "Design not reported",
            "record synthetic-v2-paper-1",
            "contributed by Synthetic v2 contributor",
            "Not yet reviewed by our editors",
            # the finding with figures
            "(biomarker: indirect evidence)",
            "MD −12.5 mg/dL (95% CI −20.0 to −5.0)",
            "exact or bound not reported",
            "direction “Synthetic-v2-positive”",
            "graded “Synthetic v2 moderate” (Synthetic v2 grade scale)",
            "Dose studied: 0.1–0.3 g per kg of body weight, Synthetic v2 with meals",
            "record synthetic-v2-claim-1a, contributed by Synthetic v2 finding contributor",
            "Synthetic v2 words, verbatim.",
            "Synthetic v2 review note",
            # the finding without figures
            "Synthetic v2 endurance",
            "The source states: harm",
        ],
        "evidence page",
    )


def test_the_vendor_index_and_page_show_the_offers(client, imported):
    assert_all_in(page(client, "/vendors/"), ["Synthetic v2 vendor"], "vendor index")
    assert_all_in(
        page(client, f"/vendors/{VENDOR}/"),
        [
            "Synthetic v2 yen pen",
            "4,500.00 JPY",
            "Pen",
            f'href="{SITE}/coa/yen-pen.pdf"',
            "The vendor says: “Synthetic v2 purest pen on the market”",
            "Synthetic v2 kit on request",
            "Price on request",
            "Kit",
        ],
        "vendor page",
    )


def test_the_methodology_and_changes_pages_render(client, imported):
    assert_all_in(page(client, "/methodology/"), ["no exchange rates"], "methodology")
    assert_all_in(
        page(client, "/changes/"),
        ["Synthetic v2 niacin", "Synthetic v2 nicotinamide"],
        "changes",
    )


def test_the_compound_api_carries_every_new_field(client, imported):
    body = client.get(f"/api/compounds/{A}/").json()
    [dosing] = body["dosing"]
    assert (dosing["amount"], dosing["amount_max"], dosing["per_kg"]) == ("0.1000", "0.3000", True)
    assert dosing["timing"] == "Synthetic v2 bedtime"
    assert body["aliases"] == ["Synthetic v2 shared alias"]
    [regulatory] = body["regulatory_statuses"]
    assert (regulatory["status"], regulatory["verified_on"]) == ("warning_list", "2026-01-15")
    assert regulatory["source_name"] == "Synthetic v2 regulator notice"
    [anti_doping] = body["anti_doping_statuses"]
    assert (anti_doping["list_class"], anti_doping["status"]) == (
        "S0 Synthetic v2 class",
        "prohibited",
    )
    findings = {f["outcome"]: f for f in body["findings"]}
    ldl = findings["Synthetic v2 LDL cholesterol"]
    assert (ldl["outcome_kind"], ldl["value_unit"], ldl["p_value_is_bound"]) == (
        "surrogate",
        "mg/dL",
        None,
    )
    assert (ldl["source_grade"], ldl["source_grade_scale"], ldl["source_direction"]) == (
        "Synthetic v2 moderate",
        "Synthetic v2 grade scale",
        "Synthetic-v2-positive",
    )
    assert (ldl["dose_unit"], ldl["dose_per_kg"], ldl["dose_timing"]) == (
        "g",
        True,
        "Synthetic v2 with meals",
    )
    assert (ldl["quote"], ldl["reviewed"], ldl["review_note"]) == (
        "Synthetic v2 words, verbatim.",
        False,
        "Synthetic v2 review note",
    )
    assert (ldl["source_record_id"], ldl["contributor"]) == (
        "synthetic-v2-claim-1a",
        "Synthetic v2 finding contributor",
    )
    study = ldl["study"]
    assert (study["title"], study["design"], study["reviewed"]) == ("", "not_reported", False)
    assert study["source"]["name"] == "Synthetic v2 dataset"
    assert (study["source_record_id"], study["contributor"]) == (
        "synthetic-v2-paper-1",
        "Synthetic v2 contributor",
    )
    assert findings["Synthetic v2 endurance"]["direction"] == "harm"
    offers = {o["product_name"]: o for o in body["offers"]}
    pen = offers["Synthetic v2 yen pen"]
    assert (pen["currency"], pen["form"], pen["price_availability"]) == ("JPY", "pen", "public")
    assert pen["certificate_of_analysis_url"] == f"{SITE}/coa/yen-pen.pdf"
    assert pen["vendor_claim"] == "Synthetic v2 purest pen on the market"
    kit = offers["Synthetic v2 kit on request"]
    assert (kit["price"], kit["price_per_mg"], kit["price_availability"], kit["form"]) == (
        None,
        None,
        "on_request",
        "kit",
    )
    text = api(client, f"/api/compounds/{A}/")
    assert_all_in(
        text,
        ["Synthetic v2 licence 1.0", "Synthetic v2 dataset by the Synthetic v2 publisher."],
        "compound API",
    )


def test_the_evidence_ranking_and_stack_apis_answer_with_it(client, imported):
    assert_all_in(
        api(client, f"/api/compounds/{A}/evidence/{GOAL}/"),
        ["mg/dL", "surrogate"],
        "evidence API",
    )
    assert_all_in(api(client, f"/api/goals/{GOAL}/ranking/"), [A], "ranking API")
    stack = client.get(f"/api/stack/?goals={GOAL}&currency=JPY").json()
    assert stack["currency"] == "JPY"
    assert [p["compound"]["slug"] for p in stack["picks"]] == [A]
    # A dose per kg has no cost estimate: the visitor's weight is unknown.
    assert stack["cost_unknown_for"] == [A]


def test_the_document_round_trips(imported):
    first = dumps(export_document())
    import_document(json.loads(first))
    assert dumps(export_document()) == first
