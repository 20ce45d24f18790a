"""The compound index (/compounds/): letters, search, its HTMX fragment, query count."""

import pytest
from django.urls import reverse

from tests.factories import make_compound
from tests.factories.pages import build_catalogue, full_page, make_thymosin

HTMX = {"HX-Request": "true"}

pytestmark = pytest.mark.django_db


def test_compound_index_lists_published_compounds_grouped_by_letter(client):
    ta1, liver, _, _ = make_thymosin()
    make_compound("Zinc", slug="zinc", kind="nutrient")
    make_compound("5-HTP", slug="5-htp")
    make_compound("Hidden draft", slug="hidden-draft", published=False)
    response = client.get(reverse("compound_index"))
    assert response.status_code == 200
    html = full_page(response)
    assert "<html" in html
    assert 'id="letter-T"' in html and 'id="letter-Z"' in html and 'id="letter-other"' in html
    assert (
        html.index('id="letter-other"') < html.index('id="letter-I"') < html.index('id="letter-T"')
    )
    assert "Thymosin alpha-1" in html and "Zadaxin" in html and "Peptide" in html
    assert "Hidden draft" not in html
    assert reverse("evidence_detail", args=[ta1.slug, liver.slug]) in html
    assert "Probable efficacy" in html


@pytest.mark.parametrize("text", ["Zadaxin", "thymalfasin", "Tα1", "thymosin"])
def test_search_finds_a_compound_by_name_or_alias(client, text):
    make_thymosin()
    make_compound("Zinc", slug="zinc")
    html = full_page(client.get(reverse("compound_index"), {"q": text}))
    assert "Thymosin alpha-1" in html
    assert ">Zinc<" not in html
    assert "1 compound matching" in html


@pytest.mark.parametrize("text", ["Zadaxin", "thymalfasin"])
def test_htmx_search_returns_only_the_results_fragment(client, text):
    make_thymosin()
    make_compound("Zinc", slug="zinc")
    response = client.get(reverse("compound_index"), {"q": text}, headers=HTMX)
    assert response.status_code == 200
    html = full_page(response)
    assert "<html" not in html
    assert html.strip().startswith('<section id="results"')
    assert "Thymosin alpha-1" in html and ">Zinc<" not in html
    assert "HX-Request" in response["Vary"]


def test_compound_index_varies_on_hx_request_for_plain_requests_too(client):
    response = client.get(reverse("compound_index"))
    assert "HX-Request" in response["Vary"]


def test_an_htmx_history_restore_gets_the_full_page(client):
    response = client.get(
        reverse("compound_index"), headers={**HTMX, "HX-History-Restore-Request": "true"}
    )
    assert "<html" in full_page(response)


def test_search_form_works_without_javascript_and_is_enhanced_with_htmx(client):
    html = full_page(client.get(reverse("compound_index")))
    assert '<form class="search-form" method="get" action="/compounds/"' in html
    assert 'hx-get="/compounds/"' in html
    assert 'hx-trigger="input changed delay:250ms, search"' in html
    assert 'hx-target="#results"' in html and 'hx-push-url="true"' in html
    assert 'class="htmx-indicator' in html


def test_too_long_search_is_shown_again_with_the_error_and_status_400(client):
    make_thymosin()
    response = client.get(reverse("compound_index"), {"q": "x" * 101})
    assert response.status_code == 400
    html = full_page(response)
    assert "<html" in html
    assert "at most 100 characters" in html
    assert 'aria-invalid="true"' in html


def test_a_search_with_no_match_says_so(client):
    make_thymosin()
    html = full_page(client.get(reverse("compound_index"), {"q": "no such thing"}))
    assert "0 compounds matching" in html
    assert "Show all compounds" in html


# The page also reads the content version once, for its cache key (evidence.cache); these
# counts are for a cold cache.
@pytest.mark.parametrize("size", [1, 10])
def test_compound_index_query_count_is_constant(client, django_assert_max_num_queries, size):
    build_catalogue(size)
    with django_assert_max_num_queries(4):
        response = client.get(reverse("compound_index"))
    assert response.status_code == 200
    with django_assert_max_num_queries(4):
        client.get(reverse("compound_index"), {"q": "Alias"}, headers=HTMX)
