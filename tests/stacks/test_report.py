"""The clinician's report of a stack (/stack/report/ and /stack/report.pdf): the same stack as
the builder, with each compound's place, certainty, key findings and citations, doses as
studied, contraindications, interactions and the excluded compounds; a PDF whose bytes depend
only on the query and the content."""

import io
from datetime import UTC, datetime
from decimal import Decimal
from itertools import combinations

import pytest
from pypdf import PdfReader

from evidence.cache import bump_content_version
from evidence.models import Article, Condition, ContentVersion, Interaction, Study
from stacks.ranking import MAX_GOALS
from tests.factories import (
    make_compound,
    make_contraindication,
    make_dosing,
    make_finding,
    make_goal,
    make_rated_compound,
    make_rating,
    make_source,
    make_study,
)

pytestmark = pytest.mark.django_db

PAGE = "/stack/report/"
PDF = "/stack/report.pdf"


@pytest.fixture
def no_cache(settings):
    """The dummy cache: every request renders the report anew."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}


@pytest.fixture
def two_goal_stack():
    """Two goals, one compound for each (cited by PMID and DOI, by a source and by an article),
    and a better-tiered compound the declared pregnancy excludes."""
    sleep = make_goal(name="Synthetic sleep quality", slug="synthetic-sleep")
    focus = make_goal(name="Synthetic focus", slug="synthetic-focus")
    alpha = make_compound("Synthetic Alpha", slug="synthetic-alpha")
    make_rating(alpha, sleep, tier_number=2, bottom_line="Synthetic: likely helps sleep.")
    make_finding(
        alpha,
        sleep,
        study=make_study(title="Synthetic sleep trial", year=2021, pmid="0000001", doi=""),
        outcome="Synthetic sleep latency",
        measure="mean_difference",
        value=Decimal("-8.5"),
        ci_low=Decimal("-12.1"),
        ci_high=Decimal("-4.9"),
        value_unit="minutes",
        higher_is_better=False,
        dose=Decimal(3),
        dose_unit="mg",
        dose_timing="at bedtime",
    )
    make_finding(
        alpha,
        sleep,
        study=make_study(
            Study.Design.META_ANALYSIS, title="Synthetic sleep meta", doi="10.5555/synthetic.1"
        ),
        outcome="Synthetic sleep quality score",
    )
    make_dosing(alpha, amount=Decimal(3), unit="mg", frequency="nightly", route="oral")
    make_contraindication(alpha, Condition.KIDNEY_DISEASE, note="Synthetic kidney note")

    beta = make_compound("Synthetic Beta", slug="synthetic-beta")
    make_rating(beta, focus, tier_number=3, bottom_line="Synthetic: probably helps focus.")
    source = make_source("Synthetic trials dataset")
    make_finding(
        beta,
        focus,
        study=make_study(title="Synthetic focus cohort", source=source, source_record_id="r-7"),
        outcome="Synthetic attention score",
    )
    article = Article.objects.create(
        compound=beta,
        goal=focus,
        slug="synthetic-focus-deep-dive",
        title="Synthetic focus deep dive",
        body="Synthetic body.",
        published=True,
    )
    make_finding(
        beta,
        focus,
        study=make_study(title="Synthetic reported trial", reported_in=article),
        outcome="Synthetic reaction time",
    )
    Interaction.objects.create(
        compound_a=alpha, compound_b=beta, severity="moderate", note="Synthetic interaction"
    )

    excluded = make_rated_compound(sleep, 1, name="Synthetic Excluded", slug="synthetic-excluded")
    make_contraindication(excluded, Condition.PREGNANCY, note="Synthetic pregnancy note")
    return sleep, focus


QUERY = "goals=synthetic-sleep&goals=synthetic-focus&condition=pregnancy"


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    # Table cells wrap: join the lines so a long address or name reads whole.
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def test_the_pdf_of_a_two_goal_stack_names_every_compound_citation_and_exclusion(
    client, two_goal_stack
):
    response = client.get(f"{PDF}?{QUERY}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    compact = text.replace(" ", "")  # wrapped cells may split a citation anywhere
    for expected in (
        "Synthetic sleep quality",
        "Synthetic focus",
        "Declared conditions Pregnancy",
        "Synthetic Alpha",
        "Synthetic Beta",
        "Tier 2: Likely efficacy",
        "Tier 3: Probable efficacy",
        "Certainty of the evidence of benefit",
        "Synthetic: likely helps sleep.",
        "MD −8.5 minutes (95% CI −12.1 to −4.9)",
        "3 mg, at bedtime",
        "3 mg nightly, oral",
        "not dosing advice",
        "Kidney disease: Synthetic kidney note",
        "Moderate interaction between Synthetic Alpha and Synthetic Beta",
        "Synthetic Excluded: Contraindicated: Pregnancy (Synthetic pregnancy note)",
        "Educational purposes only, not medical advice",
    ):
        assert expected in text, expected
    for citation in (
        "PMID0000001",
        "doi:10.5555/synthetic.1",
        "From Synthetic trials dataset",
        "record r-7",
        "Asreportedin“Syntheticfocusdeepdive”",
    ):
        assert citation.replace(" ", "") in compact, citation
    cited = Study.objects.filter(findings__compound__slug__in=["synthetic-alpha", "synthetic-beta"])
    assert cited.count() == 4
    for study in cited.select_related("source", "reported_in"):
        expected = [study.display_title]
        expected += [f"PMID {study.pmid}"] if study.pmid else []
        expected += [f"doi:{study.doi}"] if study.doi else []
        expected += [study.url] if study.url and not (study.pmid or study.doi) else []
        expected += [f"From {study.source.name}"] if study.source else []
        expected += [f"As reported in “{study.reported_in.title}”"] if study.reported_in else []
        assert len(expected) > 1, study
        for text in expected:
            assert text.replace(" ", "") in compact, text


def test_the_pdf_links_each_citation(client, two_goal_stack):
    reader = PdfReader(io.BytesIO(client.get(f"{PDF}?{QUERY}").content))
    links = {
        annotation.get_object()["/A"]["/URI"]
        for page in reader.pages
        for annotation in page.get("/Annots") or []
        if "/A" in annotation.get_object() and "/URI" in annotation.get_object()["/A"]
    }
    assert "https://pubmed.ncbi.nlm.nih.gov/0000001/" in links
    assert "https://doi.org/10.5555/synthetic.1" in links
    assert any(
        link.endswith("/compounds/synthetic-beta/evidence/synthetic-focus/") for link in links
    )


def test_two_renders_of_the_same_report_are_byte_identical(client, no_cache, two_goal_stack):
    first = client.get(f"{PDF}?{QUERY}").content
    second = client.get(f"{PDF}?{QUERY}").content
    assert first == second


def test_the_pdf_is_dated_by_its_content_version_not_by_the_render(client, two_goal_stack):
    ContentVersion.objects.filter(pk=1).update(
        version=42, changed_at=int(datetime(2026, 2, 3, 10, 0, tzinfo=UTC).timestamp())
    )
    content = client.get(f"{PDF}?{QUERY}").content
    reader = PdfReader(io.BytesIO(content))

    assert reader.metadata["/CreationDate"] == "D:20260203"
    assert reader.metadata["/ModDate"] == "D:20260203"
    assert (
        reader.metadata["/Title"] == "Evidence report for Synthetic focus, Synthetic sleep quality"
    )
    text = pdf_text(content)
    assert "3 February 2026 (content version 42)" in text
    address = "http://testserver/stack/report/?condition=pregnancy&goals=synthetic-focus"
    assert address in text.replace(" ", "")


def test_moving_the_content_version_records_when():
    before = datetime.now(UTC)
    bump_content_version()
    version = ContentVersion.objects.get(pk=1)
    assert version.last_changed is not None and version.last_changed >= before.replace(
        microsecond=0
    )


def test_the_report_page_is_plain_html_with_the_whole_report(client, two_goal_stack):
    response = client.get(f"{PAGE}?{QUERY}")
    html = response.content.decode()

    assert response.status_code == 200
    assert '<article class="report"' in html
    report = html[html.index('<article class="report"') : html.index("</article>")]
    assert "<script" not in report and "hx-" not in report
    for expected in ("Synthetic Alpha", "Synthetic Beta", "Synthetic Excluded", "PMID 0000001"):
        assert expected in report
    assert f'href="/stack/report.pdf?{QUERY.replace("&", "&amp;")}' in html or (
        'href="/stack/report.pdf?' in html
    )
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/0000001/"' in report
    assert "css/report.css" in html


def test_the_builder_links_to_the_report_of_the_same_choices(client, two_goal_stack):
    html = client.get(f"/?{QUERY}").content.decode()
    assert "Report for your clinician" in html
    assert (
        "/stack/report/?condition=pregnancy&amp;goals=synthetic-focus&amp;goals=synthetic-sleep"
        in (html)
    )
    assert "/stack/report.pdf?condition=pregnancy&amp;goals=synthetic-focus" in html


@pytest.mark.parametrize("path", [PAGE, PDF])
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("goals=no-such-goal", "Select a valid choice"),
        ("", "Pick at least one goal"),
        ("goals=synthetic-sleep&budget=-1", "Monthly budget"),
        ("goals=synthetic-sleep&condition=flu", "Select a valid choice"),
    ],
)
def test_bad_report_input_is_400_with_a_message(client, two_goal_stack, path, query, message):
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.parametrize("path", [PAGE, PDF])
def test_too_many_goals_is_400_with_a_message(client, path):
    goals = [make_goal() for _ in range(MAX_GOALS + 1)]
    response = client.get(path + "?" + "&".join(f"goals={g.slug}" for g in goals))
    assert response.status_code == 400
    assert f"Pick at most {MAX_GOALS} goals" in response.content.decode()


def test_a_report_page_without_a_stack_says_so(client):
    goal = make_goal(name="Synthetic empty goal")
    response = client.get(f"{PAGE}?goals={goal.slug}")
    assert response.status_code == 200
    assert "No compound fits these goals and choices." in response.content.decode()


def stacked_goals(count: int, per_goal: int):
    """Goals each with rated, dosed, contraindicated and interacting compounds, each with
    findings from two studies, so that every read of the report happens."""
    goals = [make_goal() for _ in range(count)]
    for goal in goals:
        compounds = []
        for i in range(per_goal):
            compound = make_rated_compound(goal, tier_number=2 + i % 3, findings=2)
            make_dosing(compound)
            make_contraindication(compound, Condition.KIDNEY_DISEASE if i else "pregnancy")
            compounds.append(compound)
        for a, b in combinations(sorted(c.pk for c in compounds), 2):
            Interaction.objects.create(
                compound_a_id=a, compound_b_id=b, severity="minor", note="Synthetic note"
            )
    return goals


@pytest.mark.parametrize("goal_count", [1, 3])
@pytest.mark.parametrize("per_goal", [2, 6])
def test_the_report_page_reads_a_fixed_number_of_queries(
    client, no_cache, goal_count, per_goal, django_assert_max_num_queries
):
    goals = stacked_goals(goal_count, per_goal)
    query = "&".join(f"goals={g.slug}" for g in goals) + "&condition=pregnancy"
    # The content version twice (the page cache's key, the report's date), the goals asked
    # for, the stack (at most five: with the cache off, which compounds have an interaction
    # is read each time), and the picks' places, ratings, findings, doses and
    # contraindications: one query each, whatever the number of goals and picks.
    with django_assert_max_num_queries(13):
        response = client.get(f"{PAGE}?{query}")
    assert response.status_code == 200
    assert response.content.decode().count('class="report-section report-compound"') >= goal_count


@pytest.mark.parametrize("path", [PAGE, PDF])
def test_the_report_answers_head_like_get(client, two_goal_stack, path):
    response = client.head(f"{path}?{QUERY}")
    assert response.status_code == 200
    assert response.content == b""
