"""Verbs on matches: claim, the both-consents review, shipping, delivery, and the rest of the
lifecycle (DESIGN.md). They take objects and the acting user, flush and audit, never commit.

Every status change is one conditional UPDATE on the match (`WHERE id = :id AND status = :old`,
row count checked: a request that lost a race gets 409), in the same transaction as the release
of what it held (holds.py) and its audit event. This module is the API of the whole package:
it re-exports the rules (rules.py), the holds (holds.py) and the bulk endings (expiry.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, literal, or_, select, update
from sqlalchemy.exc import IntegrityError

from aidmatch.audit.operations import record
from aidmatch.db import UTCDateTime, utcnow
from aidmatch.extensions import db
from aidmatch.i18n import local_number
from aidmatch.matches.expiry import (
    cancel_active_matches,
    expire_matches,
    expire_stale_match,
)
from aidmatch.matches.holds import (
    expire_counters,
    lock_for_cancellation,
    lock_for_update,
    release_hold,
    reserve,
)
from aidmatch.matches.models import Match, MatchSource, MatchStatus
from aidmatch.matches.rules import (
    CANCELLABLE,
    REVEALED,
    STATUS_LABELS,
    TERMINAL,
    can_act_as_donor,
    can_claim,
    can_confirm_delivery,
    can_review,
    can_view_match,
    clean_quantity,
    clean_text,
    confirmed_ttl,
    deny,
    extension,
    is_confirmed_party,
    is_lapsed,
    is_overdue,
    pending_ttl,
    status_label,
    visible_matches,
)
from aidmatch.needs.models import Need, NeedStatus
from aidmatch.offers.models import Offer
from aidmatch.operations_errors import DomainError
from aidmatch.permissions import is_member
from aidmatch.postings.validate import clean_idempotency_key

__all__ = [
    "CANCELLABLE",
    "REVEALED",
    "STATUS_LABELS",
    "TERMINAL",
    "ClaimResult",
    "accept",
    "approve",
    "can_act_as_donor",
    "can_claim",
    "can_confirm_delivery",
    "can_review",
    "can_view_match",
    "cancel_active_matches",
    "claim",
    "claim_need",
    "confirm_delivery",
    "confirmed_ttl",
    "decline",
    "expire_matches",
    "expire_stale_match",
    "extension",
    "find_claim",
    "is_confirmed_party",
    "is_overdue",
    "lock_for_cancellation",
    "lock_for_update",
    "pending_ttl",
    "reject",
    "release",
    "release_hold",
    "request_extension",
    "reserve",
    "ship",
    "visible_matches",
    "withdraw",
]

TRACKING_MAX = 200
AUDITED = (
    "status",
    "quantity",
    "donor_accepted_at",
    "coordinator_approved_at",
    "confirmed_at",
    "expires_at",
)


def _snapshot(match: Match, fields: tuple[str, ...] = AUDITED) -> dict:
    return {field: getattr(match, field) for field in fields}


# --- claims ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimResult:
    """A claim's match, and whether this call created it (False: a repeated Idempotency-Key)."""

    match: Match
    created: bool


def find_claim(organization, idempotency_key: str | None) -> Match | None:
    """The match an organization already made with this Idempotency-Key, if any."""
    if not idempotency_key or organization is None:
        return None
    return db.session.scalar(
        select(Match).where(
            Match.organization_id == organization.id, Match.idempotency_key == idempotency_key
        )
    )


def _replay(existing: Match, need: Need, offer: Offer | None, quantity: int) -> ClaimResult:
    """Answer a repeated Idempotency-Key with the match it made, if it asked for the same."""
    same = (
        existing.need_id == need.id
        and existing.offer_id == (offer.id if offer is not None else None)
        and existing.quantity == quantity
    )
    if not same:
        raise DomainError(
            _("This Idempotency-Key was already used for a different claim."),
            field="idempotency_key",
            status=409,
        )
    return ClaimResult(existing, created=False)


