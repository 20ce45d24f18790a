"""The knowledge base: goals, compounds, the tier ladder, ratings, studies and their findings,
articles, interactions, vendors and their offers.

Integrity lives in the database (unique slugs, check constraints, deliberate on_delete), so a
bad import or a careless admin edit cannot leave half-true evidence behind.
"""

import calendar
import re
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Case, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone
from simple_history.models import HistoricalRecords

from evidence import search, stats
from evidence.currencies import CODE_PATTERN, validate_currency
from evidence.formatting import format_amount
from evidence.links import slug_url

https_only = RegexValidator(r"^https://[^\s/$.?#][^\s]*$", "Enter a well-formed https:// URL.")


class PublicChangeNote(models.Model):
    """What the public change log (evidence.changelog) reads from a history record besides the
    change itself: the editor's public reason, and whether the edit was a minor chore.

    The history records of ratings, findings and compounds carry these two fields (their
    `HistoricalRecords(bases=...)`). The admin's forms set `_public_reason` and `_minor_edit` on
    the object they save; evidence.signals copies them onto the history record that save
    writes. simple-history's own `history_change_reason` stays internal (a migration wrote
    "Recorded when history began" into it): only `public_reason` is ever shown to visitors.
    """

    public_reason = models.TextField(
        blank=True, default="", help_text="The editor's reason, shown on the public change log."
    )
    minor_edit = models.BooleanField(
        default=False, help_text="An editorial chore (typo, whitespace), hidden by default."
    )

    class Meta:
        abstract = True


class Searchable(models.Model):
    """A row found by its name: it stores `search.index_key(name)` whenever it is saved (bulk
    writers fill it with the same function), which PostgreSQL's trigram index serves."""

    search_key = models.TextField(editable=False, default="", db_default="")

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.search_key = search.index_key(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "search_key"}
        super().save(*args, **kwargs)


class Goal(Searchable):
    """A health goal a visitor can pick, e.g. Liver health."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    category = models.CharField(max_length=80, help_text="Heading the goal is grouped under.")
    description = models.TextField(blank=True)

    history = HistoricalRecords(excluded_fields=["search_key"])

    class Meta:
        ordering = ["category", "name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return slug_url("goal_detail", self.slug)


class Tier(models.Model):
    """One rung of the editorial evidence ladder; Tier 1 is the strongest."""

    number = models.PositiveSmallIntegerField(unique=True)
    label = models.CharField(max_length=80)
    description = models.TextField(help_text="What the tier means, in plain language.")
    weight = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(100)],
        help_text="Anchor points (0-100) a rating at this tier starts from in scoring.",
    )
    means_no_effect = models.BooleanField(
        default=False,
        help_text="Ratings at this tier say the compound was studied and showed no effect.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(number__gte=1),
                name="tier_number_from_1",
                violation_error_message="Tier numbers start at 1.",
            ),
            models.CheckConstraint(
                condition=Q(weight__lte=100),
                name="tier_weight_at_most_100",
                violation_error_message="A tier's weight is at most 100.",
            ),
        ]

    def __str__(self):
        return f"Tier {self.number}: {self.label}"


@dataclass(frozen=True)
class Found:
    """What a search found, best match first: compound ids and goals (only their id, name and
    slug loaded), and the corrected query ("did you mean") when they were found only after
    correcting a typo."""

    compound_ids: tuple[int, ...] = ()
    goals: tuple["Goal", ...] = ()
    corrected: str = ""


@dataclass(frozen=True)
class TierRef:
    """A tier's number and label, enough to draw its badge ({% tier_badge %})."""

    number: int
    label: str


@dataclass(frozen=True)
class CardRating:
    tier: TierRef
    goal_name: str
    goal_slug: str


@dataclass(frozen=True)
class IndexCard:
    """One compound as the A-Z index and the search results draw it (compound_index.html#
    compound_card): read as plain values, not model instances, since a page draws fifty."""

    name: str
    slug: str
    kind: str
    has_findings: bool
    alias_names: tuple[str, ...] = ()  # in the order editors entered them
    ratings: tuple[CardRating, ...] = ()  # strongest tier first, then by goal name

    def get_absolute_url(self):
        return slug_url("compound_detail", self.slug)

    def get_kind_display(self):
        """As the model's: the kind's label, or the stored value when it is not a choice."""
        return KIND_LABELS.get(self.kind, self.kind)


class CompoundQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published=True)

    def index_cards(self, ids) -> dict[int, IndexCard]:
        """These compounds among `ids` as IndexCards, by id: three queries (the compounds,
        their aliases, their ratings with tier and goal), whatever their number."""
        aliases: dict[int, list[str]] = {}
        for compound_id, name in (
            CompoundAlias.objects.filter(compound_id__in=ids)
            .order_by("pk")
            .values_list("compound_id", "name")
        ):
            aliases.setdefault(compound_id, []).append(name)
        ratings: dict[int, list[CardRating]] = {}
        for compound_id, number, label, goal_name, goal_slug in (
            Rating.objects.filter(compound_id__in=ids)
            .order_by("tier__number", "goal__name")
            .values_list("compound_id", "tier__number", "tier__label", "goal__name", "goal__slug")
        ):
            rating = CardRating(TierRef(number, label), goal_name, goal_slug)
            ratings.setdefault(compound_id, []).append(rating)
        compounds = (
            self.filter(pk__in=ids)
            .with_evidence_recorded()
            .values_list("pk", "name", "slug", "kind", "has_findings")
        )
        return {
            pk: IndexCard(
                name,
                slug,
                kind,
                has_findings,
                tuple(aliases.get(pk, ())),
                tuple(ratings.get(pk, ())),
            )
            for pk, name, slug, kind, has_findings in compounds
        }

    def with_evidence_recorded(self):
        """Annotate `has_findings`: whether any finding is recorded for the compound (a
        compound without one says "no evidence recorded yet")."""
        return self.annotate(
            has_findings=models.Exists(Finding.objects.filter(compound=models.OuterRef("pk")))
        )

    def search(self, text: str):
        """These compounds, narrowed to those `find` finds by name or alias (unordered)."""
        if not search.normalise(text):
            return self
        return self.filter(pk__in=self.find(text).compound_ids)

    def find(self, text: str) -> Found:
        """The compounds among these whose name or an alias matches the text, and the goals
        whose name does, by the forgiving rules of evidence.search (word order, hyphens and
        spaces, Greek letters, accents, a small typo). An alias may name several compounds:
        every compound it names is found. One query reads the names compared (on PostgreSQL
        only those its trigram index admits; evidence.search says how), two after a typo,
        and in each process every COMMON_WORDS_SECONDS one more (`common_search_words`)."""
        query = search.normalise(text)
        if not query:
            return Found()
        trigram = connection.vendor == "postgresql"
        common = common_search_words() if trigram else frozenset()
        names = self._names(_key_contains(query, common) if trigram else None)
        corrected = ""
        found = _best_first(query, names)
        if not found and search.correctable(query):
            if trigram:
                names = self._names(_key_similar(query))
            words = search.vocabulary(row[1] for row in names)
            corrected = search.did_you_mean(query, words)
            if corrected and trigram:
                names = self._names(_key_contains(corrected, common))
            found = _best_first(corrected, names) if corrected else []
        return Found(
            compound_ids=tuple(pk for pk, _, _, kind in found if kind == "compound"),
            goals=tuple(
                Goal(pk=pk, name=name, slug=slug)
                for pk, name, slug, kind in found
                if kind == "goal"
            ),
            corrected=corrected,
        )

    def _names(self, key_filter: Q | None) -> list[tuple[int, str, str, str]]:
        """(id, name, goal slug or "", kind) of these compounds' names and aliases and of every
        goal, narrowed by `key_filter` on the stored search keys when given."""
        text_field = models.CharField()
        compound, goal = Value("compound", text_field), Value("goal", text_field)
        narrow = key_filter if key_filter is not None else Q()
        return list(
            self.order_by()
            .filter(narrow)
            .values_list("pk", "name", Value("", text_field), compound)
            .union(
                CompoundAlias.objects.filter(narrow, compound__in=self.values("pk"))
                .order_by()
                .values_list("compound_id", "name", Value("", text_field), compound),
                Goal.objects.filter(narrow).order_by().values_list("pk", "name", "slug", goal),
                all=True,
            )
        )


def _key_contains(query: str, common: frozenset[str] = frozenset()) -> Q:
    """Rows whose search key holds the pieces `search.key_contains` asks for (every row when
    it asks for none: the query's words are all `common`)."""
    admitted = Q()
    for piece in search.key_contains(query, common):
        admitted &= Q(search_key__contains=piece)
    return admitted


# A word in this many names is left to the matcher: the trigram index would read a posting
# list about as long as the table to find it: in the large benchmark's 18,570 names, 11 ms
# for "synthetic" (in all of them) against under 1 ms for a compound's number.
COMMON_WORD_KEYS = 1_000
# How long a process keeps the common words before counting them again. A stale set costs
# speed, never a result: a word left out or kept only widens or narrows what the matcher sees.
COMMON_WORDS_SECONDS = 600.0
_common_words_read: tuple[float, frozenset[str]] = (float("-inf"), frozenset())


def common_search_words() -> frozenset[str]:
    """The words in COMMON_WORD_KEYS or more of the searchable names' keys (compounds,
    aliases, goals), counted once every COMMON_WORDS_SECONDS in each process."""
    global _common_words_read
    read_at, words = _common_words_read
    now = time.monotonic()
    if now - read_at >= COMMON_WORDS_SECONDS:
        keys = (
            Compound.objects.order_by()
            .values_list("search_key", flat=True)
            .union(
                CompoundAlias.objects.order_by().values_list("search_key", flat=True),
                Goal.objects.order_by().values_list("search_key", flat=True),
                all=True,
            )
        )
        words = search.common_words(keys.iterator(), COMMON_WORD_KEYS)
        _common_words_read = (now, words)
    return words


