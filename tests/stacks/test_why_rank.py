"""Why this rank (/goals/<goal>/why/<compound>/): a compound's score components and certainty
steps for one goal, a page of its own and the fragment the rankings fetch when opened."""

import pytest

from evidence.models import Finding, Study
from tests.factories import (
    make_compound,
    make_finding,
    make_goal,
    make_rated_compound,
    make_study,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def test_the_page_lists_the_score_components_and_the_certainty_steps(client):
    goal = make_goal("Synthetic computed goal")
    compound = make_compound("Synthetic computed compound")
    make_finding(
        compound,
        goal,
        study=make_study(design=Study.Design.NOT_REPORTED, n=None),
        outcome="Synthetic biomarker",
        outcome_kind=Finding.OutcomeKind.SURROGATE,
    )
    response = client.get(f"/goals/{goal.slug}/why/{compound.slug}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Why Synthetic computed compound ranks where it does</h1>" in html
    assert 'aria-label="Certainty of benefit for Synthetic computed compound: Very low"' in html
    assert "Starts Low: the design is not reported" in html
    assert "<strong>Certainty of benefit: Very low</strong>" in html
    assert f'href="/compounds/{compound.slug}/evidence/{goal.slug}/"' in html
    assert "Educational purposes only, not medical advice" in html


def test_an_editors_tier_anchors_the_components(client):
    goal = make_goal()
    compound = make_rated_compound(goal, tier_number=2, name="Synthetic Rated")
    html = client.get(f"/goals/{goal.slug}/why/{compound.slug}/").content.decode()
    assert '<tr class="component component--tier">' in html
    assert "Editorial rating: Tier 2" in html


def test_htmx_gets_only_the_breakdown(client):
    goal = make_goal()
    compound = make_rated_compound(goal)
    response = client.get(f"/goals/{goal.slug}/why/{compound.slug}/", headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and html.lstrip().startswith('<table class="components">')


@pytest.mark.parametrize("which", ["goal", "compound", "unrelated", "unpublished"])
def test_a_compound_without_a_place_for_the_goal_is_404(client, which):
    goal = make_goal()
    compound = make_rated_compound(goal)
    hidden = make_rated_compound(goal, published=False)
    url = {
        "goal": f"/goals/no-such-goal/why/{compound.slug}/",
        "compound": f"/goals/{goal.slug}/why/no-such-compound/",
        "unrelated": f"/goals/{make_goal().slug}/why/{compound.slug}/",
        "unpublished": f"/goals/{goal.slug}/why/{hidden.slug}/",
    }[which]
    assert client.get(url).status_code == 404
