"""Holds: the one place where a match takes quantity from a need and an offer, and gives it
back.

Every quantity a match holds is added to or released from the need's `pledged` and the offer's
`allocated` counters by one conditional UPDATE each (`... WHERE quantity - pledged >= :q`, row
count checked), never read, checked in Python and written back.

Rows are locked in one order everywhere, so that two transactions never wait for each other in
a circle on PostgreSQL (SQLite serializes writers with BEGIN IMMEDIATE): needs (by id), then
matches (by id), then offers (by id).
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select, update
from sqlalchemy.orm.util import identity_key

from aidmatch.audit.operations import record
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches.models import Match, MatchSource, MatchStatus
from aidmatch.matches.rules import CANCELLABLE, clean_quantity, pending_ttl
from aidmatch.needs.models import Need, NeedStatus
from aidmatch.offers.models import Offer, OfferStatus
from aidmatch.refusals import Conflict
from aidmatch.web.i18n import local_number
from aidmatch.web.labels import NEED_STATUS_LABELS, OFFER_STATUS_LABELS, label_of

# How often allow_partial re-reads what remains when a concurrent claim took it meanwhile.
PARTIAL_ATTEMPTS = 5


def lock_for_update(need_ids=(), offer_ids=()) -> None:
    """Lock needs, then offers, each in id order (PostgreSQL; SQLite's BEGIN IMMEDIATE already
    serializes writers). Batch callers take their locks here first, in the order every verb
    uses, so they cannot deadlock with a concurrent claim or transition."""
    if db.session.get_bind().dialect.name == "sqlite":
        return
    for model, ids in ((Need, need_ids), (Offer, offer_ids)):
        ids = sorted({i for i in ids if i is not None})
        if ids:
            db.session.execute(
                select(model.id).where(model.id.in_(ids)).order_by(model.id).with_for_update()
            ).all()


def lock_for_cancellation(need: Need | None = None, offer: Offer | None = None) -> None:
    """Lock what cancelling a need or withdrawing an offer will change, in the global order
    (the needs its unshipped matches hold, then the offer): call it before changing the need's
    or offer's own row, or a concurrent claim holding one of those needs can deadlock with it."""
    stmt = select(Match.need_id).where(Match.status.in_(CANCELLABLE))
    if need is not None:
        stmt = stmt.where(Match.need_id == need.id)
    if offer is not None:
        stmt = stmt.where(Match.offer_id == offer.id)
    need_ids = set(db.session.scalars(stmt))
    if need is not None:
        need_ids.add(need.id)
    lock_for_update(need_ids=need_ids, offer_ids=[offer.id] if offer is not None else [])


def expire_counters(need_id: int | None = None, offer_id: int | None = None) -> None:
    """Forget loaded counters changed behind the ORM's back, so the next read is fresh."""
    for model, obj_id, fields in (
        (Need, need_id, ["pledged", "delivered", "status", "updated_at"]),
        (Offer, offer_id, ["allocated", "updated_at"]),
    ):
        key = identity_key(model, obj_id) if obj_id else None
        obj = db.session.identity_map.get(key) if key else None
        if obj is not None:
            db.session.expire(obj, fields)


# --- holds --------------------------------------------------------------------------------


def release_hold(match: Match) -> None:
    """Give back what an ending match held: its quantity to the need and to the offer."""
    release_totals({match.need_id: match.quantity}, {match.offer_id: match.quantity})


def release_totals(by_need: dict[int, int], by_offer: dict[int | None, int]) -> None:
    """Lower pledged and allocated by these amounts: needs first, then offers, in id order."""
    now = utcnow()
    for need_id in sorted(by_need):
        db.session.execute(
            update(Need)
            .where(Need.id == need_id)
            .values(pledged=Need.pledged - by_need[need_id], updated_at=now)
            .execution_options(synchronize_session=False)
        )
        expire_counters(need_id=need_id)
    for offer_id in sorted(k for k in by_offer if k is not None):
        db.session.execute(
            update(Offer)
            .where(Offer.id == offer_id)
            .values(allocated=Offer.allocated - by_offer[offer_id], updated_at=now)
            .execution_options(synchronize_session=False)
        )
        expire_counters(offer_id=offer_id)


