"""/goals/: the goals by category, each linking to its page; every goal open while they are
few, and above GOAL_INDEX_ALL_OPEN a bounded page (a search, the most researched, the
categories closed, a category's goals fetched when opened)."""

import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evidence.models import Goal
from stacks.goal_picker import MOST_RESEARCHED, SEARCH_MATCHES
from stacks.views import GOAL_INDEX_ALL_OPEN
from tests.factories import make_goal, make_rated_compound
from tests.factories.pages import full_page

pytestmark = pytest.mark.django_db

URL = "/goals/"
HTMX = {"HX-Request": "true"}
GOAL_LINK = re.compile(r'<a (?:class="chip" )?href="/goals/([^"/]+)/">')


def headings(html: str) -> list[str]:
    return re.findall(r'<h2 id="goal-category-[^"]+--heading">([^<]+)</h2>', html)


def goals_under(html: str, category: str) -> list[str]:
    start = html.index(f">{category}</h2>")
    end = html.find("</section>", start)
    return re.findall(r'<h3><a href="/goals/[^"]+/">([^<]+)</a></h3>', html[start:end])


def summaries(html: str) -> list[str]:
    return re.findall(r"<summary>([^<]+?) <span", html)


def goal_links(html: str) -> list[str]:
    return GOAL_LINK.findall(html)


def make_many_goals(count: int, categories: int, start: int = 0) -> list[Goal]:
    """`count` synthetic goals spread over `categories` synthetic categories, numbered from
    `start`."""
    return [
        make_goal(
            f"Synthetic goal {i:04}",
            slug=f"synthetic-goal-{i:04}",
            category=f"Synthetic category {i % categories:02}",
            description=f"Synthetic description {i:04}.",
        )
        for i in range(start, start + count)
    ]


# A few goals: every one, open under its category -------------------------------------------


def test_the_demo_goals_are_listed_by_category_with_links_to_their_pages(client):
    call_command("load_demo", "--deep-dive-only", verbosity=0)

    response = client.get(URL)

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

    html = full_page(client.get(URL))

    assert headings(html) == ["Synthetic A", "Synthetic B"]
    assert goals_under(html, "Synthetic B") == ["Synthetic alpha goal", "Synthetic zinc goal"]


def test_a_goal_without_a_category_is_listed_last_under_uncategorised(client):
    make_goal("Synthetic filed goal", category="Synthetic category")
    loose = make_goal("Synthetic loose goal", category="Synthetic placeholder")
    Goal.objects.filter(pk=loose.pk).update(category="  ")  # e.g. written straight to the db

    html = full_page(client.get(URL))

    assert headings(html) == ["Synthetic category", "Uncategorised"]
    assert goals_under(html, "Uncategorised") == ["Synthetic loose goal"]


def test_with_no_goals_the_page_says_so(client):
    html = full_page(client.get(URL))
    assert "No goals have been published yet." in html
    assert 'role="search"' not in html


def test_up_to_the_threshold_every_goal_is_listed_open_with_its_description(client):
    make_many_goals(GOAL_INDEX_ALL_OPEN, categories=6)

    html = full_page(client.get(URL))

    assert len(headings(html)) == 6
    assert len(goal_links(html)) == GOAL_INDEX_ALL_OPEN
    assert html.count("Synthetic description") == GOAL_INDEX_ALL_OPEN
    assert "<details" not in html


def test_a_few_goals_are_read_in_a_constant_number_of_queries(
    client, django_assert_max_num_queries
):
    for i in range(12):
        make_goal(category=f"Synthetic category {i % 3}")
    # The content version (evidence.cache), the categories' counts and the goals.
    with django_assert_max_num_queries(3):
        assert client.get(URL).status_code == 200


# Many goals: a bounded page ----------------------------------------------------------------


def test_above_the_threshold_the_categories_are_closed_with_their_counts(client):
    make_many_goals(GOAL_INDEX_ALL_OPEN + 1, categories=3)

    html = full_page(client.get(URL))

    assert summaries(html) == [
        "Synthetic category 00",
        "Synthetic category 01",
        "Synthetic category 02",
    ]
    assert '<span class="muted">(21)</span>' in html
    assert "<details" in html and "<details open" not in html and " open>" not in html
    assert "Synthetic description" not in html
    # Without JavaScript each category's link asks for the page with it open.
    assert (
        '<a href="?category=Synthetic+category+01#goal-category-synthetic-category-01">'
        "Show the 20 goals in Synthetic category 01</a>"
    ) in html
    # With it, opening the category fetches its goals from this same page.
    assert 'hx-get="/goals/?category=Synthetic%20category%2001"' in html


def test_the_most_researched_goals_are_listed_as_links(client):
    goals = make_many_goals(GOAL_INDEX_ALL_OPEN + 1, categories=3)
    for _ in range(2):
        make_rated_compound(goals[5])
    make_rated_compound(goals[7])

    html = full_page(client.get(URL))

    start = html.index('<h2 id="most-researched-heading">Most researched</h2>')
    end = html.index("</section>", start)
    assert goal_links(html[start:end]) == ["synthetic-goal-0005", "synthetic-goal-0007"]


def test_many_goals_cost_the_page_the_same_queries_and_a_bounded_number_of_links(client):
    """300 goals in 30 categories: the page lists no more goals, and reads no more, than with
    just over the threshold; most researched and a search at most MOST_RESEARCHED and
    SEARCH_MATCHES goals, and no category's goals until one is opened."""
    goals = make_many_goals(GOAL_INDEX_ALL_OPEN + 1, categories=30)
    for goal in goals[: MOST_RESEARCHED + 3]:
        make_rated_compound(goal)
    query = {"q": "synthetic goal"}

    def page() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, query)
        assert response.status_code == 200
        return len(queries), full_page(response)

    few_queries, few_html = page()
    make_many_goals(300 - len(goals), categories=30, start=len(goals))
    assert Goal.objects.count() == 300
    many_queries, many_html = page()

    assert many_queries == few_queries
    assert len(summaries(many_html)) == 30
    assert len(goal_links(many_html)) <= MOST_RESEARCHED + SEARCH_MATCHES
    assert len(many_html) < 2 * len(few_html)


