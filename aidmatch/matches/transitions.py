"""The verbs that move a match through its lifecycle: accept, approve, decline, reject,
withdraw, extend, ship, confirm delivery, release. Who may, from which state and with what
message is the lifecycle table (lifecycle.py); these verbs only do the moving.

Every status change is one conditional UPDATE on the match (`WHERE id = :id AND status = :old`
plus the row's extra condition, row count checked: a request that lost a race gets a
Conflict), in the same transaction as the release of what it held (holds.py), its audit event
and the notifications the table's row names (notices.py). Flush and audit, never commit.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, literal, select, update

from aidmatch.audit.models import AuditEvent
from aidmatch.audit.operations import record
from aidmatch.db import UTCDateTime, utcnow
from aidmatch.extensions import db
from aidmatch.matches import lifecycle, notices
from aidmatch.matches.holds import (
    harden,
    holds_softly,
    lock_for_update,
    lock_matches,
    release_hold,
)
from aidmatch.matches.models import TERMINAL, Match, MatchStatus
from aidmatch.matches.rules import (
    REMAINED,
    clean_quantity,
    clean_text,
    extended_until,
    ship_by,
)
from aidmatch.needs.models import Need, NeedStatus
from aidmatch.postings.validate import clean_idempotency_key
from aidmatch.refusals import Conflict, Invalid
from aidmatch.web.i18n import local_number

TRACKING_MAX = 200
AUDITED = (
    "status",
    "quantity",
    "quantity_asked",
    "quantity_note",
    "donor_accepted_at",
    "coordinator_approved_at",
    "confirmed_at",
    "expires_at",
)


def _snapshot(match: Match, fields: tuple[str, ...] = AUDITED) -> dict:
    return {field: getattr(match, field) for field in fields}


def _transition(
    match: Match,
    actor,
    name: str,
    now: datetime,
    *,
    to=None,
    values: dict | None = None,
    where=(),
    audit: dict | None = None,
    reason: str = "",
    lowered_by: int = 0,
) -> None:
    """Move the match as the table's row `name` says, with one conditional UPDATE (the row's
    statuses and extra condition: a Conflict if another request moved it first); release its
    hold when the move ends it (or `lowered_by` of it, an approval for less), from the counter
    it held from before the move; audit the change; tell whom the row names (with the reason
    the actor typed)."""
    row = lifecycle.action(name)
    to = row.to if to is None else to
    releases = isinstance(to, MatchStatus) and to in TERMINAL and to != MatchStatus.DELIVERED
    soft = False
    if releases or lowered_by:
        # needs, then matches (see holds.py): what it holds cannot change until we are done
        lock_for_update(need_ids=[match.need_id])
        lock_matches([match.id])
        soft = holds_softly(match)
    before = _snapshot(match)
    values = dict(values or {})
    if releases:
        values.setdefault("closed_at", now)
    changed = db.session.execute(
        update(Match)
        .where(Match.id == match.id, lifecycle.condition(name, now), *where)
        .values(status=Match.status if to is None else to, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(match)
    if changed != 1:
        raise lifecycle.state_refusal(row, match, now) or Conflict(
            _("This changed meanwhile. Reload the page and try again."), code="conflict"
        )
    if releases:
        release_hold(match, soft, quantity=before["quantity"])
    elif lowered_by:
        release_hold(match, soft, quantity=lowered_by)
    after = _snapshot(match)
    after.update(audit or {})
    record(actor, f"match.{name}", match, before=before, after=after)
    asked = before["quantity"] if after["quantity"] != before["quantity"] else None
    notices.tell_move(match, name, actor, reason=reason, asked=asked)


def _consent(
    match: Match,
    actor,
    name: str,
    own_by,
    other_at,
    now: datetime,
    *,
    values: dict | None = None,
    where=(),
    reason: str = "",
    lowered_by: int = 0,
) -> Match:
    """Record one side's consent; with the other already given, the match becomes confirmed.

    One statement decides it from the row as it is when written, so an acceptance and an
    approval arriving at once confirm the match whichever lands second.
    """
    own_at = lifecycle.action(name).unset
    when = literal(now, UTCDateTime())
    both = other_at.is_not(None)
    _transition(
        match,
        actor,
        name,
        now,
        to=case((both, MatchStatus.CONFIRMED.value), else_=MatchStatus.PENDING.value),
        values={
            own_at: now,
            own_by.key: actor.id,
            "confirmed_at": case((both, when), else_=None),
            "expires_at": case(
                (both, literal(ship_by(match.need, now), UTCDateTime())), else_=Match.expires_at
            ),
            **(values or {}),
        },
        where=where,
        reason=reason,
        lowered_by=lowered_by,
    )
    return match


def _answered_quantity(match: Match, quantity) -> int:
    """The quantity an answer agrees to: all of the match's (None), or 1 up to it."""
    if quantity is None or quantity == "":
        return match.quantity
    quantity = clean_quantity(quantity)
    if quantity > match.quantity:
        raise Invalid(
            _("At most %(n)s: the quantity of this match.", n=local_number(match.quantity)),
            "quantity",
        )
    return quantity


