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

from collections import Counter
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import Integer, any_, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm.util import identity_key

from aidmatch.audit.operations import record, record_all
from aidmatch.db import driver_values, insert_unnest, utcnow
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


# --- a run's proposals, a batch at a time -------------------------------------------------


@dataclass(frozen=True)
class Proposed:
    """One engine proposal to store: the pair, its quantity and why (the engine's Proposal)."""

    need_id: int
    offer_id: int
    quantity: int
    distance_km: float | None
    score: float | None
    explanation: dict


def reserve_proposals(
    proposals: list[Proposed], *, actor, run_id: int, not_again: tuple
) -> tuple[int, Counter]:
    """Reserve a batch of engine proposals, best first, as soft holds: what ``reserve`` does
    for one proposal, set-based.

    The batch's needs, then its offers, are locked in id order and read in the same query;
    each proposal is decided in Python under those locks: a pair with a match in
    ``not_again`` (one made meanwhile) is skipped, a need or offer no longer open too, the
    quantity is reduced to what remains (``quantity - pledged - proposed``, offers
    ``quantity - allocated - proposed``: soft holds, like every pending proposal the donor has
    not accepted) and skipped when nothing does. Then one conditional UPDATE per table
    (``... WHERE quantity - pledged - proposed >= q``, row counts checked), one INSERT of the
    matches and one of their audit events, the same as ``reserve`` writes (PostgreSQL: each
    one statement over arrays; SQLite: executemany). Flushes nothing else and never commits. Returns how many were stored and the
    others counted by reason (``pair:already_matched``, ``proposal:closed_meanwhile``,
    ``proposal:reserved_meanwhile``, ``proposal:reduced_meanwhile``).
    """
    skipped: Counter = Counter()
    if not proposals:
        return 0, skipped
    need_ids = sorted({p.need_id for p in proposals})
    offer_ids = sorted({p.offer_id for p in proposals})
    # each table locked (FOR UPDATE, PostgreSQL) and read at once, in the global order
    need_left, offer_left, donor_of = {}, {}, {}
    for need_id, left, is_open in db.session.execute(
        select(
            Need.id, Need.quantity - Need.pledged - Need.proposed, Need.status_is(NeedStatus.OPEN)
        )
        .where(among(Need.id, need_ids))
        .order_by(Need.id)
        .with_for_update()
    ):
        if is_open:
            need_left[need_id] = left
    for offer_id, left, org_id, is_open in db.session.execute(
        select(
            Offer.id,
            Offer.quantity - Offer.allocated - Offer.proposed,
            Offer.organization_id,
            Offer.status_is(OfferStatus.OPEN),
        )
        .where(among(Offer.id, offer_ids))
        .order_by(Offer.id)
        .with_for_update()
    ):
        if is_open:
            offer_left[offer_id], donor_of[offer_id] = left, org_id
    taken = set(
        db.session.execute(
            select(Match.need_id, Match.offer_id).where(
                among(Match.need_id, need_ids), Match.status.in_(not_again)
            )
        ).all()
    )
    chosen: list[tuple[Proposed, int]] = []
    for proposal in proposals:
        pair = (proposal.need_id, proposal.offer_id)
        if pair in taken:
            skipped["pair:already_matched"] += 1
            continue
        if proposal.need_id not in need_left or proposal.offer_id not in offer_left:
            skipped["proposal:closed_meanwhile"] += 1
            continue
        fits = min(proposal.quantity, need_left[proposal.need_id], offer_left[proposal.offer_id])
        if fits <= 0:
            skipped["proposal:reserved_meanwhile"] += 1
            continue
        if fits < proposal.quantity:
            skipped["proposal:reduced_meanwhile"] += 1
        need_left[proposal.need_id] -= fits
        offer_left[proposal.offer_id] -= fits
        taken.add(pair)
        chosen.append((proposal, fits))
    if not chosen:
        return 0, skipped

    now = utcnow()
    connection = db.session.connection()
    by_need: Counter = Counter()
    by_offer: Counter = Counter()
    for proposal, quantity in chosen:
        by_need[proposal.need_id] += quantity
        by_offer[proposal.offer_id] += quantity
    for model, totals, held in ((Need, by_need, "pledged"), (Offer, by_offer, "allocated")):
        reserved = _add_proposed(connection, model.__table__, held, totals, now)
        if reserved != len(totals):  # the locks make this impossible: say so loudly
            raise RuntimeError(f"{model.__tablename__}: {reserved} of {len(totals)} reserved")

    expires_at = now + pending_ttl()
    actor_id = getattr(actor, "id", None)
    rows = [
        {
            "need_id": proposal.need_id,
            "offer_id": proposal.offer_id,
            "organization_id": donor_of[proposal.offer_id],
            "quantity": quantity,
            "distance_km": proposal.distance_km,
            "score": proposal.score,
            "explanation": proposal.explanation or {},
        }
        for proposal, quantity in chosen
    ]
    constants = {
        "run_id": run_id,
        "source": MatchSource.ENGINE,
        "status": MatchStatus.PENDING,
        "idempotency_key": None,
        "created_by_id": actor_id,
        "donor_accepted_at": None,
        "donor_accepted_by_id": None,
        "expires_at": expires_at,
        "extension_used": False,
        "discrepancy": False,
        "created_at": now,
        "updated_at": now,
    }
    id_of = {  # a run stores a pair once: its new matches' ids by pair
        (need_id, offer_id): match_id
        for match_id, need_id, offer_id in _insert_matches(connection, rows, constants)
    }
    ids = [id_of[(row["need_id"], row["offer_id"])] for row in rows]
    expires = expires_at.isoformat()  # as record() writes it (audit.operations._jsonable)
    record_all(
        actor,
        "match.propose",
        Match.__tablename__,
        [
            (
                match_id,
                {
                    "status": "pending",
                    "need_id": row["need_id"],
                    "offer_id": row["offer_id"],
                    "organization_id": row["organization_id"],
                    "quantity": row["quantity"],
                    "source": "engine",
                    "donor_accepted": False,
                    "run_id": run_id,
                    "idempotency_key": None,
                    "expires_at": expires,
                },
            )
            for match_id, row in zip(ids, rows, strict=True)
        ],
    )
    return len(chosen), skipped


