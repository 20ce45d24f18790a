"""How amounts read: one formatter for a compound's dosing and the dose a finding studied."""

from decimal import Decimal as D

import pytest

from evidence.formatting import format_amount, format_dose
from evidence.models import Dosing, Finding


@pytest.mark.parametrize(
    ("amount", "amount_max", "unit", "per_kg", "expected"),
    [
        (D("1.6000"), None, "mg", False, "1.6 mg"),
        (D("300"), D("600"), "mg", False, "300–600 mg"),
        (D("300"), D("300"), "mg", False, "300 mg"),
        (D("1"), D("3"), "g", True, "1–3 g per kg of body weight"),
        (None, None, "mg", False, ""),
    ],
)
def test_amount_reads_as_a_plain_number_or_range_with_its_unit(
    amount, amount_max, unit, per_kg, expected
):
    assert format_amount(amount, amount_max, unit, per_kg) == expected


def test_dosing_and_finding_dose_read_the_same_for_the_same_amount():
    dosing = Dosing(amount=D("0.35"), amount_max=None, unit="g", per_kg=True)
    finding = Finding(dose=D("0.35"), dose_max=None, dose_unit="g", dose_per_kg=True)
    assert dosing.dose_text() == format_dose(finding) == "0.35 g per kg of body weight"


def test_finding_dose_adds_its_timing_and_keeps_a_timing_without_amount():
    with_amount = Finding(dose=D("5"), dose_unit="g", dose_timing="with a meal")
    timing_only = Finding(dose=None, dose_unit="", dose_timing="at bedtime")
    assert format_dose(with_amount) == "5 g, with a meal"
    assert format_dose(timing_only) == "at bedtime"
    assert format_dose(Finding(dose=None, dose_unit="", dose_timing="")) == ""