def _check_claimable(need: Need, actor, offer: Offer | None) -> None:
    """Who may claim which need, from which offer: 403 for the wrong party, 422 for a misfit."""
    from aidmatch.categories.operations import ancestor_ids

    deny(can_claim(actor), _("Only members of a donor or supply collective claim needs."))
    org = actor.organization
    # Needs of unverified groups are shown to coordinators only, and sensitive ones to
    # verified organizations only (DESIGN.md): what a donor may not see, it may not claim.
    deny(need.organization.verified, _("This group is not verified yet: its needs wait."))
    deny(
        not need.sensitive or org.verified,
        _("Only verified organizations may claim a sensitive need."),
    )
    if offer is not None:
        deny(is_member(actor, offer.organization), _("You may only claim from your own offers."))
        if offer.category_id != need.category_id and offer.category_id not in ancestor_ids(
            need.category_id
        ):
            raise DomainError(_("This offer's category does not fit the need."), "offer_id")
        if offer.category.unit != need.category.unit:
            raise DomainError(_("This offer is counted in another unit."), "offer_id")


def claim(
    need: Need, actor, quantity, offer: Offer | None = None, idempotency_key=None
) -> ClaimResult:
    """A donor claims part or all of a need's open quantity (optionally from its offer).

    The match is pending with the donor's consent; with an Idempotency-Key, a repeated claim
    returns the match the first one made, also when both arrive at once.
    """
    _check_claimable(need, actor, offer)
    quantity = clean_quantity(quantity)
    key = clean_idempotency_key(idempotency_key)
    org = actor.organization
    existing = find_claim(org, key)
    if existing is not None:
        return _replay(existing, need, offer, quantity)

    distance = None
    if offer is not None:
        from aidmatch.geo import haversine_km

        distance = round(haversine_km(offer.lat, offer.lon, need.lat, need.lon), 1)
    try:
        # A savepoint: if an identical keyed claim wins meanwhile, only this attempt is undone.
        with db.session.begin_nested():
            match = reserve(
                need,
                offer,
                org,
                quantity,
                source=MatchSource.CLAIM,
                actor=actor,
                distance_km=distance,
                donor_accepted=True,
                idempotency_key=key,
            )
    except (IntegrityError, DomainError):
        existing = find_claim(org, key)
        if existing is None:
            raise
        expire_counters(need.id, offer.id if offer is not None else None)
        return _replay(existing, need, offer, quantity)
    return ClaimResult(match, created=True)


def claim_need(
    need: Need, actor, quantity, offer: Offer | None = None, idempotency_key=None
) -> Match:
    """A donor claims a need (see claim); return the match."""
    return claim(need, actor, quantity, offer=offer, idempotency_key=idempotency_key).match


# --- transitions ----------------------------------------------------------------------------

WRONG_STATE = {
    "accept": _l("Only a pending match can be accepted; this one is %(status)s."),
    "decline": _l("Only a pending match can be declined; this one is %(status)s."),
    "approve": _l("Only a pending match can be approved; this one is %(status)s."),
    "reject": _l("Only a pending match can be rejected; this one is %(status)s."),
    "withdraw": _l("Only a confirmed match can be withdrawn; this one is %(status)s."),
    "ship": _l("Only a confirmed match can be marked shipped; this one is %(status)s."),
    "confirm_delivery": _l("Only a shipped match can be confirmed as received; it is %(status)s."),
    "release": _l("Only a confirmed match can be released; this one is %(status)s."),
    "extend": _l("Only a pending or confirmed match can get more time; this one is %(status)s."),
}


def _state_error(match: Match, verb: str, target: MatchStatus | None = None) -> DomainError:
    """409 for a match in the wrong state (or one that a concurrent request moved first)."""
    if match.status in TERMINAL or match.status == target:
        message = _("This match is already %(status)s.", status=status_label(match.status))
    else:
        message = str(WRONG_STATE[verb]) % {"status": status_label(match.status)}
    return DomainError(message, status=409, code="conflict")


def _check_not_lapsed(match: Match, now: datetime) -> None:
    if is_lapsed(match, now):
        raise DomainError(_("This match has expired."), status=409, code="conflict")