def _key_similar(query: str) -> Q:
    """Rows whose search key has a word trigram-similar to a correctable word of the query."""
    similar = Q(pk__in=[])
    for word in query.split():
        if len(word) >= search.MIN_CORRECTED_LENGTH:
            similar |= Q(search_key__trigram_word_similar=word)
    return similar


def _best_first(query: str, names: list[tuple[int, str, str, str]]) -> list[tuple]:
    """The rows (id, name, slug of a goal, kind) of the compounds and goals whose names match the
    normalised query, one per compound or goal (its best-matching name), best match first."""
    best: dict[tuple[str, int], tuple[int, str, tuple]] = {}
    rank = search.matcher(query)
    for row in names:
        pk, name, _, kind = row
        found = rank(name)
        if found is not None:
            candidate = (found, name.casefold(), row)
            key = (kind, pk)
            if key not in best or candidate[:2] < best[key][:2]:
                best[key] = candidate
    return [row for _, _, row in sorted(best.values(), key=lambda each: each[:2])]


class Compound(Searchable):
    class Kind(models.TextChoices):
        PEPTIDE = "peptide", "Peptide"
        SUPPLEMENT = "supplement", "Supplement"
        NUTRIENT = "nutrient", "Nutrient"
        HERBAL = "herbal", "Herbal extract"
        DRUG = "drug", "Drug"
        HORMONE = "hormone", "Hormone"
        OTHER = "other", "Other"
        NOT_STATED = "not_stated", "Kind not stated"

    name = models.CharField(max_length=160, unique=True)
    slug = models.SlugField(max_length=160, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    summary = models.TextField(blank=True)
    mechanism = models.TextField("mechanism of action", blank=True)
    mechanism_class = models.CharField(
        max_length=80,
        blank=True,
        help_text='Short class, e.g. "Immunomodulator"; two stack picks of one class are flagged.',
    )
    regulatory_status = models.TextField(blank=True)
    published = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CompoundQuerySet.as_manager()
    # Each history row carries its own date; updated_at would only repeat it.
    history = HistoricalRecords(
        excluded_fields=["updated_at", "search_key"], bases=[PublicChangeNote]
    )

    class Meta:
        # No ordering: the table is large and hot; each query orders as it needs.
        indexes = [
            # The published compounds' ids alone, for the lists and counts that join findings
            # to published compounds: a scan of this instead of the whole table's rows.
            models.Index(fields=["id"], condition=Q(published=True), name="compound_published_idx"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return slug_url("compound_detail", self.slug)


# What each kind of compound is called (IndexCard.get_kind_display).
KIND_LABELS = dict(Compound.Kind.choices)


class CompoundAlias(Searchable):
    """Another name the compound is known by (brand, INN, abbreviation). One alias may name
    several compounds ("vitamin b3": niacin and nicotinamide); search then offers the choice."""

    compound = models.ForeignKey(Compound, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=160)
    reviewed = models.BooleanField(
        "reviewed by an editor",
        default=True,
        help_text="An import leaves an alias it doubts unreviewed, with its reason below.",
    )
    review_note = models.TextField(
        blank=True,
        help_text="Why an import flagged this alias (e.g. another compound has it too).",
    )

    history = HistoricalRecords(excluded_fields=["search_key"])

    class Meta:
        verbose_name_plural = "compound aliases"
        constraints = [
            # An alias may name several compounds, but each compound only once.
            models.UniqueConstraint(
                "compound",
                Lower("name"),
                name="alias_name_unique_per_compound_ci",
                violation_error_message=(
                    "This compound already has this alias (capital letters do not count)."
                ),
            ),
        ]

    def __str__(self):
        return self.name

    @staticmethod
    def shared_among(compounds, text: str) -> list[tuple[str, list[IndexCard]]]:
        """The aliases matching the text (evidence.search's rules; `text` as the search ran,
        corrected if it was) that name more than one of the compounds (IndexCards), each with
        the compounds it names: the choice search offers."""
        query = search.normalise(text)
        named: dict[str, tuple[str, list[IndexCard]]] = {}
        for compound in compounds:
            for alias in compound.alias_names:
                key = alias.lower()
                if search.rank(query, alias) is not None:
                    spelling, those = named.setdefault(key, (alias, []))
                    if compound not in those:
                        those.append(compound)
        return [
            (spelling, those) for _, (spelling, those) in sorted(named.items()) if len(those) > 1
        ]


class Route(models.TextChoices):
    ORAL = "oral", "Oral"
    SUBLINGUAL = "sublingual", "Sublingual"
    SUBCUTANEOUS = "subcutaneous", "Subcutaneous injection"
    INTRAMUSCULAR = "intramuscular", "Intramuscular injection"
    INTRAVENOUS = "intravenous", "Intravenous"
    INTRANASAL = "intranasal", "Intranasal"
    TOPICAL = "topical", "Topical"
    INHALED = "inhaled", "Inhaled"
    NOT_REPORTED = "not_reported", "Route not reported"

    @classmethod
    def injections(cls):
        """The injected routes; "not reported" is not one (it never makes a compound
        injection-only)."""
        return {cls.SUBCUTANEOUS, cls.INTRAMUSCULAR, cls.INTRAVENOUS}


class Unit(models.TextChoices):
    MG = "mg", "mg"
    MCG = "mcg", "mcg"
    G = "g", "g"
    IU = "IU", "IU"
    ML = "ml", "ml"

    @classmethod
    def milligrams(cls, amount: Decimal, unit: str) -> Decimal | None:
        """The amount in mg, or None for units that do not convert to mass (IU, ml)."""
        factor = MILLIGRAMS_PER_UNIT.get(unit)
        return None if factor is None else amount * factor

    @classmethod
    def milligrams_expression(cls, amount: str, unit: str) -> models.Expression:
        """`Unit.milligrams` in SQL, for the amount and unit columns of a query."""
        return Case(
            *(
                When(**{unit: code}, then=F(amount) * Value(factor))
                for code, factor in MILLIGRAMS_PER_UNIT.items()
            ),
            default=None,
            output_field=models.DecimalField(),
        )


# The one unit conversion: units of mass to milligrams. IU and ml have no fixed mass.
MILLIGRAMS_PER_UNIT = {Unit.MG: Decimal(1), Unit.MCG: Decimal("0.001"), Unit.G: Decimal(1000)}


class Dosing(models.Model):
    """A studied dose of a compound: general, or for one goal where it differs."""

    compound = models.ForeignKey(Compound, on_delete=models.CASCADE, related_name="dosings")
    goal = models.ForeignKey(
        Goal,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="dosings",
        help_text="Leave empty when the dose applies to every goal.",
    )
    amount = models.DecimalField(
        max_digits=12,
        decimal_places=4,
        help_text="The dose, or the low end of a range.",
    )
    amount_max = models.DecimalField(
        "amount (high end)",
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="The high end when the source gives a range (e.g. 1–3 g); empty for one dose.",
    )
    unit = models.CharField(max_length=8, choices=Unit.choices)
    per_kg = models.BooleanField(
        "per kg of body weight",
        default=False,
        help_text="The amount is per kg of body weight (e.g. 0.3 g per kg).",
    )
    frequency = models.CharField(
        max_length=120,
        blank=True,
        help_text='As written, e.g. "twice weekly"; empty when the source does not report it.',
    )
    doses_per_week = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Used to estimate monthly cost; leave empty if the source does not say.",
    )
    route = models.CharField(max_length=20, choices=Route.choices)
    timing = models.CharField(
        max_length=120, blank=True, help_text='When it is taken, e.g. "at bedtime", "with meals".'
    )
    duration = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "dosing"
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="dosing_amount_positive",
                violation_error_message="The dose amount must be above zero.",
            ),
            models.CheckConstraint(
                condition=Q(amount_max__isnull=True) | Q(amount_max__gte=F("amount")),
                name="dosing_range_ordered",
                violation_error_message=(
                    "The high end of a dose range cannot be below its low end (the amount)."
                ),
            ),
            models.CheckConstraint(
                condition=Q(doses_per_week__isnull=True) | Q(doses_per_week__gt=0),
                name="dosing_doses_per_week_positive",
                violation_error_message="Doses per week must be above zero, or left empty.",
            ),
        ]

    def __str__(self):
        goal = f" for {self.goal}" if self.goal_id else ""
        return f"{self.compound}: {self.describe()}{goal}"

    def describe(self) -> str:
        """The dose in words: "1.6 mg twice weekly, subcutaneous injection", "1–3 g per kg,
        oral, at bedtime" (a frequency the source does not report is left out here; pages
        say "Frequency not reported")."""
        dose = " ".join(part for part in (self.dose_text(), self.frequency) if part)
        route = self.get_route_display().lower() if self.route else ""
        return ", ".join(part for part in (dose, route, self.timing) if part)

    def dose_text(self) -> str:
        """The amount or range with its unit (`evidence.formatting.format_amount`)."""
        return format_amount(self.amount, self.amount_max, self.unit, self.per_kg)

    @property
    def milligrams_per_month(self) -> Decimal | None:
        """The monthly amount that cost estimates use, in mg.

        A range counts at its low end, the smallest dose the source reports, so the estimate is
        the least the studied dose costs (docs/methodology.md says so). A dose per kg of body
        weight gives no estimate: the visitor's weight is unknown. Nor do units without a mass,
        or doses per week the source does not give.
        """
        if self.per_kg:
            return None
        mg = Unit.milligrams(self.amount, self.unit)
        if mg is None or self.doses_per_week is None:
            return None
        return mg * self.doses_per_week * Decimal(52) / Decimal(12)


