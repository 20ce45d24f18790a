"""On PostgreSQL, search narrows names with its trigram index (pg_trgm, evidence migration 0023).

Tiny test tables favour a sequential scan, so the plans are read with enable_seqscan off: the
point is that the index can serve these lookups, as it will on a large catalogue.
"""

import pytest
from django.db import connection

from evidence import models
from evidence.models import (
    COMMON_WORDS_SECONDS,
    Compound,
    CompoundAlias,
    Goal,
    _key_contains,
    _key_similar,
)
from tests.factories import make_compound, make_goal

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="pg_trgm exists only on PostgreSQL"
    ),
]


def _plan(queryset) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    return queryset.explain()


@pytest.mark.parametrize("model", [Compound, CompoundAlias, Goal])
def test_a_name_search_uses_the_trigram_index(model):
    make_compound("Synthetic thymosin alpha-1", aliases=["Synthetic zadaxin"])
    make_goal("Synthetic liver health")
    plan = _plan(model.objects.filter(_key_contains("thymosin alpha 1")))
    assert f"evidence_{model._meta.model_name}_search_key_trgm" in plan


def test_a_typo_search_uses_the_trigram_index():
    make_compound("Synthetic thymosin alpha-1")
    plan = _plan(Compound.objects.filter(_key_similar("thymosn")))
    assert "evidence_compound_search_key_trgm" in plan


def test_a_typo_is_corrected_from_the_trigram_similar_names():
    make_compound("Synthetic thymosin alpha-1")
    found = Compound.objects.published().find("synthetic thymosn")
    assert found.corrected == "synthetic thymosin"
    assert Compound.objects.get(pk=found.compound_ids[0]).name == "Synthetic thymosin alpha-1"


# Words in most names (evidence.models.common_search_words) are left to the matcher.


@pytest.fixture
def common_words_due(monkeypatch):
    """Common words counted now, at two names or more."""
    monkeypatch.setattr(models, "COMMON_WORD_KEYS", 2)
    monkeypatch.setattr(models, "_common_words_read", (float("-inf"), frozenset()))


def test_the_common_words_are_counted_over_compounds_aliases_and_goals(common_words_due):
    make_compound("Synthetic thymosin alpha-1", aliases=["Synthetic zadaxin"])
    make_goal("Synthetic liver health")
    assert models.common_search_words() == {"synthetic"}


def test_the_common_words_are_counted_again_only_when_due(
    common_words_due, monkeypatch, django_assert_num_queries
):
    make_compound("Synthetic thymosin alpha-1")
    with django_assert_num_queries(1):
        models.common_search_words()
    make_goal("Synthetic liver health")
    with django_assert_num_queries(0):
        assert models.common_search_words() == frozenset()
    read_at, words = models._common_words_read
    monkeypatch.setattr(models, "_common_words_read", (read_at - COMMON_WORDS_SECONDS, words))
    with django_assert_num_queries(1):
        assert models.common_search_words() == {"synthetic"}


def test_a_common_word_is_not_looked_up_in_the_index(common_words_due):
    make_compound("Synthetic thymosin alpha-1", aliases=["Synthetic zadaxin"])
    make_goal("Synthetic liver health")
    sql = str(Compound.objects.filter(_key_contains("synthetic zadax", {"synthetic"})).query)
    assert "%zadax%" in sql
    assert "synthetic" not in sql


def test_a_search_finds_the_same_with_or_without_common_words(common_words_due, monkeypatch):
    thymosin = make_compound("Synthetic thymosin alpha-1", aliases=["Synthetic zadaxin"])
    make_compound("Synthetic niacin")
    liver = make_goal("Synthetic liver health")
    queries = ("synthetic zadaxin", "Synthetic", "synth thymosin", "synthetic liver", "synthetic")
    with_common = [Compound.objects.find(query) for query in queries]
    assert models.common_search_words() == {"synthetic"}
    monkeypatch.setattr(models, "_common_words_read", (float("inf"), frozenset()))
    assert [Compound.objects.find(query) for query in queries] == with_common
    assert with_common[0].compound_ids == (thymosin.pk,)
    assert [goal.slug for goal in with_common[3].goals] == [liver.slug]
