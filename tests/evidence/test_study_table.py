"""The evidence page's table of studies drawn in Python (evidence.study_table): what each study
and finding says, where it came from, and that every text is shown as text."""

from datetime import date
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evidence.models import Article, Compound, Finding, Source, Study
from evidence.study_table import study_groups_html

SOURCE = Source(
    name="Synthetic open dataset",
    slug="synthetic-open-dataset",
    url="https://example.org/synthetic",
    licence="CC BY 4.0",
    licence_url="https://creativecommons.org/licenses/by/4.0/",
    retrieved=date(2026, 1, 1),
)


def study(**values) -> Study:
    fields = {
        "slug": "synthetic-trial",
        "title": "Synthetic trial A",
        "year": 2024,
        "design": Study.Design.RCT,
        "n": 120,
        "reviewed": True,
    }
    return Study(**(fields | values))


def finding(**values) -> Finding:
    fields = {"outcome": "Synthetic outcome", "comparator": "placebo", "reviewed": True}
    return Finding(**(fields | values))


def row(the_finding=None, **values) -> dict:
    fields = {
        "finding": the_finding or finding(),
        "effect": "OR 0.54 (95% CI 0.30–0.97)",
        "dose": "",
        "significant": True,
        "favours": "Synthetic compound",
        "comparator": "Placebo",
        "comparator_link": None,
    }
    return fields | values


def table(the_study=None, rows=None) -> str:
    return study_groups_html([{"study": the_study or study(), "findings": rows or [row()]}])


class Parsed(HTMLParser):
    def __init__(self):
        super().__init__()
        self.text, self.links, self.tags = [], [], []

    def handle_data(self, data):
        self.text.append(data)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.links += [value for name, value in attrs if name == "href"]


def parse(html: str) -> Parsed:
    parsed = Parsed()
    parsed.feed(html)
    return parsed


def text_of(html: str) -> str:
    return "".join(parse(html).text)


def test_a_study_spans_its_findings_rows_and_says_what_it_was():
    html = table(rows=[row(), row(finding(outcome="Second outcome"))])
    assert html.count('<tbody class="study-group">') == 1
    assert html.count("<tr>") == 2
    assert '<th scope="rowgroup" rowspan="2" class="study-cell">' in html
    text = text_of(html)
    assert "Synthetic trial A (2024)" in text
    assert "DesignRandomised controlled trial" in text
    assert "Participantsn = 120" in text
    assert "Synthetic outcome" in text and "Second outcome" in text


def test_what_a_study_does_not_report_is_said_so():
    text = text_of(table(study(title="", year=None, n=None)))
    assert "Title not reported" in text
    assert "n not reported" in text
    assert "Population" not in text and "Country" not in text


def test_trials_pooled_in_a_study_are_counted():
    assert "n = 900 in 3 trials" in text_of(table(study(n=900, trial_count=3)))
    assert "n = 300 in 1 trial" in text_of(table(study(n=300, trial_count=1)))


@pytest.mark.parametrize(
    ("ids", "label", "link"),
    [
        ({"pmid": "12345678"}, "PubMed 12345678", "https://pubmed.ncbi.nlm.nih.gov/12345678/"),
        (
            {"doi": "10.1000/synthetic"},
            "doi:10.1000/synthetic",
            "https://doi.org/10.1000/synthetic",
        ),
        ({"url": "https://example.org/trial"}, "Source", "https://example.org/trial"),
    ],
)
def test_a_study_links_its_one_citation(ids, label, link):
    html = table(study(**ids))
    assert link in parse(html).links
    assert f"{label} for Synthetic trial A" in text_of(html)


def test_a_study_without_an_address_has_no_citation_link():
    assert "study-citation" not in table()


def test_a_study_from_an_open_dataset_names_it_its_licence_and_its_record():
    the_study = study(source=SOURCE, source_record_id="SYN-1", contributor="Synthetic editor")
    html = table(the_study, [row(finding(source_record_id="SYN-1-a"))])
    text = text_of(html)
    assert (
        "From Synthetic open dataset (CC BY 4.0), record SYN-1, contributed by Synthetic editor"
        in text
    )
    assert "Source: Synthetic open dataset (CC BY 4.0), record SYN-1-a" in text
    assert {SOURCE.url, SOURCE.licence_url} <= set(parse(html).links)