class SideEffect(models.Model):
    class Frequency(models.TextChoices):
        COMMON = "common", "Common"
        UNCOMMON = "uncommon", "Uncommon"
        RARE = "rare", "Rare"
        SERIOUS = "serious", "Serious"
        NOT_STATED = "not_stated", "Frequency not stated"

    compound = models.ForeignKey(Compound, on_delete=models.CASCADE, related_name="side_effects")
    name = models.CharField(max_length=160)
    frequency = models.CharField(max_length=12, choices=Frequency.choices)
    description = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["compound", "name"],
                name="side_effect_unique_per_compound",
                violation_error_message="This compound already lists a side effect with this name.",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_frequency_display().lower()})"


class Condition(models.TextChoices):
    """Conditions a visitor can declare, which exclude contraindicated compounds."""

    PREGNANCY = "pregnancy", "Pregnancy"
    BREASTFEEDING = "breastfeeding", "Breastfeeding"
    AUTOIMMUNE_DISEASE = "autoimmune_disease", "Autoimmune disease"
    IMMUNOSUPPRESSIVE_THERAPY = "immunosuppressive_therapy", "Immunosuppressive therapy"
    ORGAN_TRANSPLANT = "organ_transplant", "Organ transplant recipient"
    ANTICOAGULANTS = "anticoagulants", "Taking anticoagulants"
    KIDNEY_DISEASE = "kidney_disease", "Kidney disease"
    CHILDREN = "children", "Children and adolescents"


class Contraindication(models.Model):
    compound = models.ForeignKey(
        Compound, on_delete=models.CASCADE, related_name="contraindications"
    )
    condition = models.CharField(max_length=32, choices=Condition.choices)
    note = models.TextField(blank=True, help_text="Why, in the source's words.")

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["compound", "condition"],
                name="contraindication_unique_per_compound",
                violation_error_message="This compound already lists this condition.",
            ),
        ]

    def __str__(self):
        return f"{self.compound}: {self.get_condition_display()}"


# Regulatory and sport status ------------------------------------------------------------------
#
# Each status names its source and the date an editor verified it: a status without either is
# refused by the database, since a legal claim nobody can check is worse than none.


