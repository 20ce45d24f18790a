"""The staff admin: every model of the knowledge base, editable by the role groups in roles.py.

Who may do what is decided by the model permissions of the "Evidence editors", "Vendor
managers" and "Vendor accounts" groups; the admin enforces them through Django's
has_*_permission checks. A vendor account is further held to its own vendor: get_queryset
narrows every vendor and offer page to it, the has_*_permission methods refuse any object of
another vendor, and the evidence pages refuse it whatever its permissions.

Every content model keeps its history (django-simple-history): each admin's History page shows
who changed what and when, and reverts to an earlier version.
"""

from contextlib import suppress
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from evidence.formatting import format_money, format_significance, plain
from evidence.models import (
    REVIEW_INTERVAL_MONTHS,
    AntiDopingStatus,
    Article,
    Compound,
    CompoundAlias,
    Contraindication,
    Dosing,
    ErrorReport,
    Finding,
    Goal,
    Interaction,
    Offer,
    Rating,
    RegulatoryStatus,
    SideEffect,
    Source,
    Study,
    Tier,
    Vendor,
    VendorAccount,
)
from evidence.roles import is_vendor_account, vendor_scope

admin.site.site_header = "Evidence Stack Builder admin"
admin.site.site_title = "Evidence Stack Builder admin"
admin.site.index_title = "Content"


