"""What a report reads: one plain record per match of a donor organization (or of the whole
network) that something happened to in the period, with what the viewer of a report may know
of it: the category, the oblast (never a settlement or a point), the group's name only where
the transparency page would name it (transparency.queries.may_name), no title, note or
contact. Deliveries and shipments count only once the transparency page publishes them
(transparency.queries.publication_cutoff): a report is printed and handed on, and timing is
location too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select

from aidmatch.categories.models import Category
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.legs.models import Leg, LegStatus
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.needs.models import Need
from aidmatch.orgs.models import Organization
from aidmatch.places.models import Place
from aidmatch.privacy.names import may_name
from aidmatch.receipts.models import Receipt
from aidmatch.reports.period import Period
from aidmatch.transparency.queries import publication_cutoff

# A match the donor had said yes to that ended without goods: a shortfall with its cause.
ENDED_UNDELIVERED = (MatchStatus.CANCELLED, MatchStatus.WITHDRAWN, MatchStatus.EXPIRED)


@dataclass(frozen=True)
class GoodsRecord:
    """One match as a report counts it (plain data: data.build_report reads these)."""

    match_id: int
    donor_id: int
    status: str  # as read now (a lapsed pending match is expired)
    category_id: int
    unit: str
    oblast: str | None
    group_id: int
    group_name: str | None  # only where the group may be named
    quantity: int
    quantity_received: int | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    ended_at: datetime | None  # when a cancelled, withdrawn or expired match ended
    leg_shortfall: int  # lost on the legs of its route (sent, not received)
    disputed_at: datetime | None  # the group disputed the signed receipt


def goods_records(org: Organization | None, period: Period) -> list[GoodsRecord]:
    """The matches of org (every donor's, for None) accepted by their donor that were shipped,
    delivered or ended in the period, or whose receipt was disputed in it."""
    now = utcnow()
    since, until = period.since, period.until
    legs = (
        select(
            Leg.match_id.label("match_id"),
            func.sum(Leg.quantity_sent - Leg.quantity_received).label("lost"),
        )
        .where(Leg.status == LegStatus.RECEIVED)
        .group_by(Leg.match_id)
        .subquery()
    )
    status = Match.status_at(now)
    ended = func.coalesce(Match.closed_at, Match.expires_at)

    def within(column):
        return and_(column.is_not(None), column >= since, column < until)

    query = (
        select(
            Match.id,
            Match.organization_id,
            status,
            Need.category_id,
            Category.unit,
            Place.oblast,
            Need.organization_id,
            Organization.name,
            Organization.public_name,
            Need.sensitive,
            Match.quantity,
            Match.quantity_received,
            Match.shipped_at,
            Match.delivered_at,
            ended,
            func.coalesce(legs.c.lost, 0),
            Receipt.disputed_at,
        )  # fmt: skip
        .join(Need, Need.id == Match.need_id)
        .join(Place, Place.id == Need.place_id)
        .join(Category, Category.id == Need.category_id)
        .join(Organization, Organization.id == Need.organization_id)
        .outerjoin(legs, legs.c.match_id == Match.id)
        .outerjoin(Receipt, Receipt.match_id == Match.id)
        .where(
            Match.donor_accepted_at.is_not(None),
            or_(
                within(Match.shipped_at),
                within(Match.delivered_at),
                and_(Match.status_in(ENDED_UNDELIVERED, now), within(ended)),
                within(Receipt.disputed_at),
            ),
        )
        .order_by(Match.id)
    )
    if org is not None:
        query = query.where(Match.organization_id == org.id)
    records = []
    for row in db.session.execute(query):
        (mid, donor, st, cid, unit, oblast, group, name, public, sensitive, quantity,
         received, shipped, delivered, ended_at, lost, disputed) = row  # fmt: skip
        records.append(
            GoodsRecord(
                match_id=mid,
                donor_id=donor,
                status=str(st),
                category_id=cid,
                unit=str(unit),
                oblast=oblast,
                group_id=group,
                group_name=name if may_name(public, sensitive, oblast) else None,
                quantity=quantity,
                quantity_received=received,
                shipped_at=shipped,
                delivered_at=delivered,
                ended_at=ended_at if MatchStatus(st) in ENDED_UNDELIVERED else None,
                leg_shortfall=int(lost or 0),
                disputed_at=disputed,
            )  # fmt: skip
        )
    return records


def cutoff() -> datetime:
    """What a report counts is what happened before this (the transparency page's cutoff)."""
    return publication_cutoff()
