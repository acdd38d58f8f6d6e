"""Shared by the notification tests: who was told what, and a cast with more than one member
on each side, a coordinator of the group (a party) and one who is gone."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import func, select

from aidmatch.auth.models import Language
from aidmatch.extensions import db
from aidmatch.matches.holds import reserve
from aidmatch.matches.models import Match, MatchSource
from aidmatch.notify.models import Notification
from aidmatch.permissions import Role
from tests.factories import make_user
from tests.match_helpers import Cast, make_cast

# Everything a notification about a match or a need may carry (notify/kinds.py).
ALLOWED_PARAMS = {
    "category_id",
    "quantity",
    "unit",
    "place_id",
    "place_level",
    "oblast",
    "reason",
    "received",
    "asked",
    "count",
    "organizations",
    "expiring",
    "thread_id",  # a conversation's message: the thread a reply lands in
    "body",  # what a party typed for the other side (sent to that side only)
    "organization",
    "state",  # an organization's state (a coordinator's decision)
    "vouchers",  # the names of who vouched for it (to coordinators only)
}


def mark() -> int:
    """The newest notification's id (0 for none): what is told from now on has a higher one."""
    return db.session.scalar(select(func.max(Notification.id))) or 0


def told(since: int = 0) -> list[tuple[int, str]]:
    """(user id, kind) of every notification written after `since`, sorted."""
    rows = db.session.execute(
        select(Notification.user_id, Notification.kind).where(Notification.id > since)
    ).all()
    return sorted((user_id, kind) for user_id, kind in rows)


def notes(since: int = 0, kind: str | None = None) -> list[Notification]:
    stmt = select(Notification).where(Notification.id > since)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return list(db.session.scalars(stmt.order_by(Notification.user_id, Notification.id)))


def expect(kind: str, *users) -> list[tuple[int, str]]:
    return sorted((user.id, kind) for user in users)


def params_of(user, since: int = 0) -> dict:
    (note,) = [n for n in notes(since) if n.user_id == user.id]
    return json.loads(note.params_json)


@dataclass
class World:
    """make_cast's people, and a second organizer and donor, an admin, a coordinator who is a
    member of the group (a party: never a reviewer of its matches), and one who is gone."""

    cast: Cast
    organizer2: object
    donor2: object
    admin: object
    party_coordinator: object
    gone_coordinator: object

    @property
    def group(self) -> list:
        return [self.cast.organizer, self.organizer2, self.party_coordinator]

    @property
    def donors(self) -> list:
        return [self.cast.donor, self.donor2]

    @property
    def reviewers(self) -> list:
        return [self.cast.coordinator, self.admin]


def make_world(**need_fields) -> World:
    cast = make_cast(**need_fields)
    en = {"language": Language.EN}
    return World(
        cast,
        make_user(Role.ORGANIZER, org=cast.group, **en),
        make_user(Role.DONOR, org=cast.donor_org, **en),
        make_user(Role.ADMIN, **en),
        make_user(Role.COORDINATOR, org=cast.group, **en),
        make_user(Role.COORDINATOR, active=False, **en),
    )


def propose(world: World, quantity: int = 10) -> Match:
    """An engine proposal: pending, without either consent."""
    cast = world.cast
    return reserve(cast.need, cast.offer, cast.donor_org, quantity, source=MatchSource.ENGINE)
