"""Factories for places, needs and offers (plain functions; flushed, not committed)."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from aidmatch.categories.models import Category
from aidmatch.extensions import db
from aidmatch.geo import haversine_km
from aidmatch.needs.operations import create_need
from aidmatch.offers.operations import create_offer
from aidmatch.places.models import Place

_counter = itertools.count(1)


def make_place(name: str | None = None, lat: float = 49.99, lon: float = 36.23, **fields) -> Place:
    """A gazetteer entry of our own (so tests do not depend on which villages ship)."""
    n = next(_counter)
    place = Place(
        code=f"TEST{n:06d}",
        name=name or f"Testove {n}",
        name_uk=fields.pop("name_uk", None),
        country=fields.pop("country", "UA"),
        oblast=fields.pop("oblast", "Kharkiv Oblast"),
        lat=lat,
        lon=lon,
        **fields,
    )
    db.session.add(place)
    db.session.flush()
    return place


def category(slug: str = "tourniquets") -> Category:
    """A seeded category by slug."""
    return db.session.scalar(select(Category).where(Category.slug == slug))


def make_need(org, actor=None, place=None, **fields):
    """A need through the real operation (validation, coarse point, audit)."""
    place = place or make_place()
    data = {
        "title": "Tourniquets for the evacuation team",
        "description": "CAT gen 7",
        "category": "tourniquets",
        "quantity": 40,
        "urgency": "high",
        "place_id": place.id,
        "delivery_note": "Call Oksana at the school gate",
    }
    data.update(fields)
    return create_need(org, data, actor)


def make_offer(org, actor=None, place=None, **fields):
    """An offer through the real operation."""
    place = place or make_place("Kyiv test", lat=50.45, lon=30.52, oblast="Kyiv")
    data = {
        "title": "CAT tourniquets from our stock",
        "description": "",
        "category": "tourniquets",
        "quantity": 100,
        "place_id": place.id,
        "delivery_radius_km": None,
    }
    data.update(fields)
    return create_offer(org, data, actor)


def make_offer_between(need, org, actor=None, *, reaching: str, **fields):
    """An offer whose whole-km radius reaches only one of the need's two points ("exact" or
    "coarse"): it sits on the line through both, beyond the one it reaches, with a radius
    between the two distances. For tests that a viewer learns nothing of the exact point."""
    exact, coarse = (need.lat, need.lon), (need.public_lat, need.public_lon)
    near_end, far_end = (exact, coarse) if reaching == "exact" else (coarse, exact)
    at = tuple(n + 2 * (n - f) for n, f in zip(near_end, far_end, strict=True))
    d_exact, d_coarse = haversine_km(*at, *exact), haversine_km(*at, *coarse)
    radius = round((d_exact + d_coarse) / 2)
    assert min(d_exact, d_coarse) + 0.2 < radius < max(d_exact, d_coarse) - 0.2, "too close"
    assert (d_coarse <= radius) == (reaching == "coarse")
    place = make_place(lat=at[0], lon=at[1], oblast="Kharkiv Oblast")
    return make_offer(org, actor, place, delivery_radius_km=radius, **fields)
