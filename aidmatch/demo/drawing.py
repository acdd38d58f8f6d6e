"""What one demo organization posts, drawn from the seeded random generator.

The draw is a fixed sequence of calls on one random.Random: change the order of two calls and
every later need and offer changes (tests/test_demo.py checks a fingerprint of the whole set).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from aidmatch.auth.models import User
from aidmatch.categories.models import Category
from aidmatch.demo.data import (
    CONTEXT_BY_TOP,
    DELIVERY_NOTES,
    ITEMS,
    NEED_CONTEXT,
    OFFER_CONTEXT,
    OFFER_CONTEXT_BY_TOP,
    PARENT_OFFERS,
    STREETS,
    OrgSpec,
)
from aidmatch.needs.models import Urgency
from aidmatch.orgs.models import Organization
from aidmatch.places.models import Place

NEEDS_PER_GROUP = (7, 13)
OFFERS_PER_COLLECTIVE = (6, 10)
# Weights of critical, high, normal, low; life-saving categories skew urgent.
URGENCY_WEIGHTS = {"tactical-medicine": (30, 40, 25, 5), "evacuation": (25, 40, 30, 5)}
DEFAULT_URGENCY_WEIGHTS = (10, 30, 42, 18)
DEADLINE_DAYS = {"critical": (2, 10), "high": (5, 21), "normal": (14, 45), "low": (30, 90)}
# Needs in these categories hint at where defenders or medics stand: often marked sensitive.
SENSITIVE_TOPS = {"tactical-medicine", "communications", "vehicles"}
NEAR_FRONT_RADII = (30, 50, 80, 100, 150, 200, 250, 300)
OFFSET_DEG = (0.012, 0.018)  # at most ~1.3 km from the settlement's point


@dataclass
class Draft:
    """One drawn need or offer: the data its create operation takes, and when it was posted."""

    data: dict[str, Any]
    created_at: datetime


@dataclass
class Poster:
    """One demo organization as it posts: its member, home place and phone, and the draw."""

    rng: random.Random
    spec: OrgSpec
    org: Organization
    user: User
    place: Place
    phone: str
    categories: dict[str, Category]
    hubs: list[tuple[str, Place]]  # towns near the front where partners keep stock
    today: date
    now: datetime

    def pick_category(self, focus_share: float) -> tuple[str, str]:
        """A (top-level slug, leaf slug): mostly from the organization's focus."""
        tops = [c for c in self.categories.values() if c.parent_id is None]
        tops = [c.slug for c in sorted(tops, key=lambda c: (c.position, c.slug))]
        top = self.rng.choice(self.spec.focus if self.rng.random() < focus_share else tops)
        children = sorted(
            (c for c in self.categories.values() if c.parent_id == self.categories[top].id),
            key=lambda c: (c.position, c.slug),
        )
        leaves = [c.slug for c in children if c.slug in ITEMS] or [top]
        return top, self.rng.choice(leaves)

    def point(self, place: Place) -> tuple[float, float]:
        """The exact point of a post: the place's point moved by a small, seeded offset."""
        lat = place.lat + self.rng.uniform(-OFFSET_DEG[0], OFFSET_DEG[0])
        lon = place.lon + self.rng.uniform(-OFFSET_DEG[1], OFFSET_DEG[1])
        return round(lat, 6), round(lon, 6)

    def draft(
        self,
        slug: str,
        titles: tuple[str, ...],
        quantities: tuple[int, int, int],
        description: str,
        place: Place,
        days: int,
    ) -> Draft:
        """A need's or offer's shared fields at a point near `place`, posted up to `days` ago."""
        lat, lon = self.point(place)
        created = self.now - timedelta(hours=self.rng.uniform(1, days * 24))
        data = {
            "title": self.rng.choice(titles),
            "description": description,
            "category": self.categories[slug],
            "quantity": _quantity(self.rng, quantities),
            "place_id": place.id,
            "lat": lat,
            "lon": lon,
        }
        return Draft(data, created)


def _quantity(rng: random.Random, lo_hi_step: tuple[int, int, int]) -> int:
    lo, hi, step = lo_hi_step
    return rng.randrange(lo, hi + 1, step)


