from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evidence.stats import Favours, favours, is_significant


def ratio_significance(low, high):
    return is_significant(
        is_ratio=True, is_comparative=True, ci_low=D(low), ci_high=D(high), p_value=None
    )


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        ("0.35", "1.10", False),  # seed: virologic response vs interferon-alpha, OR 0.62
        ("0.34", "1.05", False),  # seed: biochemical response vs interferon-alpha, OR 0.60
        ("0.30", "0.97", True),  # seed: complete response vs interferon-alpha, OR 0.54
        ("0.175", "0.541", True),  # seed: overall survival after HCC resection, HR 0.308
        ("0.229", "0.633", True),  # seed: recurrence-free survival, HR 0.381
    ],
)
def test_seed_confidence_intervals_give_the_expected_significance(low, high, expected):
    assert ratio_significance(low, high) is expected


def test_difference_is_significant_when_ci_excludes_zero():
    common = {"is_ratio": False, "is_comparative": True, "p_value": None}
    assert is_significant(ci_low=D("0.1"), ci_high=D("2"), **common) is True
    assert is_significant(ci_low=D("-0.1"), ci_high=D("2"), **common) is False


def test_p_value_decides_when_no_ci():
    common = {"is_ratio": True, "is_comparative": True, "ci_low": None, "ci_high": None}
    assert is_significant(p_value=D("0.001"), p_value_is_bound=True, **common) is True
    assert is_significant(p_value=D("0.2"), **common) is False
    assert is_significant(p_value=D("0.05"), **common) is False
    assert is_significant(p_value=D("0.05"), p_value_is_bound=True, **common) is True


def test_single_arm_figures_cannot_be_significant_or_not():
    assert (
        is_significant(
            is_ratio=False, is_comparative=False, ci_low=None, ci_high=None, p_value=None
        )
        is None
    )


def test_stated_significance_is_used_only_without_figures():
    common = {"is_ratio": True, "is_comparative": True, "stated_significance": False}
    assert is_significant(ci_low=None, ci_high=None, p_value=None, **common) is False
    assert is_significant(ci_low=D("0.2"), ci_high=D("0.5"), p_value=None, **common) is True


@given(
    low=st.decimals(min_value="0.01", max_value="50", places=3),
    width=st.decimals(min_value="0.001", max_value="50", places=3),
)
def test_ratio_significance_is_exactly_excluding_one(low, width):
    high = low + width
    assert ratio_significance(low, high) is (high < 1 or low > 1)


def test_hazard_ratio_below_one_favours_compound_when_lower_is_better():
    assert (
        favours(is_ratio=True, is_comparative=True, value=D("0.308"), higher_is_better=False)
        == Favours.COMPOUND
    )


def test_odds_ratio_below_one_favours_comparator_when_higher_is_better():
    assert (
        favours(is_ratio=True, is_comparative=True, value=D("0.54"), higher_is_better=True)
        == Favours.COMPARATOR
    )
