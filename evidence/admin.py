"""The staff admin: every model of the knowledge base, editable by the role groups in roles.py.

Who may do what is decided by the model permissions of the "Evidence editors" and "Vendor
managers" groups; the admin enforces them through Django's has_*_permission checks.
"""

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import ngettext

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
    SideEffect,
    Study,
    Tier,
    Vendor,
)

admin.site.site_header = "Evidence Stack Builder admin"
admin.site.site_title = "Evidence Stack Builder admin"
admin.site.index_title = "Content"


def count_of(model, field: str):
    """The number of `model` rows whose `field` points at the outer row, as a subquery.

    A subquery rather than Count() over a join: the changelist filters across the same
    relation (e.g. ratings__tier), and a second join would multiply a joined count.
    """
    rows = (
        model.objects.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def significance_label(finding: Finding) -> str:
    if finding.pk is None:
        return "-"
    return {True: "Yes", False: "No", None: "Not assessable"}[finding.significant]


def plain_number(value) -> str:
    """A Decimal without the trailing zeros of its database scale: 1.5000 -> 1.5."""
    return f"{value.normalize():f}"


# Long text in a tabular row stays two lines high; the full text is on the row's own page.
SHORT_TEXT = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 40})}}


# Goals and the tier ladder


@admin.register(Goal)
class GoalAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "slug"]
    list_filter = ["category"]
    search_fields = ["name", "slug", "category"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ["number", "label", "weight", "means_no_effect"]
    list_display_links = ["number", "label"]
    ordering = ["number"]
    # number__exact skips terms that are not numbers, so "Likely" searches labels only.
    search_fields = ["label", "number__exact"]


# Compounds and what hangs off them


class CompoundAliasInline(admin.TabularInline):
    model = CompoundAlias
    extra = 1


class RatingInline(admin.TabularInline):
    model = Rating
    fields = ["goal", "tier", "bottom_line", "last_reviewed"]
    autocomplete_fields = ["goal", "tier"]
    formfield_overrides = SHORT_TEXT
    show_change_link = True
    extra = 0


class DosingInline(admin.TabularInline):
    model = Dosing
    fields = [
        "goal",
        "amount",
        "unit",
        "frequency",
        "doses_per_week",
        "route",
        "duration",
    ]
    autocomplete_fields = ["goal"]
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


@admin.register(Compound)
class CompoundAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "published", "rating_count", "tiers_by_goal"]
    list_filter = ["kind", "published", "ratings__tier", "ratings__goal"]
    search_fields = ["name", "slug", "aliases__name"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["updated_at"]
    inlines = [
        CompoundAliasInline,
        RatingInline,
        DosingInline,
        SideEffectInline,
        ContraindicationInline,
    ]
    actions = ["publish", "unpublish"]

    def get_queryset(self, request):
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
        changed = queryset.exclude(published=published).update(
            published=published, updated_at=timezone.now()
        )
        verb = "published" if published else "unpublished"
        self.message_user(
            request,
            ngettext("%d compound %s.", "%d compounds %s.", changed) % (changed, verb),
        )


@admin.register(CompoundAlias)
class CompoundAliasAdmin(admin.ModelAdmin):
    list_display = ["name", "compound"]
    list_select_related = ["compound"]
    search_fields = ["name", "compound__name"]
    autocomplete_fields = ["compound"]


@admin.register(Dosing)
class DosingAdmin(admin.ModelAdmin):
    list_display = ["compound", "goal", "dose", "frequency", "route"]
    list_filter = ["route", "unit", "goal"]
    list_select_related = ["compound", "goal"]
    search_fields = ["compound__name", "compound__aliases__name", "frequency"]
    autocomplete_fields = ["compound", "goal"]

    @admin.display(description="Dose", ordering="amount")
    def dose(self, dosing):
        return f"{plain_number(dosing.amount)} {dosing.unit}"


@admin.register(SideEffect)
class SideEffectAdmin(admin.ModelAdmin):
    list_display = ["name", "compound", "frequency"]
    list_filter = ["frequency"]
    list_select_related = ["compound"]
    search_fields = ["name", "compound__name", "compound__aliases__name"]
    autocomplete_fields = ["compound"]


@admin.register(Contraindication)
class ContraindicationAdmin(admin.ModelAdmin):
    list_display = ["compound", "condition"]
    list_filter = ["condition"]
    list_select_related = ["compound"]
    search_fields = ["compound__name", "compound__aliases__name", "note"]
    autocomplete_fields = ["compound"]


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ["compound_a", "compound_b", "severity"]
    list_filter = ["severity"]
    list_select_related = ["compound_a", "compound_b"]
    search_fields = ["compound_a__name", "compound_b__name", "note"]
    autocomplete_fields = ["compound_a", "compound_b"]


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ["compound", "goal", "tier", "last_reviewed"]
    list_filter = ["tier", "goal"]
    list_select_related = ["compound", "goal", "tier"]
    search_fields = ["compound__name", "compound__aliases__name"]
    autocomplete_fields = ["compound", "goal", "tier"]


# Studies and their findings


class FindingInline(admin.TabularInline):
    model = Finding
    # Every field a database constraint reads is on the form, so the form validates the
    # constraint instead of the database refusing the row with an error page.
    fields = [
        "compound",
        "goal",
        "outcome",
        "comparator",
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
        "significance",
    ]
    readonly_fields = ["significance"]
    autocomplete_fields = ["compound", "goal", "comparator_compound"]
    show_change_link = True
    extra = 0

    @admin.display(description="Significant")
    def significance(self, finding):
        return significance_label(finding)


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ["title", "design", "n", "trial_count", "year"]
    list_filter = ["design"]
    search_fields = ["title", "population", "pmid", "doi"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [FindingInline]


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = [
        "outcome",
        "compound",
        "goal",
        "study",
        "measure",
        "value_display",
        "ci",
        "significance",
    ]
    list_filter = ["measure", "comparator", "goal", "study__design"]
    list_select_related = ["compound", "goal", "study"]
    search_fields = ["outcome", "compound__name", "study__title"]
    autocomplete_fields = ["study", "compound", "goal", "comparator_compound"]
    readonly_fields = ["significance"]

    @admin.display(description="Value", ordering="value")
    def value_display(self, finding):
        return None if finding.value is None else plain_number(finding.value)

    @admin.display(description="95% CI")
    def ci(self, finding):
        if finding.ci_low is None:
            return None
        return f"{plain_number(finding.ci_low)} to {plain_number(finding.ci_high)}"

    @admin.display(description="Significant")
    def significance(self, finding):
        return significance_label(finding)


# Articles


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "compound", "goal", "published", "last_updated"]
    list_filter = ["published", "goal"]
    list_select_related = ["compound", "goal"]
    search_fields = ["title", "body"]
    autocomplete_fields = ["compound", "goal"]
    prepopulated_fields = {"slug": ["title"]}


# Vendors and their offers


class OfferInline(admin.TabularInline):
    model = Offer
    fields = [
        "compound",
        "product_name",
        "key",
        "url",
        "price",
        "currency",
        "amount_per_unit",
        "unit",
        "units_per_pack",
        "form",
        "in_stock",
        "last_checked",
    ]
    autocomplete_fields = ["compound"]
    prepopulated_fields = {"key": ["product_name"]}
    show_change_link = True
    extra = 0


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
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

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(offer_count=count_of(Offer, "vendor"))

    @admin.display(description="Offers", ordering="offer_count")
    def offer_count(self, vendor):
        return vendor.offer_count


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = [
        "product_name",
        "vendor",
        "compound",
        "price",
        "currency",
        "in_stock",
        "last_checked",
        "click_count",
    ]
    list_filter = ["vendor", "in_stock", "currency", "form"]
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
    readonly_fields = ["click_count"]
