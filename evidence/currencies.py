"""ISO 4217 currencies: the codes an offer may be priced in and a visitor may choose.

The list is pycountry's copy of the ISO 4217 list (kept up to date by the iso-codes project),
never a table of our own. No exchange rates live here or anywhere on the site: a price is
compared only with prices in the same currency (docs/methodology.md, "Cost").
"""

import re
from functools import cache

import pycountry
from django.core.exceptions import ValidationError

# What the database itself holds to (Offer's check constraint): three capital letters.
CODE_PATTERN = r"^[A-Z]{3}$"


@cache
def _names() -> dict[str, str]:
    return {currency.alpha_3: currency.name for currency in pycountry.currencies}


def is_currency(code: object) -> bool:
    """Whether `code` is an ISO 4217 currency code, written as the standard writes it ("JPY")."""
    return (
        isinstance(code, str)
        and re.fullmatch(CODE_PATTERN, code) is not None
        and (code in _names())
    )


def currency_name(code: str) -> str:
    """The standard's name for the currency ("Yen"), or "" for a code it does not list."""
    return _names().get(code, "")


def currency_choices(codes=None) -> list[tuple[str, str]]:
    """(code, "JPY – Yen") pairs, by code: of `codes` (the ISO ones among them), else of all."""
    names = _names()
    wanted = names if codes is None else {c for c in codes if c in names}
    return [(code, f"{code} – {names[code]}") for code in sorted(wanted)]


def validate_currency(value: str) -> None:
    """A field validator: refuses anything but an ISO 4217 code, with a plain message."""
    if not is_currency(value):
        raise ValidationError(
            "%(value)s is not an ISO 4217 currency code: write the three capital letters of "
            "the standard, e.g. USD, EUR, JPY.",
            code="invalid_currency",
            params={"value": str(value)[:20] or "An empty code"},
        )
