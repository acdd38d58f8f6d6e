"""A run's proposals stored a batch at a time, as soft holds: what ``holds.reserve`` does for
one engine proposal, set-based (the semantics are holds.py's; runs/storing.py calls it).

The batch's needs, then its offers, are locked in the global order (needs by id, then
offers by id) and read once; each proposal is decided in Python under those locks; then one
conditional UPDATE per table, row count checked, and one INSERT of the matches and one of their
audit events (PostgreSQL: one statement each over arrays, ``db.insert_unnest``; SQLite:
executemany).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Integer, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from aidmatch.audit.operations import record_all
from aidmatch.db import driver_values, insert_unnest, utcnow
from aidmatch.extensions import db
from aidmatch.matches.holds import among
from aidmatch.matches.models import Match, MatchSource, MatchStatus
from aidmatch.matches.rules import pending_ttl
from aidmatch.needs.models import Need, NeedStatus
from aidmatch.offers.models import Offer, OfferStatus


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
    expires = expires_at.isoformat()  # as record() writes it (audit.operations.jsonable)
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
