"""Reminders about open needs, hourly (``needs.remind``), each told once:

- reminder_unpledged: an open need with nothing pledged, from 3 days before its needed-by
  date, to its group's members and the coordinators and admins (told once per need and date);
- still_needed: every 7 days after it was posted, to its group's members (told once per need
  and week since it was posted), unless all of it is pledged; on Telegram it carries the
  answers as buttons, in the app it links to the need.

Each run sends each recipient at most one message per kind beyond the inbox
(notify/summary.py): one need as before; several each in the inbox and one summary with their
count (reminders_unpledged, reminders_still_needed). Each selects in the database and tells
through notify.recipients (params as the privacy policy lets each recipient know the need),
all in one outbox.tell_all: a few queries in all.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import joinedload

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.jobs.queue import periodic
from aidmatch.needs.models import Need, NeedStatus
from aidmatch.notify.audience import audience
from aidmatch.notify.models import Notification
from aidmatch.notify.outbox import tell_all
from aidmatch.notify.recipients import each_told, members_of, posting_params, staff
from aidmatch.notify.summary import summed_up
from aidmatch.permissions import is_member, is_staff

UNPLEDGED_BEFORE = timedelta(days=3)
STILL_NEEDED_EVERY = timedelta(days=7)


def _open(today: date):
    """SQL: open as read on this day (not past its needed-by date)."""
    return and_(Need.status == NeedStatus.OPEN, ~Need.stale(today))


def _needs(*conditions) -> list[Need]:
    return list(
        db.session.scalars(
            select(Need)
            .where(*conditions)
            .options(
                joinedload(Need.place), joinedload(Need.category), joinedload(Need.organization)
            )
            .order_by(Need.id)
        ).unique()
    )


def _params(need: Need):
    return lambda user: posting_params(need, user)


def remind_unpledged(now: datetime | None = None) -> int:
    """Tell the group and the coordinators of each open need with nothing pledged that is due
    within 3 days; returns how many notifications were written."""
    now = now or utcnow()
    today = now.date()
    needs = _needs(
        _open(today),
        Need.pledged == 0,
        Need.needed_by.is_not(None),
        Need.needed_by <= today + UNPLEDGED_BEFORE,
    )
    if not needs:
        return 0
    members = members_of(need.organization_id for need in needs)
    coordinators = staff()
    tellings = [
        telling
        for need in needs
        for telling in each_told(
            [*members[need.organization_id], *coordinators],
            "reminder_unpledged",
            _params(need),
            need=need,
            dedupe_key=f"reminder_unpledged:n{need.id}:{need.needed_by.isoformat()}",
        )
    ]
    return len(tell_all(summed_up(tellings, "reminders_unpledged")))


def ask_still_needed(now: datetime | None = None) -> int:
    """Ask the group of each open need posted at least 7 days ago, not all of it pledged and
    not asked in the last 7 days, whether it is still needed; returns how many notifications
    were written."""
    now = now or utcnow()
    week_ago = now - STILL_NEEDED_EVERY
    asked = exists().where(
        Notification.kind == "still_needed",
        Notification.need_id == Need.id,
        Notification.created_at > week_ago,
    )
    needs = _needs(
        _open(now.date()), Need.created_at <= week_ago, Need.pledged < Need.quantity, ~asked
    )
    if not needs:
        return 0
    members = members_of(need.organization_id for need in needs)
    tellings = []
    for need in needs:
        week = (now - need.created_at) // STILL_NEEDED_EVERY
        tellings += each_told(
            members[need.organization_id],
            "still_needed",
            _params(need),
            need=need,
            dedupe_key=f"still_needed:n{need.id}:w{week}",
        )
    return len(tell_all(summed_up(tellings, "reminders_still_needed")))


@periodic("needs.remind", minute="15")
def remind(now: datetime | None = None) -> dict:
    """The hourly reminders about needs (one transaction, each reminder told once)."""
    return {"unpledged": remind_unpledged(now), "still_needed": ask_still_needed(now)}


REMINDER_KINDS = frozenset({"reminder_unpledged", "still_needed"})


@audience
def _still_the_needs_group(note, user) -> bool | None:
    """A reminder about a need (not about one of its matches) leaves only for the need's
    group's members and staff: a member removed since it was told gets nothing."""
    if note.kind not in REMINDER_KINDS or note.need_id is None or note.match_id is not None:
        return None
    need = db.session.get(Need, note.need_id)
    return None if need is None else is_staff(user) or is_member(user, need.organization)