def _lowered(match: Match, quantity: int, note) -> dict:
    """The values that lower a match to `quantity`, keeping what was first asked."""
    return {
        "quantity": quantity,
        "quantity_asked": func.coalesce(Match.quantity_asked, match.quantity),
        "quantity_note": note,
    }


def accept(match: Match, actor, quantity=None) -> Match:
    """The donor agrees to a pending match, for all of it or less (confirmed at once if a
    coordinator approved). Its soft hold becomes a hard one (holds.harden): if others pledged
    part of the need or offer meanwhile, the donor gets what remains (the match says so in
    quantity_note: rules.REMAINED); if nothing remains, a Conflict and nothing changes."""
    now = utcnow()
    # The table refuses it too while either organization is suspended or rejected (the row's
    # out_of_play), and its condition says so again in the UPDATE.
    lifecycle.check("accept", actor, match, now)
    wanted = _answered_quantity(match, quantity)
    with db.session.begin_nested():  # a refusal below leaves nothing behind
        lock_for_update(need_ids=[match.need_id])  # needs, then matches, then offers
        lock_matches([match.id])
        lifecycle.check("accept", actor, match, now)
        wanted = min(wanted, match.quantity)
        proposed = match.quantity
        got = harden(match, wanted)
        values = {}
        if got < proposed:
            note = REMAINED if got < wanted else Match.quantity_note
            values = _lowered(match, got, note)
        _consent(
            match,
            actor,
            "accept",
            Match.donor_accepted_by_id,
            Match.coordinator_approved_at,
            now,
            values=values,
        )
    return match


def approve(match: Match, actor, quantity=None, reason: str = "") -> Match:
    """A coordinator approves a pending match (confirmed at once if the donor accepted), for
    all of it or less: then a reason is required (both sides read it: quantity_note), and the
    difference is released at once from the counter the match holds it in."""
    now = utcnow()
    lifecycle.check("approve", actor, match, now)
    approved = _answered_quantity(match, quantity)
    less = approved < match.quantity
    reason = clean_text(reason, "reason", required=less)
    values = _lowered(match, approved, reason) if less else {}
    _consent(
        match,
        actor,
        "approve",
        Match.coordinator_approved_by_id,
        Match.donor_accepted_at,
        now,
        values=values,
        # the quantity it lowers must still be the one read (a donor may have lowered it)
        where=(Match.quantity == match.quantity,) if less else (),
        reason=reason if less else "",
        lowered_by=match.quantity - approved,
    )
    return match


def _end(match: Match, actor, name: str, reason) -> Match:
    """Decline, reject or withdraw: the table's checks, the reason it asks for, the move."""
    now = utcnow()
    row = lifecycle.check(name, actor, match, now)
    reason = clean_text(reason, "reason", required=row.reason == "required")
    _transition(
        match,
        actor,
        name,
        now,
        values={"reason": reason},
        audit={"reason": reason},
        reason=reason,
    )
    return match


def decline(match: Match, actor, reason: str = "") -> Match:
    """The donor says no to a pending match; its quantity is released."""
    return _end(match, actor, "decline", reason)


def reject(match: Match, actor, reason: str) -> Match:
    """A coordinator turns a pending match down, with a reason both sides read."""
    return _end(match, actor, "reject", reason)


def withdraw(match: Match, actor, reason: str) -> Match:
    """The donor withdraws from a confirmed match (reason required); its quantity is released."""
    return _end(match, actor, "withdraw", reason)


def ship(match: Match, actor, note: str, tracking: str = "") -> Match:
    """The donor marks a confirmed match shipped, with a note and optional tracking text."""
    now = utcnow()
    lifecycle.check("ship", actor, match, now)
    note = clean_text(note, "note", required=True)
    tracking = clean_text(tracking, "tracking", required=False, max_len=TRACKING_MAX)
    _transition(
        match,
        actor,
        "ship",
        now,
        values={"shipped_at": now, "shipped_note": note, "tracking": tracking, "expires_at": None},
        audit={"note": note, "tracking": tracking},
    )
    return match


