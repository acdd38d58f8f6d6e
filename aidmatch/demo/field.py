"""What the demo shows beyond needs, offers and deliveries, made through the domains' verbs
after the deliveries (demo.deliveries) and before the matching run, so a new user meets each:

- a shipment routed through the two demo hubs (aidmatch/legs): a collective abroad claims a
  need from its own offer, the coordinator approves, it ships and hands the goods over at the
  border hub, which confirms them and hands them on to the warehouse near the front: one leg
  received, one on its way (the match stays shipped);
- a collective's offer that repeats every month (aidmatch/recurring: make_recurring);
- a priced need with a confirmed monthly money pledge, a fundraiser (demo.funds);
- an unverified group vouched for by two verified groups of its oblast
  (aidmatch/orgs/vouches.py), whose non-sensitive needs donors see.

Deterministic: every choice is by name or by id, no randomness. Idempotent: nothing happens
once the demo fundraiser exists, nor in a database seeded before the hubs were part of the
demo. Flushes, never commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from aidmatch.auth.models import User
from aidmatch.categories.models import Category
from aidmatch.demo import funds
from aidmatch.demo.data import HUBS
from aidmatch.demo.seeding import DemoError
from aidmatch.extensions import db
from aidmatch.legs.models import Leg
from aidmatch.legs.operations import confirm, hand_over
from aidmatch.matches.claims import claim_need
from aidmatch.matches.transitions import approve, ship
from aidmatch.needs.models import Need, NeedStatus
from aidmatch.offers.models import Offer, OfferStatus
from aidmatch.orgs.models import Organization, OrgKind, org_name_key
from aidmatch.orgs.vouches import vouch
from aidmatch.recurring.models import Recurrence
from aidmatch.recurring.operations import make_recurring

# Collectives abroad whose goods cross the border, the first with a matching pair ships.
SHIPPERS = ("Kreuzberg Hilfskonvoi", "Berlin Ukraine Support e.V.", "Warszawa dla Ukrainy")
RECURRING_BY = "Warszawa dla Ukrainy"
RECURRING = {
    "title": "Family hygiene kits, every month",
    "description": (
        "Our parish collects for them all month; a truck leaves Warsaw in the first week of "
        "each month. We deliver anywhere in Ukraine with our partners' convoy."
    ),
    "category": "hygiene-kits",
    "quantity": 300,
}
VOUCHED = "Mezhova Aid Point"
VOUCHERS = {
    "Pokrov Community Aid": (
        "We have handed out food with them in Mezhova since 2023 and know their coordinator."
    ),
    "Nikopol Shelter Network": (
        "Their volunteers brought evacuees to our shelter twice; their lists were in order."
    ),
}


@dataclass
class FieldResult:
    """What seed_field made (it returns None when it made nothing)."""

    match_id: int
    legs: int
    recurrence_id: int
    pledge_id: int
    fundraiser_slug: str
    vouched: str


def _org(name: str) -> Organization | None:
    return db.session.scalar(
        select(Organization).where(Organization.name_key == org_name_key(name))
    )


def _member(org: Organization) -> User:
    return org.members[0]


def seed_field(coordinator: User) -> FieldResult | None:
    """Make the four showcases (see the module docstring), once; flushed, never committed."""
    hubs = [_org(spec.name) for spec in HUBS]
    if any(hub is None or hub.kind != OrgKind.HUB for hub in hubs) or funds.fundraiser_exists():
        return None
    match, legs = _shipment_through_hubs(coordinator, hubs)
    recurrence = _monthly_offer()
    pledge, fundraiser = funds.seed_money(coordinator)
    _vouches()
    db.session.flush()
    return FieldResult(match.id, legs, recurrence.id, pledge.id, fundraiser.slug, VOUCHED)


def _remaining(row) -> int:
    held = row.pledged if isinstance(row, Need) else row.allocated
    return row.quantity - held - row.proposed


def _pair() -> tuple[Need, Offer]:
    """A shipper's open offer that can go anywhere, and the first open, non-sensitive need of
    a verified group in the same category with something left on both (by id)."""
    verified = Organization.verified_at.is_not(None)
    needs = db.session.scalars(
        select(Need)
        .join(Organization, Organization.id == Need.organization_id)
        .where(Need.status_is(NeedStatus.OPEN), Need.sensitive.is_(False), verified)
        .order_by(Need.id)
    ).all()
    for name in SHIPPERS:
        shipper = _org(name)
        offers = db.session.scalars(
            select(Offer)
            .where(
                Offer.organization_id == shipper.id,
                Offer.status_is(OfferStatus.OPEN),
                Offer.delivery_radius_km.is_(None),
            )
            .order_by(Offer.id)
        ).all()
        for offer in offers:
            if _remaining(offer) <= 0:
                continue
            for need in needs:
                if need.category_id == offer.category_id and _remaining(need) > 0:
                    return need, offer
    raise DemoError("No offer of the demo's collectives abroad fits an open need: nothing shipped.")


def _shipment_through_hubs(coordinator: User, hubs: list[Organization]):
    """Claimed, approved and shipped through the verbs, then handed over at the border hub
    (confirmed there) and on to the warehouse near the front (on its way)."""
    border, warehouse = hubs
    need, offer = _pair()
    donor = _member(offer.organization)
    quantity = min(_remaining(need), _remaining(offer))
    match = claim_need(need, donor, quantity, offer=offer)
    approve(match, coordinator)
    ship(match, donor, "Loaded on our convoy to the Shehyni crossing.", tracking="")
    first = hand_over(match, donor, border.id, quantity, carrier="Our own convoy (two vans)")
    confirm(first, _member(border), quantity, "Cleared customs; every box arrived.")
    hand_over(
        match,
        _member(border),
        warehouse.id,
        quantity,
        carrier="Nova Poshta freight",
        tracking="20450012345678",
    )
    legs = db.session.scalar(select(func.count(Leg.id)).where(Leg.match_id == match.id))
    return match, legs


def _monthly_offer() -> Recurrence:
    """A collective posts an offer and makes it repeat every month from today on, what a
    month does not use carried into the next (create_offer, then make_recurring)."""
    from aidmatch.offers.operations import create_offer

    org = _org(RECURRING_BY)
    member = _member(org)
    category = db.session.scalar(select(Category).where(Category.slug == RECURRING["category"]))
    data = {
        "title": RECURRING["title"],
        "description": RECURRING["description"],
        "category": category,
        "quantity": RECURRING["quantity"],
        "place_id": org.place_id,
        "lat": org.place.lat,
        "lon": org.place.lon,
        "delivery_radius_km": None,
    }
    offer = create_offer(org, data, member)
    every = {"every": "month", "quantity": RECURRING["quantity"], "carry_over": True}
    return make_recurring(offer, every, member)


def _vouches() -> None:
    """Two verified groups of the same oblast vouch for a group waiting for verification."""
    vouched = _org(VOUCHED)
    for name, reason in VOUCHERS.items():
        voucher = _org(name)
        vouch(voucher, vouched, _member(voucher), reason)
