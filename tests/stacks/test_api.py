"""The read-only JSON API: shapes, errors that name the parameter, and the OpenAPI document."""

import json
from datetime import date
from decimal import Decimal

import pytest
from openapi_spec_validator import validate
from pydantic import ValidationError

from evidence.models import Condition, Finding, Study, Tier
from stacks.api import GoalOut, WarningOut, _dump
from tests.factories import (
    make_anti_doping_status,
    make_compound,
    make_contraindication,
    make_dosing,
    make_finding,
    make_goal,
    make_rated_compound,
    make_rating,
    make_regulatory_status,
    make_study,
)

pytestmark = pytest.mark.django_db


def test_goals_lists_slug_name_and_category(client):
    goal = make_goal(name="Synthetic sleep", category="Synthetic rest")
    response = client.get("/api/goals/")
    assert response.status_code == 200
    assert {"slug": goal.slug, "name": "Synthetic sleep", "category": "Synthetic rest"} in (
        response.json()["results"]
    )


def test_ranking_returns_scores_tiers_and_components(client):
    goal = make_goal()
    strong, weak = make_rated_compound(goal, 2), make_rated_compound(goal, 4)
    body = client.get(f"/api/goals/{goal.slug}/ranking/").json()
    assert [e["slug"] for e in body["ranked"]] == [strong.slug, weak.slug]
    top = body["ranked"][0]
    assert top["tier"] == 2
    assert top["components"][0]["kind"] == "tier"
    assert set(top) >= {"slug", "name", "score", "tier", "components"}


def test_a_compound_outside_the_ranking_answers_score_null_not_zero(client):
    goal = make_goal()
    studied = make_compound()
    make_finding(
        studied, goal, measure=Finding.Measure.QUALITATIVE, direction=Finding.Direction.UNCLEAR
    )
    body = client.get(f"/api/goals/{goal.slug}/ranking/").json()
    assert body["ranked"] == []
    [entry] = body["insufficient"]
    assert (entry["slug"], entry["score"], entry["tier"]) == (studied.slug, None, None)


def test_a_compound_no_editor_has_tiered_answers_its_computed_place_and_certainty(client):
    goal = make_goal()
    studied = make_compound()
    make_finding(studied, goal, study=make_study(design=Study.Design.NOT_REPORTED, n=None))
    body = client.get(f"/api/goals/{goal.slug}/ranking/").json()
    [entry] = body["ranked"]
    assert (entry["slug"], entry["computed"], entry["tier"]) == (studied.slug, True, None)
    assert entry["score"] > 0
    certainty = entry["certainty"]
    assert certainty["label"] == "Very low"
    domains = [step["domain"] for step in certainty["steps"]]
    assert domains == ["start", "risk_of_bias", "imprecision"]
    assert "design not reported" in certainty["steps"][1]["reason"]


def test_ranking_reports_exclusions_with_reasons(client):
    goal = make_goal()
    compound = make_rated_compound(goal)
    make_contraindication(compound, Condition.PREGNANCY)
    body = client.get(f"/api/goals/{goal.slug}/ranking/?condition=pregnancy").json()
    assert body["ranked"] == []
    assert body["excluded"] == [
        {
            "slug": compound.slug,
            "name": compound.name,
            "tier": 3,
            "reasons": ["Contraindicated: Pregnancy"],
        }
    ]


def test_unknown_goal_is_404_with_a_message(client):
    response = client.get("/api/goals/no-such-goal/ranking/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Unknown goal: no-such-goal"}


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("min_tier=abc", "min_tier"),
        ("min_tier=0", "min_tier"),
        ("condition=flu", "condition"),
        ("budget=-5", "budget"),
        ("budget=1e400", "budget"),
        ("in_stock=maybe", "in_stock"),
        ("currency=XYZ", "currency"),
        ("exclude_kind=rock", "exclude_kind"),
    ],
)
def test_malformed_ranking_parameters_are_422_naming_the_parameter(client, query, param):
    goal = make_goal()
    response = client.get(f"/api/goals/{goal.slug}/ranking/?{query}")
    assert response.status_code == 422
    assert param in [e["param"] for e in response.json()["errors"]]


def test_stack_picks_compounds_for_several_goals(client):
    liver, immune = make_goal(), make_goal()
    for_liver, for_immune = make_rated_compound(liver), make_rated_compound(immune)
    response = client.get(f"/api/stack/?goals={liver.slug}&goals={immune.slug}")
    assert response.status_code == 200
    body = response.json()
    assert {p["compound"]["slug"] for p in body["picks"]} == {for_liver.slug, for_immune.slug}
    assert body["uncovered_goals"] == []
    assert body["warnings"] == []


def test_stack_honours_priorities_and_size(client):
    liver, immune = make_goal(), make_goal()
    make_rated_compound(liver), make_rated_compound(liver)
    for_immune = make_rated_compound(immune)
    url = f"/api/stack/?goals={liver.slug}&goals={immune.slug}&priority={immune.slug}:3&size=1"
    body = client.get(url).json()
    assert [p["compound"]["slug"] for p in body["picks"]] == [for_immune.slug]


@pytest.mark.parametrize(
    ("query", "status", "param"),
    [
        ("", 422, "goals"),
        ("goals=a&size=0", 422, "size"),
        ("goals=a&size=11", 422, "size"),
        ("goals=a&priority=nonsense", 422, "priority"),
        ("goals=" + "&goals=".join(str(i) for i in range(11)), 422, "goals"),
    ],
)
def test_malformed_stack_parameters_are_422(client, query, status, param):
    response = client.get(f"/api/stack/?{query}")
    assert response.status_code == status
    assert param in [e["param"] for e in response.json()["errors"]]