class RegulatoryStatus(models.Model):
    """A compound's standing with one jurisdiction's regulator, as a dated, sourced fact."""

    class Status(models.TextChoices):
        APPROVED = "approved", "Approved"
        NOT_APPROVED = "not_approved", "Not approved"
        WARNING_LIST = "warning_list", "On a regulator's warning list"
        OTHER = "other", "Other"

    compound = models.ForeignKey(
        Compound, on_delete=models.CASCADE, related_name="regulatory_statuses"
    )
    jurisdiction = models.CharField(
        max_length=120, help_text='Country or region as named by the source, e.g. "South Africa".'
    )
    regulator = models.CharField(max_length=160, blank=True, help_text='e.g. "SAHPRA".')
    status = models.CharField(max_length=20, choices=Status.choices)
    status_detail = models.CharField(
        max_length=300,
        blank=True,
        help_text='What the source says, in its words; required for "Other".',
    )
    source_name = models.CharField(max_length=200, blank=True)
    source_url = models.URLField("source URL", max_length=500, blank=True, validators=[https_only])
    verified_on = models.DateField(
        "verified", null=True, blank=True, help_text="When an editor last checked the source."
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "regulatory statuses"
        constraints = [
            models.UniqueConstraint(
                fields=["compound", "jurisdiction"],
                name="regulatory_status_unique_jurisdiction",
                violation_error_message="This compound already has a status for this jurisdiction.",
            ),
            models.CheckConstraint(
                condition=~Q(source_name="") & ~Q(source_url="") & Q(verified_on__isnull=False),
                name="regulatory_status_sourced",
                violation_error_message=(
                    "A regulatory status needs its source (a name and an https:// URL) and the "
                    "date it was verified."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(status="other") | ~Q(status_detail=""),
                name="regulatory_status_other_explained",
                violation_error_message=(
                    'A status of "Other" needs the source\'s words in its detail.'
                ),
            ),
        ]

    def __str__(self):
        return f"{self.compound}: {self.get_status_display().lower()} in {self.jurisdiction}"


class AntiDopingStatus(models.Model):
    """A compound's place on an anti-doping list (e.g. the WADA Prohibited List)."""

    class Status(models.TextChoices):
        PROHIBITED = "prohibited", "Prohibited"
        NOT_PROHIBITED = "not_prohibited", "Not prohibited"
        MONITORED = "monitored", "Monitored"

    compound = models.ForeignKey(
        Compound, on_delete=models.CASCADE, related_name="anti_doping_statuses"
    )
    list_name = models.CharField(max_length=160, help_text='e.g. "WADA Prohibited List".')
    list_class = models.CharField(
        "class or section",
        max_length=200,
        blank=True,
        help_text='As the list names it, e.g. "S0 Non-approved substances".',
    )
    status = models.CharField(max_length=20, choices=Status.choices)
    source_url = models.URLField("source URL", max_length=500, blank=True, validators=[https_only])
    verified_on = models.DateField(
        "verified", null=True, blank=True, help_text="When an editor last checked the list."
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "anti-doping status"
        verbose_name_plural = "anti-doping statuses"
        constraints = [
            models.UniqueConstraint(
                fields=["compound", "list_name"],
                name="anti_doping_status_unique_list",
                violation_error_message="This compound already has a status on this list.",
            ),
            models.CheckConstraint(
                condition=~Q(source_url="") & Q(verified_on__isnull=False),
                name="anti_doping_status_sourced",
                violation_error_message=(
                    "An anti-doping status needs its source (an https:// URL) and the date it "
                    "was verified."
                ),
            ),
        ]

    def __str__(self):
        where = f" ({self.list_class})" if self.list_class else ""
        return f"{self.compound}: {self.get_status_display().lower()}, {self.list_name}{where}"


class InteractionQuerySet(models.QuerySet):
    def involving(self, compound):
        """The interactions of `compound` (a compound, or an OuterRef to one), on either
        side of the pair."""
        return self.filter(Q(compound_a=compound) | Q(compound_b=compound))

    def compound_ids(self) -> frozenset[int]:
        """Every compound on either side of these interactions."""
        pairs = self.values_list("compound_a_id", "compound_b_id")
        return frozenset(compound_id for pair in pairs for compound_id in pair)


class Interaction(models.Model):
    """Two compounds that should not be combined, or only with care."""

    class Severity(models.TextChoices):
        MAJOR = "major", "Major"
        MODERATE = "moderate", "Moderate"
        MINOR = "minor", "Minor"

    compound_a = models.ForeignKey(Compound, on_delete=models.CASCADE, related_name="+")
    compound_b = models.ForeignKey(Compound, on_delete=models.CASCADE, related_name="+")
    severity = models.CharField(max_length=10, choices=Severity.choices)
    note = models.TextField()

    history = HistoricalRecords()

    objects = InteractionQuerySet.as_manager()

    class Meta:
        constraints = [
            # The pair is stored once, in id order, so (a, b) and (b, a) cannot both exist.
            models.CheckConstraint(
                condition=Q(compound_a__lt=F("compound_b")),
                name="interaction_pair_ordered",
                violation_error_message="An interaction needs two different compounds.",
            ),
            models.UniqueConstraint(
                fields=["compound_a", "compound_b"],
                name="interaction_pair_unique",
                violation_error_message=(
                    "These two compounds already have an interaction; edit that one instead."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.compound_a} + {self.compound_b} ({self.get_severity_display().lower()})"

    def save(self, *args, **kwargs):
        self._order_pair()
        super().save(*args, **kwargs)

    def clean(self):
        if self.compound_a_id and self.compound_a_id == self.compound_b_id:
            raise ValidationError("A compound cannot interact with itself.")
        # Either order is accepted; the pair is stored in id order.
        self._order_pair()

    def _order_pair(self):
        if self.compound_a_id and self.compound_b_id and self.compound_a_id > self.compound_b_id:
            self.compound_a_id, self.compound_b_id = self.compound_b_id, self.compound_a_id


# A rating an editor has not confirmed for this many months is due for review (on its pages,
# "review due"; in the admin, the ratings' "review due" filter).
REVIEW_INTERVAL_MONTHS = 12


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier; the month's last day when it is shorter
    (31 March less one month is 28 or 29 February)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def review_due_on_or_before(today: date) -> date:
    """The latest review date that is due again `today`: REVIEW_INTERVAL_MONTHS ago."""
    return months_before(today, REVIEW_INTERVAL_MONTHS)


class RatingQuerySet(models.QuerySet):
    def review_due(self, today: date):
        """Ratings due for review on `today`: last reviewed REVIEW_INTERVAL_MONTHS or more ago,
        or never (no review date recorded)."""
        return self.filter(
            Q(last_reviewed__isnull=True) | Q(last_reviewed__lte=review_due_on_or_before(today))
        )


class Rating(models.Model):
    """The editorial verdict on one compound for one goal, anchored on a tier."""

    compound = models.ForeignKey(Compound, on_delete=models.CASCADE, related_name="ratings")
    goal = models.ForeignKey(Goal, on_delete=models.PROTECT, related_name="ratings")
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="ratings")
    bottom_line = models.TextField()
    data_suggests = models.TextField("what the data suggests", blank=True)
    limitations = models.TextField(blank=True)
    last_reviewed = models.DateField(
        null=True,
        blank=True,
        help_text=(
            "The day an editor last confirmed this rating against the evidence. Shown on the "
            f"site; {REVIEW_INTERVAL_MONTHS} months later the rating is marked review due."
        ),
    )

    objects = RatingQuerySet.as_manager()
    history = HistoricalRecords(bases=[PublicChangeNote])

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["compound", "goal"],
                name="rating_unique_per_goal",
                violation_error_message="This compound already has a rating for this goal.",
            ),
        ]
        indexes = [
            # Ranking one goal reads every rating of that goal with its tier.
            models.Index(fields=["goal", "tier"], name="rating_goal_tier_idx"),
        ]

    def __str__(self):
        return f"{self.compound} for {self.goal}: Tier {self.tier.number}"

    def get_absolute_url(self):
        return slug_url("evidence_detail", self.compound.slug, self.goal.slug)

    def is_review_due(self, today: date) -> bool:
        """The row-level form of `RatingQuerySet.review_due()`."""
        return self.last_reviewed is None or self.last_reviewed <= review_due_on_or_before(today)

    @property
    def review_due(self) -> bool:
        """Due for review today (pages show "review due")."""
        return self.is_review_due(timezone.localdate())

    def tiers_named_in_bottom_line(self) -> set[int]:
        """The tier numbers the bottom line names ("Tier 3", "tier 3", "Tier-3")."""
        return {int(number) for number in TIER_NAMED.findall(self.bottom_line or "")}

    def clean(self):
        # The one rule that keeps tier and bottom line together: a bottom line may name its
        # own tier, or none, but never another (the site once showed "Tier 1 · Established
        # efficacy" above a bottom line starting "Tier 3 (probable efficacy): ...").
        if self.tier_id is None:
            return
        others = sorted(self.tiers_named_in_bottom_line() - {self.tier.number})
        if others:
            named = " and ".join(f"Tier {number}" for number in others)
            raise ValidationError(
                {
                    "bottom_line": (
                        f"The bottom line names {named}, but this rating is Tier "
                        f"{self.tier.number}. Rewrite the bottom line for Tier "
                        f"{self.tier.number} (or leave the tier out of it), or choose the tier "
                        "it names."
                    )
                }
            )

    def changes_tier(self, tier: "Tier") -> bool:
        """Saving this rating with `tier` would change the tier stored now (False for a rating
        not stored yet: a first tier is no change)."""
        if self.pk is None:
            return False
        return Rating.objects.filter(pk=self.pk).exclude(tier=tier).exists()


# "Tier 3", "tier 3", "Tier-3", "TIER 3" in a rating's text.
TIER_NAMED = re.compile(r"\btier[\s\-\u00a0]*(\d+)\b", re.IGNORECASE)


# Provenance -----------------------------------------------------------------------------------


class Source(models.Model):
    """A dataset or publication that evidence was taken from, with the licence it came under."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(
        max_length=160,
        unique=True,
        help_text=(
            "The source's permanent short name in addresses, imports and exports: lower-case "
            'letters, digits and hyphens, e.g. "example-trials-registry". Filled in from the '
            "name; change it only to correct it, as imports find the source by it."
        ),
    )
    publisher = models.CharField(max_length=200, blank=True)
    url = models.URLField(
        max_length=500, blank=True, validators=[https_only], help_text="The source's home page."
    )
    licence = models.CharField(max_length=120, help_text='e.g. "CC BY 4.0".')
    licence_url = models.URLField("licence URL", max_length=500, validators=[https_only])
    version = models.CharField(
        max_length=120, blank=True, help_text="The release, version or commit that was used."
    )
    retrieved = models.DateField(help_text="When this version was retrieved.")
    attribution = models.TextField(
        blank=True, help_text="The credit the licence asks for, shown wherever the source is."
    )
    attribution_required = models.BooleanField(
        default=True, help_text="The licence requires the attribution to be shown."
    )

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(licence_url__startswith="https://"),
                name="source_licence_url_https",
                violation_error_message="The licence URL must be an https:// address.",
            ),
            models.CheckConstraint(
                condition=Q(url="") | Q(url__startswith="https://"),
                name="source_url_https",
                violation_error_message="The source's address must be an https:// address.",
            ),
            models.CheckConstraint(
                condition=Q(attribution_required=False) | ~Q(attribution=""),
                name="source_attribution_given_when_required",
                violation_error_message=(
                    "The licence requires attribution: write the attribution text to show."
                ),
            ),
        ]

    def __str__(self):
        return self.name


class Study(models.Model):
    class Design(models.TextChoices):
        META_ANALYSIS = "meta_analysis", "Meta-analysis of RCTs"
        RCT = "rct", "Randomised controlled trial"
        NON_RANDOMISED = "non_randomised", "Non-randomised controlled trial"
        COHORT = "cohort", "Cohort (incl. propensity-matched)"
        CASE_CONTROL = "case_control", "Case-control"
        CASE_SERIES = "case_series", "Case series"
        ANIMAL = "animal", "Animal study"
        IN_VITRO = "in_vitro", "In vitro"
        NOT_REPORTED = "not_reported", "Design not reported"

    slug = models.SlugField(
        max_length=160,
        unique=True,
        help_text=(
            "The study's permanent short name in imports and exports: lower-case letters, "
            'digits and hyphens, e.g. "smith-2019-hepatitis-b-trial". Filled in from the title; '
            "change it only to correct it, as imports find the study by it."
        ),
    )
    title = models.CharField(
        max_length=300, blank=True, help_text="Leave empty when the source does not report it."
    )
    design = models.CharField(max_length=20, choices=Design.choices)
    design_detail = models.CharField(
        max_length=200, blank=True, help_text='e.g. "propensity score-matched".'
    )
    n = models.PositiveIntegerField(
        "sample size", null=True, blank=True, help_text="For a meta-analysis: total n."
    )
    trial_count = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Meta-analyses only: number of trials pooled."
    )
    population = models.TextField(blank=True)
    country = models.CharField(max_length=120, blank=True)
    duration = models.CharField(max_length=120, blank=True)
    follow_up = models.CharField(max_length=120, blank=True)
    year = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    pmid = models.CharField("PMID", max_length=12, blank=True)
    doi = models.CharField("DOI", max_length=200, blank=True)
    url = models.URLField(max_length=500, blank=True)
    # Provenance: where the study is known from when it has no citation of its own, or
    # alongside one. A study is citable by at least one of these (a constraint below).
    source = models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="studies",
        help_text="The dataset or publication this entry was taken from.",
    )
    source_record_id = models.CharField("record id in the source", max_length=200, blank=True)
    contributor = models.CharField(
        max_length=200, blank=True, help_text="Who entered the record in the source."
    )
    reported_in = models.ForeignKey(
        "Article",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reported_studies",
        help_text="For a study known only through an article: the article that reports it.",
    )
    reviewed = models.BooleanField(
        "reviewed by an editor",
        default=True,
        help_text="Content imported from an outside source is not reviewed until an editor is.",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "studies"
        constraints = [
            models.CheckConstraint(
                condition=~Q(doi="")
                | ~Q(pmid="")
                | ~Q(url="")
                | Q(source__isnull=False)
                | Q(reported_in__isnull=False),
                name="study_citable",
                violation_error_message=(
                    "A study needs a citation (a DOI, PMID or URL) or its provenance (the "
                    "source it was taken from, or the article it is reported in)."
                ),
            ),
            models.CheckConstraint(
                condition=Q(source__isnull=False) | Q(source_record_id="", contributor=""),
                name="study_record_id_and_contributor_need_a_source",
                violation_error_message=(
                    "A record id or contributor belongs to a source: choose the source too."
                ),
            ),
            models.CheckConstraint(
                condition=Q(n__isnull=True) | Q(n__gte=1),
                name="study_n_positive",
                violation_error_message="The sample size must be at least 1, or left empty.",
            ),
            models.CheckConstraint(
                condition=Q(year__isnull=True) | Q(year__gte=1900, year__lte=2100),
                name="study_year_in_range",
                violation_error_message="The year must be from 1900 to 2100, or left empty.",
            ),
            models.CheckConstraint(
                condition=Q(trial_count__isnull=True)
                | Q(design="meta_analysis", trial_count__gte=1),
                name="study_trial_count_only_for_meta_analysis",
                violation_error_message=(
                    "Only a meta-analysis has a number of pooled trials, and it must be at least 1."
                ),
            ),
        ]
        indexes = [
            # The studies list (stacks.api_lists), by slug: its count, outline and pages read
            # each study's slug and id from these alone, never the wide rows (the first also
            # looks up the few studies of one compound or goal by id); the second for the list
            # of one design, in order.
            models.Index(fields=["id", "slug"], name="study_id_slug_idx"),
            models.Index(fields=["design", "slug", "id"], name="study_design_slug_idx"),
        ]

    def __str__(self):
        return self.title or f"Untitled study ({self.slug})"

    @property
    def display_title(self) -> str:
        return self.title or "Title not reported"

    @property
    def title_with_year(self) -> str:
        """How a list of findings names the study: "Title (2019)", the year when known."""
        return f"{self.display_title} ({self.year})" if self.year else self.display_title

    # The one definition of randomised evidence; scoring and every page read it here.
    RANDOMISED_DESIGNS = frozenset({Design.META_ANALYSIS, Design.RCT})
    # Designs from strongest to weakest, as Design lists them: pages and the clinician's
    # report list studies in this order (a value outside the choices goes last).
    DESIGN_RANK = {design: rank for rank, design in enumerate(Design.values)}

    @property
    def is_randomised(self) -> bool:
        return self.design in self.RANDOMISED_DESIGNS

    @property
    def pubmed_url(self) -> str:
        return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/" if self.pmid else ""

    @property
    def doi_url(self) -> str:
        return f"https://doi.org/{self.doi}" if self.doi else ""

    @property
    def citation_url(self) -> str:
        """The one link a page gives the study: PubMed, else the DOI, else its address."""
        return self.pubmed_url or self.doi_url or self.url


class Finding(models.Model):
    """One outcome of one study, for one compound and goal."""

    class Comparator(models.TextChoices):
        PLACEBO = "placebo", "Placebo"
        NO_TREATMENT = "no_treatment", "No treatment"
        ACTIVE = "active", "Active comparator"
        ADD_ON = "add_on", "Add-on to standard care vs standard care alone"
        NOT_REPORTED = "not_reported", "No comparator reported"

    class Measure(models.TextChoices):
        PROPORTION = "proportion", "Proportion of participants (%)"
        ODDS_RATIO = "odds_ratio", "Odds ratio"
        RISK_RATIO = "risk_ratio", "Risk ratio"
        HAZARD_RATIO = "hazard_ratio", "Hazard ratio"
        MEAN_DIFFERENCE = "mean_difference", "Mean difference"
        STD_MEAN_DIFFERENCE = "std_mean_difference", "Standardised mean difference"
        RISK_DIFFERENCE = "risk_difference", "Risk difference"
        QUALITATIVE = "qualitative", "Reported without figures"

    class OutcomeKind(models.TextChoices):
        CLINICAL = "clinical", "Clinical outcome"
        SURROGATE = "surrogate", "Surrogate outcome (biomarker)"

    class Direction(models.TextChoices):
        """What a source reporting no figures says the compound did, for the better or worse."""

        BENEFIT = "benefit", "Benefit"
        NO_DIFFERENCE = "no_difference", "No difference"
        HARM = "harm", "Harm"
        MIXED = "mixed", "Mixed"
        UNCLEAR = "unclear", "Unclear"

    RATIO_MEASURES = {Measure.ODDS_RATIO, Measure.RISK_RATIO, Measure.HAZARD_RATIO}
    # Comparators that are themselves a treatment, and so may name a compound.
    COMPOUND_COMPARATORS = {Comparator.ACTIVE, Comparator.ADD_ON}

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="findings")
    # Indexed by finding_compound_study_idx below (the compound first), not on its own.
    compound = models.ForeignKey(
        Compound, on_delete=models.PROTECT, related_name="findings", db_index=False
    )
    # Indexed by finding_goal_cmpd_study_idx below (the goal first), not on its own.
    goal = models.ForeignKey(
        Goal, on_delete=models.PROTECT, related_name="findings", db_index=False
    )
    outcome = models.CharField(max_length=200)
    outcome_kind = models.CharField(
        max_length=12,
        choices=OutcomeKind.choices,
        default=OutcomeKind.CLINICAL,
        help_text=(
            "Surrogate: a biomarker (LDL, cortisol) that informs the goal only indirectly; "
            "the goal's certainty is rated down for it."
        ),
    )
    comparator = models.CharField(max_length=20, choices=Comparator.choices)
    comparator_name = models.CharField(
        max_length=160, blank=True, help_text='e.g. "Interferon-alpha" or "Entecavir alone".'
    )
    comparator_compound = models.ForeignKey(
        Compound,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="findings_as_comparator",
    )
    measure = models.CharField(max_length=24, choices=Measure.choices)
    value = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    value_unit = models.CharField(
        "unit of a mean difference",
        max_length=40,
        blank=True,
        help_text='Mean differences only, e.g. "mg/dL" or "points on the PSQI".',
    )
    comparator_value = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Proportions only: the comparator arm's proportion.",
    )
    ci_low = models.DecimalField(
        "95% CI low", max_digits=14, decimal_places=4, null=True, blank=True
    )
    ci_high = models.DecimalField(
        "95% CI high", max_digits=14, decimal_places=4, null=True, blank=True
    )
    p_value = models.DecimalField(max_digits=8, decimal_places=6, null=True, blank=True)
    p_value_is_bound = models.BooleanField(
        "p-value is an upper bound",
        null=True,
        blank=True,  # Unknown is a valid answer (full_clean and the admin must accept it)
        default=False,
        help_text=(
            'Yes for "p<0.001", No for an exact p-value, Unknown when the source gives a '
            "p-value without saying which."
        ),
    )
    stated_significance = models.BooleanField(
        null=True,
        blank=True,
        help_text=(
            "Only when the source gives neither a CI nor a p-value: whether it states the "
            "result was statistically significant. Otherwise significance is derived."
        ),
    )
    higher_is_better = models.BooleanField(
        "a rise is the desirable direction",
        null=True,
        blank=True,  # Unknown is valid without figures (a constraint refuses it with figures)
        default=True,
        help_text=(
            "No for outcomes where lower is better (mortality, recurrence, LDL, anxiety). "
            "Unknown only for a finding reported without figures whose source does not say."
        ),
    )
    direction = models.CharField(
        max_length=16,
        choices=Direction.choices,
        blank=True,
        help_text=(
            "Only for a finding reported without figures, and then required: what the source "
            "says the compound did. With figures the direction is derived from them."
        ),
    )
    notes = models.TextField(blank=True)
    # The dose as studied for this finding (general doses are Dosing rows of the compound).
    dose = models.DecimalField(
        "dose studied",
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="The dose, or the low end of a range; empty when not reported.",
    )
    dose_max = models.DecimalField(
        "dose studied (high end)", max_digits=12, decimal_places=4, null=True, blank=True
    )
    dose_unit = models.CharField(max_length=8, choices=Unit.choices, blank=True)
    dose_per_kg = models.BooleanField("dose per kg of body weight", default=False)
    dose_timing = models.CharField(
        max_length=120, blank=True, help_text='e.g. "bedtime", "with meals"; empty if not reported.'
    )
    # Provenance within the study's source (the study names the source itself).
    source_record_id = models.CharField("record id in the source", max_length=200, blank=True)
    contributor = models.CharField(
        max_length=200, blank=True, help_text="Who entered the record in the source."
    )
    quote = models.TextField(blank=True, help_text="The source's own words, verbatim.")
    source_direction = models.CharField(
        max_length=40,
        blank=True,
        help_text='The direction in the source\'s own word (e.g. "negative"), kept as given.',
    )
    source_grade = models.CharField(
        max_length=40,
        blank=True,
        help_text='The source\'s own strength grade, as given (e.g. "moderate").',
    )
    source_grade_scale = models.CharField(
        max_length=200,
        blank=True,
        help_text='The name of that grade\'s scale, e.g. "Supplements Open Facts strength".',
    )
    reviewed = models.BooleanField(
        "reviewed by an editor",
        default=True,
        help_text="An import leaves a finding it doubts unreviewed, with its reason below.",
    )
    review_note = models.TextField(
        blank=True,
        help_text="Why an import flagged this finding (e.g. its grade and p-value disagree).",
    )

    history = HistoricalRecords(bases=[PublicChangeNote])

    # The finding's numbers: a change to any of them is public (evidence.changelog).
    FIGURE_FIELDS = (
        "measure",
        "value",
        "comparator_value",
        "ci_low",
        "ci_high",
        "p_value",
        "p_value_is_bound",
        "stated_significance",
        "direction",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["study", "compound", "goal", "outcome"],
                name="finding_unique_outcome",
                violation_error_message=(
                    "This study already has a finding with this outcome for this compound and goal."
                ),
            ),
            models.CheckConstraint(
                condition=Q(ci_low__isnull=True, ci_high__isnull=True)
                | Q(ci_low__isnull=False, ci_high__isnull=False, ci_low__lt=F("ci_high")),
                name="finding_ci_complete_and_ordered",
                violation_error_message=(
                    "The 95%% CI needs both ends, and its low end must be below its high end."
                ),
            ),
            # A two-arm proportion's CI is that of the difference in percentage points
            # (value - comparator_value); every other CI is that of the value itself.
            models.CheckConstraint(
                condition=Q(ci_low__isnull=True)
                | Q(
                    comparator_value__isnull=True,
                    value__isnull=False,
                    ci_low__lte=F("value"),
                    ci_high__gte=F("value"),
                )
                | Q(
                    comparator_value__isnull=False,
                    value__isnull=False,
                    ci_low__lte=F("value") - F("comparator_value"),
                    ci_high__gte=F("value") - F("comparator_value"),
                ),
                name="finding_effect_inside_ci",
                violation_error_message=(
                    "The value must lie inside its 95%% CI (for two proportions, their difference "
                    "must), and a CI needs a value."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(measure="proportion")
                | Q(ci_low__isnull=True)
                | Q(comparator_value__isnull=True, ci_low__gte=0, ci_high__lte=100)
                | Q(comparator_value__isnull=False, ci_low__gte=-100, ci_high__lte=100),
                name="finding_proportion_ci_in_range",
                violation_error_message=(
                    "A proportion's 95%% CI must lie within 0 to 100 (within -100 to 100 for the "
                    "difference between two proportions)."
                ),
            ),
            models.CheckConstraint(
                condition=Q(p_value__isnull=True) | Q(p_value__gt=0, p_value__lte=1),
                name="finding_p_value_in_range",
                violation_error_message="The p-value must be above 0 and at most 1.",
            ),
            models.CheckConstraint(
                condition=~Q(measure__in=["odds_ratio", "risk_ratio", "hazard_ratio"])
                | Q(value__gt=0, ci_low__isnull=True)
                | Q(value__gt=0, ci_low__gt=0),
                name="finding_ratio_positive",
                violation_error_message=(
                    "An odds, risk or hazard ratio and the low end of its 95%% CI must be above "
                    "zero."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(measure="proportion")
                | (
                    Q(value__gte=0, value__lte=100)
                    & (
                        Q(comparator_value__isnull=True)
                        | Q(comparator_value__gte=0, comparator_value__lte=100)
                    )
                ),
                name="finding_proportion_is_percent",
                violation_error_message=(
                    "A proportion needs a value, and it and the comparator's value are percentages "
                    "from 0 to 100."
                ),
            ),
            models.CheckConstraint(
                condition=Q(measure="proportion") | Q(comparator_value__isnull=True),
                name="finding_comparator_value_only_for_proportions",
                violation_error_message="Only a proportion has a comparator value.",
            ),
            models.CheckConstraint(
                condition=Q(measure="qualitative") | Q(value__isnull=False),
                name="finding_value_required_unless_qualitative",
                violation_error_message=(
                    "A value is required unless the finding is reported without figures."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(p_value_is_bound=True) | Q(p_value__isnull=False),
                name="finding_p_value_bound_needs_p_value",
                violation_error_message="“p-value is an upper bound” needs a p-value.",
            ),
            models.CheckConstraint(
                condition=~Q(measure="qualitative") | Q(value__isnull=True, ci_low__isnull=True),
                name="finding_qualitative_has_no_figures",
                violation_error_message=(
                    "A finding reported without figures has no value and no CI."
                ),
            ),
            models.CheckConstraint(
                condition=Q(comparator_compound__isnull=True)
                | (Q(comparator__in=["active", "add_on"]) & ~Q(comparator_compound=F("compound"))),
                name="finding_comparator_compound_is_another_active_treatment",
                violation_error_message=(
                    "A comparator compound is only for an active or add-on comparator, and it must "
                    "differ from the compound studied."
                ),
            ),
            models.CheckConstraint(
                condition=Q(stated_significance__isnull=True)
                | Q(ci_low__isnull=True, p_value__isnull=True),
                name="finding_stated_significance_only_without_ci_or_p",
                violation_error_message=(
                    "Stated significance is only for a source that gives neither a CI nor a "
                    "p-value."
                ),
            ),
            models.CheckConstraint(
                condition=Q(
                    measure="qualitative",
                    direction__in=["benefit", "no_difference", "harm", "mixed", "unclear"],
                )
                | (~Q(measure="qualitative") & Q(direction="")),
                name="finding_direction_given_only_without_figures",
                violation_error_message=(
                    "A finding reported without figures needs the direction the source states "
                    "(benefit, no difference, harm, mixed or unclear). A finding with figures "
                    "takes its direction from them: leave Direction empty."
                ),
            ),
            models.CheckConstraint(
                condition=Q(measure="qualitative") | Q(higher_is_better__isnull=False),
                name="finding_desirable_direction_known_with_figures",
                violation_error_message=(
                    "A finding with figures needs its desirable direction (is a rise better?); "
                    "only a finding reported without figures may leave it unknown."
                ),
            ),
            models.CheckConstraint(
                condition=Q(value_unit="") | Q(measure="mean_difference"),
                name="finding_unit_only_for_mean_difference",
                violation_error_message="Only a mean difference has a unit.",
            ),
            models.CheckConstraint(
                condition=Q(source_grade="", source_grade_scale="")
                | (~Q(source_grade="") & ~Q(source_grade_scale="")),
                name="finding_source_grade_names_its_scale",
                violation_error_message=(
                    "The source's grade needs the name of its scale, and a scale needs a grade."
                ),
            ),
            models.CheckConstraint(
                condition=Q(
                    dose__isnull=True, dose_max__isnull=True, dose_unit="", dose_per_kg=False
                )
                | (Q(dose__isnull=False, dose__gt=0) & ~Q(dose_unit="")),
                name="finding_dose_has_amount_and_unit",
                violation_error_message=(
                    "A dose studied needs an amount above zero and its unit (or leave every dose "
                    "field empty when the source does not report it)."
                ),
            ),
            models.CheckConstraint(
                condition=Q(dose_max__isnull=True) | Q(dose_max__gte=F("dose")),
                name="finding_dose_range_ordered",
                violation_error_message=(
                    "The high end of the dose range cannot be below its low end."
                ),
            ),
        ]
        indexes = [
            # Scoring reads all findings of a goal at once, grouped by compound; the studies
            # list of one goal (stacks.api_lists) reads its studies' ids from it alone.
            models.Index(fields=["goal", "compound", "study"], name="finding_goal_cmpd_study_idx"),
            # A compound's findings; and the studies list reads which studies have a finding
            # of a published compound from it alone, never the wide rows.
            models.Index(fields=["compound", "study"], name="finding_compound_study_idx"),
        ]

    def __str__(self):
        return f"{self.compound} - {self.outcome} ({self.study})"

    @property
    def is_ratio(self) -> bool:
        return self.measure in self.RATIO_MEASURES

    @property
    def is_comparative(self) -> bool:
        if self.measure == self.Measure.PROPORTION:
            return self.comparator_value is not None
        return self.measure != self.Measure.QUALITATIVE

    @property
    def ci_excludes_null(self) -> bool | None:
        """Whether the 95% CI excludes no effect; None without a comparative CI."""
        if not self.is_comparative or self.ci_low is None or self.ci_high is None:
            return None
        null = stats.null_value(self.is_ratio)
        return self.ci_high < null or self.ci_low > null

    @property
    def significant(self) -> bool | None:
        """Derived from the CI or p-value (or the source's statement when it gives neither)."""
        return stats.is_significant(
            is_ratio=self.is_ratio,
            is_comparative=self.is_comparative,
            ci_low=self.ci_low,
            ci_high=self.ci_high,
            p_value=self.p_value,
            p_value_is_bound=self.p_value_is_bound,
            stated_significance=self.stated_significance,
        )

    @property
    def favours(self) -> stats.Favours:
        """The side the result favours: from the figures, or as the source states it."""
        if self.measure == self.Measure.QUALITATIVE:
            return DIRECTION_FAVOURS.get(self.direction, stats.Favours.UNKNOWN)
        return stats.favours(
            is_ratio=self.is_ratio,
            is_comparative=self.is_comparative,
            value=self.effect,
            higher_is_better=self.higher_is_better,
        )

    @property
    def effect(self) -> Decimal | None:
        """The effect on the measure's own scale (a difference for two proportions)."""
        if self.measure == self.Measure.PROPORTION and self.comparator_value is not None:
            return self.value - self.comparator_value
        return self.value


# A direction stated without figures, read as the side a result favours.
DIRECTION_FAVOURS = {
    Finding.Direction.BENEFIT: stats.Favours.COMPOUND,
    Finding.Direction.HARM: stats.Favours.COMPARATOR,
    Finding.Direction.NO_DIFFERENCE: stats.Favours.NEITHER,
}


class ArticleQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published=True, compound__published=True)

    def newest_first(self):
        """Most recently updated first; articles without a date after those with one, the
        latest entered first."""
        return self.order_by(F("last_updated").desc(nulls_last=True), "-pk")


# A deep dive's own disclaimer, when its body opens with one: "**Disclaimer:** ..." up to
# the first blank line.
LEAD_DISCLAIMER = re.compile(
    r"\A\s*\*\*Disclaimer:?\*\*:?[ \t]*(?P<text>.+?)(?:\n[ \t\r]*\n|\Z)", re.S
)


class Article(models.Model):
    """A research deep dive, written in Markdown and rendered sanitised."""

    compound = models.ForeignKey(Compound, on_delete=models.CASCADE, related_name="articles")
    goal = models.ForeignKey(
        Goal, on_delete=models.SET_NULL, null=True, blank=True, related_name="articles"
    )
    slug = models.SlugField(max_length=200, unique=True)
    title = models.CharField(max_length=300)
    body = models.TextField(help_text="Markdown. HTML is sanitised on display; scripts never run.")
    last_updated = models.DateField(null=True, blank=True)
    published = models.BooleanField(default=False)

    objects = ArticleQuerySet.as_manager()
    history = HistoricalRecords()

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return slug_url("research_article", self.slug)

    def split_disclaimer(self) -> tuple[str, str]:
        """The body's opening disclaimer (its Markdown text, "" when the body opens with none)
        and the rest of the body, so a page can show the disclaimer once, as a notice."""
        match = LEAD_DISCLAIMER.match(self.body or "")
        if match is None:
            return "", self.body or ""
        return match["text"].strip(), self.body[match.end() :]

    @property
    def is_published(self) -> bool:
        """The row-level form of `ArticleQuerySet.published()`, for an article already read."""
        return self.published and self.compound.published


class VendorQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


# Plausible offers (issue 13 finding 5). Bounds refuse a pack no shop sells (they are checked
# by full_clean: the admin's forms and the importer); an offer whose price per mg is more than
# OFFER_PRICE_FACTOR times above or below the median of other vendors' visible offers of the
# compound, in the same currency, is held for staff review (Offer.save), and a held offer is
# not visible: no page, cost estimate, filter or outbound link reads it until staff approve.
# The price bounds are set in the three currencies they were chosen for; a price in any other
# currency is bounded only by its column (we keep no exchange rates to carry them over), and
# the median comparison holds the implausible once other vendors price the compound in it.
OFFER_PRICE_MIN = Decimal("0.50")
OFFER_PRICE_MAX = Decimal(20_000)
OFFER_PRICE_BOUNDED_CURRENCIES = ("USD", "EUR", "GBP")
OFFER_UNITS_PER_PACK_MAX = 5_000
OFFER_PACK_MILLIGRAMS_MAX = Decimal(5_000_000)  # 5 kg of the compound in one pack
OFFER_AMOUNT_PER_UNIT_MAX = {"IU": Decimal(10_000_000), "ml": Decimal(5_000)}  # no fixed mass
OFFER_PRICE_FACTOR = 10

HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class Vendor(models.Model):
    name = models.CharField(max_length=160, unique=True)
    slug = models.SlugField(max_length=160, unique=True)
    website = models.URLField(max_length=300, validators=[https_only])
    offer_hosts = models.TextField(
        "other hosts for offer links",
        blank=True,
        default="",
        db_default="",
        help_text=(
            "Host names besides the website's own (and its subdomains) that this vendor's "
            "offer links may use, one per line, e.g. a marketplace. Set by staff."
        ),
    )
    country = models.CharField(max_length=80, blank=True)
    description = models.TextField(blank=True)
    third_party_tested = models.BooleanField(default=False)
    certificate_of_analysis = models.BooleanField(
        "certificate of analysis available", default=False
    )
    active = models.BooleanField(default=True)

    objects = VendorQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(website__startswith="https://"),
                name="vendor_website_https",
                violation_error_message="The website must be an https:// address.",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return slug_url("vendor_detail", self.slug)

    def clean(self):
        super().clean()
        bad = [host for host in self.allowed_offer_hosts() if not HOST_NAME.match(host)]
        if bad:
            raise ValidationError({"offer_hosts": f"Not a host name: {', '.join(sorted(bad))}."})

    def allowed_offer_hosts(self) -> set[str]:
        """The hosts staff allowed besides the website's, lower case."""
        return {line.strip().lower() for line in self.offer_hosts.splitlines() if line.strip()}

    def offer_url_problem(self, url: str) -> str:
        """Why `url` may not be one of this vendor's offer links, or "" when it may: https, no
        user name or password, no port but the default, and on the website's host (with or
        without "www.") or a subdomain of it, or on a host staff allowed for this vendor."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return "Enter a well-formed https:// address."
        if parts.scheme != "https":
            return "The product address must be an https:// address."
        if parts.username is not None or parts.password is not None:
            return "The product address may not hold a user name or password."
        if port not in (None, 443):
            return "The product address may not name a port."
        host = (parts.hostname or "").rstrip(".")
        own = (urlsplit(self.website).hostname or "").removeprefix("www.")
        if host == own or host.endswith(f".{own}") or host in self.allowed_offer_hosts():
            return ""
        return (
            f"The product address must be on the vendor's own site ({own}) or on a host "
            "staff allowed for this vendor."
        )


class OfferQuerySet(models.QuerySet):
    def in_display_order(self):
        """How pages and the API list a compound's offers: in stock first, then by currency,
        then the lowest pack price (offers without a public price last in their currency)."""
        return self.order_by("-in_stock", "currency", F("price").asc(nulls_last=True), "pk")

    def visible(self):
        """Offers a visitor may see and follow: an active vendor's, for a published compound,
        and not held for staff review (with a public price or not)."""
        return self.filter(
            vendor__active=True, compound__published=True, review=Offer.Review.APPROVED
        )

    def priced(self):
        """Offers with a public price: the only ones a cost, a price per mg, a budget or a
        price comparison may read (an offer priced after login or on request is listed only)."""
        return self.filter(price_availability=Offer.PriceAvailability.PUBLIC)

    def with_click_total(self):
        """Annotate `click_total`: every click counted on the offer's outbound link, all days
        (a subquery, so a join elsewhere in the query cannot multiply it)."""
        totals = (
            OfferClicks.objects.filter(offer=OuterRef("pk"))
            .order_by()
            .values("offer")
            .annotate(total=Sum("count"))
            .values("total")
        )
        return self.annotate(
            click_total=Coalesce(Subquery(totals, output_field=models.BigIntegerField()), 0)
        )

    def with_price_per_mg(self):
        """Annotate `price_per_mg`: the pack price over the milligrams in the pack, or None
        when the unit has no mass or the price is not public (the one price-per-mg rule;
        pages and costs read it)."""
        milligrams_per_pack = Unit.milligrams_expression("amount_per_unit", "unit") * F(
            "units_per_pack"
        )
        per_mg = models.ExpressionWrapper(
            F("price") / milligrams_per_pack, output_field=models.DecimalField()
        )
        return self.annotate(
            price_per_mg=Case(
                When(price_availability=Offer.PriceAvailability.PUBLIC, then=per_mg),
                default=None,
                output_field=models.DecimalField(),
            )
        )


class Offer(models.Model):
    """One vendor's product for one compound."""

    DEFAULT_CURRENCY = "USD"

    class PriceAvailability(models.TextChoices):
        PUBLIC = "public", "Public price"
        AFTER_LOGIN = "after_login", "Price shown after login at the vendor"
        ON_REQUEST = "on_request", "Price on request"

    class Form(models.TextChoices):
        VIAL = "vial", "Vial (lyophilised powder)"
        PREFILLED_SYRINGE = "prefilled_syringe", "Prefilled syringe"
        CAPSULE = "capsule", "Capsule"
        TABLET = "tablet", "Tablet"
        POWDER = "powder", "Powder"
        LIQUID = "liquid", "Liquid"
        NASAL_SPRAY = "nasal_spray", "Nasal spray"
        PEN = "pen", "Pen"
        CARTRIDGE = "cartridge", "Cartridge"
        KIT = "kit", "Kit"

    class Review(models.TextChoices):
        APPROVED = "approved", "Shown"
        HELD = "held", "Held for staff review"

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="offers")
    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, related_name="offers")
    key = models.SlugField(max_length=120, help_text="Stable key within the vendor, for imports.")
    product_name = models.CharField(max_length=200)
    url = models.URLField(max_length=500, validators=[https_only])
    price = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The pack price, only when the vendor shows it publicly. In USD, EUR and GBP "
        "0.50 to 20,000.",
    )
    price_availability = models.CharField(
        max_length=12,
        choices=PriceAvailability.choices,
        default=PriceAvailability.PUBLIC,
        db_default=PriceAvailability.PUBLIC,
        help_text="An offer whose price is shown only after login or on request is listed "
        "without a price and never enters a cost estimate.",
    )
    currency = models.CharField(
        max_length=3,
        default=DEFAULT_CURRENCY,
        validators=[validate_currency],
        help_text="An ISO 4217 code, e.g. USD, EUR, JPY.",
    )
    amount_per_unit = models.DecimalField(max_digits=12, decimal_places=4)
    unit = models.CharField(max_length=8, choices=Unit.choices)
    units_per_pack = models.PositiveIntegerField(
        default=1, validators=[MaxValueValidator(OFFER_UNITS_PER_PACK_MAX)]
    )
    form = models.CharField(max_length=20, choices=Form.choices)
    in_stock = models.BooleanField(default=True)
    last_checked = models.DateField(null=True, blank=True)
    certificate_of_analysis_url = models.URLField(
        "certificate of analysis",
        max_length=500,
        blank=True,
        default="",
        db_default="",
        validators=[https_only],
        help_text="An https:// link to this product's certificate of analysis, if the vendor "
        "publishes one.",
    )
    VENDOR_CLAIM_MAX_LENGTH = 1000
    vendor_claim = models.TextField(
        "the vendor's claim",
        max_length=VENDOR_CLAIM_MAX_LENGTH,
        blank=True,
        default="",
        db_default="",
        help_text="The vendor's own words about the product, shown quoted and attributed to "
        "the vendor, never as our evidence.",
    )
    # Set by save() when the price per mg changes, and by staff approving (approve()).
    review = models.CharField(
        max_length=10,
        choices=Review.choices,
        default=Review.APPROVED,
        db_default=Review.APPROVED,
        help_text="Held offers are shown to no visitor until staff approve them.",
    )
    review_note = models.CharField(
        "why held", max_length=300, blank=True, default="", db_default=""
    )
    # Clicks live in OfferClicks: no save of an offer can write back a stale count.

    objects = OfferQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "key"],
                name="offer_key_unique_per_vendor",
                violation_error_message="This vendor already has an offer with this key.",
            ),
            models.CheckConstraint(
                condition=Q(url__startswith="https://"),
                name="offer_url_https",
                violation_error_message="The product address must be an https:// address.",
            ),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gt=0),
                name="offer_price_positive",
                violation_error_message="The price must be above zero.",
            ),
            models.CheckConstraint(
                condition=Q(price_availability="public", price__isnull=False)
                | (~Q(price_availability="public") & Q(price__isnull=True)),
                name="offer_price_only_when_public",
                violation_error_message="An offer with a public price needs the price; one "
                "whose price is shown only after login or on request has none.",
            ),
            models.CheckConstraint(
                condition=Q(certificate_of_analysis_url="")
                | Q(certificate_of_analysis_url__startswith="https://"),
                name="offer_certificate_url_https",
                violation_error_message="The certificate of analysis must be an https:// address.",
            ),
            models.CheckConstraint(
                condition=Q(amount_per_unit__gt=0),
                name="offer_amount_positive",
                violation_error_message="The amount per unit must be above zero.",
            ),
            models.CheckConstraint(
                condition=Q(units_per_pack__gte=1),
                name="offer_units_per_pack_positive",
                violation_error_message="A pack holds at least one unit.",
            ),
            # The database holds the code's shape; validate_currency (the field's validator)
            # checks it against the ISO 4217 list.
            models.CheckConstraint(
                condition=Q(currency__regex=CODE_PATTERN),
                name="offer_currency_iso_code",
                violation_error_message="The currency must be an ISO 4217 code: three capital "
                "letters, e.g. USD, EUR, JPY.",
            ),
        ]
        indexes = [
            # The stack's cost and "in stock only" read the offers of a set of compounds.
            models.Index(fields=["compound", "in_stock"], name="offer_compound_stock_idx"),
        ]

    def __str__(self):
        return f"{self.product_name} ({self.vendor})"

    def save(self, *args, **kwargs):
        """Holds the offer for staff review when its pricing changed to an implausible one
        (and shows it again when a change makes it plausible); other saves keep the review."""
        update_fields = kwargs.get("update_fields")
        if (update_fields is None or set(PRICING_FIELDS) & set(update_fields)) and (
            self.pricing_changed()
        ):
            self.review_note = self.price_review()
            self.review = self.Review.HELD if self.review_note else self.Review.APPROVED
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "review", "review_note"}
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        errors = {}
        try:
            vendor = self.vendor
        except Vendor.DoesNotExist:
            vendor = None
        if vendor is not None and self.url and (problem := vendor.offer_url_problem(self.url)):
            errors["url"] = problem
        if problem := self.amount_problem():
            errors["amount_per_unit"] = problem
        if problem := self.price_problem():
            errors["price"] = problem
        if errors:
            raise ValidationError(errors)

    @property
    def has_public_price(self) -> bool:
        return self.price_availability == self.PriceAvailability.PUBLIC

    def price_problem(self) -> list[str]:
        """Why a public price is implausible, or []: in the currencies the bounds were set in,
        one outside 0.50 to 20,000. A missing, zero or negative price is the constraints'
        to report."""
        bounded = self.currency in OFFER_PRICE_BOUNDED_CURRENCIES
        if not (bounded and self.has_public_price and isinstance(self.price, Decimal)):
            return []
        problems = []
        for bound in (MinValueValidator(OFFER_PRICE_MIN), MaxValueValidator(OFFER_PRICE_MAX)):
            try:
                bound(self.price)
            except ValidationError as exc:
                problems.extend(exc.messages)
        return problems

    def amount_problem(self) -> str:
        """Why the pack's amount is implausible, or "": at most 5 kg a pack, and for units
        without a fixed mass a bound per unit."""
        amount, units = self.amount_per_unit, self.units_per_pack
        if not isinstance(amount, Decimal) or not isinstance(units, int) or not self.unit:
            return ""  # the field's own validation reports it
        milligrams = Unit.milligrams(amount, self.unit)
        if milligrams is not None:
            if milligrams * units > OFFER_PACK_MILLIGRAMS_MAX:
                return "A pack may hold at most 5 kg of the compound."
        elif amount > OFFER_AMOUNT_PER_UNIT_MAX.get(self.unit, amount):
            return f"At most {OFFER_AMOUNT_PER_UNIT_MAX[self.unit]:,} {self.unit} a unit."
        return ""

    def computed_price_per_mg(self) -> Decimal | None:
        """The pack price over the milligrams in the pack, for an offer in hand: the rule of
        OfferQuerySet.with_price_per_mg (None when the unit has no mass or the price is not
        public)."""
        if not self.has_public_price or self.price is None:
            return None
        milligrams = Unit.milligrams(Decimal(self.amount_per_unit), self.unit)
        if milligrams is None or not milligrams or not self.units_per_pack:
            return None
        return Decimal(self.price) / (milligrams * self.units_per_pack)

    def price_review(self) -> str:
        """Why this offer needs a staff review before visitors see it, or "": its price per mg
        is more than OFFER_PRICE_FACTOR times above or below the median of the other vendors'
        visible offers of the compound in its currency. A vendor's own offers never set the
        median its offer is held against, and with nothing to compare nothing is held."""
        own = self.computed_price_per_mg()
        if own is None:
            return ""
        others = sorted(
            Offer.objects.visible()
            .priced()
            .filter(compound_id=self.compound_id, currency=self.currency)
            .exclude(vendor_id=self.vendor_id)
            .with_price_per_mg()
            .exclude(price_per_mg=None)
            .values_list("price_per_mg", flat=True)
        )
        if not others:
            return ""
        median = statistics.median(others)
        if own * OFFER_PRICE_FACTOR >= median and own <= median * OFFER_PRICE_FACTOR:
            return ""
        side = "below" if own < median else "above"
        return (
            f"{own:.4g} {self.currency}/mg is more than {OFFER_PRICE_FACTOR} times {side} the "
            f"median of other vendors' offers of this compound ({median:.4g} {self.currency}/mg)."
        )

    def pricing_changed(self) -> bool:
        """A new offer, or one whose price per mg or comparison may differ from the stored."""
        if self._state.adding or self.pk is None:
            return True
        stored = Offer.objects.filter(pk=self.pk).values(*PRICING_FIELDS).first()
        return stored is None or any(stored[f] != getattr(self, f) for f in PRICING_FIELDS)

    def approve(self) -> None:
        """Staff approve a held offer: visitors see it (until its pricing changes again)."""
        self.review, self.review_note = self.Review.APPROVED, ""
        self.save(update_fields=["review", "review_note"])


