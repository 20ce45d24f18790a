"""The interchange format: the whole knowledge base as one versioned JSON document.

    {"format": "evidence-stack-builder", "version": 2, "goals": [...], "tiers": [...], ...}

Related objects are named by natural keys (goal, compound, study and vendor slugs, tier numbers,
offer keys), never by database ids, and decimals are strings so they round-trip exactly.
docs/interchange.md describes every field.

`import_document()` checks the document twice and reports every problem at once, each with a
path such as `studies[3].findings[0].ci_low: <message>`. The reader checks only what is about
the document (its shape and JSON types, unknown fields, keys used twice, references that
resolve nowhere); every rule a model knows comes from that model's own `full_clean()` (field
validators, choices, `clean()`, check and unique constraints, with the constraints' own
messages), run on each object before it is saved. Everything happens in one transaction that
is rolled back if anything was wrong. Entries are upserted by natural key and only changed
fields are saved, so importing the same document twice changes nothing. `export_document()`
writes the same format, sorted by key, so export -> import into an empty database -> export is
byte-identical.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, models, transaction

from evidence import stats
from evidence.batch import bulk_edit
from evidence.models import (
    AntiDopingStatus,
    Article,
    Compound,
    CompoundAlias,
    Contraindication,
    Dosing,
    Finding,
    Goal,
    Interaction,
    Offer,
    Rating,
    RegulatoryStatus,
    Route,
    SideEffect,
    Source,
    Study,
    Tier,
    Vendor,
)

FORMAT = "evidence-stack-builder"
VERSION = 2  # written; version 1 documents still import (docs/interchange.md, "v1 to v2")
READABLE_VERSIONS = (1, 2)

# The fields of each kind of entry, in the order they are written. A name that is a foreign key
# on the model is written as the related object's natural key (see KEY_FIELD).
GOAL_FIELDS = ("slug", "name", "category", "description")
TIER_FIELDS = ("number", "label", "description", "weight", "means_no_effect")
COMPOUND_FIELDS = (
    "slug",
    "name",
    "kind",
    "summary",
    "mechanism",
    "mechanism_class",
    "regulatory_status",
    "published",
)
DOSING_FIELDS = (
    "goal",
    "amount",
    "amount_max",
    "unit",
    "per_kg",
    "frequency",
    "doses_per_week",
    "route",
    "timing",
    "duration",
    "notes",
)
SIDE_EFFECT_FIELDS = ("name", "frequency", "description")
CONTRAINDICATION_FIELDS = ("condition", "note")
REGULATORY_STATUS_FIELDS = (
    "jurisdiction",
    "regulator",
    "status",
    "status_detail",
    "source_name",
    "source_url",
    "verified_on",
)
ANTI_DOPING_STATUS_FIELDS = ("list_name", "list_class", "status", "source_url", "verified_on")
# Version 2 additions to compounds and their dosing, which a version 1 document may not use.
V2_DOSING_FIELDS = {"amount_max", "per_kg", "timing"}
V2_COMPOUND_LISTS = {"regulatory_statuses", "anti_doping_statuses"}
INTERACTION_FIELDS = ("severity", "note")  # plus "compounds": the pair of slugs
RATING_FIELDS = (
    "compound",
    "goal",
    "tier",
    "bottom_line",
    "data_suggests",
    "limitations",
    "last_reviewed",
)
STUDY_FIELDS = (
    "slug",
    "title",
    "design",
    "design_detail",
    "n",
    "trial_count",
    "population",
    "country",
    "duration",
    "follow_up",
    "year",
    "pmid",
    "doi",
    "url",
    "source",
    "source_record_id",
    "contributor",
    "reported_in",
    "reviewed",
)
# Provenance (version 2): a study's source, its record there, the article it is reported in,
# and whether an editor has reviewed it. A version 1 study has none of these.
V2_STUDY_FIELDS = {"source", "source_record_id", "contributor", "reported_in", "reviewed"}
FINDING_FIELDS = (
    "compound",
    "goal",
    "outcome",
    "comparator",
    "comparator_name",
    "comparator_compound",
    "outcome_kind",
    "measure",
    "value",
    "value_unit",
    "comparator_value",
    "ci_low",
    "ci_high",
    "p_value",
    "p_value_is_bound",
    "stated_significance",
    "higher_is_better",
    "direction",
    "source_direction",
    "source_grade",
    "source_grade_scale",
    "dose",
    "dose_max",
    "dose_unit",
    "dose_per_kg",
    "dose_timing",
    "notes",
    "source_record_id",
    "contributor",
    "quote",
    "reviewed",
    "review_note",
)
V2_FINDING_FIELDS = {
    "outcome_kind",
    "value_unit",
    "direction",
    "source_direction",
    "source_grade",
    "source_grade_scale",
    "dose",
    "dose_max",
    "dose_unit",
    "dose_per_kg",
    "dose_timing",
    "source_record_id",
    "contributor",
    "quote",
    "reviewed",
    "review_note",
}
# An alias is written as its bare name, or (version 2) as an object when an editor has yet to
# review it: {"name": ..., "reviewed": false, "review_note": ...}.
ALIAS_FIELDS = ("name", "reviewed", "review_note")
# How a version 1 finding without figures reads in version 2, by its significance.
V1_DIRECTION = {
    True: Finding.Direction.BENEFIT,
    False: Finding.Direction.NO_DIFFERENCE,
    None: Finding.Direction.UNCLEAR,
}
SOURCE_FIELDS = (
    "slug",
    "name",
    "publisher",
    "url",
    "licence",
    "licence_url",
    "version",
    "retrieved",
    "attribution",
    "attribution_required",
)
ARTICLE_FIELDS = ("slug", "compound", "goal", "title", "body", "last_updated", "published")
VENDOR_FIELDS = (
    "slug",
    "name",
    "website",
    "offer_hosts",
    "country",
    "description",
    "third_party_tested",
    "certificate_of_analysis",
    "active",
)
OFFER_FIELDS = (
    "key",
    "compound",
    "product_name",
    "url",
    "price",
    "currency",
    "amount_per_unit",
    "unit",
    "units_per_pack",
    "form",
    "in_stock",
    "last_checked",
)
# Not exported: live data, not content (clicks live in their own table, never exported).
# Nor an offer's review: an imported offer is checked like any save (Offer.save) and held
# again if its price is implausible.
EXCLUDED_FIELDS = {
    (Compound, "updated_at"),
    (Offer, "review"),
    (Offer, "review_note"),
    # Derived from the name on every save (Searchable), never carried by a file.
    (Compound, "search_key"),
    (CompoundAlias, "search_key"),
    (Goal, "search_key"),
}

SECTIONS = (
    "goals",
    "tiers",
    "compounds",
    "interactions",
    "ratings",
    "sources",
    "studies",
    "articles",
    "vendors",
)
V2_SECTIONS = {"sources"}
# Kinds in the import report, in the order the summary names them.
KINDS = (
    "goals",
    "tiers",
    "compounds",
    "aliases",
    "dosing",
    "side_effects",
    "contraindications",
    "regulatory_statuses",
    "anti_doping_statuses",
    "interactions",
    "ratings",
    "sources",
    "studies",
    "findings",
    "articles",
    "vendors",
    "offers",
)
KEY_FIELD = {Goal: "slug", Compound: "slug", Tier: "number", Source: "slug", Article: "slug"}

# The document's own syntax for decimals and dates; the model fields parse what it admits.
DECIMAL_RE = re.compile(r"^-?\d+(?:\.\d+)?$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ValidationFailed(Exception):
    """The document is not valid; `errors` lists every problem as "path: message"."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0


