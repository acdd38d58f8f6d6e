"""Factories for places, needs and offers (plain functions; flushed, not committed)."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from aidmatch.categories.models import Category
from aidmatch.extensions import db
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