def _add_proposed(connection, table, held: str, totals: Counter, now) -> int:
    """Add each row's total to ``proposed`` where it fits (``quantity - <held> - proposed >=
    q``); how many rows took theirs. PostgreSQL: one UPDATE ... FROM unnest of the ids and
    totals (an executemany runs one UPDATE a row there); SQLite: its fastest, an executemany."""
    ids, qs = zip(*sorted(totals.items()), strict=True)
    fits = table.c.quantity - table.c[held] - table.c.proposed
    if connection.dialect.name == "postgresql":
        rows = select(
            func.unnest(bindparam("ids", list(ids), type_=ARRAY(Integer))).label("id"),
            func.unnest(bindparam("qs", list(qs), type_=ARRAY(Integer))).label("q"),
        ).subquery("v")
        return connection.execute(
            update(table)
            .where(table.c.id == rows.c.id, fits >= rows.c.q)
            .values(proposed=table.c.proposed + rows.c.q, updated_at=now)
        ).rowcount
    untyped, values = driver_values(
        table,
        [{"row_id": row_id, "q": q} for row_id, q in zip(ids, qs, strict=True)],
        {"updated_at": now},
        connection,
        extra=("id", "quantity", held, "proposed"),
    )
    fits = untyped.c.quantity - untyped.c[held] - untyped.c.proposed
    return connection.execute(
        update(untyped)
        .where(untyped.c.id == bindparam("row_id"), fits >= bindparam("q"))
        .values(proposed=untyped.c.proposed + bindparam("q")),
        values,  # updated_at too, set from each row's values
    ).rowcount


def _insert_matches(connection, rows: list[dict], constants: dict) -> list:
    """Insert a batch of a run's matches; their (id, need_id, offer_id). PostgreSQL: one
    INSERT ... SELECT FROM unnest RETURNING; SQLite: an executemany, then the ids read back
    (the run's matches above the highest id before: SQLite writers are serialized)."""
    table = Match.__table__
    if connection.dialect.name == "postgresql":
        return insert_unnest(
            table, rows, constants, connection, returning=("id", "need_id", "offer_id")
        )
    before = connection.scalar(select(func.max(table.c.id))) or 0
    untyped, values = driver_values(table, rows, constants, connection)
    connection.execute(insert(untyped), values)
    return connection.execute(
        select(table.c.id, table.c.need_id, table.c.offer_id).where(
            table.c.id > before, table.c.run_id == constants["run_id"]
        )
    ).all()
