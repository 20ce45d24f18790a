"""The clinician's report of one stack: what the builder shows for the same choices, with the
evidence a clinician asks for beside each compound, as a print-ready page and a PDF.

`build_report` reads the stack (stacks.ranking.build_stack) and then, in a fixed number of
queries whatever the size of the stack: each pick's place for each goal it serves (tier or
computed certainty with the certainty's steps, from the precomputed GoalScore rows), its
ratings' review dates, its key findings with their effect, CI and citation, its doses as
studied, its contraindications, and the date and number of the content version it was built
from. `render_pdf` turns the report page's HTML into a PDF with WeasyPrint and Debian's fonts;
the same HTML always gives the same bytes (fixed metadata, no render time inside).
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.contrib.staticfiles import finders
from django.db.models import Q
from django.utils import timezone

from evidence.certainty import Level, Step
from evidence.formatting import format_dose, format_effect, format_significance
from evidence.models import (
    Compound,
    Condition,
    ContentVersion,
    Contraindication,
    Dosing,
    Finding,
    Goal,
    Rating,
    Study,
)
from stacks.models import GoalScore
from stacks.ranking import Constraints, Exclusion, Stack, StackWarning, build_stack

# Findings shown per compound and goal, strongest study designs first; the evidence page
# lists them all.
KEY_FINDINGS = 8
STYLESHEET = "css/report.css"
PDF_AUTHOR = "Evidence Stack Builder"


@dataclass(frozen=True)
class Citation:
    """How a study is cited: its identifiers as text, each with its link, and its provenance
    (the source it was taken from, the article that reports it) when it has one."""

    links: tuple[tuple[str, str], ...]  # (text, url): "PMID 123", "doi:10.1/x", an address
    provenance: tuple[tuple[str, str], ...]  # (text, url or ""): "From <source> (<licence>)"


@dataclass(frozen=True)
class KeyFinding:
    study: str  # title (year)
    design: str
    participants: str
    outcome: str
    comparator: str
    effect: str  # "HR 0.31 (95% CI 0.18–0.54), p<0.001"
    significant: str
    dose: str  # the dose studied, or "not reported"
    citation: Citation


@dataclass(frozen=True)
class GoalEvidence:
    """One pick's evidence for one goal it serves."""

    goal: Goal
    tier_number: int | None
    tier_label: str
    computed: bool  # placed by the computed certainty: no editor's tier
    certainty_label: str
    certainty_steps: tuple[Step, ...]
    bottom_line: str
    last_reviewed: date | None
    review_due: bool
    study_count: int
    randomised_study_count: int
    participants: int
    findings: tuple[KeyFinding, ...]
    finding_count: int


@dataclass(frozen=True)
class ContraindicationNote:
    condition: str
    note: str
    declared: bool  # the visitor declared this condition


@dataclass(frozen=True)
class ReportCompound:
    slug: str
    name: str
    kind: str
    goals: tuple[GoalEvidence, ...]
    doses: tuple[str, ...]  # as studied or reported by the sources, never advice
    contraindications: tuple[ContraindicationNote, ...]
    warnings: tuple[StackWarning, ...]  # the stack's warnings that name this compound


@dataclass(frozen=True)
class GoalExclusions:
    goal: Goal
    excluded: tuple[Exclusion, ...]
    total: int


@dataclass(frozen=True)
class StackReport:
    stack: Stack
    conditions: tuple[str, ...]  # the declared conditions, in words
    filters: tuple[str, ...]  # the visitor's other constraints, in words
    compounds: tuple[ReportCompound, ...]
    exclusions: tuple[GoalExclusions, ...]
    content_version: int
    content_date: date | None  # when that content version was made (None: not recorded)

    @property
    def excluded_count(self) -> int:
        return sum(group.total for group in self.exclusions)


