"""A compound's evidence for one goal (/compounds/<slug>/evidence/<goal>/)."""

import re
from datetime import date

import pytest
from django.urls import reverse

from evidence.models import Article, Finding, Rating, Study
from tests.factories import (
    make_article,
    make_compound,
    make_finding,
    make_goal,
    make_rating,
    make_source,
    make_study,
)
from tests.factories.pages import DISCLAIMER, build_evidence, full_page, make_thymosin

pytestmark = pytest.mark.django_db


def test_evidence_page_shows_rating_counts_studies_plot_and_a_link_to_the_article(client):
    ta1, liver, rating, _ = make_thymosin()
    Article.objects.create(
        compound=ta1,
        goal=liver,
        slug="ta1-liver",
        title="Thymosin Alpha-1 for Liver Health",
        body="## Overview\n\nIt is **immune**.\n\n<script>alert('x')</script>",
        last_updated=date(2025, 4, 1),
        published=True,
    )
    response = client.get(reverse("evidence_detail", args=[ta1.slug, liver.slug]))
    assert response.status_code == 200
    html = full_page(response)
    for text in [
        "Tier 3",
        "Probable efficacy",
        rating.bottom_line,
        "Modest responses in chronic hepatitis B.",
        "Few randomised trials.",
        "Review date not stated",
        "Meta-analysis of RCTs",
        "n = 199 in 4 trials",
        "OR 0.54 (95% CI 0.30–0.97)",
        "HR 0.308 (95% CI 0.175–0.541), p&lt;0.001",
        "36.4%",
        "1.7% vs 2.1%",
        "reported without figures",
        "Active comparator: ",
        "Interferon-alpha",
        "Not assessable",
        "https://pubmed.ncbi.nlm.nih.gov/12345678/",
        "https://example.com/synthetic-studies/",
        "Thymosin Alpha-1 for Liver Health",
        "1 April 2025",
        '<a href="/research/ta1-liver/">Thymosin Alpha-1 for Liver Health</a>',
    ]:
        assert text in html, text
    assert "<strong>immune</strong>" not in html  # the article is on its own page
    assert "alert('x')" not in html
    assert "citation not given" not in html
    assert 'class="forest-group"' in html
    # 4 studies, 3 randomised (a meta-analysis and 2 RCTs), 199 + 468 + 316 + 690 participants.
    assert re.search(r'stat-value">4<.*?stud', html, re.S)
    assert re.search(r'stat-value">3<.*?randomised', html, re.S)
    assert 'stat-value">1673<' in html
    # The disclaimer: once in the page, above the article, and once in the footer.
    main = html[html.index('<main id="main"') : html.index("</main>")]
    assert main.count(DISCLAIMER) == 1
    assert main.index(DISCLAIMER) < main.index('id="article-title"')


def test_an_unpublished_comparator_is_neither_linked_nor_named_from_its_record(client):
    compound, goal = make_compound(), make_goal()
    draft = make_compound("Secret draft comparator", published=False)
    make_finding(compound, goal, comparator=Finding.Comparator.ACTIVE, comparator_compound=draft)
    html = full_page(client.get(reverse("evidence_detail", args=[compound.slug, goal.slug])))
    assert "Secret draft comparator" not in html
    assert reverse("compound_detail", args=[draft.slug]) not in html


def test_evidence_page_significance_column_reads_yes_no_or_not_assessable(client):
    ta1, liver, _, _ = make_thymosin()
    html = full_page(client.get(reverse("evidence_detail", args=[ta1.slug, liver.slug])))
    significance = re.findall(r'data-label="Significant"><span><span class="\w+">([^<]+)<', html)
    assert set(significance) == {"Yes", "No", "Not assessable"}


def test_evidence_page_says_when_the_review_and_article_dates_are_known(client):
    ta1, liver, rating, _ = make_thymosin()
    rating.last_reviewed = date(2025, 3, 1)
    rating.save()
    Article.objects.create(
        compound=ta1, goal=liver, slug="a", title="Deep dive", body="Text", published=True
    )
    html = full_page(client.get(reverse("evidence_detail", args=[ta1.slug, liver.slug])))
    assert "Last reviewed" in html and "1 March 2025" in html
    assert "Last updated: not reported" in html


def test_unpublished_articles_are_not_shown(client):
    ta1, liver, _, _ = make_thymosin()
    Article.objects.create(
        compound=ta1, goal=liver, slug="draft", title="Draft dive", body="x", published=False
    )
    html = full_page(client.get(reverse("evidence_detail", args=[ta1.slug, liver.slug])))
    assert "Draft dive" not in html


