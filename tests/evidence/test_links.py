"""evidence.links.slug_url: the address reverse() gives, without matching the patterns each time."""

import pytest
from django.urls import NoReverseMatch, reverse, set_script_prefix
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.links import slug_url, slug_urls

slugs = st.from_regex(r"[-a-zA-Z0-9_]{1,40}", fullmatch=True)
SLUG_VIEWS = ("compound_detail", "goal_detail", "research_article", "vendor_detail")


@settings(deadline=None)  # the first call loads the URLconf
@given(st.sampled_from(SLUG_VIEWS), slugs)
def test_a_view_of_one_slug_gets_the_address_reverse_gives(name, slug):
    assert slug_url(name, slug) == reverse(name, args=[slug])


@settings(deadline=None)
@given(st.sampled_from(("evidence_detail", "why_rank")), slugs, slugs)
def test_a_view_of_two_slugs_gets_them_in_their_places(name, first, second):
    assert slug_url(name, first, second) == reverse(name, args=[first, second])


def test_a_view_without_arguments_gets_its_address():
    assert slug_url("methodology") == reverse("methodology")


@pytest.mark.parametrize("value", ["not a slug", "ångström", "a/b", ""])
def test_a_text_that_is_no_slug_is_left_to_reverse_and_its_errors(value):
    with pytest.raises(NoReverseMatch):
        slug_url("compound_detail", value)


@pytest.mark.parametrize("value", [7, None])
def test_a_value_that_is_no_text_is_left_to_reverse(value):
    assert slug_url("compound_detail", value) == reverse("compound_detail", args=[value])


def test_a_view_taking_a_number_is_left_to_reverse():
    assert slug_url("outbound", 12) == reverse("outbound", args=[12])
    with pytest.raises(NoReverseMatch):
        slug_url("outbound", "twelve")


def test_the_script_prefix_a_request_runs_under_is_kept():
    try:
        set_script_prefix("/mounted/")
        assert slug_url("compound_detail", "synthetic-x") == "/mounted/compounds/synthetic-x/"
    finally:
        set_script_prefix("/")
    assert slug_url("compound_detail", "synthetic-x") == "/compounds/synthetic-x/"


@settings(deadline=None)
@given(st.lists(slugs, min_size=1, max_size=5))
def test_one_address_function_gives_every_entry_of_a_list_its_own_address(values):
    address = slug_urls("compound_detail", 1)
    assert [address(value) for value in values] == [
        reverse("compound_detail", args=[value]) for value in values
    ]


def test_an_address_function_leaves_what_is_no_slug_to_reverse():
    address = slug_urls("compound_detail", 1)
    assert address(7) == reverse("compound_detail", args=[7])
    with pytest.raises(NoReverseMatch):
        address("not a slug")