# What a higher package checks before a delivery is confirmed (legs: a shipment through hubs
# is confirmed by the hand-off into the group), registered on import: (match, received) ->
# None, or raises a refusal.
DELIVERY_CHECKS: list = []


def delivery_check(func):
    """Register a check that confirm_delivery runs before it changes anything."""
    DELIVERY_CHECKS.append(func)
    return func


def sending_of(key: str) -> str:
    """What the audit entry of a receipt keeps of the form's one-time token (a digest)."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def receipt_arrived(match: Match, key: str | None) -> bool:
    """Whether this match's receipt was confirmed by a sending of the form with this one-time
    token (a repeat: a phone sending again what it kept offline, a double click)."""
    if not key or match.status != MatchStatus.DELIVERED:
        return False
    after = db.session.execute(
        select(AuditEvent.after)
        .where(
            AuditEvent.object_type == Match.__tablename__,
            AuditEvent.object_id == match.id,
            AuditEvent.action == "match.confirm_delivery",
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).scalar()
    return bool(after) and after.get("sending") == sending_of(key)


def confirm_delivery(
    match: Match,
    actor,
    quantity_received,
    note: str = "",
    *,
    via: str = "confirm_delivery",
    key: str | None = None,
) -> Match:
    """The group confirms what arrived: a shortfall is flagged and released from the need;
    the need is fulfilled once its delivered quantity reaches its quantity. ``via``: the
    table's row that gives the authority (confirm_by_receipt: the signer of a receipt link).
    Sent again with the same one-time token (key), it changes nothing and answers as the
    first time did."""
    key = clean_idempotency_key(key)
    if receipt_arrived(match, key):
        return match
    now = utcnow()
    lifecycle.check(via, actor, match, now)
    received = clean_quantity(quantity_received, "quantity_received", minimum=0)
    if received > match.quantity:
        raise Invalid(
            _("At most %(n)s were sent in this match.", n=local_number(match.quantity)),
            "quantity_received",
        )
    for check_delivery in DELIVERY_CHECKS:
        check_delivery(match, received)
    note = clean_text(note, "note", required=False)
    lock_for_update(need_ids=[match.need_id])
    shortfall = match.quantity - received
    _transition(
        match,
        actor,
        via,
        now,
        values={
            "quantity_received": received,
            "delivery_note": note,
            "delivered_at": now,
            "closed_at": now,
            "discrepancy": shortfall > 0,
        },
        audit={
            "quantity_received": received,
            "discrepancy": shortfall > 0,
            "note": note,
            **({"sending": sending_of(key)} if key else {}),
        },
    )
    need = match.need
    db.session.refresh(need)
    before = {"status": need.status, "pledged": need.pledged, "delivered": need.delivered}
    # The shortfall goes back to the need (not to the offer: it left the donor's stock).
    db.session.execute(
        update(Need)
        .where(Need.id == match.need_id)
        .values(
            pledged=Need.pledged - shortfall,
            delivered=Need.delivered + received,
            status=case(
                (
                    and_(
                        Need.status == NeedStatus.OPEN,
                        Need.delivered + received >= Need.quantity,
                    ),
                    NeedStatus.FULFILLED.value,
                ),
                else_=Need.status,
            ),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(need)
    if need.status == NeedStatus.FULFILLED and before["status"] != NeedStatus.FULFILLED:
        record(actor, "need.fulfil", need, before=before, after={"status": need.status})
    return match


def release(match: Match, actor, reason: str = "") -> Match:
    """A coordinator releases a confirmed match not shipped in time: it expires, freeing its hold."""
    now = utcnow()
    lifecycle.check("release", actor, match, now)
    typed = clean_text(reason, "reason", required=False)
    stored = typed or "not shipped in time"
    _transition(
        match,
        actor,
        "release",
        now,
        values={"reason": stored},
        audit={"reason": stored},
        reason=typed,
    )
    return match


def request_extension(match: Match, actor) -> Match:
    """The donor asks for more time, once per match (pending or confirmed)."""
    now = utcnow()
    lifecycle.check("extend", actor, match, now)
    old = match.expires_at
    new = extended_until(match, now)  # never past the need's needed-by date
    _transition(
        match,
        actor,
        "extend",
        now,
        values={"expires_at": new, "extension_used": True},
        where=(Match.expires_at.is_(None) if old is None else Match.expires_at == old,),
        audit={"extension_used": True},
    )
    return match
