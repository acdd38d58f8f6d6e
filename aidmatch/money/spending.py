"""What the money bought: the group's reports (items in words, the amount, a receipt photo
re-encoded without metadata by photos/images.py), and a need's totals per currency: pledged,
received, spent."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, select
from sqlalchemy.orm import undefer

from aidmatch.audit.operations import record
from aidmatch.db import is_id, utcnow
from aidmatch.extensions import db
from aidmatch.money import notices
from aidmatch.money.amounts import clean_currency, clean_minor
from aidmatch.money.models import (
    ITEMS_MAX,
    Installment,
    MoneyPledge,
    PledgeStatus,
    SpendingReport,
)
from aidmatch.permissions import can_act_for_group
from aidmatch.photos.images import reencode
from aidmatch.privacy import Viewer, viewer_for
from aidmatch.refusals import Invalid, NotAllowed, NotFound
from aidmatch.web.text import text_problem

# Pledges that still count as pledged (a rejected one never did; a cancelled one counts what
# its group received, in "received").
ACTIVE = (PledgeStatus.PENDING, PledgeStatus.CONFIRMED)


def late_days() -> timedelta:
    """How long after its due day an installment may wait for the group's confirmation."""
    return timedelta(days=current_app.config.get("MONEY_LATE_DAYS", 7))


def is_late(inst: Installment, today: date | None = None) -> bool:
    """Not confirmed received MONEY_LATE_DAYS after its due day (or flagged so by the job),
    on a confirmed pledge."""
    today = today or utcnow().date()
    return (
        inst.received_at is None
        and inst.pledge.status == PledgeStatus.CONFIRMED
        and (inst.late_flagged_at is not None or inst.due_on + late_days() < today)
        and Viewer.takes_money(inst.pledge.need)  # an ended need is owed nothing more
    )


def received_late(inst: Installment) -> bool:
    """Confirmed after the job had flagged it late."""
    return inst.received_at is not None and inst.late_flagged_at is not None


def report_spending(need, actor, amount_minor, currency, items, spent_on=None, photo=None):
    """The group says what it bought with the money (and shows the receipt, stripped of every
    metadata); each problem is named on its field; the collectives that pledged are told."""
    if not can_act_for_group(actor, need):
        raise NotAllowed(_("Only the need's group reports what its money bought."))
    problems, values = {}, {}
    for name, check in (
        ("amount_minor", lambda: clean_minor(amount_minor)),
        ("currency", lambda: clean_currency(currency)),
    ):
        try:
            values[name] = check()
        except Invalid as refusal:
            problems[name] = refusal.raw_message
    items = items.strip() if isinstance(items, str) else ""
    if not items:
        problems["items"] = _("Say what the money bought.")
    elif len(items) > ITEMS_MAX or text_problem(items):
        problems["items"] = text_problem(items) or _(
            "At most %(max)d characters, please.", max=ITEMS_MAX
        )
    today = utcnow().date()
    spent_on = spent_on or today
    if not isinstance(spent_on, date) or spent_on > today:
        problems["spent_on"] = _("The day of the purchase cannot be in the future.")
    clean = None
    if photo:
        try:
            clean = reencode(photo, "photo")
        except Invalid as refusal:
            problems["photo"] = refusal.raw_message
    if problems:
        raise Invalid(next(iter(problems.values())), fields=problems)
    report = SpendingReport(
        need_id=need.id,
        amount_minor=values["amount_minor"],
        currency=values["currency"],
        items=items,
        spent_on=spent_on,
        created_by_id=actor.id,
    )
    if clean is not None:
        report.photo, report.photo_width, report.photo_height = clean
    db.session.add(report)
    db.session.flush()
    record(actor, "money.spent", report, after={"need_id": need.id, "amount_minor": report.amount_minor,
                                                 "currency": report.currency, "items": items})  # fmt: skip
    told = {p.organization_id: p for p in confirmed_pledges(need.id)}
    for pledge in told.values():
        notices.tell("money_spent", pledge, [pledge.organization_id], actor)
    return report


def confirmed_pledges(need_id: int) -> list[MoneyPledge]:
    """The pledges on a need a coordinator confirmed (cancelled ones that were confirmed too:
    their money may have arrived)."""
    return list(
        db.session.scalars(
            select(MoneyPledge)
            .where(MoneyPledge.need_id == need_id, took_money())
            .order_by(MoneyPledge.id)
        )
    )


