"""The compound index (/compounds/): letters, search, its HTMX fragment, query count."""

import re

import pytest
from django.db import connection
from django.urls import reverse

from tests.factories import make_compound, make_goal
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
# counts are for a cold cache. The index: the version, every name (to order and page them), the
# page's compounds, their aliases and ratings. A search reads every name it compares
# (Compound.objects.find) instead.
@pytest.mark.parametrize("size", [1, 10])
def test_compound_index_query_count_is_constant(client, django_assert_max_num_queries, size):
    build_catalogue(size)
    with django_assert_max_num_queries(5):
        response = client.get(reverse("compound_index"))
    assert response.status_code == 200
    with django_assert_max_num_queries(5):
        client.get(reverse("compound_index"), {"q": "Alias"}, headers=HTMX)
    # A typo: corrected in Python from the names read; PostgreSQL reads two more, the names
    # trigram-similar to the typo, then those matching the correction (evidence.search).
    typo_reads = 2 if connection.vendor == "postgresql" else 0
    with django_assert_max_num_queries(5 + typo_reads):
        client.get(reverse("compound_index"), {"q": "Aliax"}, headers=HTMX)


# An alias naming several compounds


def make_two_compounds_sharing_an_alias():
    niacin = make_compound("Synthetic niacin", slug="synthetic-niacin", aliases=["Synthetic B3"])
    amide = make_compound(
        "Synthetic nicotinamide", slug="synthetic-nicotinamide", aliases=["synthetic b3"]
    )
    make_compound("Synthetic zinc", slug="synthetic-zinc", aliases=["Synthetic Zn"])
    return niacin, amide


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx fragment"])
def test_an_alias_shared_by_two_compounds_finds_both_and_offers_the_choice(client, headers):
    niacin, amide = make_two_compounds_sharing_an_alias()

    response = client.get(reverse("compound_index"), {"q": "SYNTHETIC b3"}, headers=headers)

    html = full_page(response)
    assert response.status_code == 200
    assert ("<html" in html) is (headers == {})
    assert "2 compounds matching" in html
    assert "“Synthetic B3” names 2 compounds:" in html
    choice = html[html.index("“Synthetic B3” names") :]
    choice = choice[: choice.index("</p>")]
    assert f'<a href="{niacin.get_absolute_url()}">Synthetic niacin</a>' in choice
    assert f'<a href="{amide.get_absolute_url()}">Synthetic nicotinamide</a>' in choice
    assert "Synthetic zinc" not in html


def test_an_alias_naming_one_compound_offers_no_choice(client):
    make_two_compounds_sharing_an_alias()

    html = full_page(client.get(reverse("compound_index"), {"q": "synthetic zn"}))

    assert "1 compound matching" in html
    assert "names 2 compounds" not in html


def test_an_unpublished_compound_is_not_offered_as_a_choice(client):
    make_compound("Synthetic niacin", aliases=["Synthetic B3"])
    make_compound("Synthetic hidden amide", aliases=["Synthetic B3"], published=False)

    html = full_page(client.get(reverse("compound_index"), {"q": "synthetic b3"}))

    assert "1 compound matching" in html
    assert "names 2 compounds" not in html and "Synthetic hidden amide" not in html


def test_a_compound_without_findings_says_no_evidence_recorded_yet(client):
    from tests.factories import make_finding, make_goal

    make_compound("Synthetic Nothingyet")
    studied = make_compound("Synthetic Studied")
    make_finding(studied, make_goal())

    html = client.get(reverse("compound_index")).content.decode()

    nothing = html[html.index("Synthetic Nothingyet") :]
    assert nothing[: nothing.index("</article>")].count("No evidence recorded yet.") == 1
    studied_card = html[html.index("Synthetic Studied") :]
    card = studied_card[: studied_card.index("</article>")]
    assert "Studies recorded, not rated for any goal yet." in card


# Forgiving search (evidence.search): the same tests run on SQLite and PostgreSQL.


def make_thymosin_and_neighbours():
    ta1, liver, _, _ = make_thymosin()  # also Interferon-alpha, a comparator
    make_compound("Synthetic thymosin beta-4", slug="synthetic-thymosin-beta-4")
    make_compound("Synthetic alpha-lipoic acid", slug="synthetic-alpha-lipoic-acid")
    make_compound("Zinc", slug="zinc")
    return ta1, liver


def compound_names(html: str) -> list[str]:
    return re.findall(r'<h3><a href="/compounds/[^"]+/">([^<]+)</a></h3>', html)


