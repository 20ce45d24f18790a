"""The interchange format: the whole knowledge base as one versioned JSON document.

    {"format": "evidence-stack-builder", "version": 1, "goals": [...], "tiers": [...], ...}

Related objects are named by natural keys (goal, compound, study and vendor slugs, tier numbers,
offer keys), never by database ids, and decimals are strings so they round-trip exactly.
docs/interchange.md describes every field.

`import_document()` validates the whole document in plain Python first and reports every
problem with a path such as `studies[3].findings[0].ci_low: must be below ci_high`; only a
valid document is written, in one transaction, with each object's `full_clean()` as a second
net. Entries are upserted by natural key and only changed fields are saved, so importing the
same document twice changes nothing. `export_document()` writes the same format, sorted by key,
so export -> import into an empty database -> export is byte-identical.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    URLValidator,
    validate_slug,
)
from django.db import DatabaseError, models, transaction
from django.db.models.functions import Lower

from evidence.batch import bulk_edit
from evidence.models import (
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
    Route,
    SideEffect,
    Study,
    Tier,
    Vendor,
    https_only,
)

FORMAT = "evidence-stack-builder"
VERSION = 1

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
    "unit",
    "frequency",
    "doses_per_week",
    "route",
    "duration",
    "notes",
)
SIDE_EFFECT_FIELDS = ("name", "frequency", "description")
CONTRAINDICATION_FIELDS = ("condition", "note")
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
)
FINDING_FIELDS = (
    "compound",
    "goal",
    "outcome",
    "comparator",
    "comparator_name",
    "comparator_compound",
    "measure",
    "value",
    "comparator_value",
    "ci_low",
    "ci_high",
    "p_value",
    "p_value_is_bound",
    "stated_significance",
    "higher_is_better",
    "notes",
)
ARTICLE_FIELDS = ("slug", "compound", "goal", "title", "body", "last_updated", "published")
VENDOR_FIELDS = (
    "slug",
    "name",
    "website",
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
# Not exported: live data, not content.
EXCLUDED_FIELDS = {(Offer, "click_count"), (Compound, "updated_at")}

SECTIONS = (
    "goals",
    "tiers",
    "compounds",
    "interactions",
    "ratings",
    "studies",
    "articles",
    "vendors",
)
# Kinds in the import report, in the order the summary names them.
KINDS = (
    "goals",
    "tiers",
    "compounds",
    "aliases",
    "dosing",
    "side_effects",
    "contraindications",
    "interactions",
    "ratings",
    "studies",
    "findings",
    "articles",
    "vendors",
    "offers",
)
KEY_FIELD = {Goal: "slug", Compound: "slug", Tier: "number"}

# Check constraints of the models that field metadata alone does not carry.
INTEGER_MINIMUM = {
    (Tier, "number"): 1,
    (Study, "n"): 1,
    (Study, "trial_count"): 1,
    (Offer, "units_per_pack"): 1,
}
POSITIVE_DECIMALS = {
    (Dosing, "amount"),
    (Dosing, "doses_per_week"),
    (Offer, "price"),
    (Offer, "amount_per_unit"),
}

DECIMAL_RE = re.compile(r"^(-?)(\d+)(?:\.(\d+))?$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
HTTPS_RE = https_only.regex
validate_url = URLValidator()


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
        (dosing.doses_per_week is None, dosing.doses_per_week or 0),
        dosing.duration,
        dosing.notes,
    )


def export_document() -> dict:
    """The whole knowledge base (except live counters) in the interchange format."""
    compounds = Compound.objects.prefetch_related(
        "aliases", "dosings__goal", "side_effects", "contraindications"
    )
    interactions = Interaction.objects.select_related("compound_a", "compound_b")
    ratings = Rating.objects.select_related("compound", "goal", "tier")
    studies = Study.objects.prefetch_related(
        models.Prefetch(
            "findings",
            Finding.objects.select_related("compound", "goal", "comparator_compound"),
        )
    )
    articles = Article.objects.select_related("compound", "goal")
    vendors = Vendor.objects.prefetch_related(
        models.Prefetch("offers", Offer.objects.select_related("compound"))
    )

    def compound_entry(compound):
        entry = _export_fields(compound, COMPOUND_FIELDS)
        entry["aliases"] = sorted((a.name for a in compound.aliases.all()), key=_text_key)
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
        return entry

    def interaction_entry(interaction):
        pair = sorted([interaction.compound_a.slug, interaction.compound_b.slug])
        return {"compounds": pair, **_export_fields(interaction, INTERACTION_FIELDS)}

    def study_entry(study):
        entry = _export_fields(study, STUDY_FIELDS)
        findings = sorted(
            study.findings.all(),
            key=lambda f: (f.compound.slug, f.goal.slug, _text_key(f.outcome)),
        )
        entry["findings"] = [_export_fields(f, FINDING_FIELDS) for f in findings]
        return entry

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
        "studies": [study_entry(s) for s in sorted(studies, key=_slug)],
        "articles": [_export_fields(a, ARTICLE_FIELDS) for a in sorted(articles, key=_slug)],
        "vendors": [vendor_entry(v) for v in sorted(vendors, key=_slug)],
    }


def _slug(obj) -> str:
    return obj.slug


# Validation -------------------------------------------------------------------------------------


def _section_order(error: str) -> int:
    """Errors sort by section, in document order (sorted() keeps the order within one)."""
    order = ("format", "version", *SECTIONS)
    section = re.match(r"[^.\[:]*", error).group()
    return order.index(section) if section in order else len(order)


@dataclass
class _Entry:
    """One validated entry: its path in the document, its clean values and its children."""

    path: str
    values: dict
    children: dict[str, list] = field(default_factory=dict)


@dataclass
class _Document:
    sections: dict[str, list[_Entry]]


class _Validator:
    def __init__(self):
        self.errors: list[str] = []
        self.refs: list[tuple[str, type[models.Model], object]] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    # The document and its lists.

    def validate(self, data) -> _Document:
        if not isinstance(data, dict):
            raise ValidationFailed(["document: must be a JSON object"])
        if data.get("format") != FORMAT:
            self.error("format", f'must be "{FORMAT}"')
        version = data.get("version")
        if type(version) is not int:
            self.error("version", "required, an integer")
        elif version != VERSION:
            self.error("version", f"unsupported version {version} (this site reads {VERSION})")
        if self.errors:
            raise ValidationFailed(self.errors)
        for key in data:
            if key not in ("format", "version", *SECTIONS):
                self.error(str(key), "unknown section")

        sections = {
            "goals": self.goals(data),
            "tiers": self.tiers(data),
            "compounds": self.compounds(data),
            "interactions": self.interactions(data),
            "ratings": self.ratings(data),
            "studies": self.studies(data),
            "articles": self.articles(data),
            "vendors": self.vendors(data),
        }
        self.check_references(sections)
        if self.errors:
            raise ValidationFailed(sorted(self.errors, key=_section_order))
        return _Document(sections)

    def items(self, container: dict, name: str, path: str) -> list[tuple[str, dict]]:
        """The objects of a list (absent means empty), each with its path."""
        value = container.get(name, [])
        if not isinstance(value, list):
            self.error(path, "must be a list")
            return []
        out = []
        for i, item in enumerate(value):
            item_path = f"{path}[{i}]"
            if isinstance(item, dict):
                out.append((item_path, item))
            else:
                self.error(item_path, "must be an object")
        return out

    def unique(self, seen: dict, key, path: str, what: str) -> None:
        if key in seen:
            self.error(path, f"duplicate {what}, already used by {seen[key]}")
        else:
            head, _, tail = path.rpartition(".")
            seen[key] = head if head and "[" not in tail else path

    def unique_names(self, model, entries: list[_Entry], label: str) -> None:
        """Names are unique in the document and not taken by another slug in the database."""
        seen: dict = {}
        for entry in entries:
            if "name" in entry.values:
                self.unique(seen, entry.values["name"], f"{entry.path}.name", "name")
        by_name = {e.values["name"]: e for e in entries if {"name", "slug"} <= e.values.keys()}
        taken = model.objects.filter(name__in=list(by_name)).values_list("name", "slug")
        for name, slug in taken:
            entry = by_name[name]
            if entry.values["slug"] != slug:
                self.error(f"{entry.path}.name", f'already the name of {label} "{slug}"')

    # One entry's fields.

    def fields(self, path: str, item: dict, model, names, children=()) -> dict:
        for key in item:
            if key not in names and key not in children:
                self.error(f"{path}.{key}", "unknown field")
        values = {}
        for name in names:
            ok, value = self.value(f"{path}.{name}", item, name, model)
            if ok:
                values[name] = value
        return values

    def value(self, path: str, item: dict, name: str, model) -> tuple[bool, object]:
        model_field = model._meta.get_field(name)
        required = not (model_field.has_default() or model_field.null or model_field.blank)
        if name not in item or item[name] is None:
            if model_field.null:
                return True, None
            if required:
                self.error(path, "required")
                return False, None
            if name in item:
                self.error(path, "must not be null")
                return False, None
            return True, model_field.get_default()
        raw = item[name]
        if model_field.is_relation:
            return self.reference(path, raw, model_field.related_model)
        if isinstance(model_field, models.BooleanField):
            if type(raw) is not bool:
                self.error(path, "must be true or false")
                return False, None
            return True, raw
        if isinstance(model_field, models.IntegerField):
            return self.integer(path, raw, model_field, INTEGER_MINIMUM.get((model, name)))
        if isinstance(model_field, models.DecimalField):
            ok, value = self.decimal(path, raw, model_field)
            if ok and value <= 0 and (model, name) in POSITIVE_DECIMALS:
                self.error(path, "must be positive")
                return False, None
            return ok, value
        if isinstance(model_field, models.DateField):
            return self.date(path, raw)
        return self.text(path, raw, model_field, required)

    def text(self, path: str, raw, model_field, required: bool) -> tuple[bool, object]:
        if not isinstance(raw, str):
            self.error(path, "must be a string")
            return False, None
        if not self.clean_string(path, raw):
            return False, None
        if model_field.max_length and len(raw) > model_field.max_length:
            self.error(path, f"must be at most {model_field.max_length} characters")
            return False, None
        if not raw and model_field.blank:
            return True, raw
        if required and not raw.strip():
            self.error(path, "required")
            return False, None
        if model_field.choices:
            allowed = [str(choice) for choice, _ in model_field.flatchoices]
            if raw not in allowed:
                self.error(path, f"must be one of: {', '.join(allowed)}")
                return False, None
        elif isinstance(model_field, models.SlugField):
            if not self.is_slug(raw):
                self.error(path, "must be a slug (letters, digits, hyphens and underscores)")
                return False, None
        elif isinstance(model_field, models.URLField):
            if https_only in model_field.validators and not HTTPS_RE.match(raw):
                self.error(path, "must be an https:// URL")
                return False, None
            try:
                validate_url(raw)
            except ValidationError:
                self.error(path, "must be a valid URL")
                return False, None
        return True, raw

    def clean_string(self, path: str, raw: str) -> bool:
        if "\x00" in raw:
            self.error(path, "must not contain NUL characters")
            return False
        try:
            raw.encode("utf-8")
        except UnicodeEncodeError:
            self.error(path, "must be valid Unicode text")
            return False
        return True

    @staticmethod
    def is_slug(raw) -> bool:
        try:
            validate_slug(raw)
        except ValidationError:
            return False
        return True

    def integer(self, path: str, raw, model_field, minimum: int | None) -> tuple[bool, object]:
        if type(raw) is not int:
            self.error(path, "must be an integer")
            return False, None
        low = [minimum] if minimum is not None else []
        high = []
        for validator in model_field.validators:
            if isinstance(validator, MinValueValidator):
                low.append(validator.limit_value)
            elif isinstance(validator, MaxValueValidator):
                high.append(validator.limit_value)
        low_limit = max(low) if low else None
        high_limit = min(high) if high else None
        if (low_limit is not None and raw < low_limit) or (
            high_limit is not None and raw > high_limit
        ):
            if high_limit is None:
                self.error(path, f"must be at least {low_limit}")
            else:
                self.error(path, f"must be an integer from {low_limit} to {high_limit}")
            return False, None
        return True, raw

    def decimal(self, path: str, raw, model_field) -> tuple[bool, object]:
        match = DECIMAL_RE.match(raw) if isinstance(raw, str) else None
        if not match:
            self.error(path, 'must be a decimal number written as a string, e.g. "0.308"')
            return False, None
        sign, whole, fraction = match.group(1), match.group(2).lstrip("0"), match.group(3) or ""
        fraction = fraction.rstrip("0")
        places, whole_limit = model_field.decimal_places, model_field.max_digits
        whole_limit -= places
        if len(fraction) > places:
            self.error(path, f"must have at most {places} decimal places")
            return False, None
        if len(whole) > whole_limit:
            self.error(path, f"must have at most {whole_limit} digits before the decimal point")
            return False, None
        return True, Decimal(f"{sign}{whole or '0'}{'.' + fraction if fraction else ''}")

    def date(self, path: str, raw) -> tuple[bool, object]:
        if isinstance(raw, str) and DATE_RE.match(raw):
            try:
                return True, date.fromisoformat(raw)
            except ValueError:
                pass
        self.error(path, "must be a date written YYYY-MM-DD")
        return False, None

    def reference(self, path: str, raw, model) -> tuple[bool, object]:
        label = model._meta.verbose_name
        if model is Tier:
            number = Tier._meta.get_field("number")
            if type(raw) is not int:
                self.error(path, "must be a tier number")
                return False, None
            if not self.integer(path, raw, number, INTEGER_MINIMUM[(Tier, "number")])[0]:
                return False, None
        elif not isinstance(raw, str) or not self.is_slug(raw):
            self.error(path, f"must be a {label} slug")
            return False, None
        self.refs.append((path, model, raw))
        return True, raw

    def check_references(self, sections: dict[str, list[_Entry]]) -> None:
        """Every goal, compound and tier named exists in the document or in the database."""
        in_document = {
            Goal: {e.values.get("slug") for e in sections["goals"]},
            Compound: {e.values.get("slug") for e in sections["compounds"]},
            Tier: {e.values.get("number") for e in sections["tiers"]},
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

    # The sections.

    def goals(self, data) -> list[_Entry]:
        entries, slugs = [], {}
        for path, item in self.items(data, "goals", "goals"):
            values = self.fields(path, item, Goal, GOAL_FIELDS)
            if "slug" in values:
                self.unique(slugs, values["slug"], f"{path}.slug", "slug")
            entries.append(_Entry(path, values))
        self.unique_names(Goal, entries, "goal")
        return entries

    def tiers(self, data) -> list[_Entry]:
        entries, numbers = [], {}
        for path, item in self.items(data, "tiers", "tiers"):
            values = self.fields(path, item, Tier, TIER_FIELDS)
            if "number" in values:
                self.unique(numbers, values["number"], f"{path}.number", "tier number")
            entries.append(_Entry(path, values))
        return entries

    def compounds(self, data) -> list[_Entry]:
        entries, slugs, aliases = [], {}, {}
        children = ("aliases", "dosing", "side_effects", "contraindications")
        for path, item in self.items(data, "compounds", "compounds"):
            values = self.fields(path, item, Compound, COMPOUND_FIELDS, children)
            if "slug" in values:
                self.unique(slugs, values["slug"], f"{path}.slug", "slug")
            entry = _Entry(path, values)
            entry.children["aliases"] = self.aliases(item, path, aliases)
            entry.children["dosing"] = [
                _Entry(p, self.fields(p, i, Dosing, DOSING_FIELDS))
                for p, i in self.items(item, "dosing", f"{path}.dosing")
            ]
            names, conditions = {}, {}
            entry.children["side_effects"] = []
            for p, i in self.items(item, "side_effects", f"{path}.side_effects"):
                child = self.fields(p, i, SideEffect, SIDE_EFFECT_FIELDS)
                if "name" in child:
                    self.unique(names, child["name"], f"{p}.name", "side effect name")
                entry.children["side_effects"].append(_Entry(p, child))
            entry.children["contraindications"] = []
            for p, i in self.items(item, "contraindications", f"{path}.contraindications"):
                child = self.fields(p, i, Contraindication, CONTRAINDICATION_FIELDS)
                if "condition" in child:
                    self.unique(conditions, child["condition"], f"{p}.condition", "condition")
                entry.children["contraindications"].append(_Entry(p, child))
            entries.append(entry)
        self.unique_names(Compound, entries, "compound")
        self.aliases_free_in_database(entries)
        return entries

    def aliases(self, item: dict, path: str, seen: dict) -> list[tuple[str, str]]:
        """The alias names of one compound; unique, ignoring case, across the document."""
        raw = item.get("aliases", [])
        if not isinstance(raw, list):
            self.error(f"{path}.aliases", "must be a list")
            return []
        max_length = CompoundAlias._meta.get_field("name").max_length
        out = []
        for i, name in enumerate(raw):
            alias_path = f"{path}.aliases[{i}]"
            if not isinstance(name, str) or not name.strip():
                self.error(alias_path, "must be a non-empty string")
            elif not self.clean_string(alias_path, name):
                pass
            elif len(name) > max_length:
                self.error(alias_path, f"must be at most {max_length} characters")
            else:
                self.unique(seen, name.lower(), alias_path, f'alias "{name}"')
                out.append((alias_path, name))
        return out

    def aliases_free_in_database(self, entries: list[_Entry]) -> None:
        """An alias must not already name a compound that the document leaves alone."""
        by_lower = {}
        for entry in entries:
            for path, name in entry.children["aliases"]:
                by_lower[name.lower()] = path
        if not by_lower:
            return
        slugs = [e.values["slug"] for e in entries if "slug" in e.values]
        clashes = (
            CompoundAlias.objects.annotate(lower=Lower("name"))
            .filter(lower__in=list(by_lower))
            .exclude(compound__slug__in=slugs)
            .values_list("lower", "compound__slug")
        )
        for lower, slug in clashes:
            if lower in by_lower:
                self.error(by_lower[lower], f'already an alias of compound "{slug}"')

    def interactions(self, data) -> list[_Entry]:
        entries, pairs = [], {}
        for path, item in self.items(data, "interactions", "interactions"):
            values = self.fields(path, item, Interaction, INTERACTION_FIELDS, ("compounds",))
            pair = item.get("compounds")
            pair_path = f"{path}.compounds"
            if not isinstance(pair, list) or len(pair) != 2:
                self.error(pair_path, "must be a list of two compound slugs")
            elif pair[0] == pair[1] and isinstance(pair[0], str):
                self.error(pair_path, "must name two different compounds")
            else:
                ok_a, a = self.reference(f"{pair_path}[0]", pair[0], Compound)
                ok_b, b = self.reference(f"{pair_path}[1]", pair[1], Compound)
                if ok_a and ok_b:
                    values["compounds"] = tuple(sorted((a, b)))
                    self.unique(pairs, values["compounds"], pair_path, "pair of compounds")
            entries.append(_Entry(path, values))
        return entries

    def ratings(self, data) -> list[_Entry]:
        entries, keys = [], {}
        for path, item in self.items(data, "ratings", "ratings"):
            values = self.fields(path, item, Rating, RATING_FIELDS)
            if "compound" in values and "goal" in values:
                key = (values["compound"], values["goal"])
                self.unique(keys, key, f"{path}.goal", "rating for this compound and goal")
            entries.append(_Entry(path, values))
        return entries

    def studies(self, data) -> list[_Entry]:
        entries, slugs = [], {}
        for path, item in self.items(data, "studies", "studies"):
            values = self.fields(path, item, Study, STUDY_FIELDS, ("findings",))
            if "slug" in values:
                self.unique(slugs, values["slug"], f"{path}.slug", "slug")
            if (
                values.get("trial_count") is not None
                and values.get("design", Study.Design.META_ANALYSIS) != Study.Design.META_ANALYSIS
            ):
                self.error(f"{path}.trial_count", "only for a meta-analysis")
            entry = _Entry(path, values, {"findings": []})
            outcomes = {}
            for p, i in self.items(item, "findings", f"{path}.findings"):
                finding = self.fields(p, i, Finding, FINDING_FIELDS)
                self.check_finding(p, finding)
                if all(k in finding for k in ("compound", "goal", "outcome")):
                    key = (finding["compound"], finding["goal"], finding["outcome"])
                    self.unique(outcomes, key, f"{p}.outcome", "outcome for this compound and goal")
                entry.children["findings"].append(_Entry(p, finding))
            entries.append(entry)
        return entries

    def check_finding(self, path: str, f: dict) -> None:
        """The check constraints of Finding, field by field."""
        measure = f.get("measure")
        value, low, high = f.get("value"), f.get("ci_low"), f.get("ci_high")
        has_ci_fields = "ci_low" in f and "ci_high" in f
        if has_ci_fields and (low is None) != (high is None):
            missing, given = ("ci_high", "ci_low") if high is None else ("ci_low", "ci_high")
            self.error(f"{path}.{missing}", f"required when {given} is given (both or neither)")
        elif has_ci_fields and low is not None:
            if not low < high:
                self.error(f"{path}.ci_low", "must be below ci_high")
            elif "value" in f and value is None:
                self.error(f"{path}.value", "required when a CI is given")
            elif value is not None:
                # A two-arm proportion's CI is that of the difference between the arms.
                comparator_value = f.get("comparator_value")
                two_arm = measure == Finding.Measure.PROPORTION and comparator_value is not None
                effect = value - comparator_value if two_arm else value
                if not low <= effect <= high:
                    what = "the difference from comparator_value " if two_arm else ""
                    self.error(
                        f"{path}.value",
                        f"{what}must lie inside the CI "
                        f"({_decimal_text(low)} to {_decimal_text(high)})",
                    )
                bounds = (-100, 100) if two_arm else (0, 100)
                if measure == Finding.Measure.PROPORTION and not (
                    bounds[0] <= low and high <= bounds[1]
                ):
                    self.error(f"{path}.ci_low", f"must lie within {bounds[0]} to {bounds[1]}")
        p_value = f.get("p_value")
        if p_value is not None and not 0 < p_value <= 1:
            self.error(f"{path}.p_value", "must be above 0 and at most 1")
        if measure in Finding.RATIO_MEASURES:
            if value is not None and value <= 0:
                self.error(f"{path}.value", "must be positive for a ratio")
            if low is not None and low <= 0:
                self.error(f"{path}.ci_low", "must be positive for a ratio")
        if measure == Finding.Measure.PROPORTION:
            for name in ("value", "comparator_value"):
                number = f.get(name)
                if number is not None and not 0 <= number <= 100:
                    self.error(f"{path}.{name}", "must be a percentage from 0 to 100")
        elif measure is not None and f.get("comparator_value") is not None:
            self.error(f"{path}.comparator_value", "only for proportions")
        if measure not in (None, Finding.Measure.QUALITATIVE) and "value" in f and value is None:
            self.error(f"{path}.value", "required unless the measure is qualitative")
        if f.get("p_value_is_bound") and p_value is None:
            self.error(f"{path}.p_value_is_bound", "only with a p-value")
        if measure == Finding.Measure.QUALITATIVE and (value is not None or low is not None):
            self.error(f"{path}.value", "a qualitative finding has no value or CI")
        comparator_compound = f.get("comparator_compound")
        if comparator_compound is not None:
            if f.get("comparator") not in (None, *Finding.COMPOUND_COMPARATORS):
                self.error(f"{path}.comparator_compound", "only for an active or add-on comparator")
            if comparator_compound == f.get("compound"):
                self.error(f"{path}.comparator_compound", "must differ from the compound")
        if f.get("stated_significance") is not None and (low is not None or p_value is not None):
            self.error(
                f"{path}.stated_significance",
                "only when the source gives neither a CI nor a p-value",
            )

    def articles(self, data) -> list[_Entry]:
        entries, slugs = [], {}
        for path, item in self.items(data, "articles", "articles"):
            values = self.fields(path, item, Article, ARTICLE_FIELDS)
            if "slug" in values:
                self.unique(slugs, values["slug"], f"{path}.slug", "slug")
            entries.append(_Entry(path, values))
        return entries

    def vendors(self, data) -> list[_Entry]:
        entries, slugs = [], {}
        for path, item in self.items(data, "vendors", "vendors"):
            values = self.fields(path, item, Vendor, VENDOR_FIELDS, ("offers",))
            if "slug" in values:
                self.unique(slugs, values["slug"], f"{path}.slug", "slug")
            entry = _Entry(path, values, {"offers": []})
            keys = {}
            for p, i in self.items(item, "offers", f"{path}.offers"):
                offer = self.fields(p, i, Offer, OFFER_FIELDS)
                if "key" in offer:
                    self.unique(keys, offer["key"], f"{p}.key", "offer key")
                entry.children["offers"].append(_Entry(p, offer))
            entries.append(entry)
        self.unique_names(Vendor, entries, "vendor")
        return entries


# Writing ----------------------------------------------------------------------------------------


class _Writer:
    """Upserts a validated document; collects full_clean() errors instead of saving."""

    def __init__(self):
        self.report = ImportReport()
        self.errors: list[str] = []
        self.objects: dict[type[models.Model], dict] = {Goal: {}, Tier: {}, Compound: {}}

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
            if compound is not None:
                compounds.append((compound, entry))
                self.delete_stale_aliases(compound, entry)
        for compound, entry in compounds:
            self.compound_children(compound, entry)
        for entry in sections["interactions"]:
            self.interaction(entry)
        for entry in sections["ratings"]:
            self.upsert("ratings", Rating, entry, ("compound_id", "goal_id"))
        for entry in sections["studies"]:
            study = self.upsert("studies", Study, entry, ("slug",))
            if study is not None:
                self.sync_children(
                    "findings",
                    Finding,
                    {"study": study},
                    study.findings.all(),
                    entry.children["findings"],
                    ("compound_id", "goal_id", "outcome"),
                )
        for entry in sections["articles"]:
            self.upsert("articles", Article, entry, ("slug",))
        for entry in sections["vendors"]:
            vendor = self.upsert("vendors", Vendor, entry, ("slug",))
            if vendor is not None:
                self.sync_children(
                    "offers",
                    Offer,
                    {"vendor": vendor},
                    vendor.offers.all(),
                    entry.children["offers"],
                    ("key",),
                )
        if self.errors:
            raise ValidationFailed(self.errors)
        return self.report

    # Natural keys to database rows.

    def remember(self, model, entry: _Entry, obj) -> None:
        self.objects[model][entry.values[KEY_FIELD[model]]] = obj

    def pk(self, model, key):
        """The primary key for a natural key; None if that entry could not be saved."""
        cache = self.objects[model]
        if key not in cache:
            cache[key] = model.objects.filter(**{KEY_FIELD[model]: key}).first()
        obj = cache[key]
        return None if obj is None else obj.pk

    def model_values(self, model, values: dict) -> dict | None:
        """Clean values keyed by attname, references resolved; None if a reference failed."""
        out = {}
        for name, value in values.items():
            if name == "compounds":
                continue
            model_field = model._meta.get_field(name)
            if model_field.is_relation:
                if value is None:
                    out[model_field.attname] = None
                    continue
                pk = self.pk(model_field.related_model, value)
                if pk is None:
                    return None
                out[model_field.attname] = pk
            else:
                out[name] = value
        return out

    # Saving.

    def upsert(self, kind: str, model, entry: _Entry, key: tuple[str, ...]):
        values = self.model_values(model, entry.values)
        if values is None:
            return None
        lookup = {name: values[name] for name in key}
        obj = model.objects.filter(**lookup).first()
        if obj is None:
            return self.create(kind, model(**values), entry.path)
        return self.update(kind, obj, values, entry.path)

    def create(self, kind: str, obj, path: str):
        if not self.clean(obj, path):
            return None
        obj.save(force_insert=True)
        self.report.add(kind, "created")
        return obj

    def update(self, kind: str, obj, values: dict, path: str):
        changed = [name for name, value in values.items() if getattr(obj, name) != value]
        if not changed:
            self.report.add(kind, "unchanged")
            return obj
        for name in changed:
            setattr(obj, name, values[name])
        if not self.clean(obj, path):
            return None
        auto_now = [
            f.attname
            for f in obj._meta.concrete_fields
            if getattr(f, "auto_now", False) and f.attname not in changed
        ]
        obj.save(update_fields=changed + auto_now)
        self.report.add(kind, "updated")
        return obj

    def clean(self, obj, path: str) -> bool:
        """The second net: the model's own validation, reported with the entry's path."""
        try:
            obj.full_clean()
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                where = path if name == NON_FIELD_ERRORS else f"{path}.{name}"
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
            values = self.model_values(model, entry.values)
            if values is not None:
                wanted.append((entry, values, tuple(values[name] for name in key)))
        wanted_keys = {k for _, _, k in wanted}
        rows = {}
        for obj in existing:
            obj_key = tuple(getattr(obj, name) for name in key)
            if obj_key in wanted_keys and obj_key not in rows:
                rows[obj_key] = obj
            else:
                self.delete(kind, obj)
        for entry, values, obj_key in wanted:
            if obj_key in rows:
                self.update(kind, rows[obj_key], values, entry.path)
            else:
                self.create(kind, model(**parent, **values), entry.path)

    # Compounds' children and interactions.

    def delete_stale_aliases(self, compound: Compound, entry: _Entry) -> None:
        """First, for every compound, so an alias can move from one compound to another."""
        wanted = {name for _, name in entry.children["aliases"]}
        kept = set()
        for alias in compound.aliases.all():
            if alias.name in wanted and alias.name not in kept:
                kept.add(alias.name)
            else:
                self.delete("aliases", alias)

    def compound_children(self, compound: Compound, entry: _Entry) -> None:
        existing = set(compound.aliases.values_list("name", flat=True))
        for path, name in entry.children["aliases"]:
            if name in existing:
                self.report.add("aliases", "unchanged")
            else:
                self.create("aliases", CompoundAlias(compound=compound, name=name), path)
        self.sync_dosing(compound, entry.children["dosing"])
        self.sync_children(
            "side_effects",
            SideEffect,
            {"compound": compound},
            compound.side_effects.all(),
            entry.children["side_effects"],
            ("name",),
        )
        self.sync_children(
            "contraindications",
            Contraindication,
            {"compound": compound},
            compound.contraindications.all(),
            entry.children["contraindications"],
            ("condition",),
        )

    def sync_dosing(self, compound: Compound, entries: list[_Entry]) -> None:
        """Dosing rows have no natural key: a row is kept when all its values match."""
        names = [Dosing._meta.get_field(name).attname for name in DOSING_FIELDS]
        remaining = list(compound.dosings.all())
        for entry in entries:
            values = self.model_values(Dosing, entry.values)
            if values is None:
                continue
            match = next(
                (d for d in remaining if all(getattr(d, n) == values[n] for n in names)), None
            )
            if match is not None:
                remaining.remove(match)
                self.report.add("dosing", "unchanged")
            else:
                self.create("dosing", Dosing(compound=compound, **values), entry.path)
        for dosing in remaining:
            self.delete("dosing", dosing)

    def interaction(self, entry: _Entry) -> None:
        values = self.model_values(Interaction, entry.values)
        pks = [self.pk(Compound, slug) for slug in entry.values["compounds"]]
        if values is None or None in pks:
            return
        low, high = sorted(pks)
        values.update(compound_a_id=low, compound_b_id=high)
        obj = Interaction.objects.filter(compound_a_id=low, compound_b_id=high).first()
        if obj is None:
            self.create("interactions", Interaction(**values), entry.path)
        else:
            self.update("interactions", obj, values, entry.path)


# Import -----------------------------------------------------------------------------------------


def import_document(data: dict) -> ImportReport:
    """Validate the whole document, then upsert it in one transaction (all or nothing).

    Precomputed scores of every compound the import touched are refreshed once, at the end,
    inside the same transaction.
    """
    try:
        with transaction.atomic(), bulk_edit():
            document = _Validator().validate(data)
            return _Writer().write(document)
    except DatabaseError as exc:
        # The validation should make this unreachable; never let a half import through.
        raise ValidationFailed([f"database: {exc}"]) from exc
