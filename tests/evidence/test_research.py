"""The research deep dives: the index (/research/) and one article (/research/<slug>/)."""

import re
from datetime import date

import pytest
from django.core.management import call_command
from django.urls import reverse

from evidence.models import Article, Finding, Study
from evidence.synthesis import synthesise
from tests.factories import (
    make_article,
    make_compound,
    make_finding,
    make_goal,
    make_rating,
    make_study,
)
from tests.factories.pages import DISCLAIMER, full_page

pytestmark = pytest.mark.django_db

SEED_URL = "/research/thymosin-alpha-1-for-liver-health/"
SEED_TITLE = "Thymosin Alpha-1 for Liver Health: What the Research Says"


@pytest.fixture
def demo():
    call_command("load_demo", "--deep-dive-only", verbosity=0)


def main_of(html: str) -> str:
    return html[html.index('<main id="main"') : html.index("</main>")]


def links(html: str) -> dict[str, str]:
    """Each link's address by its text (tags inside the text dropped)."""
    return {
        re.sub(r"<[^>]+>", "", text).strip(): href
        for href, text in re.findall(r'<a [^>]*href="([^"]+)"[^>]*>(.*?)</a>', html, re.S)
    }


# One article ---------------------------------------------------------------------------------


def test_the_seed_deep_dive_is_a_page_of_its_own(client, demo):
    article = Article.objects.get()
    assert article.get_absolute_url() == SEED_URL

    response = client.get(SEED_URL)

    assert response.status_code == 200
    main = main_of(full_page(response))
    breadcrumb = main[: main.index("</nav>")]
    assert '<li><a href="/research/">Research Deep Dives</a></li>' in breadcrumb
    assert f'<li aria-current="page">{SEED_TITLE}</li>' in breadcrumb
    assert f"<h1>{SEED_TITLE}</h1>" in main
    # The seed names no date: the page says so rather than inventing one.
    assert "Last updated: not reported" in main
    # The article's Markdown as HTML, its sections under the page's <h1>.
    assert "<h2>Overview</h2>" in main and "<h2>The Bottom Line</h2>" in main
    assert "<li><strong>Overall Survival:</strong>" in main


def test_the_seed_deep_dive_links_to_the_evidence_the_vendors_and_the_builder_with_its_goal(
    client, demo
):
    main = main_of(full_page(client.get(SEED_URL)))
    found = links(main)

    assert "Interested in Thymosin alpha-1?" in main
    assert (
        found["View detailed evidence data"] == "/compounds/thymosin-alpha-1/evidence/liver-health/"
    )
    assert found["find a vendor"] == "/compounds/thymosin-alpha-1/#where-to-buy"
    assert found["Build a stack for liver health"] == "/?goals=liver-health"
    # Each leads somewhere real: the evidence page, the compound's vendors, the goal picked.
    assert client.get("/compounds/thymosin-alpha-1/evidence/liver-health/").status_code == 200
    assert 'id="where-to-buy"' in full_page(client.get("/compounds/thymosin-alpha-1/"))
    builder = full_page(client.get("/?goals=liver-health"))
    assert re.search(r'value="liver-health" id="goal-liver-health" checked', builder)


def test_the_seed_deep_dive_shows_the_editors_tier_for_its_goal_in_a_callout(client, demo):
    main = main_of(full_page(client.get(SEED_URL)))
    callout = main[
        main.index('id="tier-heading"') : main.index("</section>", main.index('id="tier-heading"'))
    ]

    assert "Evidence tier for liver health" in callout
    assert '<span class="tier-badge__number">Tier 3</span>' in callout
    assert "Probable efficacy" in callout


def test_the_articles_own_disclaimer_is_shown_once_at_the_top(client, demo):
    main = main_of(full_page(client.get(SEED_URL)))

    assert main.count("should not be construed as medical advice") == 1
    notice = main.index('<div class="disclaimer" role="note"')
    assert notice < main.index("<h2>Overview</h2>")
    assert "<strong>Disclaimer:</strong> This article is for educational purposes" in main
    assert DISCLAIMER not in main  # the site's own notice would say it twice


