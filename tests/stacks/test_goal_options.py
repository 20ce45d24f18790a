"""The goal picker's fragment (/stack/goal-options/): a search's matches or a category's goals."""

import pytest

from tests.factories import make_goal

pytestmark = pytest.mark.django_db

URL = "/stack/goal-options/"


def test_a_search_lists_the_matching_goals_as_checkboxes_of_the_builder(client):
    make_goal("Synthetic sleep quality", slug="synthetic-sleep-quality")
    make_goal("Synthetic liver health")
    response = client.get(URL, {"goal_q": "sleep"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert (
        'name="goals" value="synthetic-sleep-quality" id="goal-found-synthetic-sleep-quality"'
        in html
    )
    assert "Synthetic liver health" not in html


def test_a_search_with_a_typo_says_what_it_searched_for(client):
    make_goal("Synthetic sleep quality")
    html = client.get(URL, {"goal_q": "synthetic slep"}).content.decode()
    assert "Showing goals for “synthetic sleep”." in html
    assert "Synthetic sleep quality" in html


def test_a_search_without_matches_says_so_and_points_to_the_categories(client):
    make_goal("Synthetic sleep quality")
    html = client.get(URL, {"goal_q": "zzzz"}).content.decode()
    assert "No goal matches “zzzz”. Browse the categories below." in html


def test_a_category_lists_its_goals(client):
    make_goal("Synthetic knees", slug="synthetic-knees", category="Synthetic joints")
    make_goal("Synthetic mood", category="Synthetic mind")
    html = client.get(URL, {"goal_category": "Synthetic joints"}).content.decode()
    assert 'id="goal-in-synthetic-knees"' in html
    assert "Synthetic mood" not in html


def test_an_emptied_search_box_lists_nothing(client):
    response = client.get(URL, {"goal_q": ""})
    assert response.status_code == 200 and response.content == b""


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"goal_category": "Synthetic nowhere"},
            "There is no goal category named “Synthetic nowhere”.",
        ),
        ({"goal_q": "x" * 101}, "Find a goal: Ensure this value has at most 100 characters"),
    ],
)
def test_bad_input_is_answered_400_in_a_sentence(client, query, message):
    make_goal(category="Synthetic joints")
    response = client.get(URL, query)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_fragment_is_cached_until_the_content_changes(client, django_assert_num_queries):
    make_goal("Synthetic knees", category="Synthetic joints")
    client.get(URL, {"goal_category": "Synthetic joints"})
    with django_assert_num_queries(1):  # the content version alone
        html = client.get(URL, {"goal_category": "Synthetic joints"}).content.decode()
    assert "Synthetic knees" in html
    make_goal("Synthetic hips", category="Synthetic joints")
    assert (
        "Synthetic hips" in client.get(URL, {"goal_category": "Synthetic joints"}).content.decode()
    )


def test_only_get_and_head_are_answered(client):
    assert client.post(URL, {"goal_q": "x"}).status_code == 405
