"""The visitor's choices as GET forms: goals for the builder, constraints everywhere."""

from decimal import Decimal

from django import forms
from django.http import QueryDict

from evidence.models import Compound, Condition, Goal, Offer, Tier
from stacks.ranking import DEFAULT_LIMIT, MAX_LIMIT, Constraints

# The conditions offered as checkboxes; the model knows more, the API accepts them all.
VISITOR_CONDITIONS = [
    (Condition.PREGNANCY, "Pregnant"),
    (Condition.BREASTFEEDING, "Breastfeeding"),
    (Condition.AUTOIMMUNE_DISEASE, "Autoimmune disease"),
    (Condition.IMMUNOSUPPRESSIVE_THERAPY, "On immunosuppressive therapy"),
]
MAX_BUDGET = Decimal(1_000_000)


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
        max_digits=9,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "1", "min": "0"}),
    )
    currency = forms.ChoiceField(choices=Offer.Currency.choices, required=False, initial="USD")
    limit = forms.IntegerField(
        min_value=1, max_value=MAX_LIMIT, required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, tiers=None, **kwargs):
        super().__init__(*args, **kwargs)
        tiers = tiers if tiers is not None else Tier.objects.all()
        self.fields["min_tier"].choices = [("", "Any tier")] + [
            (t.number, f"Tier {t.number} ({t.label}) or better")
            for t in tiers
            if not t.means_no_effect
        ]

    def entries_per_list(self) -> int:
        """Entries per list: the visitor's choice once the form is valid, else the default."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data.get("limit") or DEFAULT_LIMIT
        return DEFAULT_LIMIT

    def more_query(self) -> str:
        """The same choices, showing DEFAULT_LIMIT more entries per list."""
        query = self.data.copy() if isinstance(self.data, QueryDict) else QueryDict(mutable=True)
        query["limit"] = str(min(self.entries_per_list() + DEFAULT_LIMIT, MAX_LIMIT))
        return query.urlencode()

    def constraints(self) -> Constraints:
        data = self.cleaned_data
        return Constraints(
            conditions=frozenset(data.get("condition") or ()),
            no_injections=bool(data.get("no_injections")),
            excluded_kinds=frozenset(data.get("exclude_kind") or ()),
            min_tier=data.get("min_tier"),
            in_stock_only=bool(data.get("in_stock")),
            monthly_budget=data.get("budget"),
            currency=data.get("currency") or Offer.Currency.USD,
        )


class BuilderForm(ConstraintsForm):
    goals = forms.ModelMultipleChoiceField(
        label="Your goals",
        queryset=Goal.objects.order_by("category", "name"),
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    field_order = ["goals"]

    def clean_goals(self):
        goals = self.cleaned_data["goals"]
        if len(goals) > 10:
            raise forms.ValidationError("Pick at most 10 goals at a time.")
        return goals
