"""The lists of matches: the user's own, the review queue's helpers, organizations' track
records. Each runs a fixed number of statements, whatever the number of rows."""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import Select, func, literal, or_, select, union_all
from sqlalchemy.orm import joinedload

from aidmatch.cache import remember
from aidmatch.db import UTCDateTime, utcnow
from aidmatch.extensions import db
from aidmatch.matches import lifecycle
from aidmatch.matches.models import IN_PROGRESS, Match, MatchStatus
from aidmatch.matches.pages import allowed_actions, status_label, time_left
from aidmatch.matches.rules import party_condition
from aidmatch.needs.models import Need
from aidmatch.web.api import paginate
from aidmatch.web.labels import unit_label

# Lapsed: the matches an organization let go without delivering.
LAPSED = (MatchStatus.EXPIRED, MatchStatus.WITHDRAWN)
# What time alone changes: a pending match lapses, a confirmed one's time to ship runs out.
TIMED = (MatchStatus.PENDING, MatchStatus.CONFIRMED)
PER_PAGE = 50  # matches in progress on one page of /matches
MAX_PAGE = 100_000
RECENT_LIMIT = 20


def row(match: Match, viewer, now: datetime) -> dict:
    """A match as a line of the user's list, with the buttons the viewer may press."""
    status = match.status_at(now)
    return {
        "id": match.id,
        "status": str(status),
        "status_label": status_label(status),
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


def my_matches(
    viewer, now: datetime, page: int = 1, per_page: int = PER_PAGE
) -> tuple[dict[str, list[dict]], list[dict], dict]:
    """The viewer's organization's matches, either side: one page of those in progress,
    oldest first, sorted into what it must do (answer, ship, receive) and what it waits for;
    the recently closed; and the page's envelope (page, pages, per_page, total). A page past
    the last gives the last one."""
    mine = party_condition(viewer.organization_id)
    in_progress = Match.status_in(IN_PROGRESS, now)
    options = (
        joinedload(Match.need).joinedload(Need.organization),
        joinedload(Match.need).joinedload(Need.category),
        joinedload(Match.organization),
    )
    active_query = (
        select(Match)
        .where(mine, in_progress)
        .options(*options)
        .order_by(Match.created_at, Match.id)
    )
    envelope = paginate(active_query, page, per_page)
    pages = max(1, math.ceil(envelope["total"] / per_page))
    if page > pages:
        envelope = paginate(active_query, pages, per_page)
    envelope["pages"] = pages
    active = envelope.pop("items")
    recent = db.session.scalars(
        select(Match)
        .where(mine, ~in_progress)
        .options(*options)
        .order_by(Match.updated_at.desc(), Match.id.desc())
        .limit(RECENT_LIMIT)
    ).all()
    sections: dict[str, list[dict]] = {
        key: [] for key in ("answer", "waiting", "ship", "on_the_way", "receive", "incoming")
    }
    for match in active:
        line = row(match, viewer, now)
        on = lifecycle.sides_of(viewer, match)
        if "donor" in on:
            if lifecycle.open_now("accept", match, now):
                sections["answer"].append(line)
            elif match.status == MatchStatus.PENDING:
                sections["waiting"].append(line)
            elif match.status == MatchStatus.CONFIRMED:
                sections["ship"].append(line)
            else:
                sections["on_the_way"].append(line)
        if "group" in on:
            key = "receive" if match.status == MatchStatus.SHIPPED else "incoming"
            sections[key].append(line)
    return sections, [row(m, viewer, now) for m in recent], envelope


def changes_at(matches: Select, now: datetime) -> datetime | None:
    """When the first of these matches (a select of Match) changes with time alone: a
    pending one lapses, a confirmed one's time to ship runs out (its expires_at, after now).
    A list of them drawn at `now` holds until then (web/kept.py)."""
    return db.session.scalar(
        matches.with_only_columns(func.min(Match.expires_at))
        .where(
            Match.status.in_(TIMED),
            Match.expires_at > literal(now, UTCDateTime()),
        )
        .order_by(None)
    )


def my_changes_at(viewer, now: datetime) -> datetime | None:
    """changes_at for the viewer's organization's matches, either side (my_matches)."""
    return changes_at(select(Match).where(party_condition(viewer.organization_id)), now)


# How long an organization's history may be kept at most (cache.remember).
HISTORY_KEPT_SECONDS = 300


def org_histories(org_ids, now: datetime) -> dict[int, dict[str, int]]:
    """For each organization, how many of its matches (as donor or as the need's group) ended
    in each status (as read at `now`): one GROUP BY over both roles, whatever the number of
    organizations. Kept in the shared cache until anything is written or one of their
    pending matches lapses (then it reads as expired), whichever comes first: a busy
    organization's history is not counted again on every page of the review queue."""
    ids = sorted({i for i in org_ids if i is not None})
    if not ids:
        return {}

    def count() -> tuple:
        return _count_histories(ids, now), now, _next_lapse(ids, now)

    def kept_for(value) -> int:
        lapses_at = value[2]
        if lapses_at is None:
            return HISTORY_KEPT_SECONDS
        return min(HISTORY_KEPT_SECONDS, int((lapses_at - utcnow()).total_seconds()))

    histories, counted_at, lapses_at = remember("org_histories", (ids,), count, kept_for)
    if now < counted_at or (lapses_at is not None and now >= lapses_at):
        return _count_histories(ids, now)  # asked for another moment than the kept one
    return histories


def _next_lapse(ids: list[int], now: datetime) -> datetime | None:
    """When the first pending match of these organizations (either side) lapses after now."""
    own_needs = select(Need.id).where(Need.organization_id.in_(ids))
    return db.session.scalar(
        select(func.min(Match.expires_at)).where(
            Match.status == MatchStatus.PENDING,
            Match.expires_at > literal(now, UTCDateTime()),
            or_(Match.organization_id.in_(ids), Match.need_id.in_(own_needs)),
        )
    )


def _count_histories(ids: list[int], now: datetime) -> dict[int, dict[str, int]]:
    """org_histories, counted."""
    as_donor = select(
        Match.organization_id.label("org_id"), Match.status_at(now).label("status")
    ).where(Match.organization_id.in_(ids))
    as_group = (
        select(Need.organization_id.label("org_id"), Match.status_at(now).label("status"))
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


def overdue_condition(now: datetime):
    """SQL: a confirmed match past its time to ship (what a coordinator may release)."""
    return lifecycle.condition("release", now)