def _transition(
    match: Match,
    actor,
    verb: str,
    *,
    allowed: tuple[MatchStatus, ...],
    to,
    values: dict | None = None,
    where=(),
    target: MatchStatus | None = None,
    audit: dict | None = None,
    conflict=None,
) -> None:
    """Move the match from one of `allowed` to `to` with one conditional UPDATE (409 if another
    request moved it first); release its hold when `to` ends it; audit the change."""
    now = utcnow()
    before = _snapshot(match)
    releases = isinstance(to, MatchStatus) and to in TERMINAL and to != MatchStatus.DELIVERED
    if releases:
        lock_for_update(need_ids=[match.need_id])  # needs before matches: see the module doc
    values = dict(values or {})
    if releases:
        values.setdefault("closed_at", now)
    changed = db.session.execute(
        update(Match)
        .where(Match.id == match.id, Match.status.in_(allowed), *where)
        .values(status=to, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(match)
    if changed != 1:
        raise (conflict and conflict(match)) or _state_error(match, verb, target)
    if releases:
        release_hold(match)
    after = _snapshot(match)
    after.update(audit or {})
    record(actor, f"match.{verb}", match, before=before, after=after)


def _consent(match: Match, actor, verb: str, own_at, own_by, other_at) -> Match:
    """Record one side's consent; with the other already given, the match becomes confirmed.

    One statement decides it from the row as it is when written, so an acceptance and an
    approval arriving at once confirm the match whichever lands second.
    """
    now = utcnow()
    _check_not_lapsed(match, now)
    when = literal(now, UTCDateTime())
    both = other_at.is_not(None)
    _transition(
        match,
        actor,
        verb,
        allowed=(MatchStatus.PENDING,),
        to=case((both, MatchStatus.CONFIRMED.value), else_=MatchStatus.PENDING.value),
        values={
            own_at.key: now,
            own_by.key: actor.id,
            "confirmed_at": case((both, when), else_=None),
            "expires_at": case(
                (both, literal(now + confirmed_ttl(), UTCDateTime())), else_=Match.expires_at
            ),
        },
        where=(own_at.is_(None), or_(Match.expires_at.is_(None), Match.expires_at > now)),
        target=MatchStatus.CONFIRMED,
        conflict=lambda m: _consent_conflict(m, own_at.key, now),
    )
    return match


def _consent_conflict(match: Match, own_at: str, now: datetime) -> DomainError | None:
    """Why a consent did not land, when the match is still pending."""
    if match.status != MatchStatus.PENDING:
        return None
    if getattr(match, own_at) is not None:
        return _already_consented_error()
    if is_lapsed(match, now):
        return DomainError(_("This match has expired."), status=409, code="conflict")
    return None


def _already_consented_error() -> DomainError:
    return DomainError(_("This was already agreed to."), status=409, code="conflict")


def _already_consented(match: Match, at) -> None:
    if match.status == MatchStatus.PENDING and at is not None:
        raise _already_consented_error()


def accept(match: Match, actor) -> Match:
    """The donor agrees to a pending match (confirmed at once if a coordinator approved)."""
    deny(can_act_as_donor(actor, match), _("Only the donor organization may accept."))
    _already_consented(match, match.donor_accepted_at)
    return _consent(
        match,
        actor,
        "accept",
        Match.donor_accepted_at,
        Match.donor_accepted_by_id,
        Match.coordinator_approved_at,
    )


def approve(match: Match, actor) -> Match:
    """A coordinator approves a pending match (confirmed at once if the donor accepted)."""
    deny(can_review(actor, match), _("Only a coordinator of neither side may approve."))
    _already_consented(match, match.coordinator_approved_at)
    return _consent(
        match,
        actor,
        "approve",
        Match.coordinator_approved_at,
        Match.coordinator_approved_by_id,
        Match.donor_accepted_at,
    )


def decline(match: Match, actor, reason: str = "") -> Match:
    """The donor says no to a pending match; its quantity is released."""
    deny(can_act_as_donor(actor, match), _("Only the donor organization may decline."))
    reason = clean_text(reason, "reason", required=False)
    _transition(
        match,
        actor,
        "decline",
        allowed=(MatchStatus.PENDING,),
        to=MatchStatus.DECLINED,
        values={"reason": reason},
        target=MatchStatus.DECLINED,
        audit={"reason": reason},
    )
    return match


def reject(match: Match, actor, reason: str) -> Match:
    """A coordinator turns a pending match down, with a reason both sides read."""
    deny(can_review(actor, match), _("Only a coordinator of neither side may reject."))
    reason = clean_text(reason, "reason", required=True)
    _transition(
        match,
        actor,
        "reject",
        allowed=(MatchStatus.PENDING,),
        to=MatchStatus.REJECTED,
        values={"reason": reason},
        target=MatchStatus.REJECTED,
        audit={"reason": reason},
    )
    return match


def withdraw(match: Match, actor, reason: str) -> Match:
    """The donor withdraws from a confirmed match (reason required); its quantity is released."""
    deny(can_act_as_donor(actor, match), _("Only the donor organization may withdraw."))
    reason = clean_text(reason, "reason", required=True)
    _transition(
        match,
        actor,
        "withdraw",
        allowed=(MatchStatus.CONFIRMED,),
        to=MatchStatus.WITHDRAWN,
        values={"reason": reason},
        target=MatchStatus.WITHDRAWN,
        audit={"reason": reason},
    )
    return match


def ship(match: Match, actor, note: str, tracking: str = "") -> Match:
    """The donor marks a confirmed match shipped, with a note and optional tracking text."""
    deny(can_act_as_donor(actor, match), _("Only the donor organization may ship."))
    note = clean_text(note, "note", required=True)
    tracking = clean_text(tracking, "tracking", required=False, max_len=TRACKING_MAX)
    now = utcnow()
    _transition(
        match,
        actor,
        "ship",
        allowed=(MatchStatus.CONFIRMED,),
        to=MatchStatus.SHIPPED,
        values={"shipped_at": now, "shipped_note": note, "tracking": tracking, "expires_at": None},
        target=MatchStatus.SHIPPED,
        audit={"note": note, "tracking": tracking},
    )
    return match


def confirm_delivery(match: Match, actor, quantity_received, note: str = "") -> Match:
    """The group confirms what arrived: a shortfall is flagged and released from the need;
    the need is fulfilled once its delivered quantity reaches its quantity."""
    deny(
        can_confirm_delivery(actor, match),
        _("Only the group that posted the need may confirm its delivery."),
    )
    received = clean_quantity(quantity_received, "quantity_received", minimum=0)
    if received > match.quantity:
        raise DomainError(
            _("At most %(n)s were sent in this match.", n=local_number(match.quantity)),
            "quantity_received",
        )
    note = clean_text(note, "note", required=False)
    now = utcnow()
    lock_for_update(need_ids=[match.need_id])
    shortfall = match.quantity - received
    _transition(
        match,
        actor,
        "confirm_delivery",
        allowed=(MatchStatus.SHIPPED,),
        to=MatchStatus.DELIVERED,
        values={
            "quantity_received": received,
            "delivery_note": note,
            "delivered_at": now,
            "closed_at": now,
            "discrepancy": shortfall > 0,
        },
        target=MatchStatus.DELIVERED,
        audit={"quantity_received": received, "discrepancy": shortfall > 0, "note": note},
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
    deny(can_review(actor, match), _("Only a coordinator may release a match."))
    reason = clean_text(reason, "reason", required=False) or "not shipped in time"
    now = utcnow()
    if match.status == MatchStatus.CONFIRMED and match.expires_at and not is_overdue(match, now):
        raise DomainError(
            _(
                "This match is not overdue yet: it can be released after %(when)s.",
                when=match.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
            ),
            status=409,
            code="conflict",
        )
    _transition(
        match,
        actor,
        "release",
        allowed=(MatchStatus.CONFIRMED,),
        to=MatchStatus.EXPIRED,
        values={"reason": reason},
        where=(Match.expires_at <= now,),
        target=MatchStatus.EXPIRED,
        audit={"reason": reason},
    )
    return match


def request_extension(match: Match, actor) -> Match:
    """The donor asks for more time, once per match (pending or confirmed)."""
    deny(can_act_as_donor(actor, match), _("Only the donor organization may ask for more time."))
    now = utcnow()
    _check_not_lapsed(match, now)
    if match.extension_used and match.status in CANCELLABLE:
        raise _extension_used_error()
    old = match.expires_at
    new = max(old or now, now) + extension()
    _transition(
        match,
        actor,
        "extend",
        allowed=CANCELLABLE,
        to=Match.status,
        values={"expires_at": new, "extension_used": True},
        where=(
            Match.extension_used.is_(False),
            Match.expires_at.is_(None) if old is None else Match.expires_at == old,
        ),
        audit={"extension_used": True},
        conflict=lambda m: _extension_used_error() if m.status in CANCELLABLE else None,
    )
    return match


def _extension_used_error() -> DomainError:
    return DomainError(
        _("More time was already given once for this match."), status=409, code="conflict"
    )
