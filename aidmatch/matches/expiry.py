"""Ending matches in bulk: cancellation with their need or offer, expiry of pending matches
past their time, and the overdue flag on confirmed ones not shipped in time; each ended match
tells whom the lifecycle table's row (cancel, expire) names (notices.py).

Storing the expiry is the job of the periodic task `matches.expire` (below),
`flask matches expire` and a claim that meets lapsed matches only: until then a lapsed
pending match reads as expired (Match.status_at), and no read writes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, select, update

from aidmatch.audit.models import AuditEvent
from aidmatch.audit.operations import record
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.jobs.queue import periodic
from aidmatch.matches import lifecycle, notices
from aidmatch.matches.holds import holds_softly, lock_for_update, lock_matches, release_totals
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.matches.rules import CANCELLABLE
from aidmatch.needs.models import Need
from aidmatch.offers.models import Offer


def end_matches(
    matches: list[Match], to: MatchStatus, actor, action: str, reason: str, now, where=()
) -> list[Match]:
    """End several matches (already locked or lockable), releasing holds needs-first; return
    those that this call ended (others were moved meanwhile)."""
    if not matches:
        return []
    # needs, then matches (read afresh: what each holds, soft or hard, cannot change now)
    lock_for_update(need_ids=[m.need_id for m in matches])
    ended: list[tuple[Match, dict, bool]] = []
    for match in lock_matches([m.id for m in matches]):
        before = {"status": match.status}
        soft = holds_softly(match)
        changed = db.session.execute(
            update(Match)
            .where(Match.id == match.id, Match.status.in_(CANCELLABLE), *where)
            .values(status=to, closed_at=now, reason=reason, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed == 1:
            ended.append((match, before, soft))
    for soft in (False, True):
        by_need: dict[int, int] = {}
        by_offer: dict[int | None, int] = {}
        for match, _before, held_softly in ended:
            if held_softly == soft:
                by_need[match.need_id] = by_need.get(match.need_id, 0) + match.quantity
                by_offer[match.offer_id] = by_offer.get(match.offer_id, 0) + match.quantity
        release_totals(by_need, by_offer, soft=soft)
    for match, before, _soft in ended:
        db.session.refresh(match)
        record(
            actor, action, match, before=before, after={"status": match.status, "reason": reason}
        )
    return [m for m, _b, _s in ended]


def cancel_active_matches(
    actor, need: Need | None = None, offer: Offer | None = None, reason: str = "", said: str = ""
) -> int:
    """Cancel the pending and confirmed matches of a need or an offer; return how many.
    reason: what is stored; said: what the actor typed (told to the other side)."""
    stmt = select(Match).where(Match.status.in_(CANCELLABLE))
    if need is not None:
        stmt = stmt.where(Match.need_id == need.id)
    if offer is not None:
        stmt = stmt.where(Match.offer_id == offer.id)
    matches = list(db.session.scalars(stmt.order_by(Match.id)))
    ended = end_matches(matches, MatchStatus.CANCELLED, actor, "match.cancel", reason, utcnow())
    notices.tell_moves(ended, "cancel", actor, reason=said)
    db.session.flush()
    for obj in (need, offer):
        if obj is not None:
            db.session.refresh(obj)
    return len(ended)


def _flag_overdue(overdue, now: datetime) -> int:
    """Write one "match.overdue" audit event for each of these confirmed matches not yet
    flagged since it last changed (an extension, say); return how many were flagged."""
    flagged_since_change = exists().where(
        AuditEvent.object_type == Match.__tablename__,
        AuditEvent.object_id == Match.id,
        AuditEvent.action == "match.overdue",
        AuditEvent.created_at >= Match.updated_at,
    )
    fresh = list(db.session.scalars(overdue.where(~flagged_since_change).order_by(Match.id)))
    for match in fresh:
        record(
            None,
            "match.overdue",
            match,
            before={"status": match.status},
            after={"status": match.status, "expires_at": match.expires_at, "seen_at": now},
        )
    return len(fresh)


@periodic("matches.expire", minute="*/10")
def expire_matches(now: datetime | None = None, ids: list[int] | None = None) -> dict:
    """Expire pending matches past their time (releasing holds; the other sides are told) and
    flag confirmed ones not shipped in time for coordinators; return {"expired": n, "overdue":
    m, "flagged": k}. Every 10 minutes (``matches.expire``), and `flask matches expire`."""
    now = now or utcnow()
    if ids is not None and not ids:
        return {"expired": 0, "overdue": 0, "flagged": 0}

    def due(name: str):
        stmt = select(Match).where(lifecycle.condition(name, now))
        return stmt.where(Match.id.in_(ids)) if ids is not None else stmt

    lapsed = list(db.session.scalars(due("expire").order_by(Match.id)))
    expired = end_matches(
        lapsed,
        MatchStatus.EXPIRED,
        None,
        "match.expire",
        "not agreed in time",
        now,
        where=(lifecycle.condition("expire", now),),
    )
    notices.tell_moves(expired, "expire", None)
    overdue = due("release")
    flagged = _flag_overdue(overdue, now)
    count = db.session.scalar(select(func.count()).select_from(overdue.subquery()))
    return {"expired": len(expired), "overdue": count, "flagged": flagged}
