"""Legs not confirmed in time (LEG_CONFIRM_HOURS after their hand-over): the hourly job
``legs.overdue`` tells the coordinators of each once (a dedupe key naming the leg), with the
category, the quantity and the need's settlement; the match page flags the leg meanwhile
(operations.is_late)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.jobs.queue import periodic
from aidmatch.legs.models import Leg, LegStatus
from aidmatch.legs.operations import confirm_hours
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.notify.outbox import tell_all
from aidmatch.notify.recipients import each_told, posting_params, staff


def late_legs(now: datetime):
    """SQL: the legs on the way since before LEG_CONFIRM_HOURS ago, of shipped matches."""
    return (
        select(Leg)
        .join(Match, Match.id == Leg.match_id)
        .where(
            Leg.status == LegStatus.ON_THE_WAY,
            Leg.handed_over_at <= now - confirm_hours(),
            Match.status == MatchStatus.SHIPPED,
        )
    )


@periodic("legs.overdue", minute="35")
def tell_overdue(now: datetime | None = None) -> int:
    """Tell the coordinators of each leg not confirmed in time, once; returns how many
    notifications were written."""
    now = now or utcnow()
    legs = list(
        db.session.scalars(
            late_legs(now).options(joinedload(Leg.match).joinedload(Match.need)).order_by(Leg.id)
        )
    )
    if not legs:
        return 0
    coordinators = staff()
    tellings = []
    for leg in legs:
        need = leg.match.need
        tellings += each_told(
            coordinators,
            "leg_overdue",
            lambda user, leg=leg, need=need: posting_params(need, user, quantity=leg.quantity_sent),
            match=leg.match,
            need=need,
            dedupe_key=f"leg_overdue:l{leg.id}",
        )
    return len(tell_all(tellings))
