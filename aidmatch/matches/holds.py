"""Holds: the one place where a match takes quantity from a need and an offer, and gives it
back.

**Two kinds of hold.** A match holds its quantity either *softly* or *hard*:

- *Soft*: a pending match whose donor has not accepted (an engine proposal, a group's
  request). It counts in the need's and the offer's ``proposed``. Soft holds are taken with
  ``WHERE quantity - pledged - proposed >= :q`` (offers: ``quantity - allocated - proposed``),
  so a later run (runs/loading.py sees ``quantity - pledged - proposed``) and a later request
  never propose what pending proposals already cover.
- *Hard*: every other holding match: pending with the donor's consent (a claim, an accepted
  proposal or request), confirmed, shipped; a delivered match keeps what was received on the
  need (``delivered``) and its whole quantity on the offer. It counts in ``pledged`` (needs)
  and ``allocated`` (offers). Hard holds are taken with ``WHERE quantity - pledged >= :q``
  (offers: ``quantity - allocated >= :q``): soft holds do not stop them, so a need with
  pending proposals stays claimable by anyone, and pledged + proposed may exceed the quantity.

So, for every need: pledged = the quantity of its hard-holding matches + what its delivered
matches received, and proposed = the quantity of its soft-holding matches; for every offer:
allocated = the quantity of its hard-holding and delivered matches, and proposed = that of its
soft-holding ones (tests/match_helpers.invariant_violations checks it).

**Moves.** ``reserve`` takes softly unless the donor consents at once (``donor_accepted``: a
claim). ``harden`` is the donor's acceptance: it gives the soft hold back and takes the
accepted quantity hard by the same conditional UPDATE a claim uses, or what remains of it.
Every release (decline, reject, expire, cancel, withdraw, release, a posting that ends, an
approval for less) gives back from the counter the match held from, decided by the match as
it was *before* the move (``holds_softly``: pending without donor_accepted_at); the caller
locks the need and then the match row first (``lock_matches``), so that state cannot change
between the decision and the UPDATE. A run's proposals: batch_holds.py, the same semantics.

Every change to a counter is one conditional UPDATE, row count checked, never read, checked in
Python and written back. Rows are locked in one order everywhere, so that two transactions never wait for each other in
a circle on PostgreSQL (SQLite serializes writers with BEGIN IMMEDIATE): needs (by id), then
matches (by id), then offers (by id).
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import Integer, any_, bindparam, select, update
from sqlalchemy.dialects.postgresql import ARRAY
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

AUDIT_ACTIONS = {
    MatchSource.CLAIM: "match.claim",
    MatchSource.ENGINE: "match.propose",
    MatchSource.REQUEST: "match.request",
}
# How often allow_partial re-reads what remains when a concurrent claim took it meanwhile.
PARTIAL_ATTEMPTS = 5


def among(column, ids: list[int]):
    """``column IN ids`` for a batch's many ids: on PostgreSQL ``= ANY`` of one array
    parameter, which the driver and the server parse once rather than one parameter an id."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
    return column.in_(ids)


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


def lock_matches(ids) -> list[Match]:
    """Lock these matches (after their needs: see the module docstring) and read them afresh,
    in id order: what they hold cannot change until the transaction ends."""
    ids = sorted({i for i in ids if i is not None})
    if not ids:
        return []
    stmt = select(Match).where(Match.id.in_(ids)).order_by(Match.id)
    if db.session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    return list(db.session.scalars(stmt.execution_options(populate_existing=True)))


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
        (Need, need_id, ["pledged", "proposed", "delivered", "status", "updated_at"]),
        (Offer, offer_id, ["allocated", "proposed", "updated_at"]),
    ):
        key = identity_key(model, obj_id) if obj_id else None
        obj = db.session.identity_map.get(key) if key else None
        if obj is not None:
            db.session.expire(obj, fields)


# --- holds --------------------------------------------------------------------------------


def holds_softly(match: Match) -> bool:
    """Whether this match holds its quantity softly (in ``proposed``) rather than hard: pending
    without the donor's acceptance. Ask it of the match as it is *before* a move, locked."""
    return MatchStatus(match.status) == MatchStatus.PENDING and match.donor_accepted_at is None


def _held(model, soft: bool):
    """The counter a hold of this kind adds to: proposed (soft), pledged or allocated (hard)."""
    if soft:
        return model.proposed
    return model.pledged if model is Need else model.allocated


def _left(model, soft: bool):
    """SQL: what a hold of this kind may still take (soft: beyond the soft holds too)."""
    left = model.quantity - (model.pledged if model is Need else model.allocated)
    return left - model.proposed if soft else left


def release_hold(match: Match, soft: bool, quantity: int | None = None) -> None:
    """Give back what a match held (or `quantity` of it) to its need and offer, from the counter
    it held from (soft: proposed; hard: pledged and allocated)."""
    amount = match.quantity if quantity is None else quantity
    release_totals({match.need_id: amount}, {match.offer_id: amount}, soft=soft)


def release_totals(
    by_need: dict[int, int], by_offer: dict[int | None, int], soft: bool = False
) -> None:
    """Lower pledged and allocated (soft: proposed) by these amounts: needs first, then offers,
    in id order."""
    now = utcnow()
    for model, amounts in ((Need, by_need), (Offer, by_offer)):
        column = _held(model, soft)
        for obj_id in sorted(k for k in amounts if k is not None):
            if not amounts[obj_id]:
                continue
            db.session.execute(
                update(model)
                .where(model.id == obj_id)
                .values({column.key: column - amounts[obj_id], "updated_at": now})
                .execution_options(synchronize_session=False)
            )
            if model is Need:
                expire_counters(need_id=obj_id)
            else:
                expire_counters(offer_id=obj_id)


