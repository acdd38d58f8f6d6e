"""Where periods fall: pure date arithmetic (no database; a series is anything with
every, starts_on, ends_on, paused_at and stopped_at). A series' periods are anchored on
its start date: week k starts k weeks after it; month k on the same day k months later (the
month's last day when it is shorter: from 31 January, 28 or 29 February, then 31 March)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta


def _add_months(anchor: date, months: int) -> date:
    total = anchor.month - 1 + months
    year, month = anchor.year + total // 12, total % 12 + 1
    return date(year, month, min(anchor.day, calendar.monthrange(year, month)[1]))


def period_start(anchor: date, every: str, index: int) -> date:
    """The first day of the period numbered index (0: the first)."""
    if every == "week":
        return anchor + timedelta(weeks=index)
    return _add_months(anchor, index)


def period_index(anchor: date, every: str, day: date) -> int:
    """The number of the period that day falls in (-1 before the first)."""
    if day < anchor:
        return -1
    if every == "week":
        return (day - anchor).days // 7
    index = (day.year - anchor.year) * 12 + day.month - anchor.month
    while index > 0 and period_start(anchor, every, index) > day:
        index -= 1
    return index


def period_bounds(anchor: date, every: str, day: date) -> tuple[date, date] | None:
    """The [start, end) of the period that day falls in (None before the first)."""
    index = period_index(anchor, every, day)
    if index < 0:
        return None
    return period_start(anchor, every, index), period_start(anchor, every, index + 1)


def next_start(anchor: date, every: str, day: date) -> date:
    """The first period start after day."""
    return period_start(anchor, every, period_index(anchor, every, day) + 1)


def runs_on(rec, day: date) -> bool:
    """Whether the series makes something available on that day (started, not ended, not
    stopped or paused)."""
    return (
        rec.stopped_at is None
        and rec.paused_at is None
        and rec.starts_on <= day
        and (rec.ends_on is None or day <= rec.ends_on)
    )


def next_due(rec, today: date) -> date | None:
    """When the next period opens (None: stopped, paused or past its end)."""
    if rec.stopped_at is not None or rec.paused_at is not None:
        return None
    due = rec.starts_on if today < rec.starts_on else next_start(rec.starts_on, rec.every, today)
    if rec.ends_on is not None and due > rec.ends_on:
        return None
    return due


def last_day(rec, start: date) -> date:
    """The last day the offer of the period starting on `start` is available."""
    bounds = period_bounds(rec.starts_on, rec.every, start)
    end = date.fromordinal(bounds[1].toordinal() - 1)
    return min(end, rec.ends_on) if rec.ends_on is not None else end