def build_report(goals: Sequence[Goal], constraints: Constraints, limit: int) -> StackReport:
    """The report of the stack `build_stack(goals, constraints, limit=limit)` builds: at most
    nine queries whatever the number of goals, picks and findings. The stack comes without
    its "why this rank" (the rankings the builder drew are shared): each pick's evidence is
    read here, whole."""
    stack = build_stack(goals, constraints, limit=limit, with_why=False)
    goal_by_slug = {goal.slug: goal for goal in stack.goals}
    served = {pick.compound.slug: set(pick.goal_scores) for pick in stack.picks}
    rows = {
        (row.slug, row.goal_id): row
        for row in GoalScore.objects.filter(
            slug__in=served, goal_id__in=[g.pk for g in stack.goals]
        )
    }
    compound_ids = {slug: row.compound_id for (slug, _), row in rows.items()}
    ids = set(compound_ids.values())
    goal_ids = [g.pk for g in stack.goals]
    ratings = {
        (r.compound_id, r.goal_id): r
        for r in Rating.objects.filter(compound_id__in=ids, goal_id__in=goal_ids).only(
            "compound_id", "goal_id", "last_reviewed"
        )
    }
    findings: dict[tuple[int, int], list[Finding]] = defaultdict(list)
    for finding in Finding.objects.filter(compound_id__in=ids, goal_id__in=goal_ids).select_related(
        "study__source", "study__reported_in__compound", "study__reported_in__goal"
    ):
        findings[(finding.compound_id, finding.goal_id)].append(finding)
    doses: dict[int, list[Dosing]] = defaultdict(list)
    for dosing in (
        Dosing.objects.filter(compound_id__in=ids)
        .filter(Q(goal__isnull=True) | Q(goal_id__in=goal_ids))
        .select_related("goal")
        .order_by("pk")
    ):
        doses[dosing.compound_id].append(dosing)
    contraindications: dict[int, list[Contraindication]] = defaultdict(list)
    for contraindication in Contraindication.objects.filter(compound_id__in=ids).order_by(
        "condition"
    ):
        contraindications[contraindication.compound_id].append(contraindication)
    today = timezone.localdate()

    compounds = []
    for pick in stack.picks:
        entry = pick.compound
        compound_id = compound_ids.get(entry.slug)
        evidence = []
        for goal in stack.goals:
            row = rows.get((entry.slug, goal.pk))
            if goal.slug not in served[entry.slug] or row is None:
                continue
            rating = ratings.get((compound_id, goal.pk))
            goal_findings = sorted(findings[(compound_id, goal.pk)], key=_strongest_first)
            evidence.append(
                GoalEvidence(
                    goal=goal_by_slug[goal.slug],
                    tier_number=row.tier_number,
                    tier_label=row.tier_label,
                    computed=row.computed,
                    certainty_label=Level(row.certainty).label
                    if row.certainty
                    else "Not assessable",
                    certainty_steps=tuple(Step(**step) for step in row.certainty_steps),
                    bottom_line=row.bottom_line,
                    last_reviewed=rating.last_reviewed if rating else None,
                    review_due=rating.is_review_due(today) if rating else False,
                    study_count=row.study_count,
                    randomised_study_count=row.randomised_study_count,
                    participants=row.participants,
                    findings=tuple(_key_finding(f) for f in goal_findings[:KEY_FINDINGS]),
                    finding_count=len(goal_findings),
                )
            )
        compounds.append(
            ReportCompound(
                slug=entry.slug,
                name=entry.name,
                kind=Compound.Kind(entry.kind).label,
                goals=tuple(evidence),
                doses=tuple(_dose(d) for d in doses[compound_id]),
                contraindications=tuple(
                    ContraindicationNote(
                        Condition(c.condition).label, c.note, c.condition in constraints.conditions
                    )
                    for c in contraindications[compound_id]
                ),
                warnings=tuple(w for w in stack.warnings if entry.slug in w.compounds),
            )
        )
    version = ContentVersion.objects.filter(pk=1).first() or ContentVersion(version=0)
    changed_at = version.last_changed
    return StackReport(
        stack=stack,
        conditions=tuple(sorted(Condition(c).label for c in constraints.conditions)),
        filters=_filters(constraints),
        compounds=tuple(compounds),
        exclusions=tuple(
            GoalExclusions(ranking.goal, ranking.excluded, ranking.totals.get("excluded", 0))
            for ranking in stack.rankings
            if ranking.excluded
        ),
        content_version=version.version,
        content_date=timezone.localdate(changed_at) if changed_at else None,
    )


