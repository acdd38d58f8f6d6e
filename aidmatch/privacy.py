"""Location privacy (DESIGN.md): who sees exact points, notes and contacts, and what others see.

Exact coordinates, the delivery note and contact details go only to coordinators, admins, the
owning organization, and the other party of a confirmed match. Everyone else gets the
settlement, the oblast and the coarse public point (a ~10 km grid cell centre), and distances
measured from that point rounded to 5 km, so that exact distances from several places cannot be
used to triangulate a group.
"""

from __future__ import annotations

from sqlalchemy import select

from aidmatch.geo import GRID_KM, haversine_km, round_distance_km
from aidmatch.permissions import is_member, is_staff


def exact_ids(user, objs) -> set[int]:
    """The ids among objs (all needs or all offers) whose exact point the user may see, in at
    most one query (lists must not ask once per row)."""
    from aidmatch.extensions import db
    from aidmatch.matches.models import REVEALED, Match
    from aidmatch.needs.models import Need

    objs = list(objs)
    if not objs:
        return set()
    if is_staff(user):
        return {o.id for o in objs}
    own = {o.id for o in objs if is_member(user, o.organization)}
    others = [o.id for o in objs if o.id not in own]
    if not others or not (user and user.is_authenticated and user.organization_id):
        return own
    revealed = REVEALED
    if isinstance(objs[0], Need):
        stmt = select(Match.need_id).where(
            Match.need_id.in_(others), Match.organization_id == user.organization_id
        )
    else:
        stmt = select(Match.offer_id).where(
            Match.offer_id.in_(others),
            Match.need.has(Need.organization_id == user.organization_id),
        )
    return own | set(db.session.scalars(stmt.where(Match.status.in_(revealed))))


def can_see_exact(user, obj) -> bool:
    """May this user see obj's (a need's or an offer's) exact point and private notes?"""
    return obj.id in exact_ids(user, [obj])


def location_for(user, obj, exact: bool | None = None) -> dict:
    """{"lat", "lon", "precision_km"}: the exact point (precision 0) or the coarse one."""
    if exact is None:
        exact = can_see_exact(user, obj)
    if exact:
        return {"lat": obj.lat, "lon": obj.lon, "precision_km": 0}
    return {"lat": obj.public_lat, "lon": obj.public_lon, "precision_km": GRID_KM}


def distance_for(obj, lat: float, lon: float, exact: bool) -> float:
    """Distance from (lat, lon) to obj as this viewer may know it: exact, or coarse and rounded."""
    if exact:
        return round(haversine_km(lat, lon, obj.lat, obj.lon), 1)
    return round_distance_km(haversine_km(lat, lon, obj.public_lat, obj.public_lon))