@pytest.mark.parametrize(
    ("source", "record", "contributor", "said"),
    [
        (None, "R-1", "", "Record R-1"),
        (None, "R-1", "Ann", "Record R-1, contributed by Ann"),
        (None, "", "Ann", "Contributed by Ann"),
        (SOURCE, "", "Ann", "Source: Synthetic open dataset (CC BY 4.0), contributed by Ann"),
    ],
)
def test_a_findings_provenance_reads_as_a_sentence(source, record, contributor, said):
    the_finding = finding(source_record_id=record, contributor=contributor)
    assert said in text_of(table(study(source=source), [row(the_finding)]))


def test_a_finding_without_provenance_draws_none():
    assert "finding-provenance" not in table()


def test_a_study_reported_in_a_deep_dive_links_it_only_when_published():
    compound = Compound(slug="synthetic-compound", name="Synthetic compound", published=True)
    article = Article(slug="synthetic-dive", title="Synthetic dive", compound=compound)
    article.published = True
    html = table(study(reported_in=article))
    assert "As reported in Synthetic dive" in text_of(html)
    assert article.get_absolute_url() in parse(html).links
    article.published = False
    assert "As reported in “Synthetic dive”" in text_of(table(study(reported_in=article)))


def test_unreviewed_studies_and_findings_are_flagged():
    the_finding = finding(reviewed=False, review_note="Synthetic check")
    text = text_of(table(study(reviewed=False), [row(the_finding)]))
    assert "Not yet reviewed by our editors" in text
    assert "Flagged for our editors' review: Synthetic check" in text


def test_what_the_source_says_is_kept_in_its_own_words():
    the_finding = finding(
        quote="First line\nsecond line",
        source_direction="improved",
        source_grade="B",
        source_grade_scale="Synthetic scale",
        direction=Finding.Direction.BENEFIT,
        outcome_kind=Finding.OutcomeKind.SURROGATE,
    )
    html = table(rows=[row(the_finding, dose="200 mg daily")])
    assert "First line<br>second line" in html
    text = text_of(html)
    assert "In the source: direction “improved”, graded “B” (Synthetic scale)" in text
    assert "The source states: benefit" in text
    assert "(biomarker: indirect evidence)" in text
    assert "Dose studied: 200 mg daily" in text


@pytest.mark.parametrize(
    ("significant", "said"),
    [
        (True, '<span class="yes">Yes'),
        (False, '<span class="no">No'),
        (None, '<span class="na">Not assessable'),
    ],
)
def test_significance_is_said_in_words_with_its_class(significant, said):
    assert f"{said}</span>" in table(rows=[row(significant=significant)])


def test_a_published_comparator_compound_is_linked():
    other = Compound(slug="synthetic-other", name="Synthetic other")
    the_finding = finding(comparator=Finding.Comparator.ACTIVE, comparator_name="")
    html = table(rows=[row(the_finding, comparator_link=other)])
    assert "Active comparator: Synthetic other" in text_of(html)
    assert other.get_absolute_url() in parse(html).links


def test_no_studies_draw_nothing():
    assert study_groups_html([]) == ""


@given(
    title=st.text(min_size=1, max_size=40).filter(str.strip),
    outcome=st.text(min_size=1, max_size=40),
    notes=st.text(max_size=60),
)
def test_any_title_outcome_or_note_is_shown_as_text_never_as_markup(title, outcome, notes):
    the_finding = finding(outcome=outcome, notes=notes)
    parsed = parse(table(study(title=title), [row(the_finding)]))
    assert set(parsed.tags) <= {"tbody", "tr", "th", "td", "span", "dl", "dt", "dd", "br"}
    text = "".join(parsed.text).replace("\r", "")
    assert title.replace("\r", "") in text
    assert outcome.replace("\r", "") in text