@pytest.mark.parametrize(
    "text",
    ["thymosin alpha 1", "Thymosin Alpha1", "alpha-1 thymosin", "TA1", "tα1", "thymosn", "zadaxn"],
)
def test_forgiving_search_finds_thymosin_alpha_1_first(client, text):
    make_thymosin_and_neighbours()
    html = full_page(client.get(reverse("compound_index"), {"q": text}))
    names = compound_names(html)
    assert names and names[0] == "Thymosin alpha-1", names
    assert "Zinc" not in names


def test_a_typo_says_what_it_was_corrected_to(client):
    make_thymosin_and_neighbours()
    html = full_page(client.get(reverse("compound_index"), {"q": "zadaxn"}))
    assert "Nothing matches “zadaxn”. Did you mean" in html
    assert '<a href="?q=zadaxin">zadaxin</a>?' in html
    assert "1 compound matching “zadaxin”." in html


def test_a_goal_name_offers_the_goal(client):
    _, liver = make_thymosin_and_neighbours()
    html = full_page(client.get(reverse("compound_index"), {"q": "liver"}))
    assert "Looking for a goal?" in html
    assert f'<a href="{liver.get_absolute_url()}">Liver health</a>' in html


def test_search_lists_the_best_match_first_then_by_name(client):
    make_thymosin_and_neighbours()
    html = full_page(client.get(reverse("compound_index"), {"q": "thymosin"}))
    # A name that starts with the query before one that only holds it.
    assert compound_names(html) == ["Thymosin alpha-1", "Synthetic thymosin beta-4"]
    html = full_page(client.get(reverse("compound_index"), {"q": "alpha"}))
    # Each of the three only holds the query: by name.
    assert compound_names(html) == [
        "Interferon-alpha",
        "Synthetic alpha-lipoic acid",
        "Thymosin alpha-1",
    ]


# Pages: the index and search results come a page at a time, whatever the catalogue's size


@pytest.fixture
def three_per_page(monkeypatch):
    monkeypatch.setattr("evidence.views.COMPOUNDS_PER_PAGE", 3)
    monkeypatch.setattr("evidence.views.SEARCH_RESULTS_PER_PAGE", 3)


def _names_on(html):
    return re.findall(r'<h3><a href="/compounds/[^"]+/">([^<]+)</a></h3>', html)


def test_every_compound_appears_on_exactly_one_page_of_the_index(client, three_per_page):
    names = [f"Synthetic {letter}{n}" for letter in "ABC" for n in range(3)]
    for name in names:
        make_compound(name.replace("Synthetic ", "") + " synthetic")
    seen = []
    for number in (1, 2, 3):
        seen += _names_on(full_page(client.get(reverse("compound_index"), {"page": number})))
    assert sorted(seen) == sorted(c.replace("Synthetic ", "") + " synthetic" for c in names)
    assert len(seen) == len(set(seen)) == 9


def test_letter_links_jump_to_the_page_holding_that_letter(client, three_per_page):
    for name in ("Alpha synthetic", "Apex synthetic", "Argo synthetic", "Beta synthetic"):
        make_compound(name)
    html = full_page(client.get(reverse("compound_index")))
    assert 'href="#letter-A"' in html  # on this page
    assert 'href="?page=2#letter-B"' in html  # on the next
    assert "Page 1 of 2, compounds 1–3" in html
    assert 'rel="next" href="?page=2"' in html


def test_search_results_are_paged_and_keep_the_query(client, three_per_page):
    for n in range(5):
        make_compound(f"Synthetic pagesearch {n}")
    html = full_page(client.get(reverse("compound_index"), {"q": "pagesearch", "page": 2}))
    assert len(_names_on(html)) == 2
    assert "5 compounds matching" in html
    assert 'rel="prev" href="?q=pagesearch&amp;page=1"' in html


@pytest.mark.parametrize("page", ["0", "-1", "two", "1.5"])
def test_a_page_that_is_not_a_number_answers_400_with_a_message(client, page):
    response = client.get(reverse("compound_index"), {"page": page})
    assert response.status_code == 400
    assert "The page must be a whole number, 1 or more." in response.content.decode()


def test_a_page_past_the_end_answers_404(client, three_per_page):
    make_compound("Synthetic lonely")
    assert client.get(reverse("compound_index"), {"page": 9}).status_code == 404


def test_a_search_naming_many_goals_lists_a_few_and_links_to_the_rest(client, monkeypatch):
    monkeypatch.setattr("evidence.views.SEARCH_GOALS_SHOWN", 2)
    for n in range(5):
        make_goal(f"Synthetic restful goal {n}")
    html = full_page(client.get(reverse("compound_index"), {"q": "restful"}))
    assert html.count('href="/goals/synthetic-') == 2
    assert "3 more goals matching “restful”" in html
    assert 'href="/goals/?q=restful"' in html
