"""A report's period: two dates from the request (?from=&to=, ISO), checked, with the current
quarter as the default."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l

from aidmatch.db import utcnow
from aidmatch.refusals import Invalid
from aidmatch.web.charts import month_range

MAX_DAYS = 366  # a year (a leap year's too)
EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True)
class Period:
    """From the first day to the last, both included (dates in UTC)."""

    start: date
    end: date

    @property
    def since(self) -> datetime:
        """The first moment of the period (UTC)."""
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def until(self) -> datetime:
        """The first moment after the period (UTC)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    def months(self) -> list[str]:
        """Every month the period touches, "YYYY-MM", oldest first."""
        return month_range(self.start.isoformat(), self.end.isoformat())

    def args(self) -> dict[str, str]:
        """The query arguments that name this period."""
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def current_quarter(today: date | None = None) -> Period:
    """From the first day of today's quarter (or of the given day's) to that day."""
    today = today or utcnow().date()
    first_month = 3 * ((today.month - 1) // 3) + 1
    return Period(date(today.year, first_month, 1), today)


def _day(text: str | None, field: str) -> date | None:
    if text is None or not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(
            _l("Write the date as YYYY-MM-DD, for example 2026-01-31."), field=field
        ) from None
    if day < EARLIEST:
        raise Invalid(_l("The date is too long ago."), field=field)
    return day


def parse_period(args) -> Period:
    """The period that ?from= and ?to= name (either may be left out: the end defaults to
    today, or a year after the start if that is earlier; the start to the first day of the
    end's quarter); refused (Invalid, naming the field) when a date is not one, the start is
    after the end, the end is in the future, or the period is longer than a year."""
    start = _day(args.get("from"), "from")
    end = _day(args.get("to"), "to")
    today = utcnow().date()
    if end is None:
        end = today if start is None else min(today, start + timedelta(days=MAX_DAYS - 1))
    if start is None:
        start = current_quarter(end).start
    if end > today:
        raise Invalid(_l("The period cannot end after today."), field="to")
    if start > end:
        raise Invalid(_l("The period's start is after its end."), field="from")
    if (end - start).days + 1 > MAX_DAYS:
        raise Invalid(_l("A report covers at most one year: choose a shorter period."), field="to")
    return Period(start, end)
