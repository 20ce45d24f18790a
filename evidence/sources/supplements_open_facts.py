"""Import the open dataset "Supplements Open Facts" (CC BY 4.0) into the evidence model.

The snapshot (a folder: NOTICE.md, README.md, vocab/, schemas/, supplements/<slug>/meta.yml
and supplements/<slug>/claims/<type>/*.yml) is converted into one interchange v2 document,
which `evidence.interchange.import_document` validates through the models' own full_clean()
and constraints and writes all-or-nothing and idempotently. Around it, in the same
transaction and bulk edit, the studies of this source that the snapshot no longer holds are
deleted, so a newer snapshot adds, changes and removes exactly what changed in it.

Every claim file is counted: imported, flagged for an editor's review (imported, with the
reason), or rejected (not imported, with the reason). docs/open-data.md describes each choice;
the vocabulary mapping lives beside this module in supplements_open_facts.yml.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml
from django.db import transaction

from evidence.batch import bulk_edit
from evidence.interchange import (
    FORMAT,
    VERSION,
    ImportReport,
    ValidationFailed,
    compound_entry,
    import_document,
    study_entry,
)
from evidence.models import Compound, Finding, Goal, Source, Study, Unit

SLUG = "supplements-open-facts"
NAME = "Supplements Open Facts"
REPOSITORY_URL = "https://github.com/eric-edouard/supplements-open-data"
LICENCE = "CC BY 4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
GRADE_SCALE = "Supplements Open Facts strength scale"
MAPPING_FILE = Path(__file__).with_suffix(".yml")

CLAIM_TYPES = ("effects", "biomarkers")  # the others have no place in the model yet
DIRECTION_WORDS = ("positive", "negative", "neutral")
GRADES = ("strong", "moderate", "weak", "none")
KINDS = ("intended", "adverse", "neutral")
# The grade's meaning in terms of significance, from the dataset's README ("Strength scale"):
# strong = primary outcome, p < 0.05; moderate = significant secondary outcome OR a trend
# (0.05-0.10), so it does not say; weak = non-significant change; none = "no effect".
GRADE_SIGNIFICANCE = {"strong": True, "moderate": None, "weak": False, "none": False}
# The dataset's dose units, as (our unit, per kg of body weight, factor).
DOSE_UNITS = {
    "microgram": (Unit.MCG, False, Decimal(1)),
    "milligram": (Unit.MG, False, Decimal(1)),
    "gram": (Unit.G, False, Decimal(1)),
    "kilogram": (Unit.G, False, Decimal(1000)),
    "IU": (Unit.IU, False, Decimal(1)),
    "millilitre": (Unit.ML, False, Decimal(1)),
    "mg/kg": (Unit.MG, True, Decimal(1)),
    "g/kg": (Unit.G, True, Decimal(1)),
}
# Above this many grams in one dose (not per kg) a supplement dose is implausible: flagged.
PLAUSIBLE_GRAMS = Decimal(100)
NO_DOSE = {"dose": None, "dose_max": None, "dose_unit": "", "dose_per_kg": False}
TIMING = {
    "upon-waking": "upon waking",
    "morning": "morning",
    "afternoon": "afternoon",
    "evening": "evening",
    "bedtime": "bedtime",
    "pre-meal": "before a meal",
    "with-meal": "with a meal",
    "post-meal": "after a meal",
    "between-meals": "between meals",
    "empty-stomach": "on an empty stomach",
    "pre-exercise": "before exercise",
    "intra-exercise": "during exercise",
    "post-exercise": "after exercise",
}
QUOTE_SECTIONS = {"abstract": "Abstract", "paper_content": "Paper"}
DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
NOTICE_RE = re.compile(r"commit ([0-9a-f]{40}) \((\d{4}-\d{2}-\d{2})\)")
FINDING_PATH_RE = re.compile(r"^studies\[(\d+)\]\.findings\[(\d+)\]")


# libyaml's loader when PyYAML was built with it (ten times faster), the same safe subset.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SnapshotError(Exception):
    """The snapshot as a whole cannot be read (no notice, no supplements folder)."""


@dataclass
class Claim:
    path: str  # within the snapshot, e.g. supplements/creatine/claims/effects/x.yml
    status: str = "imported"  # imported / flagged / rejected
    reasons: list[str] = field(default_factory=list)


@dataclass
class SourceReport:
    claims: list[Claim] = field(default_factory=list)
    flagged_aliases: list[tuple[str, str, str]] = field(default_factory=list)
    rejected_supplements: list[tuple[str, str]] = field(default_factory=list)
    without_claims: list[str] = field(default_factory=list)
    no_longer_in_source: list[str] = field(default_factory=list)
    version: str = ""
    database: ImportReport | None = None
    studies_removed: int = 0
    findings_removed: int = 0

    def count(self, status: str) -> int:
        return sum(1 for c in self.claims if c.status == status)

    def lines(self) -> list[str]:
        imported, flagged = self.count("imported"), self.count("flagged")
        out = [
            f"{NAME} at {self.version}: {len(self.claims)} claim files: "
            f"{imported + flagged} imported ({flagged} of them flagged for review), "
            f"{self.count('rejected')} rejected."
        ]
        for status in ("flagged", "rejected"):
            for claim in self.claims:
                if claim.status == status:
                    out.append(f"  {status}: {claim.path}: {'; '.join(claim.reasons)}")
        for compound, alias, reason in self.flagged_aliases:
            out.append(f'  alias flagged: "{alias}" of {compound}: {reason}')
        for folder, reason in self.rejected_supplements:
            out.append(f"  supplement rejected: {folder}: {reason}")
        if self.without_claims:
            out.append(
                f"{len(self.without_claims)} supplements without claims (shown as no evidence "
                f"recorded yet): {', '.join(self.without_claims)}"
            )
        if self.no_longer_in_source:
            out.append(
                "No longer in the snapshot, kept for an editor to decide: "
                + ", ".join(self.no_longer_in_source)
            )
        if self.database is not None:
            out.append(f"Database: {self.database.summary()}")
            out.append(
                f"Removed (no longer in the snapshot): {self.studies_removed} studies, "
                f"{self.findings_removed} findings."
            )
        return out


# Reading the snapshot ----------------------------------------------------------------------------


def load_mapping() -> dict:
    return yaml.safe_load(MAPPING_FILE.read_text(encoding="utf-8"))


def read_notice(root: Path) -> tuple[str, date]:
    """The commit and date the snapshot was taken at, from its NOTICE.md."""
    try:
        text = (root / "NOTICE.md").read_text(encoding="utf-8")
    except OSError as exc:
        raise SnapshotError(f"{root}: no readable NOTICE.md ({exc.strerror or exc})") from exc
    match = NOTICE_RE.search(text)
    if not match:
        raise SnapshotError(f"{root}/NOTICE.md does not name the commit and its date")
    return match.group(1), date.fromisoformat(match.group(2))


def source_entry(commit: str, taken: date) -> dict:
    return {
        "slug": SLUG,
        "name": NAME,
        "publisher": "Supplements Open Facts contributors (GitHub: eric-edouard)",
        "url": REPOSITORY_URL,
        "licence": LICENCE,
        "licence_url": LICENCE_URL,
        "version": commit,
        "retrieved": taken.isoformat(),
        "attribution": (
            f"Source: {NAME} ({LICENCE}), by its contributors, snapshot of commit {commit[:7]} "
            f"({taken.isoformat()}). Changed: its claims were mapped to this site's goals, "
            "outcomes and directions."
        ),
        "attribution_required": True,
    }


def _yaml(path: Path):
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER), None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return None, f"not readable YAML ({str(exc).splitlines()[0]})"


def _decimal(raw) -> Decimal | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f")


def sentence(reasons: list[str]) -> str:
    """Reasons as one sentence: "A; b." (empty for none)."""
    text = "; ".join(reasons)
    return f"{text[:1].upper()}{text[1:]}." if text else ""


def quote_text(paper_quotes) -> str:
    """The paper quotes, verbatim, one a line, each after the part of the paper it is from."""
    if not isinstance(paper_quotes, dict):
        return ""
    lines = []
    for section, quotes in paper_quotes.items():
        label = QUOTE_SECTIONS.get(section, str(section))
        for quote in quotes if isinstance(quotes, list) else [quotes]:
            if isinstance(quote, str) and quote.strip():
                lines.append(f"{label}: “{quote.strip()}”")
    return "\n".join(lines)


def direction_of(word: str, higher_is_better: bool | None, kind: str | None):
    """The finding's direction from the claim's word and the outcome's desirable direction:
    (direction, the reason to flag it or None). docs/open-data.md has the table."""
    if word == "neutral":
        return Finding.Direction.NO_DIFFERENCE, None
    if kind == "adverse":
        return Finding.Direction.UNCLEAR, (
            f'an adverse-effect claim: "{word}" may mean the adverse effect rose or fell, or '
            "that the result was bad; direction left unclear"
        )
    if higher_is_better is None:
        return Finding.Direction.UNCLEAR, None
    benefit = (word == "positive") == higher_is_better
    if benefit:
        return Finding.Direction.BENEFIT, None
    if kind == "intended":
        change = "a rise" if word == "positive" else "a fall"
        return Finding.Direction.UNCLEAR, (
            f'"{word}" ({change}) reads as harm for this outcome, but the claim is an intended '
            "effect, where the word may mean a favourable result; direction left unclear"
        )
    return Finding.Direction.HARM, None


def dose_fields(dosage) -> tuple[dict, list[str], list[str]]:
    """(the finding's dose fields, notes, reasons to flag); raises ValueError to reject."""
    if dosage is None:
        return NO_DOSE, [], []
    if not isinstance(dosage, dict):
        raise ValueError(f"dosage {dosage!r} is not a mapping of value, min, max and unit")
    if dosage.get("unit") not in DOSE_UNITS:
        raise ValueError(f"dosage unit {dosage.get('unit')!r} is not one the dataset defines")
    unit, per_kg, factor = DOSE_UNITS[dosage["unit"]]
    amounts = {}
    for key in ("value", "min", "max"):
        if key in dosage:
            amount = _decimal(dosage[key])
            if amount is None or amount <= 0:
                raise ValueError(f"dosage {key} {dosage[key]!r} is not a positive number")
            amounts[key] = amount * factor
    notes = []
    if "min" in amounts:
        low, high = amounts["min"], amounts.get("max")
        if "value" in amounts:
            notes.append(f"Typical dose (source): {_text(amounts['value'])} {unit}")
    elif "value" in amounts:
        low, high = amounts["value"], None
    elif "max" in amounts:
        return NO_DOSE, [f"Dose (source): up to {_text(amounts['max'])} {unit}"], []
    else:
        return NO_DOSE, [], []
    if high is not None and high == low:
        high = None
    if high is not None and high < low:
        raise ValueError(f"dosage max {dosage.get('max')} is below its min {dosage.get('min')}")
    if factor != 1:
        notes.append(f"Dose converted from {dosage['unit']} (source) to {unit}")
    flags = []
    if unit == Unit.G and not per_kg and (high or low) > PLAUSIBLE_GRAMS:
        flags.append(
            f"a dose of {_text(high or low)} g is implausible for a supplement (the source may "
            "mean milligrams); stored as given"
        )
    fields = {
        "dose": _text(low),
        "dose_max": None if high is None else _text(high),
        "dose_unit": unit,
        "dose_per_kg": per_kg,
    }
    return fields, notes, flags


def grade_checks(word: str, grade: str | None, p_value: Decimal | None) -> list[str]:
    """Where the claim contradicts the dataset's own strength scale."""
    flags = []
    if grade is None:
        return flags
    if p_value is not None:
        p = _text(p_value)
        if grade in ("weak", "none") and p_value < Decimal("0.05"):
            flags.append(f'graded "{grade}" (non-significant by its scale) but p = {p}')
        if grade == "strong" and p_value >= Decimal("0.05"):
            flags.append(f'graded "strong" (p < 0.05 by its scale) but p = {p}')
        if grade == "moderate" and p_value > Decimal("0.10"):
            flags.append(f'graded "moderate" (significant, or a trend 0.05-0.10) but p = {p}')
    if word == "neutral" and grade in ("strong", "moderate"):
        flags.append(f'direction "neutral" but graded "{grade}" (a significant change)')
    if word != "neutral" and grade == "none":
        flags.append(f'graded "none" (no effect) but direction "{word}"')
    return flags


def claim_finding(data, claim: Claim, compound: str, claim_type: str, mapping: dict):
    """(the paper's DOI, the finding's interchange entry), or (None, None) with the claim
    marked rejected."""

    def reject(reason):
        claim.status, claim.reasons = "rejected", [reason]
        return None, None

    if not isinstance(data, dict):
        return reject("not a YAML mapping")
    doi = data.get("paper")
    if not isinstance(doi, str) or not DOI_RE.match(doi.strip()):
        return reject(f"paper {doi!r} is not a DOI")
    contributor = data.get("contributor")
    if not isinstance(contributor, str) or not contributor.strip():
        return reject("no contributor")
    word = data.get("direction")
    if word not in DIRECTION_WORDS:
        return reject(f"direction {word!r} is not positive, negative or neutral")
    grade = data.get("strength")
    if grade is not None and grade not in GRADES:
        return reject(f"strength {grade!r} is not one of {', '.join(GRADES)}")
    kind = None
    if claim_type == "effects":
        if grade is None:
            return reject("an effect claim needs its strength")
        slug, kind = data.get("effect"), data.get("kind")
        if kind not in KINDS:
            return reject(f"kind {kind!r} is not intended, adverse or neutral")
        target = mapping["effects"].get(slug)
        if target is None:
            return reject(f"effect {slug!r} is not in the vocabulary mapping")
        goal, outcome, outcome_kind = slug, target["name"], Finding.OutcomeKind.CLINICAL
        higher_is_better = target["higher_is_better"]
    else:
        slug = data.get("biomarker")
        target = mapping["biomarkers"].get(slug)
        if target is None:
            return reject(f"biomarker {slug!r} is not in the vocabulary mapping")
        goal, outcome, outcome_kind = target["goal"], target["outcome"], "surrogate"
        higher_is_better = target["higher_is_better"]

    p_value, p_bound = None, None
    raw_p = data.get("p_value")
    if isinstance(raw_p, str) and raw_p.strip().startswith("<"):
        p_value, p_bound = _decimal(raw_p.strip()[1:].strip()), True
    elif raw_p is not None:
        p_value = _decimal(raw_p)  # a bare number: the dataset does not say if it is exact
    if raw_p is not None and p_value is None:
        return reject(f"p_value {raw_p!r} is not a number")
    try:
        doses, dose_notes, dose_flags = dose_fields(data.get("dosage"))
    except ValueError as exc:
        return reject(str(exc))

    direction, direction_flag = direction_of(word, higher_is_better, kind)
    flags = grade_checks(word, grade, p_value) + dose_flags
    if direction_flag:
        flags.append(direction_flag)
    if kind == "neutral" and word != "neutral":
        flags.append(f'kind "neutral" but direction "{word}"')

    notes = []
    for key, label in (("description", "Description"), ("effect_size", "Effect size")):
        if isinstance(data.get(key), str | int | float) and str(data[key]).strip():
            notes.append(f"{label} (source's words): {str(data[key]).strip()}")
    notes += dose_notes
    onset = data.get("onset_duration")
    if isinstance(onset, dict) and onset.get("unit"):
        span = "–".join(str(onset[k]) for k in ("min", "max") if k in onset)
        amount = str(onset["value"]) if "value" in onset else span
        notes.append(f"Onset (source): {amount} {onset['unit']}".replace("  ", " "))
    if isinstance(data.get("misc"), str) and data["misc"].strip():
        notes.append(f"Note (source): {data['misc'].strip()}")
    timing = data.get("timing")

    entry = {
        "compound": compound,
        "goal": goal,
        "outcome": outcome,
        "comparator": Finding.Comparator.NOT_REPORTED,
        "outcome_kind": outcome_kind,
        "measure": Finding.Measure.QUALITATIVE,
        "p_value": None if p_value is None else _text(p_value),
        "p_value_is_bound": p_bound if p_value is not None else False,
        "stated_significance": (
            GRADE_SIGNIFICANCE.get(grade) if p_value is None and grade is not None else None
        ),
        "higher_is_better": higher_is_better,
        "direction": direction,
        "source_direction": word,
        "source_grade": grade or "",
        "source_grade_scale": GRADE_SCALE if grade else "",
        **doses,
        "dose_timing": TIMING.get(timing, str(timing)) if timing else "",
        "notes": "\n".join(notes),
        "source_record_id": claim.path,
        "contributor": contributor.strip(),
        "quote": quote_text(data.get("paper_quotes")),
        "reviewed": not flags,
        "review_note": sentence(flags),
    }
    if flags:
        claim.status, claim.reasons = "flagged", flags
    return doi.strip(), entry


def study_slug(doi: str) -> str:
    return "doi-" + re.sub(r"[^a-z0-9]+", "-", doi.lower()).strip("-")[:150]


# Building the document ---------------------------------------------------------------------------


@dataclass
class _Build:
    document: dict
    report: SourceReport
    finding_claims: dict[tuple[int, int], Claim]


def build_document(root: Path, skip: frozenset[str] = frozenset()) -> _Build:
    """The snapshot as an interchange v2 document (reading the database only to keep what
    editors decided: their review of unchanged content, and the compounds' other fields)."""
    root = Path(root)
    commit, taken = read_notice(root)
    supplements = root / "supplements"
    if not supplements.is_dir():
        raise SnapshotError(f"{root}: no supplements/ folder")
    mapping = load_mapping()
    report = SourceReport(version=f"commit {commit[:7]} ({taken.isoformat()})")

    metas: dict[str, dict] = {}
    for folder in sorted(p for p in supplements.iterdir() if p.is_dir()):
        meta, error = _yaml(folder / "meta.yml")
        if error is None and not isinstance(meta, dict):
            error = "meta.yml is not a YAML mapping"
        if error is None and meta.get("slug", folder.name) != folder.name:
            error = f"meta.yml slug {meta.get('slug')!r} differs from its folder"
        if error is None and not (isinstance(meta.get("name"), str) and meta["name"].strip()):
            error = "meta.yml has no name"
        if error:
            report.rejected_supplements.append((folder.name, error))
        else:
            metas[folder.name] = meta

    # Claims, grouped into studies by DOI (case-insensitive: one paper is one study).
    studies: dict[str, dict] = {}
    has_claims = set()
    for path in sorted(supplements.glob("*/claims/**/*")):
        if not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        claim = Claim(rel)
        report.claims.append(claim)
        parts = path.relative_to(supplements).parts  # <slug>, claims, <type>, <file>
        claim_type = parts[2] if len(parts) == 4 else None
        if rel in skip:
            continue  # rejected by the models on an earlier pass; the reasons are kept
        if claim_type not in CLAIM_TYPES:
            claim.status = "rejected"
            claim.reasons = [f"claim type {claim_type or '(none)'!r} is not imported (yet)"]
            continue
        if parts[0] not in metas:
            claim.status, claim.reasons = "rejected", ["its supplement's meta.yml was rejected"]
            continue
        if path.suffix not in (".yml", ".yaml"):
            claim.status, claim.reasons = "rejected", ["not a .yml file"]
            continue
        data, error = _yaml(path)
        if error:
            claim.status, claim.reasons = "rejected", [error]
            continue
        doi, entry = claim_finding(data, claim, parts[0], claim_type, mapping)
        if entry is None:
            continue
        study = studies.setdefault(doi.lower(), {"doi": doi, "findings": [], "claims": []})
        key = (entry["compound"], entry["goal"], entry["outcome"])
        if any((f["compound"], f["goal"], f["outcome"]) == key for f in study["findings"]):
            claim.status = "rejected"
            claim.reasons = ["another claim of this paper has the same outcome and supplement"]
            continue
        study["findings"].append(entry)
        study["claims"].append(claim)
        has_claims.add(parts[0])

    source = Source.objects.filter(slug=SLUG).first()
    existing_studies = {}
    if source is not None:
        for study in Study.objects.filter(source=source).prefetch_related(
            "findings__compound", "findings__goal", "findings__comparator_compound"
        ):
            existing_studies[study.slug] = study_entry(study)

    finding_claims = {}
    study_entries = []
    for doi_key in sorted(studies):
        study = studies[doi_key]
        slug = study_slug(study["doi"])
        contributors = sorted({f["contributor"] for f in study["findings"]})
        entry = {
            "slug": slug,
            "title": "",
            "design": Study.Design.NOT_REPORTED,
            "doi": study["doi"],
            "source": SLUG,
            "source_record_id": study["doi"],
            "contributor": ", ".join(contributors)[:200],
            "reviewed": False,
        }
        old = existing_studies.get(slug)
        old_findings = {}
        if old is not None:
            old_findings = {(f["compound"], f["goal"], f["outcome"]): f for f in old["findings"]}
            if all(old.get(k) == v for k, v in entry.items() if k != "reviewed"):
                entry["reviewed"] = old["reviewed"]
        findings = sorted(study["findings"], key=lambda f: f["source_record_id"])
        for finding in findings:
            keep_review(
                finding,
                old_findings.get((finding["compound"], finding["goal"], finding["outcome"])),
            )
        entry["findings"] = findings
        index = len(study_entries)
        by_path = {c.path: c for c in study["claims"]}
        for number, finding in enumerate(findings):
            finding_claims[(index, number)] = by_path[finding["source_record_id"]]
        study_entries.append(entry)

    compounds = compound_entries(metas, report)
    report.without_claims = sorted(set(metas) - has_claims)
    used_goals = {f["goal"] for s in study_entries for f in s["findings"]}
    known_goals = set(Goal.objects.filter(slug__in=used_goals).values_list("slug", flat=True))
    goals = [
        goal_entry(slug, mapping["effects"][slug]) for slug in sorted(used_goals - known_goals)
    ]
    if source is not None:
        in_snapshot = set(metas)
        report.no_longer_in_source = sorted(
            Compound.objects.filter(findings__study__source=source)
            .exclude(slug__in=in_snapshot)
            .values_list("slug", flat=True)
            .distinct()
        )
    document = {
        "format": FORMAT,
        "version": VERSION,
        "goals": goals,
        "compounds": compounds,
        "sources": [source_entry(commit, taken)],
        "studies": study_entries,
    }
    return _Build(document, report, finding_claims)


def keep_review(new: dict, old: dict | None) -> None:
    """An editor's review stands while the source leaves the finding as it was."""
    if old is None:
        return
    review = ("reviewed", "review_note")
    if all(old.get(k) == v for k, v in new.items() if k not in review):
        new["reviewed"], new["review_note"] = old["reviewed"], old["review_note"]


def goal_entry(slug: str, target: dict) -> dict:
    aim = {True: "a rise is the benefit", False: "a fall is the benefit"}.get(
        target["higher_is_better"],
        "the desirable direction is not clear, so findings count as unclear",
    )
    return {
        "slug": slug,
        "name": target["name"],
        "category": target["category"],
        "description": f'From the {NAME} effect "{slug}": {aim}.',
    }


def compound_entries(metas: dict[str, dict], report: SourceReport):
    """The supplements as compounds: the source owns their name and aliases; every other field
    (kind, summary, dosing, statuses, published) an editor may have set is kept as it is."""
    owners: dict[str, list[str]] = {}
    names = {meta["name"].strip().lower(): slug for slug, meta in metas.items()}
    synonyms = {}
    for slug, meta in metas.items():
        seen, mine = set(), []
        raw = meta.get("synonyms") or []
        for name in raw if isinstance(raw, list) else []:
            if isinstance(name, str) and name.strip() and name.strip().lower() not in seen:
                seen.add(name.strip().lower())
                mine.append(name.strip())
                owners.setdefault(name.strip().lower(), []).append(slug)
        synonyms[slug] = mine
    existing = {
        c.slug: c
        for c in Compound.objects.filter(slug__in=metas).prefetch_related(
            "aliases",
            "dosings__goal",
            "side_effects",
            "contraindications",
            "regulatory_statuses",
            "anti_doping_statuses",
        )
    }
    entries = []
    for slug in sorted(metas):
        name = metas[slug]["name"].strip()
        old_aliases = {}
        if slug in existing:
            entry = compound_entry(existing[slug])
            old_aliases = {a.name.lower(): a for a in existing[slug].aliases.all()}
            entry["name"] = name
        else:
            entry = {
                "slug": slug,
                "name": name,
                "kind": Compound.Kind.NOT_STATED,
                "published": True,
            }
        aliases = []
        for alias in synonyms[slug]:
            reasons = []
            others = [metas[o]["name"].strip() for o in owners[alias.lower()] if o != slug]
            if others:
                reasons.append(f"also a synonym of {', '.join(others)} in the dataset")
            other = names.get(alias.lower())
            if other is not None and other != slug:
                reasons.append(f"the name of another supplement ({metas[other]['name'].strip()})")
            note = sentence(reasons)
            reviewed = not reasons
            old = old_aliases.get(alias.lower())
            if old is not None and old.name == alias and old.review_note == note:
                reviewed = old.reviewed  # an editor's review stands for the same reason
            if reasons:
                report.flagged_aliases.append((name, alias, note))
            if reviewed and not note:
                aliases.append(alias)
            else:
                aliases.append({"name": alias, "reviewed": reviewed, "review_note": note})
        entry["aliases"] = aliases
        entries.append(entry)
    return entries


# Importing ---------------------------------------------------------------------------------------


def import_snapshot(root: Path) -> SourceReport:
    """Import the snapshot all-or-nothing; a claim the models refuse is rejected with the
    models' own message and the rest is imported (the document is rebuilt without it)."""
    skip: dict[str, list[str]] = {}
    while True:
        build = build_document(Path(root), frozenset(skip))
        for claim in build.report.claims:
            if claim.path in skip:
                claim.status, claim.reasons = "rejected", skip[claim.path]
        try:
            with transaction.atomic(), bulk_edit():
                database = import_document(build.document)
                removed_studies, removed_findings = remove_missing(build.document)
        except ValidationFailed as exc:
            refused = claims_refused(exc.errors, build.finding_claims)
            if refused is None or not refused.keys() - skip.keys():
                raise
            skip.update(refused)
            continue
        database.add("studies", "deleted", removed_studies)
        database.add("findings", "deleted", removed_findings)
        build.report.database = database
        build.report.studies_removed = removed_studies
        build.report.findings_removed = removed_findings
        return build.report


def claims_refused(errors: list[str], finding_claims: dict) -> dict[str, list[str]] | None:
    """The claim files behind the errors, each with its messages; None when an error is not
    about one claim's finding (the import then fails as a whole)."""
    refused: dict[str, list[str]] = {}
    for error in errors:
        match = FINDING_PATH_RE.match(error)
        claim = match and finding_claims.get((int(match.group(1)), int(match.group(2))))
        if not claim:
            return None
        message = error[match.end() :].lstrip(".")
        refused.setdefault(claim.path, []).append(f"refused by the model: {message}")
    return refused


def remove_missing(document: dict) -> tuple[int, int]:
    """Delete this source's studies (and so their findings) that the snapshot no longer has."""
    wanted = {s["slug"] for s in document["studies"]}
    gone = Study.objects.filter(source__slug=SLUG).exclude(slug__in=wanted)
    findings = Finding.objects.filter(study__in=gone).count()
    studies = 0
    for study in gone:
        study.delete()  # one by one: each deletion is recorded in the history
        studies += 1
    return studies, findings
