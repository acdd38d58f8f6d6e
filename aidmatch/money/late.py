"""Installments not confirmed received in time (MONEY_LATE_DAYS after their due day): the
daily job ``money.late`` flags each once (late_flagged_at) and tells both sides, the group and
the pledging collective; pages flag it meanwhile by the same predicate (spending.is_late)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.jobs.queue import periodic
from aidmatch.money import notices
from aidmatch.money.models import Installment, MoneyPledge, PledgeStatus
from aidmatch.money.spending import late_days
from aidmatch.privacy import Viewer


def late_installments(now: datetime):
    """SQL: installments of confirmed pledges, not received, due more than the setting ago,
    not flagged yet."""
    return (
        select(Installment)
        .join(MoneyPledge, MoneyPledge.id == Installment.pledge_id)
        .where(
            MoneyPledge.status == PledgeStatus.CONFIRMED,
            Installment.received_at.is_(None),
            Installment.late_flagged_at.is_(None),
            Installment.due_on < (now - late_days()).date(),
        )
        .order_by(Installment.id)
    )


@periodic("money.late", minute="20", hour="6")
def flag_late(now: datetime | None = None) -> int:
    """Flag each late installment once and tell both sides; returns how many were flagged."""
    now = now or utcnow()
    flagged = 0
    for inst in list(db.session.scalars(late_installments(now))):
        if not Viewer.takes_money(inst.pledge.need):
            continue  # the need ended (or its group was withdrawn): no money is owed
        done = db.session.execute(
            update(Installment)
            .where(Installment.id == inst.id, Installment.late_flagged_at.is_(None))
            .values(late_flagged_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not done:
            continue
        pledge = inst.pledge
        notices.tell(
            "money_late",
            pledge,
            [pledge.organization_id, pledge.need.organization_id],
            dedupe_key=f"money_late:i{inst.id}",
        )
        flagged += 1
    return flagged
