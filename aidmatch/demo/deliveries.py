"""A few delivered matches for the demo, so that the public transparency page shows something.

Each goes the whole way through the real verbs, as people would: a verified donor claims an
open need from its own offer of the same category (in reach of the offer's radius), the demo
coordinator approves (confirmed: the donor's consent came with the claim), the donor ships,
the group confirms what arrived. Only the dates are then moved back (see ``_backdate``): the
transparency page publishes a delivery once its whole week is ``TRANSPARENCY_DELAY_DAYS``
past, and a demo seeded today would otherwise show nothing for weeks.

Idempotent: nothing happens once any match is delivered. Flushes, never commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from aidmatch.auth.models import User
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.geo import haversine_km
from aidmatch.matches.claims import claim_need
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.matches.transitions import approve, confirm_delivery, ship
from aidmatch.needs.models import Need, NeedStatus
from aidmatch.offers.models import Offer, OfferStatus
from aidmatch.orgs.models import Organization

DELIVERIES = 6
# Days between two deliveries, and from each step to the delivery (claim, ship), backwards.
SPACING_DAYS = 5
CLAIMED_DAYS_BEFORE = 5
SHIPPED_DAYS_BEFORE = 2
POSTED_DAYS_BEFORE = 9


def seed_deliveries(coordinator: User, delay_days: int) -> int:
    """Deliver up to DELIVERIES matches through the verbs, dated from ``delay_days`` plus a
    week back (so each is published); how many. Nothing if any match is delivered already."""
    delivered = select(Match.id).where(Match.status == MatchStatus.DELIVERED).limit(1)
    if db.session.scalar(delivered) is not None:
        return 0
    now = utcnow()
    pairs = _pairs(DELIVERIES)
    for i, (need, offer) in enumerate(pairs):
        donor, group = offer.organization.members[0], need.organization.members[0]
        quantity = min(
            need.quantity - need.pledged - need.proposed,
            offer.quantity - offer.allocated - offer.proposed,
        )
        match = claim_need(need, donor, quantity, offer=offer)
        approve(match, coordinator)
        ship(match, donor, "Sent by Nova Poshta, in two boxes.")
        confirm_delivery(match, group, quantity, "Arrived complete, thank you.")
        _backdate(match, now - timedelta(days=delay_days + 7 + SPACING_DAYS * i))
    return len(pairs)


def _pairs(limit: int) -> list[tuple[Need, Offer]]:
    """Up to ``limit`` (need, offer) pairs in distinct categories, first by id: open needs of
    verified groups (not sensitive), open offers of verified donors in the same category that
    reach the need, each need and offer once."""
    verified = Organization.verified_at.is_not(None)
    needs = db.session.scalars(
        select(Need)
        .join(Organization, Organization.id == Need.organization_id)
        .where(Need.status_is(NeedStatus.OPEN), Need.sensitive.is_(False), verified)
        .order_by(Need.id)
    ).all()
    offers = db.session.scalars(
        select(Offer)
        .join(Organization, Organization.id == Offer.organization_id)
        .where(Offer.status_is(OfferStatus.OPEN), verified)
        .order_by(Offer.id)
    ).all()
    pairs, used, categories = [], set(), set()
    for need in needs:
        if need.category_id in categories:
            continue
        for offer in offers:
            if offer.id in used or offer.category_id != need.category_id:
                continue
            radius = offer.delivery_radius_km
            if radius is None or haversine_km(offer.lat, offer.lon, need.lat, need.lon) <= radius:
                pairs.append((need, offer))
                used.add(offer.id)
                categories.add(need.category_id)
                break
        if len(pairs) == limit:
            break
    return pairs


def _backdate(match: Match, delivered_at: datetime) -> None:
    """Move a delivered match's dates back to ``delivered_at`` (and its steps before it), and
    its need's and offer's posting before the claim. A direct UPDATE, on purpose: the verbs
    date everything now, and no verb changes the past. The audit events keep the time the
    verbs really ran (the seeding)."""
    claimed = delivered_at - timedelta(days=CLAIMED_DAYS_BEFORE)
    shipped = delivered_at - timedelta(days=SHIPPED_DAYS_BEFORE)
    posted = delivered_at - timedelta(days=POSTED_DAYS_BEFORE)
    db.session.execute(
        update(Match)
        .where(Match.id == match.id)
        .values(
            created_at=claimed,
            donor_accepted_at=claimed,
            coordinator_approved_at=claimed,
            confirmed_at=claimed,
            shipped_at=shipped,
            delivered_at=delivered_at,
            closed_at=delivered_at,
            updated_at=delivered_at,
        )
        .execution_options(synchronize_session=False)
    )
    for model, row_id in ((Need, match.need_id), (Offer, match.offer_id)):
        db.session.execute(
            update(model)
            .where(model.id == row_id, model.created_at > posted)
            .values(created_at=posted)
            .execution_options(synchronize_session=False)
        )
    db.session.expire(match)
