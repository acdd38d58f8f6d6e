"""Reminders about matches, each told once (a dedupe key naming the match and its deadline, so
a match given more time is reminded again before its new one), hourly (``matches.remind``):

- a pending match 12 hours before it expires, to whoever still has to say yes: the side of
  each consent the table's CONSENTS names while that consent is missing (the donor's accept,
  the coordinators' approve; reminder_pending). The coordinators' copies go to the inbox only
  (IN_THE_DIGEST): their daily digest counts what expires before the next one (digest.py);
- a confirmed match not shipped at three quarters of its time (from its confirmation to its
  deadline), to the donor (reminder_ship).

Each run sends each recipient at most one message per kind beyond the inbox
(notify/summary.py): one match as before, with its buttons; several each in the inbox and one
summary with their count (reminders_pending, reminders_ship). Both select in the database
with the lifecycle table's SQL (lifecycle.condition) and tell through notices.tellings_of: a
few queries in all, whatever the number of matches.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.jobs.queue import periodic
from aidmatch.matches import lifecycle
from aidmatch.matches.lifecycle import Tell
from aidmatch.matches.models import Match
from aidmatch.matches.notices import tellings_of
from aidmatch.matches.rules import confirmed_ttl, extension
from aidmatch.notify.outbox import tell_all
from aidmatch.notify.summary import summed_up

PENDING_REMINDER_BEFORE = timedelta(hours=12)
SHIP_REMINDER_AT = 0.75  # of the time from confirmation to the deadline
# Sides whose reminders go to the inbox only: the coordinators' daily digest counts them.
IN_THE_DIGEST = frozenset({"reviewer"})


def _stamp(when: datetime) -> int:
    return int(when.timestamp())


def remind_pending(now: datetime | None = None) -> int:
    """Remind whoever still has to agree to a pending match that expires within 12 hours;
    returns how many notifications were written."""
    now = now or utcnow()
    tellings = []
    for name in lifecycle.CONSENTS:
        row = lifecycle.action(name)
        due = list(
            db.session.scalars(
                select(Match)
                .where(
                    lifecycle.condition(name, now),
                    Match.expires_at <= now + PENDING_REMINDER_BEFORE,
                )
                .order_by(Match.id)
            )
        )
        told = tellings_of(
            due,
            [Tell(row.side, "reminder_pending")],
            key=lambda m: f"reminder_pending:m{m.id}:{_stamp(m.expires_at)}",
        )
        quiet = row.side in IN_THE_DIGEST
        tellings += [replace(t, quiet=True) for t in told] if quiet else told
    return len(tell_all(summed_up(tellings, "reminders_pending")))


def ship_reminder_due(match: Match, now: datetime) -> bool:
    """Three quarters of the time from the match's confirmation to its deadline have passed."""
    total = match.expires_at - match.confirmed_at
    return now >= match.confirmed_at + total * SHIP_REMINDER_AT


def remind_ship(now: datetime | None = None) -> int:
    """Remind the donor of a confirmed match not shipped at three quarters of its time;
    returns how many notifications were written."""
    now = now or utcnow()
    # The longest a confirmed match may wait is its time plus the one extension: no match
    # further from its deadline than a quarter of that is due (the SQL narrows, Python decides).
    horizon = (confirmed_ttl() + extension()) * (1 - SHIP_REMINDER_AT)
    candidates = db.session.scalars(
        select(Match)
        .where(
            lifecycle.condition("ship", now),
            Match.confirmed_at.is_not(None),
            Match.expires_at.is_not(None),
            Match.expires_at <= now + horizon,
        )
        .order_by(Match.id)
    )
    due = [match for match in candidates if ship_reminder_due(match, now)]
    tellings = tellings_of(
        due,
        [Tell(lifecycle.action("ship").side, "reminder_ship")],
        key=lambda m: f"reminder_ship:m{m.id}:{_stamp(m.expires_at)}",
    )
    return len(tell_all(summed_up(tellings, "reminders_ship")))


@periodic("matches.remind", minute="5")
def remind(now: datetime | None = None) -> dict:
    """The hourly reminders about matches (one transaction, each reminder told once)."""
    return {"pending": remind_pending(now), "ship": remind_ship(now)}