# What an offer's price per mg and its comparison depend on (attribute names).
PRICING_FIELDS = (
    "vendor_id",
    "compound_id",
    "price",
    "price_availability",
    "currency",
    "amount_per_unit",
    "unit",
    "units_per_pack",
)


class OfferClicks(models.Model):
    """The clicks on one offer's outbound link (/go/<id>/) on one day.

    Live data, not content: kept out of Offer so that no save of an offer (the admin, the
    importer, a revert) can write back a count it read earlier; only `count_click` writes
    here, adding one in the database. Neither exported nor kept in the history, and a click
    retires no cached page.
    """

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="clicks")
    day = models.DateField()
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "offer clicks"
        constraints = [
            models.UniqueConstraint(
                fields=["offer", "day"],
                name="offer_clicks_one_row_per_day",
                violation_error_message="An offer has one click count per day.",
            ),
        ]

    def __str__(self):
        return f"{self.count} clicks on {self.day.isoformat()}"

    @classmethod
    def count_click(cls, offer_id: int) -> None:
        """One more click on the offer today: an UPDATE ... count + 1, or the day's first row."""
        day = timezone.localdate()
        today = cls.objects.filter(offer_id=offer_id, day=day)
        if today.update(count=F("count") + 1):
            return
        try:
            with transaction.atomic():
                cls.objects.create(offer_id=offer_id, day=day, count=1)
        except IntegrityError:  # a concurrent click created the day's row first
            today.update(count=F("count") + 1)


