"""How numbers, effects and prices read on every page and in the admin: plain functions.

    format_effect(finding)        "OR 0.54 (95% CI 0.30–0.97)", "36.4%", ...
    format_significance(True)     "Yes" / "No" / "Not assessable"
    format_money(Decimal(40), "USD")  "$40.00"
    plain(Decimal("1.6000"))      "1.6"

The template filters of evidence_tags and the admin's columns call these; nothing else
formats evidence.
"""

from decimal import Decimal

from evidence import stats

MINUS = "\u2212"
EN_DASH = "\u2013"

ABBREVIATIONS = {
    "odds_ratio": "OR",
    "risk_ratio": "RR",
    "hazard_ratio": "HR",
    "mean_difference": "MD",
    "std_mean_difference": "SMD",
    "risk_difference": "RD",
}

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def plain(value: Decimal) -> str:
    """A decimal without trailing zeros or exponent: 1.6000 -> "1.6", 300.0000 -> "300"."""
    return _with_minus(f"{Decimal(value).normalize():f}")


def _places(value: Decimal) -> int:
    exponent = Decimal(value).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _fixed(value: Decimal, places: int) -> str:
    return _with_minus(f"{Decimal(value):.{places}f}")


def _with_minus(text: str) -> str:
    return MINUS + text[1:] if text.startswith("-") else text


def _interval(low: Decimal, high: Decimal, places: int, suffix: str = "") -> str:
    """ "0.30–0.97", or "−4.1 to −0.5" when a dash would read as a minus sign."""
    separator = " to " if low < 0 or high < 0 else EN_DASH
    return f"{_fixed(low, places)}{suffix}{separator}{_fixed(high, places)}{suffix}"


def format_p_value(p_value: Decimal | None, is_bound: bool | None) -> str:
    """ "p=0.03", "p<0.001", or "p 0.03 (exact or bound not reported)" when the source does not
    say which."""
    if p_value is None:
        return ""
    if is_bound is None:
        return f"p {plain(p_value)} (exact or bound not reported)"
    return f"p{'<' if is_bound else '='}{plain(p_value)}"


def format_effect(finding) -> str:
    """The effect as a reader of a paper expects it, with its CI and p-value when reported.

    OR 0.54 (95% CI 0.30–0.97) · HR 0.308 (95% CI 0.175–0.541), p<0.001 · 36.4% ·
    1.7% vs 2.1% · reported without figures
    """
    measure = finding.measure
    if measure == "qualitative" or finding.value is None:
        text = "reported without figures"
        p = format_p_value(finding.p_value, finding.p_value_is_bound)
        return f"{text}, {p}" if p else text

    has_ci = finding.ci_low is not None and finding.ci_high is not None
    numbers = [finding.value] + ([finding.ci_low, finding.ci_high] if has_ci else [])
    if measure == "proportion":
        if finding.comparator_value is not None:
            numbers.append(finding.comparator_value)
        places = max(_places(n) for n in numbers)
        text = f"{_fixed(finding.value, places)}%"
        if finding.comparator_value is not None:
            text += f" vs {_fixed(finding.comparator_value, places)}%"
            if has_ci:
                text += (
                    f" (difference 95% CI {_interval(finding.ci_low, finding.ci_high, places)}"
                    " percentage points)"
                )
        elif has_ci:
            text += f" (95% CI {_interval(finding.ci_low, finding.ci_high, places, '%')})"
    else:
        places = max(_places(n) for n in numbers)
        text = f"{ABBREVIATIONS.get(measure, '')} {_fixed(finding.value, places)}".strip()
        if has_ci:
            text += f" (95% CI {_interval(finding.ci_low, finding.ci_high, places)})"
    p = format_p_value(finding.p_value, finding.p_value_is_bound)
    return f"{text}, {p}" if p else text


def format_significance(significant: bool | None) -> str:
    return {True: "Yes", False: "No"}.get(significant, "Not assessable")


def format_favours(favours: stats.Favours, compound_name: str, comparator_name: str) -> str:
    """Which side the point estimate favours, in words (whatever its significance)."""
    return {
        stats.Favours.COMPOUND: compound_name,
        stats.Favours.COMPARATOR: comparator_name,
        stats.Favours.NEITHER: "Neither (no difference)",
    }.get(favours, "Not assessable")


def format_money(value: Decimal, currency: str, *, per_mg: bool = False) -> str:
    """$40.00; prices per mg below 0.10 keep four decimals so cheap offers still compare."""
    places = 4 if per_mg and abs(value) < Decimal("0.1") else 2
    amount = f"{Decimal(value):,.{places}f}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{amount}" if symbol else f"{amount} {currency}".strip()


def format_amount(amount, amount_max, unit, per_kg) -> str:
    """An amount or range with its unit: "1.6 mg", "300–600 mg", "1–3 g per kg of body
    weight"; empty without an amount. Dosing and the dose a finding studied both read this way."""
    if amount is None:
        return ""
    text = plain(amount)
    if amount_max is not None and amount_max != amount:
        text += f"{EN_DASH}{plain(amount_max)}"
    return f"{text} {unit}{' per kg of body weight' if per_kg else ''}"


def format_dose(finding) -> str:
    """The dose studied for a finding: "300–600 mg", "0.35 g per kg of body weight, with a
    meal"; the timing alone or empty when the source reports no amount."""
    amount = format_amount(finding.dose, finding.dose_max, finding.dose_unit, finding.dose_per_kg)
    return ", ".join(part for part in (amount, finding.dose_timing) if part)
