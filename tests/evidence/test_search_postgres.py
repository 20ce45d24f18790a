"""On PostgreSQL, search narrows names with its trigram index (pg_trgm, evidence migration 0023).

Tiny test tables favour a sequential scan, so the plans are read with enable_seqscan off: the
point is that the index can serve these lookups, as it will on a large catalogue.
"""

import pytest
from django.db import connection

from evidence.models import Compound, CompoundAlias, Goal, _key_contains, _key_similar
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
