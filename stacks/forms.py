"""The visitor's choices as GET forms: goals for the builder, constraints everywhere."""

from functools import cached_property
from urllib.parse import urlencode

from django import forms
from django.core.validators import slug_re
from django.http import QueryDict

from evidence.cache import until_content_changes
from evidence.currencies import currency_choices, validate_currency
from evidence.models import Compound, Condition, Goal, Offer, Tier
from stacks.goal_picker import category_exists
from stacks.ranking import (
    BUDGET_DECIMAL_PLACES,
    BUDGET_MAX_DIGITS,
    DEFAULT_LIMIT,
    MAX_BUDGET,
    MAX_GOALS,
    MAX_LIMIT,
    Constraints,
)

# The conditions offered as checkboxes; the model knows more, the API accepts them all.
VISITOR_CONDITIONS = [
    (Condition.PREGNANCY, "Pregnant"),
    (Condition.BREASTFEEDING, "Breastfeeding"),
    (Condition.AUTOIMMUNE_DISEASE, "Autoimmune disease"),
    (Condition.IMMUNOSUPPRESSIVE_THERAPY, "On immunosuppressive therapy"),
]


def _priced() -> list[str]:
    """The currencies of visible offers with a public price."""
    offers = Offer.objects.visible().priced().order_by()
    return sorted(offers.values_list("currency", flat=True).distinct())


