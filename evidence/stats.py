"""Statistics of a single finding, free of Django so they can be tested on plain numbers.

Significance is derived, never typed: a ratio's 95% CI that excludes 1, a difference's that
excludes 0, or else a reported p-value below 0.05.
"""

from decimal import Decimal
from enum import StrEnum

ALPHA = Decimal("0.05")


class Favours(StrEnum):
    COMPOUND = "compound"
    COMPARATOR = "comparator"
    NEITHER = "neither"
    UNKNOWN = "unknown"


def null_value(is_ratio: bool) -> Decimal:
    """The value that means "no difference": 1 for ratios, 0 for differences."""
    return Decimal(1) if is_ratio else Decimal(0)


def is_significant(
    *,
    is_ratio: bool,
    is_comparative: bool,
    ci_low: Decimal | None,
    ci_high: Decimal | None,
    p_value: Decimal | None,
    p_value_is_bound: bool | None = False,
    stated_significance: bool | None = None,
) -> bool | None:
    """Whether a finding is statistically significant at the 5% level.

    Returns None when the reported figures cannot say (a single-arm proportion, or no CI,
    no p-value and no statement by the source). `p_value_is_bound` is None when the source
    does not say whether its p-value is exact or an upper bound.
    """
    if is_comparative and ci_low is not None and ci_high is not None:
        null = null_value(is_ratio)
        return ci_high < null or ci_low > null
    if p_value is not None:
        # "p<0.001" is stored as 0.001 with p_value_is_bound: a bound at or below alpha is
        # significant; a bound above it ("p<0.1") cannot tell.
        if p_value_is_bound:
            return True if p_value <= ALPHA else None
        if p_value_is_bound is None:
            # Exact or a bound, below alpha is significant either way; above, it cannot tell.
            return True if p_value < ALPHA else None
        return p_value < ALPHA
    return stated_significance


def favours(
    *,
    is_ratio: bool,
    is_comparative: bool,
    value: Decimal | None,
    higher_is_better: bool,
) -> Favours:
    """Which side the point estimate favours, whatever its significance."""
    if not is_comparative or value is None:
        return Favours.UNKNOWN
    null = null_value(is_ratio)
    if value == null:
        return Favours.NEITHER
    compound_better = (value > null) == higher_is_better
    return Favours.COMPOUND if compound_better else Favours.COMPARATOR
