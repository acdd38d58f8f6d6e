"""A group cannot locate a donor's offer by moving its own need (issue 12, finding 2).

The attack: an organizer moves her need (PATCH /api/v1/needs/<id> with lat/lon) and reads
GET /api/v1/needs/<id>/candidates, watching when the offer appears: the boundary of the disc
where it appears is the offer's radius around the point reach is decided at. Reach is decided
at the offer's coarse point for anyone who may not see the exact one, so the probes converge
on the coarse point, never on the exact one.
"""

from __future__ import annotations

import math

from aidmatch.extensions import db
from aidmatch.geo import coarse_point, haversine_km
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_offer, make_place

RADIUS_KM = 30
KM_PER_DEG_LAT = 111.32
DIRECTIONS = 8
STEPS = 9


def _exact_point_far_from_its_cell_centre() -> tuple[float, float]:
    """An offer's exact point at least 3.5 km from its coarse point (a cell's corner region)."""
    for i in range(200):
        lat, lon = 50.40 + 0.0013 * i, 30.40 + 0.0017 * i
        c_lat, c_lon, _precision = coarse_point(lat, lon)
        if haversine_km(lat, lon, c_lat, c_lon) >= 3.5:
            return lat, lon
    raise AssertionError("no point far enough from its cell centre")


def _moved(lat: float, lon: float, bearing: float, km: float) -> tuple[float, float]:
    """A point km away from (lat, lon) in the direction bearing (radians; a local flat map)."""
    dlat = km * math.cos(bearing) / KM_PER_DEG_LAT
    dlon = km * math.sin(bearing) / (KM_PER_DEG_LAT * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def test_moving_a_need_finds_only_the_offers_coarse_point(app, api_client):
    exact = _exact_point_far_from_its_cell_centre()
    coarse = coarse_point(*exact)[:2]
    collective = make_org("Warehouse Collective", OrgKind.DONOR_COLLECTIVE)
    kyiv = make_place("Kyiv stock", lat=exact[0], lon=exact[1], oblast="Kyiv")
    offer = make_offer(collective, place=kyiv, lat=exact[0], lon=exact[1],
                       category="water-filters", delivery_radius_km=RADIUS_KM)  # fmt: skip
    group = make_org("Probing Group", OrgKind.FRONTLINE_GROUP)
    organizer = make_user(Role.ORGANIZER, org=group)
    need = make_need(group, organizer, place=kyiv, category="water-filters", quantity=5)
    db.session.commit()
    api = api_client(organizer)

    def appears_at(point: tuple[float, float]) -> bool:
        moved = api.patch(f"/needs/{need.id}", json={"lat": point[0], "lon": point[1]})
        assert moved.status_code == 200, moved.get_data(as_text=True)
        listed = api.get(f"/needs/{need.id}/candidates?limit=10")
        assert listed.status_code == 200
        return offer.id in [item["offer_id"] for item in listed.get_json()["items"]]

    # The attacker knows the offer's public point; from there, along each direction, it
    # bisects the distance at which the offer stops being a candidate.
    boundary = []
    for k in range(DIRECTIONS):
        bearing = 2 * math.pi * k / DIRECTIONS
        inside, outside = 0.0, 2.0 * RADIUS_KM
        assert appears_at(_moved(*coarse, bearing, inside))
        assert not appears_at(_moved(*coarse, bearing, outside))
        for _step in range(STEPS):
            middle = (inside + outside) / 2
            if appears_at(_moved(*coarse, bearing, middle)):
                inside = middle
            else:
                outside = middle
        boundary.append(_moved(*coarse, bearing, (inside + outside) / 2))
    centre = (
        sum(p[0] for p in boundary) / len(boundary),
        sum(p[1] for p in boundary) / len(boundary),
    )
    # The probes find the coarse point (to the bisection's precision), nothing closer.
    assert haversine_km(*centre, *coarse) < 1.0
    assert haversine_km(*centre, *exact) >= 3.0
