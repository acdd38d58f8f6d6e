"""The verbs of money (DESIGN: MoneyPledge). aidmatch never holds, moves or processes money:
these record a need's cost, a collective's pledge (once or monthly: one installment per month),
a coordinator's decision on it (a confirmed pledge shows the collective the group's payment
details: privacy/policy.sees_payment_details), and the group's confirmation of each amount
received. Each verb flushes and audits; none commits."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update

from aidmatch.audit.operations import record
from aidmatch.db import is_id, utcnow
from aidmatch.extensions import db
from aidmatch.money import notices
from aidmatch.money.amounts import add_months, clean_currency, clean_minor
from aidmatch.money.models import (
    MAX_MONTHS,
    Cadence,
    Installment,
    MoneyPledge,
    NeedCost,
    PledgeStatus,
)
from aidmatch.needs.models import NeedStatus
from aidmatch.permissions import (
    can_act_for_group,
    can_pledge_money,
    can_review_pledge,
    can_stop_pledge,
)
from aidmatch.privacy import viewer_for
from aidmatch.refusals import Conflict, Invalid, NotAllowed, NotFound
from aidmatch.transaction import add_unless_taken

NOTE_MAX = 1000
FIRST_DUE_WITHIN = timedelta(days=366)  # how far ahead a pledge's first month may be


def cost_of(need_id: int) -> NeedCost | None:
    """The need's cost in money, if it has one."""
    return db.session.get(NeedCost, need_id)


def set_cost(need, actor, amount_minor, currency) -> NeedCost:
    """The group prices its need (goods best bought near the front): amount and currency."""
    if not can_act_for_group(actor, need):
        raise NotAllowed(_("Only the need's group may set what it costs."))
    amount, currency = clean_minor(amount_minor), clean_currency(currency)
    cost = cost_of(need.id)
    before = {"amount_minor": cost.amount_minor, "currency": cost.currency} if cost else None
    if cost is None:
        # One row per need: of two first prices sent at once, the second changes the first's.
        add_unless_taken(NeedCost(need_id=need.id, amount_minor=amount, currency=currency))
        cost = db.session.get(NeedCost, need.id, populate_existing=True)
    cost.amount_minor, cost.currency = amount, currency
    db.session.flush()
    record(
        actor,
        "money.cost",
        need,
        before=before,
        after={"amount_minor": amount, "currency": currency},
    )
    return cost


def _months(cadence: Cadence, months) -> int:
    if cadence == Cadence.ONCE:
        return 1
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
        raise Invalid(_("A monthly pledge runs 1 to %(max)d months.", max=MAX_MONTHS), "months")
    return months


def pledge(
    need, actor, amount_minor, currency, cadence="once", months=1, first_due=None, note=""
) -> MoneyPledge:
    """A collective promises an amount to a priced need, once or every month for so many
    months; it waits for a coordinator. Every problem is named on its field."""
    if not can_pledge_money(actor):
        raise NotAllowed(_("Only members of a verified donor collective pledge money."))
    if need.effective_status != NeedStatus.OPEN:  # a need past its date reads as expired
        raise Conflict(_("Money is pledged to open needs only."))
    if not viewer_for(actor).takes_money(need):
        raise Conflict(_("This group is not verified yet: its needs wait."))
    cost = cost_of(need.id)
    if cost is None:
        raise Conflict(_("This need has no cost in money: its group has not priced it."))
    problems = {}
    values = {}
    for name, check in (
        ("amount_minor", lambda: clean_minor(amount_minor)),
        ("currency", lambda: clean_currency(currency)),
        ("cadence", lambda: _cadence(cadence)),
    ):
        try:
            values[name] = check()
        except Invalid as refusal:
            problems[name] = refusal.raw_message
    if "cadence" in values:
        try:
            values["months"] = _months(values["cadence"], months)
        except Invalid as refusal:
            problems["months"] = refusal.raw_message
    today = utcnow().date()
    first_due = first_due or today
    if not isinstance(first_due, date) or first_due < today:
        problems["first_due"] = _("The first payment is due today or later.")
    elif first_due > today + FIRST_DUE_WITHIN:  # a typo (and months past the calendar's end)
        problems["first_due"] = _("The first payment is due within a year.")
    if not isinstance(note, str) or len(note) > NOTE_MAX:
        problems["note"] = _("At most %(max)d characters, please.", max=NOTE_MAX)
    if problems:
        raise Invalid(next(iter(problems.values())), fields=problems)
    item = MoneyPledge(
        need_id=need.id,
        organization_id=actor.organization_id,
        amount_minor=values["amount_minor"],
        currency=values["currency"],
        cadence=values["cadence"],
        months=values["months"],
        first_due=first_due,
        note=note.strip(),
        created_by_id=actor.id,
        status=PledgeStatus.PENDING,
    )
    db.session.add(item)
    db.session.flush()
    for number in range(1, item.months + 1):
        db.session.add(
            Installment(
                pledge_id=item.id,
                number=number,
                due_on=add_months(first_due, number - 1),
                amount_expected_minor=item.amount_minor,
            )
        )
    db.session.flush()
    record(actor, "money.pledge", item, after=_audit(item))
    notices.tell_coordinators(item, actor)
    notices.tell("money_pledged", item, [need.organization_id], actor)
    return item