def test_a_search_lists_the_matching_goals_as_links_to_their_pages(client):
    make_many_goals(GOAL_INDEX_ALL_OPEN + 1, categories=3)
    make_goal("Synthetic sleep quality", slug="synthetic-sleep-quality")

    response = client.get(URL, {"q": "sleep"})

    html = full_page(response)
    assert response.status_code == 200
    start = html.index('<div id="goal-matches"')
    end = html.index("</div>", start)
    assert goal_links(html[start:end]) == ["synthetic-sleep-quality"]
    assert 'value="sleep"' in html  # the search box keeps the text


def test_a_search_works_on_a_page_with_few_goals_too(client):
    make_goal("Synthetic sleep quality", slug="synthetic-sleep-quality")
    make_goal("Synthetic liver health")
    html = full_page(client.get(URL, {"q": "slep"}))
    assert "Showing goals for “sleep”." in html
    assert '<a class="chip" href="/goals/synthetic-sleep-quality/">' in html


def test_a_search_from_htmx_answers_with_the_matches_alone(client):
    make_goal("Synthetic sleep quality", slug="synthetic-sleep-quality")
    make_goal("Synthetic liver health")

    response = client.get(URL, {"q": "zzzz"}, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "No goal matches “zzzz”. Browse the categories below." in html

    html = client.get(URL, {"q": "sleep"}, headers=HTMX).content.decode()
    assert "<html" not in html
    assert goal_links(html) == ["synthetic-sleep-quality"]


def test_an_emptied_search_box_from_htmx_lists_nothing(client):
    make_goal()
    response = client.get(URL, {"q": ""}, headers=HTMX)
    assert response.status_code == 200
    assert response.content.decode().strip() == ""


def test_a_category_from_htmx_answers_with_its_goals_and_their_descriptions_alone(client):
    make_many_goals(GOAL_INDEX_ALL_OPEN + 1, categories=3)
    make_goal("Synthetic knees", slug="synthetic-knees", category="Synthetic joints")

    response = client.get(URL, {"category": "Synthetic joints"}, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.count("<h3>") == 1
    assert '<h3><a href="/goals/synthetic-knees/">Synthetic knees</a></h3>' in html


def test_a_category_fragment_reads_its_goals_in_one_query(client, django_assert_num_queries):
    make_many_goals(GOAL_INDEX_ALL_OPEN + 1, categories=3)
    # The content version, the category checked, and its goals with their descriptions.
    with django_assert_num_queries(3):
        html = client.get(URL, {"category": "Synthetic category 00"}, headers=HTMX).content.decode()
    assert html.count("Synthetic description") == 21


def test_without_javascript_a_category_is_opened_on_the_page_with_its_goals(client):
    make_many_goals(GOAL_INDEX_ALL_OPEN + 1, categories=3)

    response = client.get(URL, {"category": "Synthetic category 01"})

    html = full_page(response)
    assert response.status_code == 200
    assert '<details class="goal-category" id="goal-category-synthetic-category-01" open>' in html
    assert html.count(" open>") == 1
    assert html.count("<h3>") == 20  # that category's goals, with their descriptions
    assert "Synthetic description 0001." in html
    assert "Synthetic description 0000." not in html


def test_the_uncategorised_goals_can_be_opened_too(client):
    make_many_goals(GOAL_INDEX_ALL_OPEN + 1, categories=3)
    loose = make_goal("Synthetic loose goal", category="Synthetic placeholder")
    Goal.objects.filter(pk=loose.pk).update(category="")

    html = full_page(client.get(URL, {"category": "Uncategorised"}))

    assert summaries(html)[-1] == "Uncategorised"
    assert goal_links(html[html.index('id="goal-category-uncategorised"') :]) == [loose.slug]


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"category": "Synthetic nowhere"},
            "Goal category: There is no goal category named “Synthetic nowhere”.",
        ),
        ({"category": "x" * 81}, "Goal category: Ensure this value has at most 80 characters"),
        ({"q": "x" * 101}, "Find a goal: Ensure this value has at most 100 characters"),
    ],
)
def test_bad_input_is_answered_400_in_a_sentence(client, query, message, htmx):
    make_goal(category="Synthetic joints")
    response = client.get(URL, query, headers=HTMX if htmx else {})
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert ("<html" in html) is not htmx


def test_an_unknown_category_is_refused_on_a_page_without_goals_too(client):
    response = client.get(URL, {"category": "Synthetic nowhere"})
    assert response.status_code == 400
    assert "There is no goal category named “Synthetic nowhere”." in response.content.decode()


def test_the_page_and_its_fragments_are_cached_until_the_content_changes(
    client, django_assert_num_queries
):
    make_many_goals(GOAL_INDEX_ALL_OPEN + 1, categories=3)
    for headers in ({}, HTMX):
        client.get(URL, {"category": "Synthetic category 00"}, headers=headers)
        with django_assert_num_queries(1):  # the content version alone
            client.get(URL, {"category": "Synthetic category 00"}, headers=headers)
    make_goal("Synthetic hips", category="Synthetic category 00")
    html = client.get(URL, {"category": "Synthetic category 00"}, headers=HTMX).content.decode()
    assert "Synthetic hips" in html


def test_only_get_and_head_are_answered(client):
    assert client.post(URL).status_code == 405