def _take(need_id: int, offer_id: int | None, quantity: int) -> str | None:
    """Add quantity to the need's pledged and the offer's allocated, each only if it fits;
    return None on success, else "need" or "offer" (and nothing is left taken)."""
    now = utcnow()
    taken = db.session.execute(
        update(Need)
        .where(
            Need.id == need_id,
            Need.status_is(NeedStatus.OPEN),
            Need.quantity - Need.pledged >= quantity,
        )
        .values(pledged=Need.pledged + quantity, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        return "need"
    if offer_id is not None:
        taken = db.session.execute(
            update(Offer)
            .where(
                Offer.id == offer_id,
                Offer.status_is(OfferStatus.OPEN),
                Offer.quantity - Offer.allocated >= quantity,
            )
            .values(allocated=Offer.allocated + quantity, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken != 1:
            # Undo the need's part in the same transaction: a refusal leaves nothing behind.
            db.session.execute(
                update(Need)
                .where(Need.id == need_id)
                .values(pledged=Need.pledged - quantity)
                .execution_options(synchronize_session=False)
            )
            return "offer"
    return None


def _refusal(need_id: int, offer_id: int | None, failed: str) -> Conflict:
    """The 409 for a quantity that no longer fits, saying how much is still open."""
    if failed == "need":
        status, left = db.session.execute(
            select(Need.effective_status, Need.quantity - Need.pledged).where(Need.id == need_id)
        ).one()
        if status != NeedStatus.OPEN:
            message = _(
                "This need is %(status)s: it takes no more pledges.",
                status=label_of(NEED_STATUS_LABELS, status),
            )
        else:
            message = ngettext(
                "Only %(left)s is still open.",
                "Only %(left)s are still open.",
                max(left, 0),
                left=local_number(max(left, 0)),
            )
    else:
        status, left = db.session.execute(
            select(Offer.effective_status, Offer.quantity - Offer.allocated).where(
                Offer.id == offer_id
            )
        ).one()
        if status != OfferStatus.OPEN:
            message = _(
                "This offer is %(status)s: nothing more can come from it.",
                status=label_of(OFFER_STATUS_LABELS, status),
            )
        else:
            message = ngettext(
                "Only %(left)s is left in this offer.",
                "Only %(left)s are left in this offer.",
                max(left, 0),
                left=local_number(max(left, 0)),
            )
    return Conflict(message, field="quantity")


def _remaining(need_id: int, offer_id: int | None) -> int:
    """What the need (and the offer) can still take, as committed now."""
    left = db.session.scalar(
        select(Need.quantity - Need.pledged).where(
            Need.id == need_id, Need.status_is(NeedStatus.OPEN)
        )
    )
    left = left or 0
    if offer_id is not None:
        offer_left = db.session.scalar(
            select(Offer.quantity - Offer.allocated).where(
                Offer.id == offer_id, Offer.status_is(OfferStatus.OPEN)
            )
        )
        left = min(left, offer_left or 0)
    return max(left, 0)


def reserve(
    need: Need,
    offer: Offer | None,
    organization,
    quantity: int,
    *,
    source: MatchSource,
    actor=None,
    run=None,
    distance_km: float | None = None,
    score: float | None = None,
    explanation: dict | None = None,
    donor_accepted: bool = False,
    idempotency_key: str | None = None,
    allow_partial: bool = False,
) -> Match | None:
    """Create a pending match holding quantity of the need (and offer), or refuse with 409.

    The only place a match takes quantity: one conditional UPDATE on the need and one on the
    offer, row counts checked. With allow_partial (engine proposals) the quantity is reduced to
    what remains, and None is returned when nothing does.
    """
    quantity = clean_quantity(quantity)
    offer_id = offer.id if offer is not None else None
    if offer is not None and offer.organization_id != organization.id:
        # A caller's mistake, not a user's: claims check the offer's owner first (403).
        raise ValueError(f"offer {offer.id} does not belong to organization {organization.id}")
    if allow_partial:
        for _attempt in range(PARTIAL_ATTEMPTS):
            fits = min(quantity, _remaining(need.id, offer_id))
            if fits <= 0:
                return None
            if _take(need.id, offer_id, fits) is None:
                quantity = fits
                break
        else:
            return None
    else:
        failed = _take(need.id, offer_id, quantity)
        if failed is not None:
            raise _refusal(need.id, offer_id, failed)
    expire_counters(need.id, offer_id)

    now = utcnow()
    actor_id = getattr(actor, "id", None)
    match = Match(
        need_id=need.id,
        offer_id=offer_id,
        organization_id=organization.id,
        run_id=getattr(run, "id", None),
        quantity=quantity,
        distance_km=distance_km,
        score=score,
        explanation=explanation or {},
        source=source,
        status=MatchStatus.PENDING,
        idempotency_key=idempotency_key,
        created_by_id=actor_id,
        donor_accepted_at=now if donor_accepted else None,
        donor_accepted_by_id=actor_id if donor_accepted else None,
        expires_at=now + pending_ttl(),
    )
    db.session.add(match)
    db.session.flush()
    record(
        actor,
        "match.claim" if source == MatchSource.CLAIM else "match.propose",
        match,
        after={
            "status": match.status,
            "need_id": match.need_id,
            "offer_id": match.offer_id,
            "organization_id": match.organization_id,
            "quantity": match.quantity,
            "source": match.source,
            "donor_accepted": donor_accepted,
            "run_id": match.run_id,
            "idempotency_key": idempotency_key,
            "expires_at": match.expires_at,
        },
    )
    return match