def count_of(model, field: str, **conditions):
    """The number of `model` rows whose `field` points at the outer row (and that meet the
    conditions), as a subquery.

    A subquery rather than Count() over a join: the changelist filters across the same
    relation (e.g. ratings__tier), and a second join would multiply a joined count.
    """
    rows = (
        model.objects.filter(**{field: OuterRef("pk")}, **conditions)
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def significance_label(finding: Finding) -> str:
    return "-" if finding.pk is None else format_significance(finding.significant)


class PlainDecimalField(forms.DecimalField):
    """A decimal shown as an editor wrote it: "1.6", not the column's "1.6000"."""

    def prepare_value(self, value):
        if isinstance(value, Decimal) and value.is_finite():
            return f"{value.normalize():f}"
        return super().prepare_value(value)


class PlainTextField(forms.CharField):
    """Text with the line endings it was written with: browsers send a textarea's lines
    ended by CR LF, so without this a save (or a revert, which posts the old version through
    a textarea) would record a change of every line break that nobody made."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n") if value else value


# On every admin form: numbers without the trailing zeros of their column's decimal places,
# and long text with plain line endings.
PLAIN_DECIMALS = {
    models.DecimalField: {"form_class": PlainDecimalField},
    models.TextField: {"form_class": PlainTextField},
}
# Long text in a tabular row stays two lines high; the full text is on the row's own page.
SHORT_TEXT = {
    **PLAIN_DECIMALS,
    models.TextField: {
        "form_class": PlainTextField,
        "widget": forms.Textarea(attrs={"rows": 2, "cols": 40}),
    },
}


def is_autocomplete(request, source: tuple[str, str] | None = None) -> bool:
    """The request is the admin's autocomplete endpoint (the JSON behind a select box); with
    `source` (model name, field name), the one behind that evidence model's field."""
    match = getattr(request, "resolver_match", None)
    if match is None or match.view_name != f"{admin.site.name}:autocomplete":
        return False
    if source is None:
        return True
    asked = (
        request.GET.get("app_label"),
        request.GET.get("model_name"),
        request.GET.get("field_name"),
    )
    return asked == ("evidence", *source)


# History and the base admins


def same_as_stored(obj: models.Model) -> bool:
    """Every column of `obj` holds what its stored row holds (one query)."""
    fields = obj._meta.concrete_fields
    stored = type(obj)._default_manager.filter(pk=obj.pk).values(*(f.attname for f in fields))
    row = stored.first()
    return row is not None and all(row[f.attname] == f.value_from_object(obj) for f in fields)


class HistoryAdmin(SimpleHistoryAdmin):
    """Adds the History page: who changed what and when, each version viewable and revertible.

    Every model admin shows decimals without trailing zeros and keeps plain line endings in
    long text (PLAIN_DECIMALS); the History page never prints "None" for an empty reason or a
    change made by no one (a script, an import).

    simple-history checks only the permission to view the historical version before showing
    or saving it. Reverting is a change of the object as it stands now, so it also needs the
    permission to change the current object's history (its change permission, unless an admin
    narrows it), and an object outside the user's queryset (another vendor's) is refused even
    where an old version of it was once in scope.
    """

    formfield_overrides = PLAIN_DECIMALS
    object_history_list_template = "admin/evidence/object_history_list.html"

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        current = self.get_object(request, unquote(object_id))
        if current is None and self.exists_outside_queryset(unquote(object_id)):
            raise PermissionDenied
        if request.method == "POST":
            if current is None:
                allowed = self.has_add_permission(request)  # restoring a deleted object
            else:
                allowed = self.has_change_history_permission(request, current)
            if not allowed:
                raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def save_model(self, request, obj, form, change):
        # A save that changes nothing is no edit: not saved, so it writes no history row and
        # retires no cached page (evidence.signals). The stored row is the reference, not
        # form.has_changed(): a revert's form starts from the old version, not the row.
        if change and same_as_stored(obj):
            return
        super().save_model(request, obj, form, change)

    def render_history_view(self, request, template, context, **kwargs):
        # A vendor account sees its own name on its own edits and "Site staff" on everyone
        # else's: staff usernames are not a vendor's business. The stand-in is never saved.
        page = context.get("page_obj")  # the list of versions; a single version has none
        if page is not None and is_vendor_account(request.user):
            for record in page.object_list:
                if record.history_user_id not in (None, request.user.pk):
                    record.history_user = get_user_model()(username="Site staff")
        return super().render_history_view(request, template, context, **kwargs)

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        # simple-history's own calls select_related() with no names on a model without
        # foreign keys, which Django 6.1 deprecates; name them.
        related = [
            f.name for f in history_manager.model.tracked_fields if isinstance(f, models.ForeignKey)
        ]
        return history_manager.filter(**{pk_name: object_id}).select_related(
            "history_user", *related
        )

    def exists_outside_queryset(self, object_id) -> bool:
        try:
            return self.model._default_manager.filter(pk=object_id).exists()
        except (ValidationError, ValueError):
            return False


class EvidenceAdmin(HistoryAdmin):
    """Evidence is closed to vendor accounts, whatever permissions they may be given.

    `vendor_autocomplete_source`: the one exception, the (model, field) of a vendor's own form
    whose autocomplete lists this model (names of published rows only); the model's own
    pages, and every other field's autocomplete, stay closed.
    """

    vendor_autocomplete_source: tuple[str, str] | None = None

    def closed_to(self, request, obj=None) -> bool:
        if not is_vendor_account(request.user):
            return False
        source = self.vendor_autocomplete_source
        return not (source and obj is None and is_autocomplete(request, source))

    def has_view_permission(self, request, obj=None):
        return not self.closed_to(request, obj) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return not is_vendor_account(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return not is_vendor_account(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not is_vendor_account(request.user) and super().has_delete_permission(request, obj)


class VendorScopedAdmin(HistoryAdmin):
    """A vendor account reaches only its own vendor's rows: in every queryset, in every
    permission check on an object, and in the autocomplete."""

    vendor_lookup: str  # the lookup from this model to the vendor's id

    def vendor_id_of(self, obj) -> int | None:
        raise NotImplementedError

    def narrowed(self, request, queryset):
        scope = vendor_scope(request.user)
        if scope.everything:
            return queryset
        if scope.vendor_id is None:
            return queryset.none()
        return queryset.filter(**{self.vendor_lookup: scope.vendor_id})

    def in_scope(self, request, obj) -> bool:
        return obj is None or vendor_scope(request.user).allows(self.vendor_id_of(obj))

    def get_queryset(self, request):
        return self.narrowed(request, super().get_queryset(request))

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return self.narrowed(request, queryset), may_have_duplicates

    def has_view_permission(self, request, obj=None):
        return self.in_scope(request, obj) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self.in_scope(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.in_scope(request, obj) and super().has_delete_permission(request, obj)

    def has_change_history_permission(self, request, obj=None):
        # Vendor accounts see their history but do not revert: a revert writes back every
        # field of the old version, the trust signals they may not edit among them.
        return not is_vendor_account(request.user) and super().has_change_history_permission(
            request, obj
        )


# The public change note: a reason and a "minor" mark stored with the history record


class PublicChangeNoteForm(forms.ModelForm):
    """Adds the two fields of a public change note (evidence.models.PublicChangeNote) to the
    admin form of a rating, finding or compound. They are not columns of the model: the form
    leaves them on the object it saves, and evidence.signals copies them onto the history
    record of that save. A note alone is no edit: a form where only the note changed saves
    nothing (`has_changed`)."""

    NOTE_FIELDS = ("public_reason", "minor_edit")

    public_reason = forms.CharField(
        label="Public reason",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 30}),
        help_text="Why you made this change, for the public change log. Required for a tier "
        "change. Never write a name or anything private here.",
    )
    minor_edit = forms.BooleanField(
        label="Minor edit",
        required=False,
        help_text="An editorial chore (typo, whitespace, formatting): hidden from the public "
        "change log unless a visitor asks to see minor edits.",
    )

    def has_changed(self):
        return any(name not in self.NOTE_FIELDS for name in self.changed_data)

    def save(self, commit=True):
        self.instance._public_reason = self.cleaned_data.get("public_reason", "").strip()
        self.instance._minor_edit = self.cleaned_data.get("minor_edit", False)
        return super().save(commit)


class RatingForm(PublicChangeNoteForm):
    """The tier-change step, in the rating's own admin and in the compound's ratings inline:
    a tier change needs a public reason and is never minor. The bottom line must not name
    another tier (Rating.clean, which the importer applies too). "Confirm reviewed today"
    sets the review date to today (the rating's own admin shows it)."""

    reviewed_today = forms.BooleanField(
        label="Confirm reviewed today",
        required=False,
        help_text="Tick when you have checked this rating against the evidence: its review "
        "date becomes today and the site shows it.",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("reviewed_today") and "last_reviewed" in self.fields:
            cleaned["last_reviewed"] = timezone.localdate()
        tier = cleaned.get("tier")
        if tier is not None and self.instance.changes_tier(tier):
            if not cleaned.get("public_reason", "").strip():
                self.add_error(
                    "public_reason",
                    "You changed the tier: give the public reason for the change (it is shown "
                    "on the site's change log).",
                )
            if cleaned.get("minor_edit"):
                self.add_error("minor_edit", "A tier change is never minor: untick “Minor edit”.")
            self.bottom_line_kept = "bottom_line" not in self.changed_data
        return cleaned


# The History pages of ratings, findings and compounds show the note with each version.
PUBLIC_NOTE_COLUMNS = ["public_reason", "minor_edit"]


def warn_if_bottom_line_kept(modeladmin, request, form) -> None:
    """A tier changed under an unchanged bottom line: saved, but the editor is asked to check
    that the bottom line still reads right for the new tier."""
    if getattr(form, "bottom_line_kept", False):
        rating = form.instance
        modeladmin.message_user(
            request,
            f"The tier of {rating} changed but its bottom line did not: check that the bottom "
            "line still reads right for the new tier.",
            level=messages.WARNING,
        )


# Goals and the tier ladder


@admin.register(Goal)
class GoalAdmin(EvidenceAdmin):
    list_display = ["name", "category", "slug"]
    list_filter = ["category"]
    search_fields = ["name", "slug", "category"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Tier)
class TierAdmin(EvidenceAdmin):
    list_display = ["number", "label", "weight", "means_no_effect"]
    list_display_links = ["number", "label"]
    ordering = ["number"]
    # number__exact skips terms that are not numbers, so "Likely" searches labels only.
    search_fields = ["label", "number__exact"]


# Compounds and what hangs off them


class CompoundAliasInline(admin.TabularInline):
    model = CompoundAlias
    formfield_overrides = PLAIN_DECIMALS
    extra = 1


class RatingInline(admin.TabularInline):
    model = Rating
    form = RatingForm
    fields = ["goal", "tier", "bottom_line", "last_reviewed", "public_reason", "minor_edit"]
    autocomplete_fields = ["goal"]  # the tier: a plain select of the six rungs
    formfield_overrides = SHORT_TEXT
    show_change_link = True
    extra = 0


class DosingInline(admin.TabularInline):
    model = Dosing
    fields = [
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
    ]
    autocomplete_fields = ["goal"]
    formfield_overrides = PLAIN_DECIMALS
    show_change_link = True
    extra = 0


class SideEffectInline(admin.TabularInline):
    model = SideEffect
    fields = ["name", "frequency", "description"]
    formfield_overrides = SHORT_TEXT
    extra = 0


class ContraindicationInline(admin.TabularInline):
    model = Contraindication
    fields = ["condition", "note"]
    formfield_overrides = SHORT_TEXT
    extra = 0


class RegulatoryStatusInline(admin.TabularInline):
    model = RegulatoryStatus
    fields = [
        "jurisdiction",
        "regulator",
        "status",
        "status_detail",
        "source_name",
        "source_url",
        "verified_on",
    ]
    formfield_overrides = PLAIN_DECIMALS
    extra = 0


class AntiDopingStatusInline(admin.TabularInline):
    model = AntiDopingStatus
    fields = ["list_name", "list_class", "status", "source_url", "verified_on"]
    formfield_overrides = PLAIN_DECIMALS
    extra = 0


# The rows edited on a compound's page (its inlines) and its findings: the compound's History
# page shows their latest changes too, so a tier changed on the compound page is found there.
COMPOUND_PARTS = [
    CompoundAlias,
    Rating,
    Dosing,
    SideEffect,
    Contraindication,
    RegulatoryStatus,
    AntiDopingStatus,
    Finding,
]
PART_CHANGES_SHOWN = 50


def changes_to_parts(compound_id) -> list:
    """The latest changes to the compound's parts (COMPOUND_PARTS), newest first: historical
    records, each with `part_label`, `part_history_url` and `history_delta_changes` (what
    changed since the version before, when that version is among those read). One query
    per kind of part, each reading at most PART_CHANGES_SHOWN versions."""
    try:
        compound_id = int(compound_id)
    except (TypeError, ValueError):
        return []
    changes = []
    for model in COMPOUND_PARTS:
        history = model.history.model
        related = [f.name for f in history.tracked_fields if isinstance(f, models.ForeignKey)]
        records = list(
            model.history.filter(compound_id=compound_id)
            .select_related("history_user", *related)
            .order_by("-history_date", "-history_id")[:PART_CHANGES_SHOWN]
        )
        older: dict[int, object] = {}
        for record in reversed(records):  # oldest first, so each meets its previous version
            previous = older.get(record.id)
            record.history_delta_changes = []
            if previous is not None and record.history_type == "~":
                delta = record.diff_against(previous, foreign_keys_are_objs=True)
                helper = HistoricalRecordContextHelper(model, record)
                record.history_delta_changes = helper.context_for_delta_changes(delta)
            record.part_label = _part_label(model, record)
            record.part_history_url = reverse(
                f"admin:evidence_{model._meta.model_name}_history", args=[record.id]
            )
            older[record.id] = record
        changes += records
    changes.sort(key=lambda record: record.history_date, reverse=True)
    return changes[:PART_CHANGES_SHOWN]


def _part_label(model, record) -> str:
    """E.g. "Rating for Liver health", "Finding: Overall survival", "Alias: Zadaxin"."""
    label = str(model._meta.verbose_name).capitalize()
    for attribute in ("outcome", "name", "jurisdiction", "list_name"):
        if detail := getattr(record, attribute, ""):
            label = f"{label}: {detail}"
            break
    else:
        if hasattr(record, "get_condition_display"):
            label = f"{label}: {record.get_condition_display()}"
    goal_id = getattr(record, "goal_id", None)
    if goal_id is not None:
        goal = None
        with suppress(Goal.DoesNotExist):  # the goal may have been deleted since
            goal = record.goal
        if goal is not None:
            label = f"{label} for {goal.name}"
    return label


@admin.register(Compound)
class CompoundAdmin(EvidenceAdmin):
    # Offers name a compound: vendor accounts pick it from the autocomplete.
    vendor_autocomplete_source = ("offer", "compound")
    form = PublicChangeNoteForm
    history_list_display = PUBLIC_NOTE_COLUMNS
    list_display = ["name", "kind", "published", "rating_count", "tiers_by_goal"]
    list_filter = ["kind", "published", "ratings__tier", "ratings__goal"]
    search_fields = ["name", "slug", "aliases__name"]
    ordering = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["updated_at"]
    inlines = [
        CompoundAliasInline,
        RatingInline,
        DosingInline,
        SideEffectInline,
        ContraindicationInline,
        RegulatoryStatusInline,
        AntiDopingStatusInline,
    ]
    actions = ["publish", "unpublish"]
    object_history_template = "admin/evidence/compound/object_history.html"

    def history_view(self, request, object_id, extra_context=None):
        context = {"part_changes": changes_to_parts(unquote(object_id)), **(extra_context or {})}
        return super().history_view(request, object_id, extra_context=context)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        for inline_form in formset.forms:
            warn_if_bottom_line_kept(self, request, inline_form)

    def get_queryset(self, request):
        if is_vendor_account(request.user):  # only ever the offer form's autocomplete
            return super().get_queryset(request).published()
        ratings = Rating.objects.select_related("goal", "tier").order_by("goal__name")
        return (
            super()
            .get_queryset(request)
            .annotate(rating_count=count_of(Rating, "compound"))
            .prefetch_related(Prefetch("ratings", queryset=ratings))
        )

    @admin.display(description="Ratings", ordering="rating_count")
    def rating_count(self, compound):
        return compound.rating_count

    @admin.display(description="Tiers by goal")
    def tiers_by_goal(self, compound):
        tiers = [f"{r.goal.name} T{r.tier.number}" for r in compound.ratings.all()]
        return ", ".join(tiers) or None

    @admin.action(description="Publish selected compounds", permissions=["change"])
    def publish(self, request, queryset):
        self._set_published(request, queryset, True)

    @admin.action(description="Unpublish selected compounds", permissions=["change"])
    def unpublish(self, request, queryset):
        self._set_published(request, queryset, False)

    def _set_published(self, request, queryset, published: bool):
        # One save per compound rather than one UPDATE, so each change is in the history.
        compounds = queryset.exclude(published=published).prefetch_related(None)
        changed = 0
        for compound in compounds:
            compound.published = published
            compound.save(update_fields=["published", "updated_at"])
            changed += 1
        verb = "published" if published else "unpublished"
        self.message_user(
            request,
            ngettext("%d compound %s.", "%d compounds %s.", changed) % (changed, verb),
        )


def mark_reviewed(modeladmin, request, queryset, noun: str, plural: str) -> None:
    """Mark rows reviewed one save at a time, so each review is in the history. An import's
    reason (review_note) stays as the record of why the row was flagged."""
    changed = 0
    for obj in queryset.filter(reviewed=False):
        obj.reviewed = True
        obj.save(update_fields=["reviewed"])
        changed += 1
    modeladmin.message_user(
        request,
        ngettext(f"%d {noun} marked as reviewed.", f"%d {plural} marked as reviewed.", changed)
        % changed,
    )


class FlaggedByImportFilter(admin.SimpleListFilter):
    """The review queue: rows an import doubted (with its reason), or any unreviewed row."""

    title = "review"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [
            ("flagged", "Flagged by an import, awaiting review"),
            ("awaiting", "Awaiting review (any reason)"),
            ("reviewed", "Reviewed"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "flagged":
            return queryset.filter(reviewed=False).exclude(review_note="")
        if self.value() == "awaiting":
            return queryset.filter(reviewed=False)
        if self.value() == "reviewed":
            return queryset.filter(reviewed=True)
        return queryset


@admin.register(CompoundAlias)
class CompoundAliasAdmin(EvidenceAdmin):
    list_display = ["name", "compound", "reviewed", "review_note"]
    list_filter = [FlaggedByImportFilter]
    list_select_related = ["compound"]
    search_fields = ["name", "compound__name", "review_note"]
    autocomplete_fields = ["compound"]
    actions = ["mark_reviewed"]

    @admin.action(description="Mark selected aliases as reviewed", permissions=["change"])
    def mark_reviewed(self, request, queryset):
        mark_reviewed(self, request, queryset, "alias", "aliases")


@admin.register(Dosing)
class DosingAdmin(EvidenceAdmin):
    list_display = ["compound", "goal", "dose", "frequency_or_not_reported", "route", "timing"]
    list_filter = ["route", "unit", "per_kg", "goal"]
    list_select_related = ["compound", "goal"]
    search_fields = ["compound__name", "compound__aliases__name", "frequency"]
    autocomplete_fields = ["compound", "goal"]

    @admin.display(description="Dose", ordering="amount")
    def dose(self, dosing):
        return dosing.dose_text()

    @admin.display(description="Frequency", ordering="frequency")
    def frequency_or_not_reported(self, dosing):
        return dosing.frequency or "Frequency not reported"


@admin.register(SideEffect)
class SideEffectAdmin(EvidenceAdmin):
    list_display = ["name", "compound", "frequency"]
    list_filter = ["frequency"]
    list_select_related = ["compound"]
    search_fields = ["name", "compound__name", "compound__aliases__name"]
    autocomplete_fields = ["compound"]


@admin.register(RegulatoryStatus)
class RegulatoryStatusAdmin(EvidenceAdmin):
    list_display = ["compound", "jurisdiction", "status", "source_name", "verified_on"]
    list_filter = ["status", "jurisdiction"]
    list_select_related = ["compound"]
    search_fields = ["compound__name", "compound__aliases__name", "jurisdiction", "regulator"]
    autocomplete_fields = ["compound"]


@admin.register(AntiDopingStatus)
class AntiDopingStatusAdmin(EvidenceAdmin):
    list_display = ["compound", "list_name", "list_class", "status", "verified_on"]
    list_filter = ["status", "list_name"]
    list_select_related = ["compound"]
    search_fields = ["compound__name", "compound__aliases__name", "list_name", "list_class"]
    autocomplete_fields = ["compound"]


@admin.register(Contraindication)
class ContraindicationAdmin(EvidenceAdmin):
    list_display = ["compound", "condition"]
    list_filter = ["condition"]
    list_select_related = ["compound"]
    search_fields = ["compound__name", "compound__aliases__name", "note"]
    autocomplete_fields = ["compound"]


@admin.register(Interaction)
class InteractionAdmin(EvidenceAdmin):
    list_display = ["compound_a", "compound_b", "severity"]
    list_filter = ["severity"]
    list_select_related = ["compound_a", "compound_b"]
    search_fields = ["compound_a__name", "compound_b__name", "note"]
    autocomplete_fields = ["compound_a", "compound_b"]


class ReviewDueFilter(admin.SimpleListFilter):
    """The editors' review list: ratings due for review (Rating.objects.review_due)."""

    title = "review date"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [
            ("due", f"Review due (not reviewed for {REVIEW_INTERVAL_MONTHS} months, or never)"),
            ("current", f"Reviewed within the last {REVIEW_INTERVAL_MONTHS} months"),
        ]

    def queryset(self, request, queryset):
        due = Rating.objects.review_due(timezone.localdate())
        if self.value() == "due":
            return queryset.filter(pk__in=due.values("pk"))
        if self.value() == "current":
            return queryset.exclude(pk__in=due.values("pk"))
        return queryset


@admin.register(Rating)
class RatingAdmin(EvidenceAdmin):
    form = RatingForm
    history_list_display = PUBLIC_NOTE_COLUMNS
    list_display = ["compound", "goal", "tier", "last_reviewed", "review_due"]
    list_filter = [ReviewDueFilter, "tier", "goal"]
    list_select_related = ["compound", "goal", "tier"]
    search_fields = ["compound__name", "compound__aliases__name"]
    autocomplete_fields = ["compound", "goal"]  # the tier: a plain select of the six rungs
    actions = ["confirm_reviewed_today"]

    @admin.display(description="Review due", boolean=True)
    def review_due(self, rating):
        return rating.review_due

    @admin.action(description="Confirm selected ratings reviewed today", permissions=["change"])
    def confirm_reviewed_today(self, request, queryset):
        # One save per rating, so each confirmation is in the rating's history.
        today = timezone.localdate()
        changed = 0
        for rating in queryset.exclude(last_reviewed=today):
            rating.last_reviewed = today
            rating.save(update_fields=["last_reviewed"])
            changed += 1
        self.message_user(
            request,
            ngettext(
                "%d rating confirmed reviewed today.",
                "%d ratings confirmed reviewed today.",
                changed,
            )
            % changed,
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        warn_if_bottom_line_kept(self, request, form)


# Studies and their findings


class FindingInline(admin.StackedInline):
    """Findings one below another, each in three groups, so the study page fits a 1,280 px
    screen and every field's help text is shown under it (a table of 19 columns did not)."""

    model = Finding
    form = PublicChangeNoteForm
    # Every field a database constraint reads is on the form, so the form validates the
    # constraint instead of the database refusing the row with an error page.
    fieldsets = [
        (
            "What was compared",
            {
                "fields": [
                    ("compound", "goal"),
                    ("outcome", "outcome_kind"),
                    ("comparator", "comparator_compound"),
                ]
            },
        ),
        (
            "The result",
            {
                "fields": [
                    "measure",
                    ("value", "value_unit"),
                    "comparator_value",
                    ("ci_low", "ci_high"),
                    ("p_value", "p_value_is_bound"),
                    "stated_significance",
                    ("higher_is_better", "direction"),
                    "significance",
                ]
            },
        ),
        (
            "Dose studied",
            {
                "classes": ["collapse"],
                "fields": [("dose", "dose_max"), ("dose_unit", "dose_per_kg"), "dose_timing"],
            },
        ),
        (
            "Provenance (for findings taken from a source)",
            {
                "classes": ["collapse"],
                "fields": [
                    "source_record_id",
                    "contributor",
                    "quote",
                    "source_direction",
                    ("source_grade", "source_grade_scale"),
                    ("reviewed", "review_note"),
                ],
            },
        ),
        ("Public note for the change log", {"fields": ["public_reason", "minor_edit"]}),
    ]
    readonly_fields = ["significance"]
    autocomplete_fields = ["compound", "goal", "comparator_compound"]
    formfield_overrides = PLAIN_DECIMALS
    show_change_link = True
    extra = 0

    @admin.display(description="Significant")
    def significance(self, finding):
        return significance_label(finding)


@admin.register(Study)
class StudyAdmin(EvidenceAdmin):
    list_display = ["__str__", "design", "n", "trial_count", "year", "source", "reviewed"]
    list_filter = ["reviewed", "design", "source"]
    list_select_related = ["source"]
    search_fields = [
        "title",
        "slug",
        "population",
        "pmid",
        "doi",
        "source_record_id",
        "contributor",
        "source__name",
        "reported_in__title",
    ]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["source", "reported_in"]
    actions = ["mark_reviewed"]
    inlines = [FindingInline]

    @admin.action(description="Mark selected studies as reviewed", permissions=["change"])
    def mark_reviewed(self, request, queryset):
        # One save per study rather than one UPDATE, so each review is in the history.
        changed = 0
        for study in queryset.filter(reviewed=False).select_related(None):
            study.reviewed = True
            study.save(update_fields=["reviewed"])
            changed += 1
        self.message_user(
            request,
            ngettext("%d study marked as reviewed.", "%d studies marked as reviewed.", changed)
            % changed,
        )


# Provenance: the datasets and publications evidence was taken from


class SourceStudyInline(admin.TabularInline):
    """The studies taken from a source, listed for reference; each is edited on its own page."""

    model = Study
    fields = ["title", "design", "source_record_id", "contributor", "reviewed"]
    readonly_fields = fields
    show_change_link = True
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = "studies taken from this source"


@admin.register(Source)
class SourceAdmin(EvidenceAdmin):
    list_display = [
        "name",
        "publisher",
        "licence",
        "version",
        "retrieved",
        "study_count",
        "awaiting_review",
    ]
    list_filter = ["licence", "attribution_required"]
    search_fields = ["name", "slug", "publisher", "licence", "version"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [SourceStudyInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                study_count=count_of(Study, "source"),
                studies_awaiting=count_of(Study, "source", reviewed=False),
                findings_awaiting=count_of(Finding, "study__source", reviewed=False),
            )
        )

    @admin.display(description="Studies", ordering="study_count")
    def study_count(self, source):
        return source.study_count

    @admin.display(description="Awaiting review")
    def awaiting_review(self, source):
        """The source's unreviewed studies and flagged findings, each linked to its queue."""
        studies, findings = source.studies_awaiting, source.findings_awaiting
        studies_url = reverse("admin:evidence_study_changelist")
        findings_url = reverse("admin:evidence_finding_changelist")
        return format_html(
            '<a href="{}">{} studies</a>, <a href="{}">{} findings</a>',
            f"{studies_url}?source__id__exact={source.pk}&reviewed__exact=0",
            studies,
            f"{findings_url}?study__source__id__exact={source.pk}&review=awaiting",
            findings,
        )


@admin.register(Finding)
class FindingAdmin(EvidenceAdmin):
    form = PublicChangeNoteForm
    history_list_display = PUBLIC_NOTE_COLUMNS
    list_display = [
        "outcome",
        "compound",
        "goal",
        "study",
        "measure",
        "value_display",
        "ci",
        "significance",
        "review_state",
    ]
    list_filter = [
        FlaggedByImportFilter,
        "study__source",
        "measure",
        "comparator",
        "outcome_kind",
        "goal",
        "study__design",
    ]
    list_select_related = ["compound", "goal", "study"]
    search_fields = [
        "outcome",
        "compound__name",
        "study__title",
        "study__doi",
        "source_record_id",
        "quote",
        "review_note",
    ]
    autocomplete_fields = ["study", "compound", "goal", "comparator_compound"]
    readonly_fields = ["significance"]
    actions = ["mark_reviewed"]

    @admin.action(description="Mark selected findings as reviewed", permissions=["change"])
    def mark_reviewed(self, request, queryset):
        mark_reviewed(self, request, queryset, "finding", "findings")

    @admin.display(description="Review", ordering="reviewed")
    def review_state(self, finding):
        if finding.reviewed:
            return "Reviewed"
        return f"Flagged: {finding.review_note}" if finding.review_note else "Awaiting review"

    @admin.display(description="Value", ordering="value")
    def value_display(self, finding):
        return None if finding.value is None else plain(finding.value)

    @admin.display(description="95% CI")
    def ci(self, finding):
        if finding.ci_low is None:
            return None
        return f"{plain(finding.ci_low)} to {plain(finding.ci_high)}"

    @admin.display(description="Significant")
    def significance(self, finding):
        return significance_label(finding)


# Articles


@admin.register(Article)
class ArticleAdmin(EvidenceAdmin):
    list_display = ["title", "compound", "goal", "published", "last_updated"]
    list_filter = ["published", "goal"]
    list_select_related = ["compound", "goal"]
    search_fields = ["title", "body"]
    autocomplete_fields = ["compound", "goal"]
    prepopulated_fields = {"slug": ["title"]}


# Visitors' error reports


@admin.register(ErrorReport)
class ErrorReportAdmin(admin.ModelAdmin):
    """Reports sent with "Report an error" (evidence.reports), for editors to work through:
    the report as sent is read-only; the editor sets its state and a private note. Not content:
    no history, and a change here retires no cached page."""

    list_display = ["created_at", "state", "page_link", "compound", "finding", "message_start"]
    list_display_links = ["created_at"]
    list_editable = ["state"]
    list_filter = ["state", "created_at"]
    list_select_related = ["compound", "finding"]
    search_fields = ["message", "page", "compound__name", "editor_note"]
    ordering = ["-created_at"]
    fields = [
        "created_at",
        "page_link",
        "compound",
        "goal",
        "finding",
        "message",
        "state",
        "editor_note",
    ]
    readonly_fields = ["created_at", "page_link", "compound", "goal", "finding", "message"]

    def has_add_permission(self, request):
        return False  # reports come from visitors

    @admin.display(description="Page", ordering="page")
    def page_link(self, report):
        return format_html('<a href="{}">{}</a>', report.page, report.page)

    @admin.display(description="Message")
    def message_start(self, report):
        return Truncator(report.message).chars(120)


# Vendors and their offers


class OfferInline(admin.TabularInline):
    model = Offer
    fields = [
        "compound",
        "product_name",
        "key",
        "url",
        "price_availability",
        "price",
        "currency",
        "amount_per_unit",
        "unit",
        "units_per_pack",
        "form",
        "in_stock",
        "last_checked",
        "certificate_of_analysis_url",
        "vendor_claim",
        "review",
    ]
    readonly_fields = ["review"]  # approved on the offers' list (OfferAdmin.approve_offers)
    autocomplete_fields = ["compound"]
    prepopulated_fields = {"key": ["product_name"]}
    formfield_overrides = SHORT_TEXT
    show_change_link = True
    extra = 0


# Fields only staff set: the trust signals the site vouches for, the vendor's public address,
# and where its offers may link (its website's host and the hosts staff allowed).
VENDOR_FIELDS_STAFF_SET = [
    "slug",
    "website",
    "offer_hosts",
    "third_party_tested",
    "certificate_of_analysis",
    "active",
]


@admin.register(Vendor)
class VendorAdmin(VendorScopedAdmin):
    vendor_lookup = "pk"
    list_display = [
        "name",
        "country",
        "active",
        "third_party_tested",
        "certificate_of_analysis",
        "offer_count",
    ]
    list_filter = ["active", "third_party_tested", "certificate_of_analysis", "country"]
    search_fields = ["name", "slug", "website"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OfferInline]

    def vendor_id_of(self, vendor):
        return vendor.pk

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(offer_count=count_of(Offer, "vendor"))

    @admin.display(description="Offers", ordering="offer_count")
    def offer_count(self, vendor):
        return vendor.offer_count

    def has_add_permission(self, request):
        return not is_vendor_account(request.user) and super().has_add_permission(request)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if is_vendor_account(request.user):
            # Disabled, not read-only: the form ignores a posted value and keeps the stored one,
            # and the fields stay in the form, which the history pages expect.
            for name in VENDOR_FIELDS_STAFF_SET:
                form.base_fields[name].disabled = True
        return form


@admin.register(Offer)
class OfferAdmin(VendorScopedAdmin):
    vendor_lookup = "vendor_id"
    list_display = [
        "product_name",
        "vendor",
        "compound",
        "price_shown",
        "currency",
        "in_stock",
        "last_checked",
        "review",
        "clicks",
    ]
    list_filter = ["review", "vendor", "in_stock", "price_availability", "currency", "form"]
    list_select_related = ["vendor", "compound"]
    search_fields = [
        "product_name",
        "key",
        "vendor__name",
        "compound__name",
        "compound__aliases__name",
    ]
    autocomplete_fields = ["vendor", "compound"]
    prepopulated_fields = {"key": ["product_name"]}
    # The review is the model's (Offer.save holds an implausible price) and staff's to lift.
    readonly_fields = ["clicks", "review", "review_note"]
    actions = ["approve_offers"]

    def vendor_id_of(self, offer):
        return offer.vendor_id

    def has_approve_permission(self, request):
        return not is_vendor_account(request.user) and self.has_change_permission(request)

    @admin.action(description="Approve the selected held offers", permissions=["approve"])
    def approve_offers(self, request, queryset):
        held = list(queryset.filter(review=Offer.Review.HELD))
        for offer in held:
            offer.approve()  # one save each: its history row, and the cache retired
        self.message_user(
            request,
            ngettext("%d offer approved.", "%d offers approved.", len(held)) % len(held),
            messages.SUCCESS,
        )

    def get_queryset(self, request):
        return super().get_queryset(request).with_click_total()

    @admin.display(description="Price", ordering="price")
    def price_shown(self, offer):
        """The price, or why there is none ("Price on request")."""
        if offer.has_public_price:
            return format_money(offer.price, offer.currency)
        return offer.get_price_availability_display()

    @admin.display(description="Clicks", ordering="click_total")
    def clicks(self, offer):
        # Read-only, from OfferClicks: saving this page never writes a count back.
        return getattr(offer, "click_total", 0)

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if is_vendor_account(request.user):
            # The vendor filter would list every vendor's name.
            return [f for f in filters if f != "vendor"]
        return filters

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        scope = vendor_scope(request.user)
        if db_field.name == "vendor" and not scope.everything:
            kwargs["queryset"] = Vendor.objects.filter(pk=scope.vendor_id)
            kwargs["initial"] = scope.vendor_id
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # The form already offers only the user's vendor; this holds even for a forged form.
        if not vendor_scope(request.user).allows(obj.vendor_id):
            raise PermissionDenied
        super().save_model(request, obj, form, change)
        if obj.review == Offer.Review.HELD:
            self.message_user(
                request,
                f"Held for staff review, not shown to visitors: {obj.review_note}",
                messages.WARNING,
            )


# Vendor accounts: which login speaks for which vendor, set by superusers on the user's page


class VendorAccountInline(admin.StackedInline):
    model = VendorAccount
    fields = ["vendor"]
    autocomplete_fields = ["vendor"]
    verbose_name = "vendor account"
    verbose_name_plural = (
        "Vendor account (the user also needs staff status and the Vendor accounts group)"
    )


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class UserWithVendorAccountAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, VendorAccountInline]
