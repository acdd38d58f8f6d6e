"""Language and time zone selection (the user's setting, else the browser's language or the
instance's default zone) and the Jinja filters that format dates and numbers for them."""

from datetime import date
from functools import cache
from zoneinfo import available_timezones

import pytz
from babel import Locale
from babel.numbers import get_group_symbol
from flask import current_app, has_request_context, request, session
from flask_babel import format_date, format_decimal, format_time, get_locale
from flask_login import current_user


def select_locale() -> str:
    """Pick uk, en or de for this request."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands and background jobs
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("language")
    if chosen in languages:
        return chosen
    user = current_user._get_current_object()  # once, not through the proxy each time
    if user and user.is_authenticated and user.language in languages:
        return str(user.language)
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


# The zones a user may choose, the most likely first (/account): where the network's people
# are, then where donors sit.
COMMON_TIMEZONES = (
    "Europe/Kyiv",
    "Europe/Warsaw",
    "Europe/Berlin",
    "Europe/Vienna",
    "Europe/Prague",
    "Europe/Vilnius",
    "Europe/Paris",
    "Europe/London",
    "America/New_York",
    "UTC",
)


@cache
def known_timezones() -> frozenset[str]:
    """Every IANA zone a user may choose: those of zoneinfo.available_timezones() that pytz
    (what Flask-Babel converts with) knows too, areas and cities only (no Etc/GMT+5 or
    EST5EDT), and UTC."""
    zones = available_timezones() & pytz.all_timezones_set
    return frozenset(z for z in zones if "/" in z and not z.startswith("Etc/")) | {"UTC"}


def is_timezone(name) -> bool:
    """A zone a user may choose (known_timezones)."""
    return isinstance(name, str) and name in known_timezones()


def select_timezone() -> str:
    """The zone times are shown in: the signed-in user's choice, else DEFAULT_TIMEZONE
    (Europe/Kyiv unless configured), also for anonymous visitors, jobs and the CLI."""
    signed_in = has_request_context() and current_user and current_user.is_authenticated
    if signed_in and is_timezone(current_user.timezone):
        return current_user.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def local_date(value) -> str:
    """A date (or a timestamp's date) as the language writes it: 27.11.2026, 27 лист. 2026 р."""
    return "" if value is None else format_date(value, "medium")


def local_datetime(value, zone: bool = False) -> str:
    """A timestamp in the reader's time zone (select_timezone), as the language writes it:
    27.11.2026, 06:41. zone=True adds the zone's offset for words read out of context (a
    refusal of the API): 27.11.2026, 06:41 GMT+02:00."""
    if value is None:
        return ""
    locale = get_locale() or Locale.parse(current_app.config["BABEL_DEFAULT_LOCALE"])
    pattern = locale.datetime_formats["medium"]  # "{1}, {0}": date, then time
    text = pattern.format(format_time(value, "short"), format_date(value, "medium"))
    return f"{text} {format_time(value, 'ZZZZ')}" if zone else text


def local_month(value) -> str:
    """A month ("2026-11", or a date in it) in words: листопад 2026, November 2026."""
    if not value:
        return ""
    if isinstance(value, str):
        year, _sep, month = value.partition("-")
        value = date(int(year), int(month), 1)
    return format_date(value, "LLLL y")


def local_number(value, decimals: int | None = None) -> str:
    """A number with the language's separators (1 234,5 / 1.234,5 / 1,234.5); decimals fixes
    the digits after the separator, else up to three are shown."""
    if value is None:
        return ""
    locale = get_locale()
    if type(value) is int and value >= 0 and not decimals and locale is not None:
        # What format_decimal writes for a whole number in uk, en and de (groups of three),
        # without parsing its pattern again: a list page writes a hundred of them.
        return f"{value:,}".replace(",", _group_symbol(str(locale)))
    pattern = "#,##0." + "0" * decimals if decimals else ("#,##0" if decimals == 0 else None)
    return format_decimal(value, format=pattern)


@cache
def _group_symbol(locale: str) -> str:
    """The language's thousands separator (a no-break space in Ukrainian)."""
    return get_group_symbol(locale)


def register_filters(app) -> None:
    """Jinja filters for dates and numbers in the request's language:
    {{ need.created_at | date }}, {{ match.shipped_at | datetime }} (in the reader's zone),
    {{ score | number(2) }}, {{ "2026-11" | month }} (places.labels registers the globals that
    name places)."""
    app.jinja_env.filters.update(
        date=local_date, datetime=local_datetime, number=local_number, month=local_month
    )
