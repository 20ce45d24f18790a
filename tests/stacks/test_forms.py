"""The visitor's forms (stacks.forms): what names a constraint widget as pages share it."""

import pytest
from django.http import QueryDict
from hypothesis import given, settings
from hypothesis import strategies as st

from stacks.forms import ConstraintsForm

pytestmark = pytest.mark.django_db

VALUES = {
    "condition": st.lists(st.sampled_from(["pregnancy", "breastfeeding"]), unique=True),
    "no_injections": st.lists(st.just("on"), max_size=1),
    "budget": st.lists(st.sampled_from(["10", "50", "50.0"]), max_size=1),
    "currency": st.lists(st.sampled_from(["EUR", "USD"]), max_size=1),
    "limit": st.lists(st.sampled_from(["10", "20"]), max_size=1),
}


def form_for(values: dict[str, list[str]]) -> ConstraintsForm:
    query = QueryDict(mutable=True)
    for name, sent in values.items():
        query.setlist(name, sent)
    return ConstraintsForm(query)


@settings(deadline=None)
@given(st.fixed_dictionaries(VALUES), st.fixed_dictionaries(VALUES))
def test_a_widgets_key_names_its_own_values_and_no_others(first, second):
    keys = form_for(first).widget_keys, form_for(second).widget_keys
    for name in VALUES:
        assert (keys[0][name] == keys[1][name]) == (first[name] == second[name])


def test_a_form_with_errors_shares_no_widget():
    keys = form_for({"budget": ["-5"], "condition": ["pregnancy"]}).widget_keys
    assert set(keys.values()) == {""}


def test_an_unbound_form_shares_its_widgets_apart_from_a_sent_empty_query():
    unbound, sent_empty = ConstraintsForm().widget_keys, form_for({}).widget_keys
    assert unbound["currency"] == "currency:unbound"
    assert sent_empty["currency"] == "currency?"