def test_an_article_without_a_disclaimer_of_its_own_gets_the_sites(client):
    article = make_article(make_compound(), make_goal(), body="Synthetic text only.")
    main = main_of(full_page(client.get(article.get_absolute_url())))
    assert main.count(DISCLAIMER) == 1
    assert main.index(DISCLAIMER) < main.index("Synthetic text only.")


def test_a_disclaimer_after_crlf_line_endings_is_split_off_whole():
    article = Article(body="**Disclaimer:** Synthetic\r\nwarning.\r\n\r\n## Synthetic\r\n")
    disclaimer, body = article.split_disclaimer()
    assert disclaimer == "Synthetic\r\nwarning."
    assert body == "## Synthetic\r\n"


def test_without_a_rating_the_callout_shows_the_certainty_computed_from_the_studies(client):
    compound, goal = make_compound(), make_goal()
    make_finding(compound, goal, make_study(Study.Design.RCT, n=120))
    make_finding(compound, goal, make_study(Study.Design.RCT, n=120))
    article = make_article(compound, goal)
    findings = Finding.objects.filter(compound=compound, goal=goal).select_related("study")
    certainty = synthesise(list(findings)).certainty_of_benefit

    main = main_of(full_page(client.get(article.get_absolute_url())))

    assert f"Computed certainty of benefit: {certainty.label}" in main
    assert "Not rated yet" in main
    found = links(main)
    assert found["View detailed evidence data"] == reverse(
        "evidence_detail", args=[compound.slug, goal.slug]
    )


def test_without_evidence_for_its_goal_the_article_links_to_the_compound_not_to_a_missing_page(
    client,
):
    compound, goal = make_compound(), make_goal()
    article = make_article(compound, goal)

    main = main_of(full_page(client.get(article.get_absolute_url())))

    assert "No studies of" in main
    assert reverse("evidence_detail", args=[compound.slug, goal.slug]) not in main
    assert links(main)["View the evidence by goal"] == f"{compound.get_absolute_url()}#ratings"


def test_an_article_about_no_goal_opens_the_builder_with_nothing_picked(client):
    compound = make_compound()
    article = make_article(compound)

    main = main_of(full_page(client.get(article.get_absolute_url())))

    assert 'id="tier-heading"' not in main
    assert links(main)["Open the stack builder"] == "/"


@pytest.mark.parametrize(
    "hidden",
    ["unpublished article", "unpublished compound", "unknown slug"],
)
def test_an_article_visitors_may_not_see_is_404(client, hidden):
    compound = make_compound(published=hidden != "unpublished compound")
    article = make_article(compound, make_goal(), published=hidden != "unpublished article")
    slug = "synthetic-no-such-article" if hidden == "unknown slug" else article.slug
    assert client.get(f"/research/{slug}/").status_code == 404


def test_the_articles_markdown_is_sanitised(client):
    article = make_article(
        make_compound(),
        body="## Synthetic\n\n<script>alert(1)</script>\n\n[x](javascript:alert(2))",
    )
    main = main_of(full_page(client.get(article.get_absolute_url())))
    assert "<script>alert(1)" not in main and "javascript:" not in main


@pytest.mark.parametrize("rated", [True, False], ids=["rated", "certainty"])
def test_the_article_page_reads_a_constant_number_of_queries(
    client, django_assert_max_num_queries, rated
):
    compound, goal = make_compound(), make_goal()
    for _ in range(5):
        make_finding(compound, goal)
    if rated:
        make_rating(compound, goal)
    article = make_article(compound, goal)
    # The content version (evidence.cache), the article, the rating; without a rating, the
    # findings with their studies.
    with django_assert_max_num_queries(4):
        response = client.get(article.get_absolute_url())
    assert response.status_code == 200