class ConstraintsForm(forms.Form):
    condition = forms.MultipleChoiceField(
        label="I am / I have",
        choices=VISITOR_CONDITIONS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    no_injections = forms.BooleanField(label="No injections", required=False)
    exclude_kind = forms.MultipleChoiceField(
        label="Leave out",
        choices=Compound.Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    min_tier = forms.TypedChoiceField(
        label="Minimum evidence",
        coerce=int,
        empty_value=None,
        required=False,
    )
    in_stock = forms.BooleanField(label="Only with an offer in stock", required=False)
    budget = forms.DecimalField(
        label="Monthly budget",
        required=False,
        min_value=0,
        max_value=MAX_BUDGET,
        max_digits=BUDGET_MAX_DIGITS,
        decimal_places=BUDGET_DECIMAL_PLACES,
        error_messages={"min_value": "A budget cannot be negative."},
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "1"}),
    )
    # Any ISO 4217 code is accepted (a shared link keeps its currency); the list offers the
    # currencies of visible offers with a public price, the only ones a cost can be estimated in.
    currency = forms.CharField(
        required=False,
        initial=Offer.DEFAULT_CURRENCY,
        max_length=3,
        validators=[validate_currency],
        widget=forms.Select,
    )
    limit = forms.IntegerField(
        min_value=1, max_value=MAX_LIMIT, required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # No min/max on the budget input: the browser would refuse -5 silently (htmx halts the
        # request and the old results stay); the server's error says what is wrong instead.
        for attr in ("min", "max"):
            self.fields["budget"].widget.attrs.pop(attr, None)
        # A callable: the tiers are read (once) only when the field is drawn or a tier chosen.
        self.fields["min_tier"].choices = lambda: self.min_tier_choices
        self.fields["currency"].widget.choices = lambda: self.currency_choices

    @cached_property
    def currency_choices(self) -> list[tuple[str, str]]:
        """The currencies of visible offers with a public price, the default, and the one
        asked for (any ISO 4217 code), by code."""
        codes = {Offer.DEFAULT_CURRENCY, *until_content_changes("priced-currencies", _priced)}
        if self.is_bound:
            codes.add(self.data.get("currency"))
        return currency_choices(codes)

    @cached_property
    def min_tier_choices(self) -> list[tuple]:
        return [("", "Any tier")] + [
            (t.number, f"Tier {t.number} ({t.label}) or better")
            for t in Tier.objects.order_by("number")
            if not t.means_no_effect
        ]

    def entries_per_list(self) -> int:
        """Entries per list: the visitor's choice once the form is valid (at most
        `most_per_list`), else the default."""
        if self.is_bound and self.is_valid():
            return min(self.cleaned_data.get("limit") or DEFAULT_LIMIT, self.most_per_list())
        return DEFAULT_LIMIT

    def most_per_list(self) -> int:
        """The most entries a list of this page may show."""
        return MAX_LIMIT

    def can_show_more(self) -> bool:
        return self.entries_per_list() < self.most_per_list()

    def active_filter_count(self) -> int:
        """How many filters the visitor has set (a currency alone filters nothing)."""
        if not (self.is_bound and self.is_valid()):
            return 0
        filters = ("condition", "no_injections", "exclude_kind", "min_tier", "in_stock", "budget")
        return sum(self.cleaned_data.get(name) not in (None, False, [], "") for name in filters)

    def more_query(self) -> str:
        """The same choices, showing DEFAULT_LIMIT more entries per list."""
        query = self.data.copy() if isinstance(self.data, QueryDict) else QueryDict(mutable=True)
        query["limit"] = str(min(self.entries_per_list() + DEFAULT_LIMIT, self.most_per_list()))
        return query.urlencode()

    def fields_key(self) -> str:
        """What names this form's fields as a page draws them, among every page's that draws
        the same (stacks/builder.html#constraint_fields, shared while the content is the
        same): whether it was sent, and the values sent for its fields, as sent. Empty, so
        drawn each time, for a form with errors (they show in it) or not sent as a query."""
        if not self.is_bound:
            return "unbound"
        if not isinstance(self.data, QueryDict) or not self.is_valid():
            return ""
        sent = [
            (name, value)
            for name in ConstraintsForm.base_fields
            for value in self.data.getlist(name)
        ]
        return "bound?" + urlencode(sent)

    @cached_property
    def widget_keys(self) -> dict[str, str]:
        """What names each field's widget as a page draws it, among every page's that draws
        the same (the constraint fields' inner shared parts: a page whose whole fieldset is
        new mostly finds its widgets drawn already): the field's name and the values sent for
        it, the only ones its widget shows. Empty, so drawn each time, as `fields_key` is."""
        whole = self.fields_key()
        if whole in ("", "unbound"):
            return {name: whole and f"{name}:{whole}" for name in ConstraintsForm.base_fields}
        return {
            name: f"{name}?" + urlencode([(name, value) for value in self.data.getlist(name)])
            for name in ConstraintsForm.base_fields
        }

    def constraints(self) -> Constraints:
        """The visitor's constraints; none until the form is bound and valid."""
        if not (self.is_bound and self.is_valid()):
            return Constraints()
        data = self.cleaned_data
        return Constraints(
            conditions=frozenset(data.get("condition") or ()),
            no_injections=bool(data.get("no_injections")),
            excluded_kinds=frozenset(data.get("exclude_kind") or ()),
            min_tier=data.get("min_tier"),
            in_stock_only=bool(data.get("in_stock")),
            monthly_budget=data.get("budget"),
            currency=data.get("currency") or Offer.DEFAULT_CURRENCY,
        )


def goals_asked_for(query: QueryDict) -> list[Goal]:
    """The goals `query` names (`goals=`), by category and name: the only ones a builder form
    needs. Only slug-shaped values are looked up (a NUL byte never reaches the database); the
    form refuses the others as unknown goals."""
    slugs = [value for value in query.getlist("goals") if slug_re.fullmatch(value)]
    return list(Goal.objects.filter(slug__in=slugs).order_by("category", "name"))


# The most entries a builder page draws in all its goals' ranked lists together.
MAX_BUILDER_ENTRIES = 200


class BuilderForm(ConstraintsForm):
    goals = forms.MultipleChoiceField(
        label="Your goals", required=False, widget=forms.CheckboxSelectMultiple
    )

    field_order = ["goals"]

    def __init__(self, *args, goals: list[Goal], **kwargs):
        """`goals`: those a visitor may pick, read once by the view (the page draws them)."""
        super().__init__(*args, **kwargs)
        self.goal_list = goals
        self.fields["goals"].choices = [(goal.slug, goal.name) for goal in goals]

    def most_per_list(self) -> int:
        """A builder page draws at most MAX_BUILDER_ENTRIES entries in all its goals' ranked
        lists, however many goals and whatever `limit` asks (each goal's own page shows up to
        MAX_LIMIT): one goal up to 200 entries, ten goals DEFAULT_LIMIT each."""
        chosen = self.cleaned_data.get("goals") if self.is_bound and self.is_valid() else None
        return max(DEFAULT_LIMIT, MAX_BUILDER_ENTRIES // max(1, len(chosen or ())))

    def clean_goals(self) -> list[Goal]:
        chosen = set(self.cleaned_data["goals"])
        if len(chosen) > MAX_GOALS:
            raise forms.ValidationError(f"Pick at most {MAX_GOALS} goals at a time.")
        return [goal for goal in self.goal_list if goal.slug in chosen]


def goal_search_field() -> forms.CharField:
    """A search for goals by name (stacks.goal_picker.find_goals)."""
    return forms.CharField(label="Find a goal", max_length=100, required=False)


class GoalCategoryField(forms.CharField):
    """One goal category (stacks.goal_picker; UNCATEGORISED too), to list its goals: refused
    unless some goal is listed under it. Checked only once the text is short enough."""

    def __init__(self, **kwargs):
        super().__init__(label="Goal category", max_length=80, required=False, **kwargs)

    def clean(self, value) -> str:
        category = super().clean(value)
        if category and not category_exists(category):
            raise forms.ValidationError(f"There is no goal category named “{category}”.")
        return category


class GoalPickerForm(forms.Form):
    """What the builder's goal picker lists besides the chosen and the most researched goals:
    the goals matching a search, and those of one category (stacks.goal_picker). Its names
    say "goal" because they share the builder's query with its other choices."""

    goal_q = goal_search_field()
    goal_category = GoalCategoryField()

    def search(self) -> str:
        return self.cleaned_data.get("goal_q", "") if self.is_valid() else ""

    def category(self) -> str:
        return self.cleaned_data.get("goal_category", "") if self.is_valid() else ""


class GoalIndexForm(forms.Form):
    """What the goals index (/goals/) lists besides the categories and the most researched
    goals: the goals matching a search (`q`) and those of one category, opened."""

    q = goal_search_field()
    category = GoalCategoryField()

    def search(self) -> str:
        return self.cleaned_data.get("q", "") if self.is_valid() else ""

    def open_category(self) -> str:
        return self.cleaned_data.get("category", "") if self.is_valid() else ""