@dataclass
class ImportReport:
    counts: dict[str, Counts] = field(default_factory=lambda: {kind: Counts() for kind in KINDS})

    def add(self, kind: str, outcome: str, number: int = 1) -> None:
        counts = self.counts[kind]
        setattr(counts, outcome, getattr(counts, outcome) + number)

    @property
    def changed(self) -> int:
        return sum(c.created + c.updated + c.deleted for c in self.counts.values())

    def summary(self) -> str:
        """One line: created / updated / deleted / unchanged for every kind that was seen."""
        parts = [
            f"{kind} {c.created} created, {c.updated} updated, {c.deleted} deleted, "
            f"{c.unchanged} unchanged"
            for kind, c in self.counts.items()
            if c.created or c.updated or c.deleted or c.unchanged
        ]
        return "; ".join(parts) if parts else "nothing to import"


# Reading JSON -----------------------------------------------------------------------------------


def loads(text: str):
    """Parse JSON text strictly: duplicate keys, NaN and Infinity are errors."""

    def unique_keys(pairs):
        obj = {}
        for key, value in pairs:
            if key in obj:
                raise ValueError(f"duplicate key {key!r}")
            obj[key] = value
        return obj

    def no_constant(name):
        raise ValueError(f"{name} is not allowed")

    try:
        return json.loads(text, object_pairs_hook=unique_keys, parse_constant=no_constant)
    except (ValueError, RecursionError) as exc:
        raise ValidationFailed([f"document: invalid JSON: {exc}"]) from exc


