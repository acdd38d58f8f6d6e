"""The lists' parsed query arguments (web.schemas.ListArgs) as the postings queries' Filters,
and the point ?near= names."""

from __future__ import annotations

from aidmatch.db import is_id
from aidmatch.extensions import db
from aidmatch.places.models import Place
from aidmatch.postings.queries import Filters


def filters_from_args(args: dict, **extra):
    """Turn parsed list arguments into listing.Filters."""
    status = args.get("status") or "open"
    return Filters(
        category=args.get("category"),
        oblast=args.get("oblast"),
        status=None if status == "all" else status,
        organization_id=args.get("organization"),
        near_place_id=args.get("near"),
        within_km=args.get("within_km"),
        q=args.get("q"),
        sort=args.get("sort", "default"),
        page=args.get("page", 1),
        per_page=args.get("per_page", 50),
        **extra,
    )


def near_point(filters) -> dict | None:
    """The reference point of ?near= (a place id), or None."""
    if not is_id(filters.near_place_id):
        return None
    place = db.session.get(Place, filters.near_place_id)
    return {"lat": place.lat, "lon": place.lon} if place else None
