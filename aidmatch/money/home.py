"""What money puts on a home page (web/home.attention_provider): a coordinator's money
pledges waiting for a decision, and for a group and a collective the months of pledged
money not confirmed received in time (the predicate of spending.is_late, as SQL)."""

from __future__ import annotations

from flask import url_for
from flask_babel import ngettext
from sqlalchemy import func, or_, select

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.money.models import Installment, MoneyPledge, PledgeStatus
from aidmatch.money.spending import late_days
from aidmatch.needs.models import Need
from aidmatch.permissions import is_staff
from aidmatch.web.home import AttentionItem, attention_provider


def _first(stmt, count_of, order):
    """(how many, the need of the oldest) of a statement over pledges."""
    count = db.session.scalar(stmt.with_only_columns(func.count(count_of)))
    if not count:
        return 0, None
    return count, db.session.scalar(
        stmt.with_only_columns(MoneyPledge.need_id).order_by(order).limit(1)
    )


@attention_provider
def _pledges_to_review(user):
    """A coordinator: the money pledges no coordinator has decided yet, but those it may not
    decide (permissions.can_review_pledge: its own organization's, on either side)."""
    if not is_staff(user):
        return
    stmt = select(MoneyPledge).where(MoneyPledge.status == PledgeStatus.PENDING)
    if user.organization_id is not None:
        own = user.organization_id
        stmt = stmt.join(Need, Need.id == MoneyPledge.need_id).where(
            MoneyPledge.organization_id != own, Need.organization_id != own
        )
    count, need_id = _first(stmt, MoneyPledge.id, MoneyPledge.id)
    if count:
        yield AttentionItem(
            ngettext(
                "%(num)d money pledge waits for a coordinator",
                "%(num)d money pledges wait for a coordinator",
                count,
            ),
            url_for("money.need_page", need_id=need_id),
            "warn",
        )


@attention_provider
def _late_money(user):
    """A group or a collective: months of pledged money not confirmed received in time."""
    org_id = getattr(user, "organization_id", None)
    if org_id is None:
        return
    stmt = (
        select(MoneyPledge)
        .join(Installment, Installment.pledge_id == MoneyPledge.id)
        .join(Need, Need.id == MoneyPledge.need_id)
        .where(
            MoneyPledge.status == PledgeStatus.CONFIRMED,
            Installment.received_at.is_(None),
            or_(
                Installment.due_on < (utcnow() - late_days()).date(),
                Installment.late_flagged_at.is_not(None),
            ),
            or_(MoneyPledge.organization_id == org_id, Need.organization_id == org_id),
        )
    )
    count, need_id = _first(stmt, Installment.id, Installment.due_on)
    if count:
        yield AttentionItem(
            ngettext(
                "%(num)d month of pledged money is not confirmed received in time",
                "%(num)d months of pledged money are not confirmed received in time",
                count,
            ),
            url_for("money.need_page", need_id=need_id),
            "urgent",
        )