def test_evidence_page_with_findings_but_no_rating_is_shown(client):
    compound, goal = make_compound(), make_goal()
    make_finding(compound, goal)
    response = client.get(reverse("evidence_detail", args=[compound.slug, goal.slug]))
    assert response.status_code == 200
    assert "no tier has been assigned yet" in full_page(response)


def test_evidence_page_of_an_unrated_goal_is_404(client):
    compound, goal = make_compound(), make_goal()
    make_rating(compound)  # rated for another goal only
    response = client.get(reverse("evidence_detail", args=[compound.slug, goal.slug]))
    assert response.status_code == 404


def test_evidence_page_of_an_unknown_goal_or_unpublished_compound_is_404(client):
    rating = make_rating(make_compound(published=False))
    assert (
        client.get(
            reverse("evidence_detail", args=[rating.compound.slug, rating.goal.slug])
        ).status_code
        == 404
    )
    published = make_rating()
    assert (
        client.get(reverse("evidence_detail", args=[published.compound.slug, "nope"])).status_code
        == 404
    )


def test_the_forest_plot_is_cut_to_a_readable_size_while_the_table_keeps_every_finding(client):
    compound, goal = make_compound(), make_goal()
    study = make_study()
    for i in range(45):
        make_finding(compound, goal, study=study, outcome=f"Synthetic outcome {i:02}")
    html = client.get(reverse("evidence_detail", args=[compound.slug, goal.slug])).content.decode()
    assert "The plot shows the first 40 of the 45 findings" in html
    assert html.count('data-label="Outcome"') == 45
    plot = html[html.index('<figure class="forest"') : html.index("</figure>")]
    assert "Synthetic outcome 39" in plot and "Synthetic outcome 40" not in plot


def test_long_evidence_pages_list_the_strongest_studies_first_and_offer_all(client):
    compound, goal = make_compound(), make_goal()
    for i in range(27):
        make_finding(compound, goal, study=make_study(title=f"Synthetic trial {i:02}"))
    url = reverse("evidence_detail", args=[compound.slug, goal.slug])
    html = client.get(url).content.decode()
    assert "Showing the 25 strongest-designed of 27 studies." in html
    assert html.count('class="study-group"') == 25
    everything = client.get(url, {"studies": "all"}).content.decode()
    assert everything.count('class="study-group"') == 27
    assert client.get(url, {"studies": "some"}).status_code == 400


# The page also reads the content version once, for its cache key (evidence.cache); this
# count is for a cold cache.
@pytest.mark.parametrize("size", [1, 10])
def test_evidence_detail_query_count_is_constant(client, django_assert_max_num_queries, size):
    compound, goal = build_evidence(size)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("evidence_detail", args=[compound.slug, goal.slug]))
    assert response.status_code == 200


def test_the_page_shows_the_certainty_of_benefit_with_every_step_and_by_outcome(client):
    goal = make_goal()
    compound = make_compound()
    make_finding(
        compound,
        goal,
        study=make_study(design=Study.Design.NOT_REPORTED, n=None),
        outcome="Synthetic biomarker",
        outcome_kind=Finding.OutcomeKind.SURROGATE,
    )
    html = client.get(f"/compounds/{compound.slug}/evidence/{goal.slug}/").content.decode()
    assert "Certainty of benefit: Very low" in html
    assert "Starts Low: the design is not reported" in html
    assert "Risk of bias: the only study has a serious limitation (design not reported)" in html
    assert "Indirectness: surrogate outcomes (biomarkers) only" in html
    assert '<span class="muted">(-1)</span>' in html  # each step with its change
    assert "not yet reviewed by an editor" in html


def test_the_rating_s_sections_render_their_markdown_lists_as_lists(client):
    ta1, liver, _, _ = make_thymosin()
    Rating.objects.filter(compound=ta1, goal=liver).update(
        data_suggests="1. Synthetic first point\n2. Synthetic second point",
        limitations="- Synthetic small trials\n- Synthetic <script>alert('x')</script> bias",
    )
    html = full_page(client.get(reverse("evidence_detail", args=[ta1.slug, liver.slug])))
    suggests = html[html.index('id="data-suggests"') : html.index('id="limitations"')]
    assert "<ol>\n<li>Synthetic first point</li>" in suggests
    limitations = html[html.index('id="limitations"') : html.index('id="studies"')]
    assert "<ul>\n<li>Synthetic small trials</li>" in limitations
    assert "<script>" not in limitations and "- Synthetic" not in limitations


