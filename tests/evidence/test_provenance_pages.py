"""Where every study's numbers came from, on the evidence page and in the compound API: a
citation link, or "as reported in" an article, or a source with its licence, record,
contributor, quotes and the attribution its licence asks for."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from evidence.interchange import import_document, loads
from evidence.models import Article, Finding, Study
from tests.factories import (
    make_compound,
    make_finding,
    make_goal,
    make_rating,
    make_source,
    make_study,
)
from tests.factories.pages import full_page

pytestmark = pytest.mark.django_db

DEMO_FILE = Path(settings.BASE_DIR) / "demo" / "thymosin-alpha-1.json"
DEEP_DIVE = "Thymosin Alpha-1 for Liver Health: What the Research Says"


@pytest.fixture
def demo():
    import_document(loads(DEMO_FILE.read_text(encoding="utf-8")))


@pytest.fixture
def sourced():
    """A study taken from a dataset whose licence asks for attribution, not yet reviewed."""
    compound, goal = make_compound(), make_goal()
    make_rating(compound, goal)
    source = make_source(
        "Synthetic open dataset",
        licence="Synthetic licence 4.0",
        licence_url="https://example.com/licences/synthetic-4.0",
        url="https://example.com/synthetic-dataset",
        attribution="Synthetic open dataset, by the synthetic contributors.",
    )
    study = make_study(
        Study.Design.NOT_REPORTED,
        n=None,
        title="",
        source=source,
        source_record_id="synthetic-paper-12",
        contributor="Synthetic contributor",
        reviewed=False,
    )
    make_finding(
        compound,
        goal,
        study,
        outcome="Synthetic endurance",
        measure=Finding.Measure.QUALITATIVE,
        direction=Finding.Direction.HARM,
        source_record_id="synthetic-claim-12a",
        contributor="Another synthetic contributor",
        quote="Synthetic endurance fell, in the source's own words.",
    )
    return compound, goal


def evidence_page(client, compound_slug: str, goal_slug: str) -> str:
    response = client.get(reverse("evidence_detail", args=[compound_slug, goal_slug]))
    assert response.status_code == 200
    return full_page(response)


def test_every_demo_study_says_it_is_reported_in_the_deep_dive(client, demo):
    article_url = Article.objects.get().get_absolute_url()
    for goal in ("liver-health", "immune-function"):
        html = evidence_page(client, "thymosin-alpha-1", goal)
        groups = html.count('class="study-group"')
        assert groups >= 1
        link = f'As reported in <a href="{article_url}">{DEEP_DIVE}</a>'
        assert html.count(link) == groups, goal
        assert "citation not given" not in html
        assert "Not yet reviewed" not in html


def test_a_study_reported_in_an_unpublished_article_names_it_without_a_link(client):
    compound, goal = make_compound(), make_goal()
    article = Article.objects.create(
        compound=compound, slug="synthetic-draft", title="Synthetic draft", body="B"
    )
    make_finding(compound, goal, make_study(reported_in=article))

    html = evidence_page(client, compound.slug, goal.slug)

    assert "As reported in “Synthetic draft”" in html
    assert "As reported in <a" not in html


def test_a_sourced_study_shows_source_licence_record_contributor_quote_and_attribution(
    client, sourced
):
    compound, goal = sourced

    html = evidence_page(client, compound.slug, goal.slug)

    assert "Title not reported" in html
    assert '<a href="https://example.com/synthetic-dataset" rel="noopener">' in html
    assert (
        'From <a href="https://example.com/synthetic-dataset" rel="noopener">Synthetic open '
        'dataset</a> (<a href="https://example.com/licences/synthetic-4.0" rel="license '
        'noopener">Synthetic licence 4.0</a>), record synthetic-paper-12, contributed by '
        "Synthetic contributor"
    ) in html
    assert "Synthetic endurance fell, in the source&#x27;s own words." in html
    assert "record synthetic-claim-12a, contributed by Another synthetic contributor" in html
    assert 'Source: <a href="https://example.com/synthetic-dataset"' in html
    assert "Not yet reviewed by our editors" in html
    attributions = re.search(r'id="attributions".*?</section>', html, re.S).group()
    assert "Synthetic open dataset, by the synthetic contributors." in attributions
    assert "Synthetic licence 4.0" in attributions


def test_a_source_whose_licence_asks_no_attribution_has_no_attribution_block(client, sourced):
    compound, goal = sourced
    source = Study.objects.get(source__isnull=False).source
    source.attribution_required = False
    source.save()

    html = evidence_page(client, compound.slug, goal.slug)

    assert 'id="attributions"' not in html
    assert "Synthetic licence 4.0" in html  # the licence is still named beside the study


def test_reviewing_a_study_takes_the_notice_away(client, sourced):
    compound, goal = sourced
    Study.objects.filter(source__isnull=False).update(reviewed=True)

    assert "Not yet reviewed" not in evidence_page(client, compound.slug, goal.slug)


def test_the_compound_api_carries_source_licence_record_contributor_quote_and_review(
    client, sourced
):
    compound, _ = sourced

    body = client.get(f"/api/compounds/{compound.slug}/").json()

    [finding] = body["findings"]
    study = finding["study"]
    assert study["title"] == ""
    assert study["source"] == {
        "slug": study["source"]["slug"],
        "name": "Synthetic open dataset",
        "publisher": "Synthetic publisher",
        "url": "https://example.com/synthetic-dataset",
        "licence": "Synthetic licence 4.0",
        "licence_url": "https://example.com/licences/synthetic-4.0",
        "version": "",
        "retrieved": "2026-01-15",
        "attribution": "Synthetic open dataset, by the synthetic contributors.",
        "attribution_required": True,
    }
    assert (study["source_record_id"], study["contributor"]) == (
        "synthetic-paper-12",
        "Synthetic contributor",
    )
    assert study["reported_in"] is None
    assert study["reviewed"] is False
    assert finding["quote"] == "Synthetic endurance fell, in the source's own words."
    assert finding["source_record_id"] == "synthetic-claim-12a"
    assert finding["contributor"] == "Another synthetic contributor"


def test_the_compound_api_says_the_demo_studies_are_reported_in_the_deep_dive(client, demo):
    article = Article.objects.get()

    body = client.get("/api/compounds/thymosin-alpha-1/").json()

    assert body["findings"]
    for finding in body["findings"]:
        assert finding["study"]["reported_in"] == {
            "slug": article.slug,
            "title": DEEP_DIVE,
            "url": article.get_absolute_url(),
        }
        assert finding["study"]["source"] is None
        assert finding["study"]["reviewed"] is True
