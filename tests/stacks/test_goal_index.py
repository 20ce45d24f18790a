"""/goals/: every goal under its category, each linking to its page."""

import re

import pytest
from django.core.management import call_command

from evidence.models import Goal
from tests.factories import make_goal
from tests.factories.pages import full_page

pytestmark = pytest.mark.django_db


def headings(html: str) -> list[str]:
    return re.findall(r'<h2 id="category-\d+">([^<]+)</h2>', html)


def goals_under(html: str, category: str) -> list[str]:
    start = html.index(f">{category}</h2>")
    end = html.find("</section>", start)
    return re.findall(r'<h3><a href="/goals/[^"]+/">([^<]+)</a></h3>', html[start:end])


def test_the_demo_goals_are_listed_by_category_with_links_to_their_pages(client):
    call_command("load_demo", "--deep-dive-only", verbosity=0)

    response = client.get("/goals/")

    assert response.status_code == 200
    html = full_page(response)
    assert headings(html) == ["Immunity", "Organ health"]
    assert goals_under(html, "Organ health") == ["Liver health"]
    assert '<h3><a href="/goals/liver-health/">Liver health</a></h3>' in html
    assert client.get("/goals/liver-health/").status_code == 200


def test_categories_and_goals_are_in_alphabetical_order(client):
    make_goal("Synthetic zinc goal", category="Synthetic B")
    make_goal("Synthetic alpha goal", category="Synthetic B")
    make_goal("Synthetic middle goal", category="Synthetic A")

    html = full_page(client.get("/goals/"))

    assert headings(html) == ["Synthetic A", "Synthetic B"]
    assert goals_under(html, "Synthetic B") == ["Synthetic alpha goal", "Synthetic zinc goal"]


def test_a_goal_without_a_category_is_listed_last_under_uncategorised(client):
    make_goal("Synthetic filed goal", category="Synthetic category")
    loose = make_goal("Synthetic loose goal", category="Synthetic placeholder")
    Goal.objects.filter(pk=loose.pk).update(category="  ")  # e.g. written straight to the db

    html = full_page(client.get("/goals/"))

    assert headings(html) == ["Synthetic category", "Uncategorised"]
    assert goals_under(html, "Uncategorised") == ["Synthetic loose goal"]


def test_with_no_goals_the_page_says_so(client):
    html = full_page(client.get("/goals/"))
    assert "No goals have been published yet." in html


def test_the_index_reads_a_constant_number_of_queries(client, django_assert_max_num_queries):
    for i in range(12):
        make_goal(category=f"Synthetic category {i % 3}")
    # The content version (evidence.cache) and the goals.
    with django_assert_max_num_queries(2):
        assert client.get("/goals/").status_code == 200
