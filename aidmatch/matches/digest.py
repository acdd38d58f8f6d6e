"""The coordinators' daily digest (``matches.digest``, 07:00 UTC): one message a day to each
active coordinator and admin, with how many matches wait for their review (what the lifecycle
table lets this user approve now: lifecycle.open_to, the review queue's rule) and how many
organizations wait for verification; nothing to whom both are zero.

A handful of queries whatever the number of coordinators: one count per distinct organization
among them (a coordinator never reviews a match of their own organization)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.jobs.queue import periodic
from aidmatch.matches import lifecycle
from aidmatch.matches.models import Match
from aidmatch.notify.outbox import tell
from aidmatch.notify.recipients import staff
from aidmatch.orgs.models import Organization


def waiting_organizations() -> int:
    """How many organizations wait for verification."""
    return db.session.scalar(
        select(func.count(Organization.id)).where(Organization.verified_at.is_(None))
    )


def queue_digest(now: datetime | None = None) -> int:
    """Tell each coordinator and admin today's counts (once a day: the date is the dedupe
    key); returns how many were told."""
    now = now or utcnow()
    organizations = waiting_organizations()
    counts: dict[int | None, int] = {}
    groups: dict[tuple[int, int], list] = {}
    for user in staff():
        if user.organization_id not in counts:
            counts[user.organization_id] = db.session.scalar(
                select(func.count(Match.id)).where(lifecycle.open_to("approve", user, now))
            )
        waiting = counts[user.organization_id]
        if waiting or organizations:
            groups.setdefault((waiting, organizations), []).append(user)
    told = 0
    for (waiting, orgs), users in groups.items():
        params = {"count": waiting, "organizations": orgs}
        told += len(
            tell(users, "queue_digest", params=params, dedupe_key=f"queue_digest:{now.date()}")
        )
    return told


@periodic("matches.digest", hour="7", minute="0")
def digest(now: datetime | None = None) -> int:
    """The daily digest of the review queue (one transaction)."""
    return queue_digest(now)