def test_the_evidence_page_links_to_the_deep_dive_below_the_evidence_instead_of_embedding_it(
    client,
):
    ta1, liver, _, _ = make_thymosin()
    Article.objects.create(
        compound=ta1,
        goal=liver,
        slug="synthetic-deep-dive",
        title="Synthetic deep dive",
        body="Synthetic body.",
        published=True,
    )
    html = full_page(client.get(reverse("evidence_detail", args=[ta1.slug, liver.slug])))
    article = html[html.index('id="article-title"') :]
    assert '<a href="/research/synthetic-deep-dive/">Read the research deep dive' in article
    assert "Synthetic body." not in html and 'class="article-body"' not in html
    assert html.index('id="forest"') < html.index('id="article-title"')


def test_without_a_deep_dive_the_evidence_page_points_to_the_others(client):
    ta1, liver, _, _ = make_thymosin()
    html = full_page(client.get(reverse("evidence_detail", args=[ta1.slug, liver.slug])))
    section = html[html.index('id="research"') :]
    assert "No research article has been published for this compound and goal yet." in section
    assert '<a href="/research/">Every research deep dive</a>' in section


def test_every_comparison_is_plotted_and_only_a_single_arm_result_lacks_a_comparison(client):
    ta1, liver, _, _ = make_thymosin()
    html = full_page(client.get(reverse("evidence_detail", args=[ta1.slug, liver.slug])))
    plot = html[html.index('<figure class="forest"') : html.index("</figure>")]
    # The add-on trial against entecavir alone is a comparison: its difference is drawn,
    # without a CI because none was reported.
    hcc = plot[plot.index(">HCC incidence<") :]
    hcc = hcc[: hcc.index("</section>")]
    assert "Add-on to entecavir in cirrhosis" in hcc
    assert "a difference of −0.4 points (95% CI not reported)" in hcc
    assert "point--no-ci" in hcc
    assert "Favours Entecavir alone" in hcc and f"Favours {ta1.name}" in hcc
    not_drawn = html[html.index('<ul class="not-plottable') :]
    not_drawn = not_drawn[: not_drawn.index("</ul>")]
    assert "Not drawn (no comparison group: a single-arm result): ALT normalisation" in not_drawn
    assert "Not drawn (reported without figures): Immune cell counts" in not_drawn
    assert "HCC incidence" not in not_drawn


def test_each_outcome_s_favours_sides_follow_its_desirable_direction(client):
    ta1, liver, _, _ = make_thymosin()
    html = full_page(client.get(reverse("evidence_detail", args=[ta1.slug, liver.slug])))
    plot = html[html.index('<figure class="forest"') : html.index("</figure>")]

    def sides(outcome: str) -> tuple[str, str]:
        group = plot[plot.index(f">{outcome}<") :]
        group = group[: group.index("</section>")]
        left = re.search(r'forest-favours__left">.*?</span>([^<]+)<', group).group(1)
        right = re.search(r'forest-favours__right">([^<]+)<', group).group(1)
        return left, right

    # Survival hazards: lower is better, so the compound's side is the left.
    assert sides("Overall survival")[0] == f"Favours {ta1.name}"
    # Complete response against interferon-alpha: higher is better, the compound's side is
    # the right.
    assert sides("Complete response") == ("Favours Interferon-alpha", f"Favours {ta1.name}")


def build_evidence_of(size: int, rated: bool):
    """A compound and goal with `size` studies, each from a source, reported in a published
    deep dive and compared with an active compound: every relation the page draws."""
    compound, goal = make_compound(), make_goal()
    if rated:
        make_rating(compound, goal)
    source = make_source()
    for _ in range(size):
        article = make_article(make_compound(), make_goal())
        study = make_study(source=source, reported_in=article)
        make_finding(
            compound,
            goal,
            study,
            comparator=Finding.Comparator.ACTIVE,
            comparator_compound=make_compound(),
        )
    make_article(compound, goal)
    return compound, goal


# With a cold cache: the content version, the compound, the rating with its goal, the
# findings with their studies, sources, deep dives and comparators, and the deep dive of the
# page's own compound and goal. A goal without a rating is read on its own: one more.
@pytest.mark.parametrize("size", [1, 10])
@pytest.mark.parametrize(("rated", "queries"), [(True, 5), (False, 6)])
def test_evidence_detail_query_count_does_not_grow_with_the_studies(
    client, settings, django_assert_num_queries, size, rated, queries
):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    compound, goal = build_evidence_of(size, rated)

    with django_assert_num_queries(queries):
        response = client.get(reverse("evidence_detail", args=[compound.slug, goal.slug]))

    assert response.status_code == 200
    assert response.content.decode().count("As reported in <a") == size