def dumps(document: dict) -> str:
    """The canonical text of a document: two-space indent, UTF-8, a final newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# Export -----------------------------------------------------------------------------------------


def _decimal_text(value: Decimal | None) -> str | None:
    """A decimal in its shortest exact form: Decimal("0.3080") -> "0.308"."""
    if value is None:
        return None
    if value == 0:
        return "0"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _text_key(text: str) -> tuple[str, str]:
    return (text.casefold(), text)


def _export_fields(obj: models.Model, names: tuple[str, ...]) -> dict:
    data = {}
    for name in names:
        model_field = obj._meta.get_field(name)
        if model_field.is_relation:
            related = getattr(obj, name)
            key = KEY_FIELD[model_field.related_model]
            data[name] = None if related is None else getattr(related, key)
            continue
        value = getattr(obj, name)
        if isinstance(model_field, models.DecimalField):
            value = _decimal_text(value)
        elif isinstance(value, date):
            value = value.isoformat()
        data[name] = value
    return data


def _dosing_sort_key(dosing: Dosing):
    routes = list(Route.values)
    return (
        dosing.goal.slug if dosing.goal else "",
        routes.index(dosing.route) if dosing.route in routes else len(routes),
        dosing.route,
        dosing.amount,
        dosing.unit,
        _text_key(dosing.frequency),
        (dosing.amount_max is None, dosing.amount_max or 0),
        dosing.per_kg,
        (dosing.doses_per_week is None, dosing.doses_per_week or 0),
        dosing.timing,
        dosing.duration,
        dosing.notes,
    )


def compound_entry(compound: Compound) -> dict:
    """One compound with its aliases and children as the document writes it (prefetch
    its relations when exporting many)."""
    entry = _export_fields(compound, COMPOUND_FIELDS)
    entry["aliases"] = [
        a.name if a.reviewed and not a.review_note else _export_fields(a, ALIAS_FIELDS)
        for a in sorted(compound.aliases.all(), key=lambda a: _text_key(a.name))
    ]
    entry["dosing"] = [
        _export_fields(d, DOSING_FIELDS)
        for d in sorted(compound.dosings.all(), key=_dosing_sort_key)
    ]
    entry["side_effects"] = [
        _export_fields(s, SIDE_EFFECT_FIELDS)
        for s in sorted(compound.side_effects.all(), key=lambda s: _text_key(s.name))
    ]
    entry["contraindications"] = [
        _export_fields(c, CONTRAINDICATION_FIELDS)
        for c in sorted(compound.contraindications.all(), key=lambda c: c.condition)
    ]
    entry["regulatory_statuses"] = [
        _export_fields(r, REGULATORY_STATUS_FIELDS)
        for r in sorted(compound.regulatory_statuses.all(), key=lambda r: _text_key(r.jurisdiction))
    ]
    entry["anti_doping_statuses"] = [
        _export_fields(a, ANTI_DOPING_STATUS_FIELDS)
        for a in sorted(compound.anti_doping_statuses.all(), key=lambda a: _text_key(a.list_name))
    ]
    return entry


def study_entry(study: Study, public: bool = False) -> dict:
    """One study with its findings as the document writes it (`public`: see export_document;
    the findings are then only those prefetched, of published compounds)."""
    entry = _export_fields(study, STUDY_FIELDS)
    findings = sorted(
        study.findings.all(),
        key=lambda f: (f.compound.slug, f.goal.slug, _text_key(f.outcome)),
    )
    entry["findings"] = [_export_fields(f, FINDING_FIELDS) for f in findings]
    if public:
        if study.reported_in is not None and not study.reported_in.is_published:
            entry["reported_in"] = None
        for finding, finding_entry in zip(findings, entry["findings"], strict=True):
            other = finding.comparator_compound
            if other is not None and not other.published:
                finding_entry["comparator_compound"] = None
    return entry


def _citable_without_article(study: Study) -> bool:
    return bool(study.doi or study.pmid or study.url or study.source_id)


def export_document(public: bool = False) -> dict:
    """The whole knowledge base (except live counters) in the interchange format.

    `public`: only what visitors may see, for the public download (/data/): published
    compounds and what belongs to them (ratings, interactions between two of them), published
    articles, active vendors with their visible offers, every goal, tier and source, and the
    studies with a finding for a published compound, with only those findings. A reference to
    something left out is dropped (a study reported in an unpublished article, a comparator
    compound not published: the comparator's name stays), and a study citable only through an
    unpublished article is left out, so the document still imports into an empty database.
    """
    compounds = Compound.objects.prefetch_related(
        "aliases",
        "dosings__goal",
        "side_effects",
        "contraindications",
        "regulatory_statuses",
        "anti_doping_statuses",
    )
    interactions = Interaction.objects.select_related("compound_a", "compound_b")
    ratings = Rating.objects.select_related("compound", "goal", "tier")
    findings = Finding.objects.select_related("compound", "goal", "comparator_compound")
    studies = Study.objects.select_related("source", "reported_in__compound")
    articles = Article.objects.select_related("compound", "goal")
    vendors, offers = Vendor.objects.all(), Offer.objects.select_related("compound")
    if public:
        compounds = compounds.published()
        interactions = interactions.filter(compound_a__published=True, compound_b__published=True)
        ratings = ratings.filter(compound__published=True)
        findings = findings.filter(compound__published=True)
        studies = studies.filter(models.Exists(findings.filter(study=models.OuterRef("pk"))))
        articles = articles.published()
        vendors, offers = vendors.active(), offers.visible()
    studies = studies.prefetch_related(models.Prefetch("findings", findings))
    vendors = vendors.prefetch_related(models.Prefetch("offers", offers))
    if public:
        studies = [
            s
            for s in studies
            if s.reported_in is None or s.reported_in.is_published or _citable_without_article(s)
        ]

    def interaction_entry(interaction):
        pair = sorted([interaction.compound_a.slug, interaction.compound_b.slug])
        return {"compounds": pair, **_export_fields(interaction, INTERACTION_FIELDS)}

    def vendor_entry(vendor):
        entry = _export_fields(vendor, VENDOR_FIELDS)
        offers = sorted(vendor.offers.all(), key=lambda o: o.key)
        entry["offers"] = [_export_fields(o, OFFER_FIELDS) for o in offers]
        return entry

    return {
        "format": FORMAT,
        "version": VERSION,
        "goals": [_export_fields(g, GOAL_FIELDS) for g in sorted(Goal.objects.all(), key=_slug)],
        "tiers": [
            _export_fields(t, TIER_FIELDS)
            for t in sorted(Tier.objects.all(), key=lambda t: t.number)
        ],
        "compounds": [compound_entry(c) for c in sorted(compounds, key=_slug)],
        "interactions": sorted(
            (interaction_entry(i) for i in interactions), key=lambda e: e["compounds"]
        ),
        "ratings": [
            _export_fields(r, RATING_FIELDS)
            for r in sorted(ratings, key=lambda r: (r.compound.slug, r.goal.slug))
        ],
        "sources": [
            _export_fields(s, SOURCE_FIELDS) for s in sorted(Source.objects.all(), key=_slug)
        ],
        "studies": [study_entry(s, public) for s in sorted(studies, key=_slug)],
        "articles": [_export_fields(a, ARTICLE_FIELDS) for a in sorted(articles, key=_slug)],
        "vendors": [vendor_entry(v) for v in sorted(vendors, key=_slug)],
    }


def _slug(obj) -> str:
    return obj.slug


# Reading the document ---------------------------------------------------------------------------
#
# The reader checks only what is about the document: its shape and JSON types, decimals and
# dates written as strings, unknown sections and fields, keys used twice within the document,
# and references that name nothing in the document or the database. Everything a model knows
# (validators, max_length, choices, blank, check and unique constraints, clean()) is checked by
# the model's own full_clean() in the writer.


def _error_order(error: str) -> tuple[int, int]:
    """Errors sort by section, then by entry, in document order (stable within an entry)."""
    order = ("format", "version", *SECTIONS)
    match = re.match(r"([^.\[:]*)(?:\[(\d+)\])?", error)
    section, index = match.group(1), match.group(2)
    return (order.index(section) if section in order else len(order), int(index or -1))


def _plain_decimal(value: Decimal) -> Decimal:
    """Trailing zeros dropped ("40.00" -> 40) so they never count as decimal places."""
    return value.to_integral_value() if value == value.to_integral_value() else value.normalize()


@dataclass
class _Entry:
    """One entry: its path, the values read from it (references still as natural keys), the
    fields whose JSON could not be read, and whether the entry itself is free of document
    errors (only then may it be saved)."""

    path: str
    values: dict
    unreadable: set[str] = field(default_factory=set)
    ok: bool = True
    children: dict[str, list] = field(default_factory=dict)
    # The field an entry written as a bare value stands for (an alias is just its name).
    bare_field: str | None = None
    item: dict = field(default_factory=dict, repr=False)  # the JSON object it was read from


@dataclass
class _Document:
    sections: dict[str, list[_Entry]]


@dataclass(frozen=True)
class _List:
    """How one list of entries is read: the model and its fields, the keys unique within the
    list (their fields, and the words for a duplicate), the child lists, and the other names
    an entry may hold (read by the reader itself)."""

    model: type[models.Model]
    fields: tuple[str, ...]
    unique: tuple[tuple[tuple[str, ...], str], ...] = ()
    children: dict[str, "_List"] = field(default_factory=dict)
    bare: tuple[str, ...] = ()


SLUG = (("slug",), "slug")
NAME = (("name",), "name")
LISTS = {
    "goals": _List(Goal, GOAL_FIELDS, (SLUG, NAME)),
    "tiers": _List(Tier, TIER_FIELDS, ((("number",), "tier number"),)),
    "compounds": _List(
        Compound,
        COMPOUND_FIELDS,
        (SLUG, NAME),
        {
            "dosing": _List(Dosing, DOSING_FIELDS),
            "side_effects": _List(
                SideEffect, SIDE_EFFECT_FIELDS, ((("name",), "side effect name"),)
            ),
            "contraindications": _List(
                Contraindication, CONTRAINDICATION_FIELDS, ((("condition",), "condition"),)
            ),
            "regulatory_statuses": _List(
                RegulatoryStatus, REGULATORY_STATUS_FIELDS, ((("jurisdiction",), "jurisdiction"),)
            ),
            "anti_doping_statuses": _List(
                AntiDopingStatus, ANTI_DOPING_STATUS_FIELDS, ((("list_name",), "list"),)
            ),
        },
        bare=("aliases",),
    ),
    "interactions": _List(Interaction, INTERACTION_FIELDS, bare=("compounds",)),
    "ratings": _List(
        Rating, RATING_FIELDS, ((("compound", "goal"), "rating for this compound and goal"),)
    ),
    "sources": _List(Source, SOURCE_FIELDS, (SLUG, NAME)),
    "studies": _List(
        Study,
        STUDY_FIELDS,
        (SLUG,),
        {
            "findings": _List(
                Finding,
                FINDING_FIELDS,
                ((("compound", "goal", "outcome"), "outcome for this compound and goal"),),
            )
        },
    ),
    "articles": _List(Article, ARTICLE_FIELDS, (SLUG,)),
    "vendors": _List(
        Vendor,
        VENDOR_FIELDS,
        (SLUG, NAME),
        {"offers": _List(Offer, OFFER_FIELDS, ((("key",), "offer key"),))},
    ),
}


class _Reader:
    def __init__(self):
        self.errors: list[str] = []
        self.version: int | None = None
        self.refs: list[tuple[str, type[models.Model], object]] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def read(self, data) -> _Document:
        if not isinstance(data, dict):
            raise ValidationFailed(["document: must be a JSON object"])
        if data.get("format") != FORMAT:
            self.error("format", f'must be "{FORMAT}"')
        version = data.get("version")
        if type(version) is not int:
            self.error("version", "required, an integer")
        elif version not in READABLE_VERSIONS:
            readable = " and ".join(map(str, READABLE_VERSIONS))
            self.error("version", f"unsupported version {version} (this site reads {readable})")
        self.version = version
        if self.errors:
            raise ValidationFailed(self.errors)
        for key in data:
            if key not in ("format", "version", *SECTIONS):
                self.error(str(key), "unknown section")
        sections = {name: self.entries(data, name, name, LISTS[name]) for name in SECTIONS}
        pairs = {}
        for entry in sections["compounds"]:
            entry.children["aliases"] = self.aliases(entry)
        for entry in sections["interactions"]:
            self.pair(entry, pairs)
        if version == 1:
            self.upgrade_v1_findings(sections["studies"])
            self.refuse_v2_compound_fields(sections["compounds"])
            self.upgrade_v1_studies(data, sections)
        self.default_review_state(sections["studies"])
        self.check_references(sections)
        return _Document(sections)

    def upgrade_v1_findings(self, studies: list[_Entry]) -> None:
        """Version 1 had no direction: a result without figures counted as a benefit when
        significant, as no difference when not, and could not count when unknown."""
        for study in studies:
            for finding in study.children.get("findings", []):
                for name in V2_FINDING_FIELDS & finding.item.keys():
                    self.error(f"{finding.path}.{name}", "unknown field in version 1")
                    finding.ok = False
                values = finding.values
                if values.get("measure") != Finding.Measure.QUALITATIVE:
                    continue
                significant = stats.is_significant(
                    is_ratio=False,
                    is_comparative=False,
                    ci_low=None,
                    ci_high=None,
                    p_value=values.get("p_value"),
                    p_value_is_bound=bool(values.get("p_value_is_bound")),
                    stated_significance=values.get("stated_significance"),
                )
                values["direction"] = V1_DIRECTION[significant]

    def refuse_v2_compound_fields(self, compounds: list[_Entry]) -> None:
        """Version 1 had no dose ranges, per-kg doses, timing or statuses: their defaults
        (a single dose, not per kg, no timing, no statuses) are what a version 1 dose meant."""
        for compound in compounds:
            for name in sorted(V2_COMPOUND_LISTS & compound.item.keys()):
                self.error(f"{compound.path}.{name}", "unknown field in version 1")
                compound.ok = False
            for dosing in compound.children.get("dosing", []):
                for name in sorted(V2_DOSING_FIELDS & dosing.item.keys()):
                    self.error(f"{dosing.path}.{name}", "unknown field in version 1")
                    dosing.ok = False

    def upgrade_v1_studies(self, data: dict, sections: dict[str, list[_Entry]]) -> None:
        """Version 1 had no provenance, no sources and no review state. A study without a
        DOI, PMID or URL was known only through an article: it reads as reported in the one
        article of the document about the compound its findings concern (with none, or
        several, it stays unplaced and the model refuses it as uncited)."""
        if "sources" in data:
            self.error("sources", "unknown section in version 1")
        articles_about: dict[str, list[str]] = {}
        for article in sections["articles"]:
            compound, slug = article.values.get("compound"), article.values.get("slug")
            if compound and slug:
                articles_about.setdefault(compound, []).append(slug)
        for study in sections["studies"]:
            for name in sorted(V2_STUDY_FIELDS & study.item.keys()):
                self.error(f"{study.path}.{name}", "unknown field in version 1")
                study.ok = False
            values = study.values
            if values.get("doi") or values.get("pmid") or values.get("url"):
                continue
            compounds = {f.values.get("compound") for f in study.children.get("findings", [])}
            articles = {a for c in compounds if c for a in articles_about.get(c, [])}
            if len(articles) == 1:
                values["reported_in"] = articles.pop()

    def default_review_state(self, studies: list[_Entry]) -> None:
        """A study taken from an outside source is not reviewed unless the document says so
        (an export of this site's own data always does)."""
        for study in studies:
            if "reviewed" not in study.item and study.values.get("source") is not None:
                study.values["reviewed"] = False

    # Lists, entries and keys.

    def items(self, container: dict, name: str, path: str) -> list[tuple[str, object]]:
        """The items of a list (absent means empty), each with its path."""
        value = container.get(name, [])
        if not isinstance(value, list):
            self.error(path, "must be a list")
            return []
        return [(f"{path}[{i}]", item) for i, item in enumerate(value)]

    def entries(self, container: dict, name: str, path: str, spec: _List) -> list[_Entry]:
        """The entries of a list of objects, keys unique within the list, with their children."""
        out, seen = [], [{} for _ in spec.unique]
        allowed = (*spec.children, *spec.bare)
        for item_path, item in self.items(container, name, path):
            if not isinstance(item, dict):
                self.error(item_path, "must be an object")
                continue
            entry = self.entry(item_path, item, spec.model, spec.fields, allowed)
            for (names, what), keys in zip(spec.unique, seen, strict=True):
                key = tuple(entry.values.get(n) for n in names)
                self.unique(keys, entry, key, f"{item_path}.{names[-1]}", what)
            for child, child_spec in spec.children.items():
                entry.children[child] = self.entries(
                    item, child, f"{item_path}.{child}", child_spec
                )
            entry.item = item
            out.append(entry)
        return out

    def entry(self, path: str, item: dict, model, names, allowed) -> _Entry:
        errors_before = len(self.errors)
        for key in item:
            if key not in names and key not in allowed:
                self.error(f"{path}.{key}", "unknown field")
        entry = _Entry(path, {})
        for name in names:
            ok, value = self.value(f"{path}.{name}", item, name, model)
            if ok:
                entry.values[name] = value
            else:
                entry.unreadable.add(name)
        entry.ok = len(self.errors) == errors_before
        return entry

    def unique(self, seen: dict, entry: _Entry, key, path: str, what: str) -> None:
        """A key used once in the document (an empty key is the model's to report)."""
        if any(part in (None, "") for part in (key if isinstance(key, tuple) else (key,))):
            return
        if key in seen:
            self.error(path, f"duplicate {what}, already used by {seen[key]}")
            entry.ok = False
        else:
            seen[key] = entry.path

    # One value: its JSON type, then the model field's own parser.

    def value(self, path: str, item: dict, name: str, model) -> tuple[bool, object]:
        model_field = model._meta.get_field(name)
        if name not in item:
            return True, model_field.get_default()
        raw = item[name]
        if raw is None and model_field.null:
            return True, None
        if model_field.is_relation:
            return self.reference(path, raw, model_field.related_model)
        if isinstance(model_field, models.BooleanField):
            readable, expected = type(raw) is bool, "true or false"
        elif isinstance(model_field, models.IntegerField):
            readable, expected = type(raw) is int, "an integer"
        elif isinstance(model_field, models.DecimalField):
            readable = isinstance(raw, str) and DECIMAL_RE.match(raw)
            expected = 'a decimal number written as a string, e.g. "0.308"'
        elif isinstance(model_field, models.DateField):
            readable = isinstance(raw, str) and DATE_RE.match(raw)
            expected = "a date written YYYY-MM-DD"
        else:
            readable, expected = isinstance(raw, str), "a string"
        if not readable:
            self.error(path, f"must be {expected}")
            return False, None
        if isinstance(raw, str) and not self.storable(path, raw):
            return False, None
        try:
            value = model_field.to_python(raw)
        except ValidationError as exc:
            for message in exc.messages:
                self.error(path, message)
            return False, None
        if isinstance(value, Decimal):
            value = _plain_decimal(value)
        elif isinstance(value, str) and not model_field.blank and not value.strip():
            value = ""  # blank, as the admin's form would see it: the model reports it
        return True, value

    def storable(self, path: str, raw: str) -> bool:
        """Text JSON can carry but no database column holds."""
        if "\x00" in raw:
            self.error(path, "must not contain NUL characters")
            return False
        try:
            raw.encode("utf-8")
        except UnicodeEncodeError:
            self.error(path, "must be valid Unicode text")
            return False
        return True

    def reference(self, path: str, raw, model) -> tuple[bool, object]:
        """A natural key naming an entry of this document or a row of the database."""
        key_field = model._meta.get_field(KEY_FIELD[model])
        if model is Tier and type(raw) is not int:
            self.error(path, "must be a tier number")
            return False, None
        if model is not Tier and not isinstance(raw, str):
            self.error(path, f"must be a {model._meta.verbose_name} slug")
            return False, None
        if isinstance(raw, str) and not self.storable(path, raw):
            return False, None
        try:
            key_field.run_validators(raw)
        except ValidationError as exc:
            for message in exc.messages:
                self.error(path, message)
            return False, None
        self.refs.append((path, model, raw))
        return True, raw

    def check_references(self, sections: dict[str, list[_Entry]]) -> None:
        """Every goal, compound and tier named exists in the document or in the database."""
        in_document = {
            Goal: {e.values.get("slug") for e in sections["goals"]},
            Compound: {e.values.get("slug") for e in sections["compounds"]},
            Tier: {e.values.get("number") for e in sections["tiers"]},
            Source: {e.values.get("slug") for e in sections["sources"]},
            Article: {e.values.get("slug") for e in sections["articles"]},
        }
        for model, known in in_document.items():
            key = KEY_FIELD[model]
            wanted = {k for _, m, k in self.refs if m is model and k not in known}
            if wanted:
                found = model.objects.filter(**{f"{key}__in": wanted}).values_list(key, flat=True)
                known.update(found)
        for path, model, key in self.refs:
            if key not in in_document[model]:
                label = model._meta.verbose_name
                shown = key if model is Tier else f'"{key}"'
                self.error(path, f"unknown {label} {shown}")

    # What is not a plain field: aliases (bare names) and an interaction's pair.

    def aliases(self, compound: _Entry) -> list[_Entry]:
        """The alias names of one compound; unique within it, ignoring case. An alias may name
        several compounds, so other compounds may use the same name."""
        out, seen = [], {}
        for path, item in self.items(compound.item, "aliases", f"{compound.path}.aliases"):
            if isinstance(item, dict):
                alias = self.entry(path, item, CompoundAlias, ALIAS_FIELDS, ())
                if self.version == 1:
                    self.error(path, "must be a string (version 1 aliases are bare names)")
                    alias.ok = False
            else:
                alias = _Entry(path, {}, bare_field="name")
                ok, value = self.value(path, {"name": item}, "name", CompoundAlias)
                if ok:
                    alias.values["name"] = value
                else:
                    alias.unreadable, alias.ok = {"name"}, False
            name = alias.values.get("name")
            if isinstance(name, str):
                self.unique(seen, alias, name.lower(), path, f'alias "{name}"')
            out.append(alias)
        return out

    def pair(self, entry: _Entry, seen: dict) -> None:
        """An interaction's two compounds, as a sorted pair of slugs."""
        pair, path = entry.item.get("compounds"), f"{entry.path}.compounds"
        if not isinstance(pair, list) or len(pair) != 2:
            self.error(path, "must be a list of two compound slugs")
            entry.ok = False
            return
        ok_a, a = self.reference(f"{path}[0]", pair[0], Compound)
        ok_b, b = self.reference(f"{path}[1]", pair[1], Compound)
        if ok_a and ok_b:
            entry.values["compounds"] = tuple(sorted((a, b)))
            self.unique(seen, entry, entry.values["compounds"], path, "pair of compounds")
        else:
            entry.ok = False


# Writing ----------------------------------------------------------------------------------------


class _Writer:
    """Upserts the document, each object after its own full_clean(); collects the errors.

    Every entry is checked, even in a document already known to be invalid, so that every
    problem is reported at once; an entry is saved only when the reader found nothing wrong
    with it, its references resolve and its full_clean() passes. The caller rolls the whole
    transaction back when any error was found.
    """

    def __init__(self):
        self.report = ImportReport()
        self.errors: list[str] = []
        self.objects: dict[type[models.Model], dict] = {
            Goal: {},
            Tier: {},
            Compound: {},
            Source: {},
            Article: {},
        }

    def write(self, document: _Document) -> ImportReport:
        sections = document.sections
        for entry in sections["goals"]:
            self.remember(Goal, entry, self.upsert("goals", Goal, entry, ("slug",)))
        for entry in sections["tiers"]:
            self.remember(Tier, entry, self.upsert("tiers", Tier, entry, ("number",)))
        compounds = []
        for entry in sections["compounds"]:
            compound = self.upsert("compounds", Compound, entry, ("slug",))
            self.remember(Compound, entry, compound)
            compounds.append((compound, entry))
            self.delete_stale_aliases(compound, entry)
        for compound, entry in compounds:
            self.compound_children(compound, entry)
        for entry in sections["interactions"]:
            self.interaction(entry)
        for entry in sections["ratings"]:
            self.upsert("ratings", Rating, entry, ("compound", "goal"))
        # Sources and articles before the studies that name them as their provenance.
        for entry in sections["sources"]:
            self.remember(Source, entry, self.upsert("sources", Source, entry, ("slug",)))
        for entry in sections["articles"]:
            self.remember(Article, entry, self.upsert("articles", Article, entry, ("slug",)))
        for entry in sections["studies"]:
            study = self.upsert("studies", Study, entry, ("slug",))
            self.sync_children(
                "findings",
                Finding,
                {"study": study},
                study.findings.all() if study else [],
                entry.children["findings"],
                ("compound", "goal", "outcome"),
            )
        for entry in sections["vendors"]:
            vendor = self.upsert("vendors", Vendor, entry, ("slug",))
            self.sync_children(
                "offers",
                Offer,
                {"vendor": vendor},
                vendor.offers.all() if vendor else [],
                entry.children["offers"],
                ("key",),
            )
        return self.report

    # Natural keys to database rows.

    def remember(self, model, entry: _Entry, obj) -> None:
        key = entry.values.get(KEY_FIELD[model])
        cache = self.objects[model]
        if key is not None and (obj is not None or key not in cache):
            cache[key] = obj

    def pk(self, model, key):
        """The primary key for a natural key; None if that entry could not be saved."""
        cache = self.objects[model]
        if key not in cache:
            cache[key] = model.objects.filter(**{KEY_FIELD[model]: key}).first()
        obj = cache[key]
        return None if obj is None else obj.pk

    def prepare(self, model, entry: _Entry, parent: dict | None = None) -> tuple[dict, set]:
        """The entry's values keyed by attname, references resolved; and the fields to leave
        out of full_clean(): unreadable ones and references that did not resolve."""
        values, exclude = {}, set(entry.unreadable)
        for name, value in entry.values.items():
            if name == "compounds":  # an interaction's pair, resolved by interaction()
                continue
            model_field = model._meta.get_field(name)
            if not model_field.is_relation:
                values[name] = value
            elif value is None:
                values[model_field.attname] = None
            elif (pk := self.pk(model_field.related_model, value)) is None:
                exclude.add(name)
            else:
                values[model_field.attname] = pk
        for name, obj in (parent or {}).items():
            if obj is None:
                exclude.add(name)
            else:
                values[model._meta.get_field(name).attname] = obj.pk
        return values, exclude

    def key_of(self, model, key: tuple[str, ...], values: dict, exclude: set) -> tuple | None:
        """The natural key's values, or None when a part of it is not known."""
        if exclude.intersection(key):
            return None
        return tuple(values[model._meta.get_field(name).attname] for name in key)

    # Saving.

    def upsert(self, kind: str, model, entry: _Entry, key: tuple[str, ...]):
        values, exclude = self.prepare(model, entry)
        exclude |= self.invalid_key_fields(model, key, values, entry.path)
        key_values = self.key_of(model, key, values, exclude)
        obj = None
        if key_values is not None:
            lookup = {
                model._meta.get_field(n).attname: v for n, v in zip(key, key_values, strict=True)
            }
            obj = model.objects.filter(**lookup).first()
        return self.save(kind, model(**values) if obj is None else obj, values, entry, exclude)

    def invalid_key_fields(self, model, key, values: dict, path: str) -> set[str]:
        """A natural key is looked up before full_clean(): its own field checks it first."""
        invalid = set()
        for name in key:
            model_field = model._meta.get_field(name)
            if model_field.is_relation or name not in values:
                continue
            try:
                model_field.clean(values[name], None)
            except ValidationError as exc:
                self.errors.extend(f"{path}.{name}: {message}" for message in exc.messages)
                invalid.add(name)
        return invalid

    def save(self, kind: str, obj, values: dict, entry: _Entry, exclude: set):
        """Create or update `obj` with the values; the object, or None if it was not saved."""
        savable = entry.ok and not exclude
        if obj._state.adding:
            if not (self.clean(obj, entry, exclude) and savable):
                return None
            obj.save(force_insert=True)
            self.report.add(kind, "created")
            return obj
        changed = [name for name, value in values.items() if getattr(obj, name) != value]
        if not changed:
            if savable:
                self.report.add(kind, "unchanged")
            return obj if savable else None
        for name in changed:
            setattr(obj, name, values[name])
        if not (self.clean(obj, entry, exclude) and savable):
            return None
        auto_now = [
            f.attname
            for f in obj._meta.concrete_fields
            if getattr(f, "auto_now", False) and f.attname not in changed
        ]
        obj.save(update_fields=changed + auto_now)
        self.report.add(kind, "updated")
        return obj

    def clean(self, obj, entry: _Entry, exclude: set) -> bool:
        """The model's own validation (fields, clean(), unique and check constraints),
        each message reported under the entry's path, or its field's."""
        try:
            obj.full_clean(exclude=exclude)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                bare = name in (NON_FIELD_ERRORS, entry.bare_field)
                where = entry.path if bare else f"{entry.path}.{name}"
                self.errors.extend(f"{where}: {message}" for message in messages)
            return False
        return True

    def delete(self, kind: str, obj) -> None:
        obj.delete()
        self.report.add(kind, "deleted")

    def sync_children(self, kind, model, parent: dict, existing, entries, key: tuple[str, ...]):
        """Make a parent's children exactly the document's: upsert by key, delete the rest."""
        wanted = []
        for entry in entries:
            values, exclude = self.prepare(model, entry, parent)
            wanted.append((entry, values, exclude, self.key_of(model, key, values, exclude)))
        wanted_keys = {k for *_, k in wanted if k is not None}
        rows = {}
        for obj in existing:
            obj_key = tuple(getattr(obj, model._meta.get_field(name).attname) for name in key)
            if obj_key in wanted_keys and obj_key not in rows:
                rows[obj_key] = obj
            else:
                self.delete(kind, obj)
        for entry, values, exclude, obj_key in wanted:
            obj = rows.get(obj_key) or model(**values)
            self.save(kind, obj, values, entry, exclude)

    # Compounds' children and interactions.

    def delete_stale_aliases(self, compound: Compound | None, entry: _Entry) -> None:
        """First, for every compound, so an alias can move from one compound to another."""
        if compound is None:
            return
        wanted = {alias.values.get("name") for alias in entry.children["aliases"]}
        kept = set()
        for alias in compound.aliases.all():
            if alias.name in wanted and alias.name not in kept:
                kept.add(alias.name)
            else:
                self.delete("aliases", alias)

    def compound_children(self, compound: Compound | None, entry: _Entry) -> None:
        parent = {"compound": compound}
        existing = {a.name: a for a in compound.aliases.all()} if compound else {}
        for alias in entry.children["aliases"]:
            values, exclude = self.prepare(CompoundAlias, alias, parent)
            for name in ("reviewed", "review_note"):
                values.setdefault(name, CompoundAlias._meta.get_field(name).get_default())
            known = existing.get(alias.values.get("name")) if alias.ok else None
            self.save("aliases", known or CompoundAlias(**values), values, alias, exclude)
        self.sync_dosing(compound, entry.children["dosing"])
        self.sync_children(
            "side_effects",
            SideEffect,
            parent,
            compound.side_effects.all() if compound else [],
            entry.children["side_effects"],
            ("name",),
        )
        self.sync_children(
            "contraindications",
            Contraindication,
            parent,
            compound.contraindications.all() if compound else [],
            entry.children["contraindications"],
            ("condition",),
        )
        self.sync_children(
            "regulatory_statuses",
            RegulatoryStatus,
            parent,
            compound.regulatory_statuses.all() if compound else [],
            entry.children["regulatory_statuses"],
            ("jurisdiction",),
        )
        self.sync_children(
            "anti_doping_statuses",
            AntiDopingStatus,
            parent,
            compound.anti_doping_statuses.all() if compound else [],
            entry.children["anti_doping_statuses"],
            ("list_name",),
        )

    def sync_dosing(self, compound: Compound | None, entries: list[_Entry]) -> None:
        """Dosing rows have no natural key: a row is kept when all its values match."""
        names = [Dosing._meta.get_field(name).attname for name in DOSING_FIELDS]
        remaining = list(compound.dosings.all()) if compound else []
        for entry in entries:
            values, exclude = self.prepare(Dosing, entry, {"compound": compound})
            match = None
            if not exclude:
                match = next(
                    (d for d in remaining if all(getattr(d, n) == values[n] for n in names)), None
                )
            if match is not None:
                remaining.remove(match)
                self.report.add("dosing", "unchanged")
            else:
                self.save("dosing", Dosing(**values), values, entry, exclude)
        for dosing in remaining:
            self.delete("dosing", dosing)

    def interaction(self, entry: _Entry) -> None:
        values, exclude = self.prepare(Interaction, entry)
        pair = entry.values.get("compounds")
        pks = [self.pk(Compound, slug) for slug in pair] if pair else [None]
        obj = None
        if None in pks:
            exclude |= {"compound_a", "compound_b"}
        else:
            low, high = sorted(pks)
            values.update(compound_a_id=low, compound_b_id=high)
            obj = Interaction.objects.filter(compound_a_id=low, compound_b_id=high).first()
        self.save("interactions", obj or Interaction(**values), values, entry, exclude)


# Import -----------------------------------------------------------------------------------------


def import_document(data: dict) -> ImportReport:
    """Read and write the whole document in one transaction (all or nothing).

    Every problem is reported at once: the reader's and every full_clean()'s. Precomputed
    scores of every compound the import touched are refreshed once, at the end, inside the
    same transaction.
    """
    try:
        with transaction.atomic(), bulk_edit():
            reader = _Reader()
            document = reader.read(data)
            writer = _Writer()
            report = writer.write(document)
            errors = reader.errors + writer.errors
            if errors:
                raise ValidationFailed(sorted(errors, key=_error_order))
            return report
    except DatabaseError as exc:
        # Each object is cleaned before it is saved; never let a half import through.
        raise ValidationFailed([f"database: {exc}"]) from exc
