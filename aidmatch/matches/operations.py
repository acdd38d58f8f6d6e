"""Verbs on matches. Every quantity a match holds is added to or released from the need's
`pledged` and the offer's `allocated` counters by one conditional UPDATE each, in the same
transaction as the match's change and its audit event."""

from __future__ import annotations

from sqlalchemy import select, update

from aidmatch.audit.operations import record
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.needs.models import Need
from aidmatch.offers.models import Offer

# Statuses that a cancellation of the need or offer ends (a shipped match stays: goods on the
# way still arrive).
CANCELLABLE = (MatchStatus.PENDING, MatchStatus.CONFIRMED)


def release_hold(match: Match) -> None:
    """Give back what an ending match held: its quantity to the need and to the offer."""
    db.session.execute(
        update(Need)
        .where(Need.id == match.need_id)
        .values(pledged=Need.pledged - match.quantity)
        .execution_options(synchronize_session=False)
    )
    if match.offer_id is not None:
        db.session.execute(
            update(Offer)
            .where(Offer.id == match.offer_id)
            .values(allocated=Offer.allocated - match.quantity)
            .execution_options(synchronize_session=False)
        )


def cancel_active_matches(
    actor, need: Need | None = None, offer: Offer | None = None, reason: str = ""
) -> int:
    """Cancel the pending and confirmed matches of a need or an offer; return how many."""
    stmt = select(Match).where(Match.status.in_(CANCELLABLE))
    if need is not None:
        stmt = stmt.where(Match.need_id == need.id)
    if offer is not None:
        stmt = stmt.where(Match.offer_id == offer.id)
    matches = list(db.session.scalars(stmt.order_by(Match.id).with_for_update()))
    now = utcnow()
    for match in matches:
        before = {"status": match.status}
        match.status = MatchStatus.CANCELLED
        match.closed_at = now
        match.reason = reason
        release_hold(match)
        record(
            actor,
            "match.cancel",
            match,
            before=before,
            after={"status": match.status, "reason": reason},
        )
    db.session.flush()
    for obj in (need, offer):
        if obj is not None:
            db.session.refresh(obj)
    return len(matches)