class VendorAccount(models.Model):
    """Links a login to the one vendor it speaks for: the admin then shows that vendor only.

    Not content: it is neither exported nor kept in the history. The user also needs staff
    status and the "Vendor accounts" group (evidence/roles.py).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vendor_account"
    )
    # PROTECT: a vendor with logins cannot be deleted until its accounts are removed, so no
    # login is left over that once spoke for a vendor and now speaks for none.
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="accounts")

    def __str__(self):
        return f"{self.user} for {self.vendor}"


class CertaintyChange(models.Model):
    """A change of the computed certainty of benefit of a compound for a goal
    (evidence.certainty), for the public change log (evidence.changelog).

    Certainty is computed, never edited, so no edited row's history holds it: the rescore that
    computes it (stacks.refresh) writes one of these when a pair that was scored before gets a
    different certainty. A pair's first assessment is not written: it comes with the finding
    added, which the log lists already. Levels are 1 (very low) to 4 (high); empty is "not
    assessable" (no finding in the compound's favour).
    """

    compound = models.ForeignKey(Compound, on_delete=models.CASCADE, related_name="+")
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="+")
    previous = models.PositiveSmallIntegerField(null=True, blank=True)
    certainty = models.PositiveSmallIntegerField(null=True, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(previous__isnull=True) & Q(certainty__isnull=False))
                | (Q(previous__isnull=False) & Q(certainty__isnull=True))
                | ~Q(previous=F("certainty")),
                name="certainty_change_is_a_change",
                violation_error_message="A certainty change needs a certainty that changed.",
            ),
        ]
        indexes = [
            # A compound's "What changed" reads its newest changes.
            models.Index(fields=["compound", "-changed_at"], name="certainty_change_compound_idx"),
        ]

    def __str__(self):
        return f"{self.compound} for {self.goal}: certainty {self.previous} -> {self.certainty}"


class ErrorReport(models.Model):
    """A visitor's report of an error on a compound or evidence page, kept for the editors.

    Not content: neither exported nor kept in the history, and a report retires no cached
    page. Only the page, the finding it names and the message are stored; nothing about the
    visitor (the rate limit, evidence.reports, keys on a daily-salted hash held only in the
    cache)."""

    class State(models.TextChoices):
        NEW = "new", "New"
        IN_PROGRESS = "in_progress", "In progress"
        FIXED = "fixed", "Fixed"
        DECLINED = "declined", "Declined"

    page = models.CharField(max_length=300, help_text="The address of the page reported.")
    # SET_NULL: a report outlives the compound, goal or finding it names (its page says which).
    compound = models.ForeignKey(
        Compound, on_delete=models.SET_NULL, null=True, related_name="error_reports"
    )
    goal = models.ForeignKey(
        Goal, on_delete=models.SET_NULL, null=True, blank=True, related_name="error_reports"
    )
    finding = models.ForeignKey(
        Finding, on_delete=models.SET_NULL, null=True, blank=True, related_name="error_reports"
    )
    MESSAGE_MAX_LENGTH = 2000
    message = models.TextField(max_length=MESSAGE_MAX_LENGTH)
    state = models.CharField(max_length=12, choices=State.choices, default=State.NEW)
    editor_note = models.TextField(
        blank=True, help_text="For editors only: what was done, or why not. Never shown publicly."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["new", "in_progress", "fixed", "declined"]),
                name="error_report_state_known",
                violation_error_message=("The state must be new, in progress, fixed or declined."),
            ),
        ]
        indexes = [
            # The admin's list: reports in one state, newest first.
            models.Index(fields=["state", "-created_at"], name="error_report_state_idx"),
        ]

    def __str__(self):
        return f"Error report on {self.page} ({self.get_state_display().lower()})"


class ContentVersion(models.Model):
    """One row whose number changes whenever published content may have changed.

    Cached pages and API answers are keyed by it (evidence.cache), so an edit in the admin
    retires every cached copy at once, on every app server, with no list of keys to purge.
    """

    version = models.PositiveBigIntegerField(default=0)
    # A retirement deferred to this time (Unix seconds): a vendor account's saves retire the
    # cache at most once per evidence.cache.RETIRE_INTERVAL; the first request after this
    # time moves the version.
    retire_after = models.PositiveBigIntegerField(null=True, blank=True)
    # When the version last moved (Unix seconds): the Last-Modified of every page and answer
    # keyed by it (evidence.cache.conditional_get). Null until the first change after this
    # field was added.
    changed_at = models.PositiveBigIntegerField(null=True, blank=True)

    def __str__(self):
        return f"Content version {self.version}"

    @property
    def last_changed(self) -> datetime | None:
        """`changed_at` as an aware datetime (the date the clinician's report prints)."""
        return None if self.changed_at is None else datetime.fromtimestamp(self.changed_at, UTC)


# What visitors see: a save or delete of any of these retires every cached page
# (evidence.signals). Vendor accounts and the history records are not content.
CONTENT_MODELS = (
    Goal,
    Tier,
    Compound,
    CompoundAlias,
    Dosing,
    SideEffect,
    Contraindication,
    RegulatoryStatus,
    AntiDopingStatus,
    Interaction,
    Rating,
    Study,
    Finding,
    Article,
    Vendor,
    Offer,
    Source,
)