def _cadence(value) -> Cadence:
    if value not in {c.value for c in Cadence}:
        raise Invalid(_("Pledge once or monthly."), "cadence")
    return Cadence(value)


def decide(item: MoneyPledge, actor, confirm: bool, reason: str = "") -> MoneyPledge:
    """A coordinator confirms a pending pledge (the collective now sees the group's payment
    details) or rejects it with a reason; once only (a conditional UPDATE)."""
    if not can_review_pledge(actor, item):
        raise NotAllowed(_("A coordinator of another organization decides on this pledge."))
    reason = (reason or "").strip()
    if not confirm and not reason:
        raise Invalid(_("Please give a reason."), "reason")
    if confirm and not viewer_for(actor).takes_money(item.need):
        raise Conflict(_("This need has ended or its group is not verified: reject the pledge."))
    status = PledgeStatus.CONFIRMED if confirm else PledgeStatus.REJECTED
    done = db.session.execute(
        update(MoneyPledge)
        .where(MoneyPledge.id == item.id, MoneyPledge.status == PledgeStatus.PENDING)
        .values(status=status, decided_at=utcnow(), decided_by_id=actor.id, decision_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        raise Conflict(_("This pledge was already decided."))
    db.session.refresh(item)
    record(actor, "money.confirm" if confirm else "money.reject", item, after=_audit(item))
    kind = "money_pledge_confirmed" if confirm else "money_pledge_rejected"
    notices.tell(kind, item, [item.organization_id], actor)
    return item


def cancel(item: MoneyPledge, actor, reason: str = "") -> MoneyPledge:
    """The collective stops its pledge (what was received stays received)."""
    if not can_stop_pledge(actor, item):
        raise NotAllowed(_("Only the collective that pledged may stop its pledge."))
    # Once (a conditional UPDATE, as decide): of several stops at once, or a stop beside a
    # coordinator's decision, one wins and the others see the pledge as it then is.
    done = db.session.execute(
        update(MoneyPledge)
        .where(
            MoneyPledge.id == item.id,
            MoneyPledge.status.in_([PledgeStatus.PENDING, PledgeStatus.CONFIRMED]),
        )
        .values(status=PledgeStatus.CANCELLED, decision_reason=(reason or "").strip()[:NOTE_MAX])
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        raise Conflict(_("This pledge has ended already."))
    db.session.refresh(item)
    record(actor, "money.cancel", item, after=_audit(item))
    notices.tell("money_pledge_cancelled", item, [item.need.organization_id], actor)
    return item


def takes_receipts(item: MoneyPledge) -> bool:
    """The group may confirm money received on this pledge: a coordinator confirmed it (a
    stopped one too: it may have sent money before it stopped)."""
    return item.decided_at is not None and item.status in (
        PledgeStatus.CONFIRMED,
        PledgeStatus.CANCELLED,
    )


def confirm_received(inst: Installment, actor, amount_minor, received_on=None) -> Installment:
    """The group confirms the amount that arrived for one installment (it may differ from the
    expected one), once; a late one stays marked as flagged."""
    item = inst.pledge
    if not can_act_for_group(actor, item.need):
        raise NotAllowed(_("Only the need's group confirms money it received."))
    if not takes_receipts(item):
        raise Conflict(_("Money is confirmed on a pledge a coordinator confirmed."))
    amount = clean_minor(amount_minor)
    today = utcnow().date()
    received_on = received_on or today
    if not isinstance(received_on, date) or received_on > today:
        raise Invalid(_("The day it arrived cannot be in the future."), "received_on")
    done = db.session.execute(
        update(Installment)
        .where(Installment.id == inst.id, Installment.received_at.is_(None))
        .values(
            amount_received_minor=amount,
            received_on=received_on,
            received_at=utcnow(),
            confirmed_by_id=actor.id,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        raise Conflict(_("This month's money was already confirmed."))
    db.session.refresh(inst)
    record(
        actor,
        "money.received",
        inst,
        after={"pledge_id": item.id, "number": inst.number, "amount_minor": amount},
    )
    notices.tell("money_received", item, [item.organization_id], actor)
    return inst


def get_pledge(user, pledge_id) -> MoneyPledge:
    """A pledge this user may see (privacy/policy.sees_pledge); NotFound otherwise."""
    item = db.session.get(MoneyPledge, pledge_id) if is_id(pledge_id) else None
    if item is None or not viewer_for(user).sees_pledge(item):
        raise NotFound(_("Not found"))
    return item


def get_installment(user, installment_id) -> Installment:
    """An installment of a pledge this user may see; NotFound otherwise."""
    inst = db.session.get(Installment, installment_id) if is_id(installment_id) else None
    if inst is None or not viewer_for(user).sees_pledge(inst.pledge):
        raise NotFound(_("Not found"))
    return inst


def pledges_of(need_id: int) -> list[MoneyPledge]:
    """The need's pledges, oldest first."""
    return list(
        db.session.scalars(
            select(MoneyPledge).where(MoneyPledge.need_id == need_id).order_by(MoneyPledge.id)
        )
    )


def _audit(item: MoneyPledge) -> dict:
    return {
        "need_id": item.need_id,
        "organization_id": item.organization_id,
        "amount_minor": item.amount_minor,
        "currency": item.currency,
        "cadence": item.cadence,
        "months": item.months,
        "first_due": item.first_due,
        "status": item.status,
        "reason": item.decision_reason,
    }
