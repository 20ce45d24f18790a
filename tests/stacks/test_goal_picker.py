"""The builder's goal picker (stacks.goal_picker): what it lists, bounded by the site's size."""

import pytest
from django.http import QueryDict
from django.utils.text import slugify
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.models import Goal
from evidence.search import index_key
from stacks.goal_picker import (
    MOST_RESEARCHED,
    SEARCH_MATCHES,
    UNCATEGORISED,
    build_goal_picker,
    category_anchors,
    find_goals,
    goal_categories,
    goals_in_category,
    most_researched_goals,
)
from tests.factories import make_goal, make_rated_compound

pytestmark = pytest.mark.django_db


def test_most_researched_goals_come_by_ranked_compounds_then_name():
    few = make_goal("Synthetic few")
    many = make_goal("Synthetic many")
    tied = make_goal("Synthetic also few")
    make_goal("Synthetic none")  # no ranked compound: never "most researched"
    for _ in range(3):
        make_rated_compound(many)
    make_rated_compound(few)
    make_rated_compound(tied)
    assert [g.name for g in most_researched_goals()] == [
        "Synthetic many",
        "Synthetic also few",
        "Synthetic few",
    ]


def test_most_researched_leaves_out_the_chosen_and_stops_at_its_size():
    goals = [make_goal() for _ in range(MOST_RESEARCHED + 3)]
    for goal in goals:
        make_rated_compound(goal)
    listed = most_researched_goals(leaving_out={goals[0].slug})
    assert len(listed) == MOST_RESEARCHED
    assert goals[0] not in listed


def test_categories_are_counted_a_to_z_with_the_uncategorised_last():
    make_goal(category="Synthetic sleep")
    make_goal(category="  Synthetic sleep ")  # the same heading, spaced differently
    make_goal(category="synthetic Bones")
    make_goal(category="")
    categories = goal_categories(QueryDict("goals=synthetic-a"))
    assert [(c.name, c.goal_count) for c in categories] == [
        ("synthetic Bones", 1),
        ("Synthetic sleep", 2),
        (UNCATEGORISED, 1),
    ]
    sleep = categories[1]
    assert sleep.anchor == "goal-category-synthetic-sleep"
    # The page's own choices are kept in the link that opens the category.
    assert QueryDict(sleep.open_query).dict() == {
        "goals": "synthetic-a",
        "goal_category": "Synthetic sleep",
    }


def test_categories_whose_names_differ_only_in_case_or_punctuation_get_ids_of_their_own():
    make_goal(category="synthetic sleep")
    make_goal(category="Synthetic Sleep")
    make_goal(category="Synthetic & sleep")
    make_goal(category="Синтетический сон")
    make_goal(category="!!!")

    anchors = {c.name: c.anchor for c in goal_categories()}

    assert anchors == {
        "!!!": "goal-category-unnamed",
        "Synthetic & sleep": "goal-category-synthetic-sleep",
        "Synthetic Sleep": "goal-category-synthetic-sleep-2",
        "synthetic sleep": "goal-category-synthetic-sleep-3",
        "Синтетический сон": "goal-category-синтетический-сон",
    }
    assert anchors == {c.name: c.anchor for c in goal_categories()}  # the same on every page


@given(names=st.lists(st.text(max_size=20), unique=True, max_size=30))
def test_category_anchors_are_unique_and_never_hold_a_space(names):
    anchors = category_anchors(names)
    assert len(anchors) == len(set(anchors)) == len(names)
    assert not any(char.isspace() for anchor in anchors for char in anchor)
    assert not any("--" in anchor for anchor in anchors)  # goal_index.html adds "--heading"


def test_a_category_lists_its_goals_a_to_z_leaving_out_the_chosen():
    b = make_goal("Synthetic b", category="Synthetic joints")
    a = make_goal("Synthetic A", category="Synthetic joints")
    chosen = make_goal("Synthetic c", category="Synthetic joints")
    make_goal("Synthetic elsewhere", category="Synthetic other")
    blank = make_goal("Synthetic blank", category=" ")
    assert goals_in_category("Synthetic joints", leaving_out={chosen.slug}) == (a, b)
    assert goals_in_category(UNCATEGORISED) == (blank,)


def test_a_search_finds_goals_forgivingly_and_says_how_many_more():
    make_goal("Synthetic sleep quality")
    make_goal("Synthetic liver health")
    assert [g.name for g in find_goals("sleep synthetic").goals] == ["Synthetic sleep quality"]
    corrected = find_goals("synthetic slep")
    assert corrected.corrected == "synthetic sleep"
    assert [g.name for g in corrected.goals] == ["Synthetic sleep quality"]
    names = [f"Synthetic search goal {i:02d}" for i in range(SEARCH_MATCHES + 5)]
    Goal.objects.bulk_create(
        Goal(name=name, slug=slugify(name), search_key=index_key(name)) for name in names
    )
    many = find_goals("synthetic search goal")
    assert len(many.goals) == SEARCH_MATCHES and many.more == 5


def test_the_picker_lists_the_chosen_first_and_nowhere_else():
    sleep = make_goal("Synthetic sleep", category="Synthetic rest")
    calm = make_goal("Synthetic calm", category="Synthetic rest")
    make_rated_compound(sleep)
    make_rated_compound(calm)
    picker = build_goal_picker([sleep], search="synthetic", category="Synthetic rest")
    assert picker.chosen == (sleep,)
    assert picker.most_researched == (calm,)
    assert picker.matches.goals == (calm,)
    assert picker.category_goals == (calm,)


def test_the_picker_reads_a_fixed_number_of_queries_however_many_goals(
    django_assert_num_queries,
):
    Goal.objects.bulk_create(
        Goal(name=f"Synthetic goal {i:04d}", slug=f"synthetic-goal-{i}", category=f"C{i % 40}")
        for i in range(1000)
    )
    # Most researched and categories, each after the content version (outside a cached view
    # nothing has read it yet); then both come from the cache until the content changes.
    with django_assert_num_queries(4):
        picker = build_goal_picker([])
        assert len(picker.categories) == 40
    with django_assert_num_queries(2):
        assert len(build_goal_picker([]).categories) == 40
    assert sum(c.goal_count for c in picker.categories) == 1000


def test_the_categories_are_read_only_when_drawn_and_shared_only_all_closed(
    django_assert_num_queries,
):
    make_goal(category="Synthetic joints")
    with django_assert_num_queries(2):  # the content version, the most researched
        picker = build_goal_picker([])
    assert picker.categories_key == "all-closed"
    assert build_goal_picker([], category="Synthetic joints").categories_key == ""


@settings(max_examples=40, deadline=None)
@given(text=st.text(max_size=100))
def test_any_search_text_lists_goals_or_none_without_failing(text):
    matches = find_goals(text)
    assert len(matches.goals) <= SEARCH_MATCHES and matches.more >= 0