def draw_needs(poster: Poster) -> list[Draft]:
    """The needs of a frontline group: 7 to 13, mostly in its focus, none twice if avoidable."""
    rng, spec = poster.rng, poster.spec
    needs = []
    used: set[str] = set()
    for _ in range(rng.randint(*NEEDS_PER_GROUP)):
        for _attempt in range(5):  # a group rarely posts two needs for the same thing
            top, leaf = poster.pick_category(focus_share=0.65)
            if leaf not in used:
                break
        used.add(leaf)
        item = ITEMS[leaf]
        weights = URGENCY_WEIGHTS.get(top, DEFAULT_URGENCY_WEIGHTS)
        urgency = rng.choices(list(Urgency), weights=weights)[0]
        needed_by = None
        if rng.random() < 0.55:
            needed_by = poster.today + timedelta(days=rng.randint(*DEADLINE_DAYS[urgency]))
        fill = {
            "town": spec.town,
            "people": rng.choice([300, 800, 1500, 4000, 9000, 20000]),
            "days": rng.randint(3, 14),
            "person": poster.user.display_name,
            "phone": poster.phone,
            "street": rng.choice(STREETS),
            "n": rng.randint(1, 60),
        }
        sentences = [item.detail] if item.detail else []
        if top in CONTEXT_BY_TOP:
            sentences.append(rng.choice(CONTEXT_BY_TOP[top]))
        sentences.append(rng.choice(NEED_CONTEXT).format(**fill))
        need = poster.draft(
            leaf, item.needs, item.need_qty, " ".join(sentences), poster.place, days=21
        )
        need.data.update(
            urgency=urgency,
            needed_by=needed_by,
            delivery_note=rng.choice(DELIVERY_NOTES).format(**fill),
            sensitive=rng.random() < (0.35 if top in SENSITIVE_TOPS else 0.03),
        )
        needs.append(need)
    return needs


def _where_and_how_far(poster: Poster, top: str) -> tuple[Place, str, int | None]:
    """Where an offer's goods are (place, town) and its delivery radius (None: anywhere)."""
    rng, spec = poster.rng, poster.spec
    if top == "funds":
        return poster.place, spec.town, None
    if spec.country != "UA":
        # From abroad: half the stock waits in a partner's warehouse near the front.
        if rng.random() < 0.5:
            town, place = rng.choice(poster.hubs)
            return place, town, rng.choice(NEAR_FRONT_RADII)
        return poster.place, spec.town, None
    if spec.town in ("Kyiv", "Lviv"):
        radius = None if rng.random() < 0.5 else rng.choice((150, 200, 250, 300))
    else:
        radius = None if rng.random() < 0.15 else rng.choice(NEAR_FRONT_RADII)
    return poster.place, spec.town, radius


def _offer_description(
    rng: random.Random, top: str, slug: str, town: str, radius: int | None, abroad: bool
) -> str:
    context = rng.choice(OFFER_CONTEXT_BY_TOP.get(top, OFFER_CONTEXT))
    if top == "funds":
        reach = "Paid by bank transfer once a coordinator has approved the match."
    elif slug == "temporary-housing":
        reach = f"In {town}; we help with the transfer there."
    elif top == "evacuation":
        reach = (
            f"Our crews drive within {radius} km of {town}."
            if radius
            else "Our crews go wherever they are needed."
        )
    elif radius and abroad:
        reach = f"Held at our partner's warehouse in {town}; we deliver within {radius} km."
    elif radius:
        reach = f"We deliver ourselves within {radius} km of {town}."
    else:
        reach = "We can deliver anywhere in Ukraine, by our own convoy or Nova Poshta."
    return f"{context} {reach}"


def draw_offers(poster: Poster) -> list[Draft]:
    """The offers of a donor or supply collective: 6 to 10, some on a parent category."""
    rng, spec = poster.rng, poster.spec
    offers = []
    parents = [top for top in spec.focus if top in PARENT_OFFERS]
    for _ in range(rng.randint(*OFFERS_PER_COLLECTIVE)):
        if parents and rng.random() < 0.12:
            top = slug = rng.choice(parents)
            item = PARENT_OFFERS[slug]
        else:
            top, slug = poster.pick_category(focus_share=0.8)
            item = ITEMS[slug]
        place, town, radius = _where_and_how_far(poster, top)
        description = _offer_description(rng, top, slug, town, radius, spec.country != "UA")
        available_until = None
        if rng.random() < 0.4:
            available_until = poster.today + timedelta(days=rng.randint(14, 120))
        offer = poster.draft(slug, item.offers, item.offer_qty, description, place, days=28)
        offer.data.update(delivery_radius_km=radius, available_until=available_until)
        offers.append(offer)
    return offers