def test_stack_with_unknown_goal_is_404_naming_it(client):
    goal = make_goal()
    response = client.get(f"/api/stack/?goals={goal.slug}&goals=synthetic-missing")
    assert response.status_code == 404
    assert "synthetic-missing" in response.json()["detail"]


def test_priority_for_a_goal_not_chosen_is_422(client):
    goal = make_goal()
    response = client.get(f"/api/stack/?goals={goal.slug}&priority=other-goal:2")
    assert response.status_code == 422
    assert response.json()["detail"].startswith("priority:")


def test_compound_has_ratings_and_findings_with_derived_significance(client):
    goal = make_goal()
    compound = make_compound(aliases=["Synthetic alias"])
    make_rating(compound, goal, 3)
    make_finding(
        compound,
        goal,
        outcome="Synthetic complete response",
        value=Decimal("0.54"),
        ci_low=Decimal("0.30"),
        ci_high=Decimal("0.97"),
    )
    make_finding(
        compound,
        goal,
        outcome="Synthetic virologic response",
        value=Decimal("0.62"),
        ci_low=Decimal("0.35"),
        ci_high=Decimal("1.10"),
    )
    body = client.get(f"/api/compounds/{compound.slug}/").json()
    assert body["aliases"] == ["Synthetic alias"]
    assert body["ratings"][0]["tier"] == 3
    significance = {f["outcome"]: f["significant"] for f in body["findings"]}
    assert significance == {
        "Synthetic complete response": True,
        "Synthetic virologic response": False,
    }


def test_compound_carries_its_dosing_ranges_and_sourced_dated_statuses(client):
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
    make_regulatory_status(
        compound,
        jurisdiction="Synthetic jurisdiction",
        regulator="Synthetic regulator",
        status="warning_list",
        source_name="Synthetic notice",
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

    body = client.get(f"/api/compounds/{compound.slug}/").json()

    [dosing] = body["dosing"]
    assert {k: dosing[k] for k in ("amount", "amount_max", "unit", "per_kg")} == {
        "amount": "1.0000",
        "amount_max": "3.0000",
        "unit": "g",
        "per_kg": True,
    }
    assert (dosing["frequency"], dosing["route"]) == ("", "not_reported")
    assert dosing["timing"] == "Synthetic timing: at bedtime"
    assert body["regulatory_statuses"] == [
        {
            "jurisdiction": "Synthetic jurisdiction",
            "regulator": "Synthetic regulator",
            "status": "warning_list",
            "status_detail": "",
            "source_name": "Synthetic notice",
            "source_url": "https://regulator.example.org/synthetic-notice",
            "verified_on": "2026-01-15",
        }
    ]
    assert body["anti_doping_statuses"] == [
        {
            "list_name": "Synthetic prohibited list",
            "list_class": "Synthetic class S0",
            "status": "prohibited",
            "source_url": "https://anti-doping.example.org/synthetic-list",
            "verified_on": "2026-02-01",
        }
    ]


def test_unpublished_or_unknown_compound_is_404(client):
    hidden = make_compound(published=False)
    assert client.get(f"/api/compounds/{hidden.slug}/").status_code == 404
    assert client.get("/api/compounds/nope/").status_code == 404


def test_openapi_document_validates(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    validate(document)
    assert {
        "/api/goals/",
        "/api/goals/{slug}/ranking/",
        "/api/stack/",
        "/api/compounds/{slug}/",
    } <= (document["paths"].keys())


def test_ranking_is_cut_at_the_limit_with_full_totals(client):
    goal = make_goal()
    for _ in range(4):
        make_rated_compound(goal)
    body = client.get(f"/api/goals/{goal.slug}/ranking/?limit=3").json()
    assert len(body["ranked"]) == 3
    assert body["totals"]["ranked"] == 4
    assert body["limit"] == 3
    assert client.get(f"/api/goals/{goal.slug}/ranking/?limit=0").status_code == 422


def test_a_cached_ranking_is_retired_by_an_edit(client, django_assert_max_num_queries):
    goal = make_goal()
    compound = make_rated_compound(goal, 3)
    url = f"/api/goals/{goal.slug}/ranking/"
    assert client.get(url).json()["ranked"][0]["tier"] == 3
    with django_assert_max_num_queries(1):  # the content version
        assert client.get(url).json()["ranked"][0]["tier"] == 3
    rating = compound.ratings.get()
    rating.tier = Tier.objects.get(number=1)
    rating.save()
    assert client.get(url).json()["ranked"][0]["tier"] == 1


def test_the_api_docs_page_has_a_language_a_phone_viewport_and_a_link_back(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<a href="/">← Back to Evidence Stack Builder</a>' in html
    assert '<main id="swagger-ui"></main>' in html


# Every answer is validated against its schema before it is cached (stacks.api._dump).


def test_an_answer_is_serialised_as_its_schema_says():
    goal = {"slug": "synthetic-goal", "name": "Synthetic goal", "category": ""}
    assert json.loads(_dump(GoalOut, goal)) == goal


def test_an_answer_that_breaks_its_schema_is_refused_before_it_is_cached():
    with pytest.raises(ValidationError):
        _dump(GoalOut, {"slug": "synthetic-goal", "name": "Synthetic goal"})
    with pytest.raises(ValidationError):
        _dump(WarningOut, {"kind": "interaction", "severity": "major", "message": "Synthetic"})