def took_money():
    """SQL: a pledge a coordinator confirmed, still running or stopped since (money may have
    arrived on it); not a rejected or undecided one."""
    return and_(MoneyPledge.decided_at.is_not(None), MoneyPledge.status != PledgeStatus.REJECTED)


def spending_of(
    need_ids, before: datetime | None = None, spent_between: tuple[date, date] | None = None
) -> list[SpendingReport]:
    """The spending reports on these needs, oldest first (only those made before `before`, of
    purchases between two days, both included, where given)."""
    stmt = select(SpendingReport).where(SpendingReport.need_id.in_(list(need_ids)))
    if before is not None:
        stmt = stmt.where(SpendingReport.created_at < before)
    if spent_between is not None:
        stmt = stmt.where(SpendingReport.spent_on.between(*spent_between))
    return list(db.session.scalars(stmt.order_by(SpendingReport.spent_on, SpendingReport.id)))


def visible_receipt(user, report_id) -> SpendingReport:
    """A spending report's photo if this user may see it (sees_spending_photo); else NotFound."""
    report = None
    if is_id(report_id):
        report = db.session.scalar(
            select(SpendingReport)
            .where(SpendingReport.id == report_id)
            .options(undefer(SpendingReport.photo))
        )
    if report is None or report.photo is None:
        raise NotFound(_("Not found"))
    pledgers = [p.organization_id for p in confirmed_pledges(report.need_id)]
    if not viewer_for(user).sees_spending_photo(report.need.organization_id, pledgers):
        raise NotFound(_("Not found"))
    return report


def totals(
    need_ids,
    *,
    pledged_by: int | None = None,
    statuses=ACTIVE,
    due_between: tuple[date, date] | None = None,
    received_between: tuple[datetime, datetime] | None = None,
    spent_between: tuple[date, date] | None = None,
    reported_before: datetime | None = None,
) -> dict[int, dict[str, dict[str, int]]]:
    """{need id: {currency: {"pledged", "received", "spent"}}} in minor units: pledged is what
    the pledges in `statuses` (active ones by default) expect in all their months, received
    what the group confirmed, spent what it reported; three GROUP BY queries for any number of
    needs. A report narrows them (each bound optional): the pledges of one collective
    (pledged_by, pledged and received), the months due between two days (both included), the
    money confirmed received between two moments (the second excluded), the purchases made
    between two days and reported before a moment (the publication cutoff)."""
    ids = list(need_ids)
    found: dict[int, dict[str, dict[str, int]]] = {i: {} for i in ids}
    if not ids:
        return found

    def add(rows, key):
        for need_id, currency, amount in rows:
            entry = found[need_id].setdefault(
                str(currency), {"pledged": 0, "received": 0, "spent": 0}
            )
            entry[key] += int(amount or 0)

    base = select(MoneyPledge.need_id, MoneyPledge.currency).join(
        Installment, Installment.pledge_id == MoneyPledge.id
    )
    if pledged_by is not None:
        base = base.where(MoneyPledge.organization_id == pledged_by)
    group = (MoneyPledge.need_id, MoneyPledge.currency)
    pledged = base.where(MoneyPledge.need_id.in_(ids), MoneyPledge.status.in_(statuses))
    if due_between is not None:
        pledged = pledged.where(Installment.due_on.between(*due_between))
    received = base.where(MoneyPledge.need_id.in_(ids), Installment.received_at.is_not(None))
    if received_between is not None:
        since, until = received_between
        received = received.where(Installment.received_at >= since, Installment.received_at < until)
    spent = select(
        SpendingReport.need_id, SpendingReport.currency, func.sum(SpendingReport.amount_minor)
    ).where(SpendingReport.need_id.in_(ids))
    if spent_between is not None:
        spent = spent.where(SpendingReport.spent_on.between(*spent_between))
    if reported_before is not None:
        spent = spent.where(SpendingReport.created_at < reported_before)
    add(db.session.execute(
        pledged.add_columns(func.sum(Installment.amount_expected_minor)).group_by(*group)
    ), "pledged")  # fmt: skip
    add(db.session.execute(
        received.add_columns(func.sum(Installment.amount_received_minor)).group_by(*group)
    ), "received")  # fmt: skip
    add(db.session.execute(
        spent.group_by(SpendingReport.need_id, SpendingReport.currency)
    ), "spent")  # fmt: skip
    return {k: dict(sorted(v.items())) for k, v in found.items()}
