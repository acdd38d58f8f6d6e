"""The coordinators' daily digest (``matches.digest``, 07:00 UTC): one message a day to each
active coordinator and admin, with how many matches wait for their review (what the lifecycle
table lets this user approve now: lifecycle.open_to, the review queue's rule), how many of
those expire before the next digest (the reminder of each, 12 hours before, reaches the
coordinators in the inbox only: reminders.py) and how many organizations wait for
verification; nothing to whom both are zero.

A handful of queries whatever the number of coordinators: one count per distinct organization
among them (a coordinator never reviews a match of their own organization)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func, select

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.jobs.queue import periodic
from aidmatch.matches import lifecycle
from aidmatch.matches.models import Match
from aidmatch.notify.outbox import tell
from aidmatch.notify.recipients import staff
from aidmatch.orgs.lifecycle import OrgState
from aidmatch.orgs.models import Organization

# Matches expiring before the next digest are counted: none expires between two unmentioned.
EXPIRING_WITHIN = timedelta(days=1)


def waiting_organizations() -> int:
    """How many organizations wait for verification."""
    return db.session.scalar(
        select(func.count(Organization.id)).where(Organization.state == OrgState.UNVERIFIED)
    )


def queue_digest(now: datetime | None = None) -> int:
    """Tell each coordinator and admin today's counts (once a day: the date is the dedupe
    key); returns how many were told."""
    now = now or utcnow()
    organizations = waiting_organizations()
    soon = Match.expires_at <= now + EXPIRING_WITHIN
    counts: dict[int | None, tuple[int, int]] = {}
    groups: dict[tuple[int, int], list] = {}
    for user in staff():
        if user.organization_id not in counts:
            waiting, expiring = db.session.execute(
                select(
                    func.count(Match.id), func.coalesce(func.sum(case((soon, 1), else_=0)), 0)
                ).where(lifecycle.open_to("approve", user, now))
            ).one()
            counts[user.organization_id] = (waiting, expiring)
        waiting, expiring = counts[user.organization_id]
        if waiting or organizations:
            groups.setdefault((waiting, expiring), []).append(user)
    told = 0
    for (waiting, expiring), users in groups.items():
        params = {"count": waiting, "expiring": expiring, "organizations": organizations}
        told += len(
            tell(users, "queue_digest", params=params, dedupe_key=f"queue_digest:{now.date()}")
        )
    return told


@periodic("matches.digest", hour="7", minute="0")
def digest(now: datetime | None = None) -> int:
    """The daily digest of the review queue (one transaction)."""
    return queue_digest(now)