def _take(need_id: int, offer_id: int | None, quantity: int, soft: bool = False) -> str | None:
    """Add quantity to the need's and the offer's counter (hard: pledged and allocated; soft:
    proposed), each only if it fits; return None on success, else "need" or "offer" (and
    nothing is left taken)."""
    now = utcnow()
    need_held = _held(Need, soft)
    taken = db.session.execute(
        update(Need)
        .where(
            Need.id == need_id,
            Need.status_is(NeedStatus.OPEN),
            _left(Need, soft) >= quantity,
        )
        .values({need_held.key: need_held + quantity, "updated_at": now})
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        return "need"
    if offer_id is not None:
        offer_held = _held(Offer, soft)
        taken = db.session.execute(
            update(Offer)
            .where(
                Offer.id == offer_id,
                Offer.status_is(OfferStatus.OPEN),
                _left(Offer, soft) >= quantity,
            )
            .values({offer_held.key: offer_held + quantity, "updated_at": now})
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken != 1:
            # Undo the need's part in the same transaction: a refusal leaves nothing behind.
            db.session.execute(
                update(Need)
                .where(Need.id == need_id)
                .values({need_held.key: need_held - quantity})
                .execution_options(synchronize_session=False)
            )
            return "offer"
    return None


def _refusal(need_id: int, offer_id: int | None, failed: str, soft: bool = False) -> Conflict:
    """The 409 for a quantity that no longer fits, saying how much is still open."""
    if failed == "need":
        status, left = db.session.execute(
            select(Need.effective_status, _left(Need, soft)).where(Need.id == need_id)
        ).one()
        if status != NeedStatus.OPEN:
            message = _(
                "This need is %(status)s: it takes no more pledges.",
                status=label_of(NEED_STATUS_LABELS, status),
            )
        elif soft:
            message = ngettext(
                "Only %(left)s is still open (neither pledged nor proposed to a donor).",
                "Only %(left)s are still open (neither pledged nor proposed to a donor).",
                max(left, 0),
                left=local_number(max(left, 0)),
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
            select(Offer.effective_status, _left(Offer, soft)).where(Offer.id == offer_id)
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


def remaining(need_id: int, offer_id: int | None, soft: bool = False) -> int:
    """What the need (and the offer) can still give a hold of this kind, as committed now
    (soft: beyond pledged and proposed; hard: beyond pledged and allocated)."""
    left = db.session.scalar(
        select(_left(Need, soft)).where(Need.id == need_id, Need.status_is(NeedStatus.OPEN))
    )
    left = left or 0
    if offer_id is not None:
        offer_left = db.session.scalar(
            select(_left(Offer, soft)).where(
                Offer.id == offer_id, Offer.status_is(OfferStatus.OPEN)
            )
        )
        left = min(left, offer_left or 0)
    return max(left, 0)


def _take_up_to(need_id: int, offer_id: int | None, quantity: int, soft: bool) -> int:
    """Take as much of quantity as fits (re-reading what remains when a concurrent claim took
    part of it meanwhile); how much was taken (0: nothing was)."""
    for _attempt in range(PARTIAL_ATTEMPTS):
        fits = min(quantity, remaining(need_id, offer_id, soft))
        if fits <= 0:
            return 0
        if _take(need_id, offer_id, fits, soft) is None:
            return fits
    return 0


def harden(match: Match, quantity: int) -> int:
    """The donor accepts: give back the soft hold of the match's whole quantity and take
    `quantity` hard (the claim's conditional UPDATE), or what remains of it when others
    pledged part of the need or offer meanwhile. Returns how much was taken; a Conflict when
    nothing remains (the caller runs it in a savepoint, so then nothing changed). The caller
    has locked the need and the match (pending, not accepted: a soft hold)."""
    release_hold(match, soft=True)
    taken = _take_up_to(match.need_id, match.offer_id, quantity, soft=False)
    expire_counters(match.need_id, match.offer_id)
    if taken:
        return taken
    need_open, offer_open = db.session.execute(
        select(
            Need.status_is(NeedStatus.OPEN),
            select(Offer.status_is(OfferStatus.OPEN))
            .where(Offer.id == match.offer_id)
            .scalar_subquery(),
        ).where(Need.id == match.need_id)
    ).one()
    if not need_open:
        raise _refusal(match.need_id, match.offer_id, "need")
    if match.offer_id is not None and not offer_open:
        raise _refusal(match.need_id, match.offer_id, "offer")
    raise Conflict(
        _("Others pledged all of it meanwhile: nothing is left to accept."), field="quantity"
    )


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
    offer, row counts checked; hard with the donor's consent (a claim), soft otherwise (an
    engine proposal, a group's request: see the module docstring). With allow_partial (engine
    proposals) the quantity is reduced to what remains, and None is returned when nothing does.
    """
    quantity = clean_quantity(quantity)
    offer_id = offer.id if offer is not None else None
    if offer is not None and offer.organization_id != organization.id:
        # A caller's mistake, not a user's: claims check the offer's owner first (403).
        raise ValueError(f"offer {offer.id} does not belong to organization {organization.id}")
    soft = not donor_accepted
    if allow_partial:
        quantity = _take_up_to(need.id, offer_id, quantity, soft)
        if not quantity:
            return None
    else:
        failed = _take(need.id, offer_id, quantity, soft)
        if failed is not None:
            raise _refusal(need.id, offer_id, failed, soft)
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
        AUDIT_ACTIONS[MatchSource(source)],
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
