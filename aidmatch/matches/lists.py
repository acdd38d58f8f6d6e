"""The lists of matches: the user's own, the review queue's helpers, organizations' track
records. Each runs a fixed number of statements, whatever the number of rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, literal, or_, select, union_all
from sqlalchemy.orm import joinedload

from aidmatch.extensions import db
from aidmatch.labels import unit_label
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.matches.pages import allowed_actions, status_label, time_left
from aidmatch.needs.models import Need
from aidmatch.permissions import is_member

ACTIVE = (MatchStatus.PENDING, MatchStatus.CONFIRMED, MatchStatus.SHIPPED)
# Lapsed: the matches an organization let go without delivering.
LAPSED = (MatchStatus.EXPIRED, MatchStatus.WITHDRAWN)
MINE_LIMIT = 200
RECENT_LIMIT = 20


def row(match: Match, viewer, now: datetime) -> dict:
    """A match as a line of the user's list, with the buttons the viewer may press."""
    return {
        "id": match.id,
        "status": str(match.status),
        "status_label": status_label(match.status),
        "quantity": match.quantity,
        "quantity_received": match.quantity_received,
        "unit": unit_label(match.need.category.unit),
        "need_id": match.need_id,
        "need_title": match.need.title,
        "group": match.need.organization.name,
        "donor": match.organization.name,
        "source": str(match.source),
        "time_left": time_left(match, now),
        "shipped_note": match.shipped_note,
        "tracking": match.tracking,
        "actions": allowed_actions(viewer, match, now),
    }


def my_matches(viewer, now: datetime) -> tuple[dict[str, list[dict]], list[dict]]:
    """The viewer's organization's matches, either side: active ones sorted into what it
    must do (answer, ship, receive) and what it waits for; and the recently closed."""
    org_key = viewer.organization_id or -1
    mine = or_(Match.organization_id == org_key, Match.need.has(Need.organization_id == org_key))
    if expire_lapsed(now, mine):
        db.session.commit()
    options = (
        joinedload(Match.need).joinedload(Need.organization),
        joinedload(Match.need).joinedload(Need.category),
        joinedload(Match.organization),
    )
    active = db.session.scalars(
        select(Match)
        .where(mine, Match.status.in_(ACTIVE))
        .options(*options)
        .order_by(Match.created_at, Match.id)
        .limit(MINE_LIMIT)
    ).all()
    recent = db.session.scalars(
        select(Match)
        .where(mine, Match.status.not_in(ACTIVE))
        .options(*options)
        .order_by(Match.updated_at.desc(), Match.id.desc())
        .limit(RECENT_LIMIT)
    ).all()
    sections: dict[str, list[dict]] = {
        key: [] for key in ("answer", "waiting", "ship", "on_the_way", "receive", "incoming")
    }
    for match in active:
        line = row(match, viewer, now)
        if is_member(viewer, match.organization):
            if match.status == MatchStatus.PENDING and match.donor_accepted_at is None:
                sections["answer"].append(line)
            elif match.status == MatchStatus.PENDING:
                sections["waiting"].append(line)
            elif match.status == MatchStatus.CONFIRMED:
                sections["ship"].append(line)
            else:
                sections["on_the_way"].append(line)
        if is_member(viewer, match.need.organization):
            key = "receive" if match.status == MatchStatus.SHIPPED else "incoming"
            sections[key].append(line)
    return sections, [row(m, viewer, now) for m in recent]


def org_histories(org_ids) -> dict[int, dict[str, int]]:
    """For each organization, how many of its matches (as donor or as the need's group) ended
    in each status: one GROUP BY over both roles, whatever the number of organizations."""
    ids = sorted({i for i in org_ids if i is not None})
    if not ids:
        return {}
    as_donor = select(Match.organization_id.label("org_id"), Match.status.label("status")).where(
        Match.organization_id.in_(ids)
    )
    as_group = (
        select(Need.organization_id.label("org_id"), Match.status.label("status"))
        .join(Need, Need.id == Match.need_id)
        .where(Need.organization_id.in_(ids))
    )
    both = union_all(as_donor, as_group).subquery()
    rows = db.session.execute(
        select(both.c.org_id, both.c.status, func.count(literal(1))).group_by(
            both.c.org_id, both.c.status
        )
    ).all()
    found: dict[int, dict[str, int]] = {i: {} for i in ids}
    for org_id, status, n in rows:
        found[org_id][str(status)] = int(n)
    return {
        org_id: {
            "delivered": counts.get(MatchStatus.DELIVERED.value, 0),
            "lapsed": sum(counts.get(s.value, 0) for s in LAPSED),
            "expired": counts.get(MatchStatus.EXPIRED.value, 0),
            "withdrawn": counts.get(MatchStatus.WITHDRAWN.value, 0),
            "rejected": counts.get(MatchStatus.REJECTED.value, 0),
            "declined": counts.get(MatchStatus.DECLINED.value, 0),
        }
        for org_id, counts in found.items()
    }


def expire_lapsed(now: datetime, *conditions, limit: int = 500) -> bool:
    """Expire-on-read for a list: end the pending matches past their time among those the
    list would show (a bounded batch); True when any was ended (the caller commits).

    Overdue confirmed matches are not flagged here: that writes an audit event per match, and
    `flask matches expire` does it; the review page lists them by their time anyway.
    """
    from aidmatch.matches.operations import expire_matches

    ids = list(
        db.session.scalars(
            select(Match.id)
            .where(Match.status == MatchStatus.PENDING, Match.expires_at <= now, *conditions)
            .order_by(Match.id)
            .limit(limit)
        )
    )
    return bool(ids) and bool(expire_matches(now, ids=ids)["expired"])


def overdue_condition(now: datetime):
    """SQL: a confirmed match past its time to ship (is_overdue, for queries)."""
    return and_(
        Match.status == MatchStatus.CONFIRMED,
        Match.expires_at.is_not(None),
        Match.expires_at <= now,
    )