# The index -------------------------------------------------------------------------------------


def titles_in(html: str) -> list[str]:
    return re.findall(r'<h3><a href="/research/[^"]+/">([^<]+)</a></h3>', html)


def test_the_index_lists_the_seed_deep_dive(client, demo):
    html = full_page(client.get("/research/"))
    assert titles_in(html) == [SEED_TITLE]
    assert f'<a href="{SEED_URL}">' in html


def test_the_index_lists_published_deep_dives_newest_first_and_no_others(client):
    goal = make_goal()
    compound = make_compound()
    make_article(compound, goal, title="Synthetic undated")
    make_article(compound, goal, title="Synthetic 2024", last_updated=date(2024, 5, 1))
    make_article(compound, goal, title="Synthetic 2025", last_updated=date(2025, 1, 2))
    make_article(compound, goal, title="Synthetic draft", published=False)
    make_article(make_compound(published=False), goal, title="Synthetic hidden compound")

    html = full_page(client.get("/research/"))

    assert titles_in(html) == ["Synthetic 2025", "Synthetic 2024", "Synthetic undated"]
    assert "2 January 2025" in html


def test_the_index_filters_by_goal(client):
    liver, sleep = make_goal("Synthetic liver"), make_goal("Synthetic sleep")
    compound = make_compound()
    make_article(compound, liver, title="Synthetic liver dive")
    make_article(compound, sleep, title="Synthetic sleep dive")

    html = full_page(client.get("/research/", {"goal": liver.slug}))

    assert titles_in(html) == ["Synthetic liver dive"]
    chips = html[html.index('aria-label="Deep dives by goal"') :]
    assert f'href="/research/?goal={sleep.slug}">Synthetic sleep</a>' in chips
    assert f'href="/research/?goal={liver.slug}" aria-current="page">Synthetic liver</a>' in chips


def test_a_goal_without_deep_dives_is_not_offered_as_a_filter_but_answers(client):
    make_article(make_compound(), make_goal())
    empty = make_goal("Synthetic empty goal")
    assert "Synthetic empty goal" not in full_page(client.get("/research/"))
    html = full_page(client.get("/research/", {"goal": empty.slug}))
    assert "No deep dive for synthetic empty goal has been published yet." in html


@pytest.mark.parametrize(("goal", "status"), [("synthetic-no-such-goal", 404), ("not a slug", 400)])
def test_an_unknown_or_malformed_goal_filter_is_refused(client, goal, status):
    assert client.get("/research/", {"goal": goal}).status_code == status


def test_the_index_reads_a_constant_number_of_queries(client, django_assert_max_num_queries):
    goals = [make_goal() for _ in range(3)]
    for goal in goals:
        for _ in range(3):
            make_article(make_compound(), goal)
    # The content version, the goals offered as filters, the articles; with a filter, the goal.
    with django_assert_max_num_queries(3):
        assert client.get("/research/").status_code == 200
    with django_assert_max_num_queries(4):
        assert client.get("/research/", {"goal": goals[0].slug}).status_code == 200


def test_the_compound_page_lists_its_published_deep_dives(client):
    compound, goal = make_compound(), make_goal("Synthetic liver")
    article = make_article(compound, goal, title="Synthetic shown dive")
    make_article(compound, goal, title="Synthetic draft dive", published=False)

    html = full_page(client.get(compound.get_absolute_url()))

    assert f'<a href="{article.get_absolute_url()}">Synthetic shown dive</a>' in html
    assert "Synthetic draft dive" not in html


def test_the_footer_links_to_the_research_and_the_goals(client):
    html = full_page(client.get("/methodology/"))
    footer = html[html.index('<footer class="site-footer">') :]
    assert links(footer)["Research deep dives"] == "/research/"
    assert links(footer)["Every health goal"] == "/goals/"
