"""The evidence page's table of studies and findings: one row group per study, a row per finding.

Drawn in Python rather than by the template (like the forest plot, evidence.charts): a page
lists up to forty findings, each with its provenance, and in the template the table was most
of the page's rendering. Every text is escaped here (line breaks in notes and quotes kept as
<br>, as `linebreaksbr` keeps them), so the string is safe to mark safe.

Each entry is what evidence.views.evidence_detail builds: {"study": Study, "findings": [row]},
each row {"finding", "effect", "dose", "significant", "favours", "comparator",
"comparator_link"}.
"""

from collections.abc import Iterable, Mapping
from html import escape

from django.template.defaultfilters import linebreaksbr

SIGNIFICANCE = {
    True: '<span class="yes">Yes</span>',
    False: '<span class="no">No</span>',
}
NOT_ASSESSABLE = '<span class="na">Not assessable</span>'


def study_groups_html(entries: Iterable[Mapping]) -> str:
    """Every study's row group (<tbody>): the study's cell, spanning its findings' rows, then
    each finding's outcome, comparator, effect, significance and favoured side."""
    groups = []
    for entry in entries:
        study, rows = entry["study"], entry["findings"]
        cells = [_finding_cells(row, study) for row in rows]
        if cells:
            cells[0] = _study_cell(study, len(rows)) + cells[0]
        groups.append(
            '<tbody class="study-group">' + "".join(f"<tr>{row}</tr>" for row in cells) + "</tbody>"
        )
    return "\n".join(groups)


def _study_cell(study, rowspan: int) -> str:
    title = escape(study.title) if study.title else '<span class="muted">Title not reported</span>'
    if study.year:
        title += f" ({escape(str(study.year))})"
    design = escape(study.get_design_display())
    if study.design_detail:
        design += f", {escape(study.design_detail)}"
    participants = f"n = {escape(str(study.n))}" if study.n else "n not reported"
    if study.trial_count:
        plural = "" if study.trial_count == 1 else "s"
        participants += f" in {escape(str(study.trial_count))} trial{plural}"
    facts = [f"<dt>Design</dt><dd>{design}</dd>", f"<dt>Participants</dt><dd>{participants}</dd>"]
    for label, value in (
        ("Population", study.population),
        ("Country", study.country),
        ("Duration", study.duration),
        ("Follow-up", study.follow_up),
    ):
        if value:
            facts.append(f"<dt>{label}</dt><dd>{escape(value)}</dd>")
    parts = [
        f'<th scope="rowgroup" rowspan="{rowspan}" class="study-cell">',
        f'<span class="study-title">{title}</span>',
        f'<dl class="study-facts">{"".join(facts)}</dl>',
    ]
    if url := study.citation_url:
        if study.pmid:
            label = f"PubMed {escape(study.pmid)}"
        elif study.doi:
            label = f"doi:{escape(study.doi)}"
        else:
            label = "Source"
        parts.append(
            f'<p class="study-citation"><a href="{escape(url)}" rel="noopener">{label}'
            f'<span class="visually-hidden"> for {escape(study.display_title)}</span></a></p>'
        )
    if source := study.source:
        provenance = f"From {_source_link(source)} ({_licence_link(source)})"
        if study.source_record_id:
            provenance += f", record {escape(study.source_record_id)}"
        if study.contributor:
            provenance += f", contributed by {escape(study.contributor)}"
        parts.append(f'<p class="study-provenance small">{provenance}</p>')
    if article := study.reported_in:
        if article.is_published:
            named = f'<a href="{escape(article.get_absolute_url())}">{escape(article.title)}</a>'
        else:
            named = f"“{escape(article.title)}”"
        parts.append(f'<p class="study-provenance small">As reported in {named}</p>')
    if not study.reviewed:
        parts.append('<p class="notice small">Not yet reviewed by our editors</p>')
    parts.append("</th>")
    return "".join(parts)


def _finding_cells(row: Mapping, study) -> str:
    finding = row["finding"]
    effect = escape(row["effect"])
    if finding.direction:
        stated = escape(finding.get_direction_display().lower())
        effect += f'<br><span class="small">The source states: {stated}</span>'
    link = row["comparator_link"]
    if link:
        name = finding.comparator_name or link.name
        comparator = (
            f"{escape(finding.get_comparator_display())}: "
            f'<a href="{escape(link.get_absolute_url())}">{escape(name)}</a>'
        )
    else:
        comparator = escape(row["comparator"])
    significance = SIGNIFICANCE.get(row["significant"], NOT_ASSESSABLE)
    return (
        f'<td data-label="Outcome"><span>{_outcome(row, finding, study)}</span></td>'
        f'<td data-label="Comparator"><span>{comparator}</span></td>'
        f'<td class="effect" data-label="Effect (95% CI)"><span>{effect}</span></td>'
        f'<td data-label="Significant"><span>{significance}</span></td>'
        f'<td data-label="Favours"><span>{escape(row["favours"])}</span></td>'
    )


def _outcome(row: Mapping, finding, study) -> str:
    """The outcome, what kind of evidence it is, the dose studied, the notes and the quote from
    the source, the source's own direction and grade, where the finding came from, and
    whether our editors have reviewed it."""
    parts = [escape(finding.outcome)]
    if finding.outcome_kind == "surrogate":
        parts.append(' <span class="small muted">(biomarker: indirect evidence)</span>')
    if row["dose"]:
        parts.append(f'<br><span class="small">Dose studied: {escape(row["dose"])}</span>')
    if finding.notes:
        parts.append(f'<br><span class="small muted">{linebreaksbr(finding.notes)}</span>')
    if finding.quote:
        parts.append(
            f'<blockquote class="source-quote small">{linebreaksbr(finding.quote)}</blockquote>'
        )
    if finding.source_grade or finding.source_direction:
        said = []
        if finding.source_direction:
            said.append(f"direction “{escape(finding.source_direction)}”")
        if finding.source_grade:
            said.append(
                f"graded “{escape(finding.source_grade)}” ({escape(finding.source_grade_scale)})"
            )
        parts.append(f'<br><span class="small muted">In the source: {", ".join(said)}</span>')
    source = study.source
    record, contributor = finding.source_record_id, finding.contributor
    if source or record or contributor:
        told = []
        if source:
            told.append(f"Source: {_source_link(source)} ({_licence_link(source)})")
        if record:
            told.append(f"{'record' if source else 'Record'} {escape(record)}")
        if contributor:
            told.append(
                f"{'contributed' if source or record else 'Contributed'} by {escape(contributor)}"
            )
        parts.append(f'<br><span class="small muted finding-provenance">{", ".join(told)}</span>')
    if not finding.reviewed:
        note = f": {escape(finding.review_note)}" if finding.review_note else ""
        parts.append(
            '<br><span class="notice small finding-review">Flagged for our editors\' review'
            f"{note}</span>"
        )
    return "".join(parts)


def _source_link(source) -> str:
    if source.url:
        return f'<a href="{escape(source.url)}" rel="noopener">{escape(source.name)}</a>'
    return escape(source.name)


def _licence_link(source) -> str:
    return (
        f'<a href="{escape(source.licence_url)}" rel="license noopener">'
        f"{escape(source.licence)}</a>"
    )
