"""Amounts of money as whole numbers of minor units with their currency: typed, checked,
shown. Never a float: a typed "1 234,50" becomes 123450 through Decimal."""

from __future__ import annotations

import calendar
import re
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import format_currency
from flask_babel import gettext as _

from aidmatch.money.models import MAX_MINOR, Currency
from aidmatch.refusals import Invalid

MINOR_PER_MAJOR = 100  # all four currencies have hundredths


def clean_currency(value, field: str = "currency") -> Currency:
    """One of UAH, EUR, PLN, USD (any case); Invalid otherwise."""
    text = value.strip().upper() if isinstance(value, str) else ""
    if text not in Currency.__members__:
        raise Invalid(_("Choose a currency: UAH, EUR, PLN or USD."), field)
    return Currency(text)


def clean_minor(value, field: str = "amount_minor") -> int:
    """An amount in minor units (a whole number above zero); Invalid otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(_("An amount is a whole number of cents (or kopiykas, groszy)."), field)
    if value <= 0:
        raise Invalid(_("The amount must be more than zero."), field)
    if value > MAX_MINOR:
        raise Invalid(_("This amount is too large: please check it."), field)
    return value


def parse_major(text, field: str = "amount") -> int:
    """A typed amount in major units ("1 234,50", "1234.5", "200") as minor units."""
    raw = re.sub(r"[\s\u00a0\u202f']", "", text or "")
    if not raw:
        raise Invalid(_("Give an amount."), field)
    raw = raw.replace(",", ".") if "," in raw and "." not in raw else raw.replace(",", "")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise Invalid(_("Type an amount such as 1500 or 1500.50."), field) from None
    if amount.is_finite() and amount.copy_abs() > MAX_MINOR:
        # Too many digits for quantize below (an InvalidOperation there, not a message).
        if amount < 0:
            raise Invalid(_("The amount must be more than zero."), field)
        raise Invalid(_("This amount is too large: please check it."), field)
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise Invalid(_("An amount has at most two digits after the point."), field)
    return clean_minor(int(amount * MINOR_PER_MAJOR), field)


def as_major(minor: int) -> str:
    """Minor units as a plain major amount ("1234.50"), for a form's field."""
    return f"{Decimal(minor) / MINOR_PER_MAJOR:.2f}"


def money(minor: int, currency) -> str:
    """An amount as the reader's language writes it ("1 234,50 ₴", "€12.00")."""
    return format_currency(Decimal(minor) / MINOR_PER_MAJOR, str(currency))


def add_months(day: date, months: int) -> date:
    """The same day so many months later (the month's last day where it is shorter)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def parse_day(text, field: str) -> date:
    """A typed day (YYYY-MM-DD); Invalid naming the field otherwise."""
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise Invalid(_("Give the day as YYYY-MM-DD."), field) from None