def _strongest_first(finding: Finding):
    study = finding.study
    return (Study.DESIGN_RANK.get(study.design, 99), -(study.n or 0), study.slug, finding.outcome)


def _key_finding(finding: Finding) -> KeyFinding:
    study = finding.study
    design = study.get_design_display()
    if study.design_detail:
        design += f", {study.design_detail}"
    participants = f"n = {study.n}" if study.n else "n not reported"
    if study.trial_count:
        participants += f" in {study.trial_count} trial{'s' if study.trial_count != 1 else ''}"
    comparator = finding.get_comparator_display()
    if finding.comparator_name:
        comparator += f": {finding.comparator_name}"
    return KeyFinding(
        study=study.title_with_year,
        design=design,
        participants=participants,
        outcome=finding.outcome,
        comparator=comparator,
        effect=format_effect(finding),
        significant=format_significance(finding.significant),
        dose=format_dose(finding) or "not reported",
        citation=citation(study),
    )


def citation(study: Study) -> Citation:
    """A study's PMID, DOI and address as text with their links, and its provenance."""
    links = []
    if study.pmid:
        links.append((f"PMID {study.pmid}", study.pubmed_url))
    if study.doi:
        links.append((f"doi:{study.doi}", study.doi_url))
    if study.url and not links:
        links.append((study.url, study.url))
    provenance = []
    if source := study.source:
        text = f"From {source.name} ({source.licence})"
        if study.source_record_id:
            text += f", record {study.source_record_id}"
        provenance.append((text, source.url))
    if article := study.reported_in:
        url = article.get_absolute_url() if article.is_published else ""
        provenance.append((f"As reported in “{article.title}”", url))
    return Citation(tuple(links), tuple(provenance))


def _dose(dosing: Dosing) -> str:
    text = dosing.describe() or dosing.dose_text()
    if not dosing.frequency:
        text += " (frequency not reported)"
    if dosing.duration:
        text += f", for {dosing.duration}"
    if dosing.goal_id:
        text += f" (for {dosing.goal.name.lower()})"
    return text


def _filters(constraints: Constraints) -> tuple[str, ...]:
    filters = []
    if constraints.no_injections:
        filters.append("No injections")
    if constraints.excluded_kinds:
        kinds = ", ".join(sorted(Compound.Kind(k).label for k in constraints.excluded_kinds))
        filters.append(f"Leaving out: {kinds}")
    if constraints.min_tier is not None:
        filters.append(f"Tier {constraints.min_tier} or better")
    if constraints.in_stock_only:
        filters.append("Only with an offer in stock")
    if constraints.monthly_budget is not None:
        filters.append(f"Monthly budget {constraints.monthly_budget} {constraints.currency}")
    return tuple(filters)


def render_pdf(html: str, base_url: str, title: str, created: date | None) -> bytes:
    """The report page's HTML as a PDF (A4, Debian's fonts, the report's print stylesheet).

    The document's metadata is fixed (title, author, the content version's date as its
    creation and modification date), so the same HTML gives byte-identical PDFs."""
    from weasyprint import CSS, HTML  # imported here: loading Pango is not free

    stylesheet = CSS(filename=Path(finders.find(STYLESHEET)))
    document = HTML(string=html, base_url=base_url).render(stylesheets=[stylesheet])
    stamp = created.isoformat() if created else None
    document.metadata.title = title
    document.metadata.authors = [PDF_AUTHOR]
    document.metadata.created = stamp
    document.metadata.modified = stamp
    return document.write_pdf()
