"""Geography: the one module that imports geopy. Distances and coarse (public) points."""

from __future__ import annotations

import math

from geopy.distance import geodesic

EARTH_RADIUS_KM = 6371.0088
# Side of the public grid cell, in km: exact points are snapped to the centre of their cell.
GRID_KM = 10.0
_KM_PER_DEG_LAT = 111.32


def geodesic_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Geodesic distance on the WGS-84 ellipsoid (geopy); exact, ~100 µs a pair."""
    return geodesic((lat1, lon1), (lat2, lon2)).km


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on the mean-radius sphere; within 0.5 % of geodesic_km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def coarse_point(lat: float, lon: float, cell_km: float = GRID_KM) -> tuple[float, float, float]:
    """Snap a point to the centre of its ~cell_km grid cell: (lat, lon, precision_km).

    Deterministic, so many posts from one place all show the same point and cannot be
    averaged back to the exact one. Longitude cells widen with the cosine of the cell's
    latitude band, so cells stay roughly square.
    """
    lat_step = cell_km / _KM_PER_DEG_LAT
    row = math.floor((lat + 90.0) / lat_step)
    centre_lat = -90.0 + (row + 0.5) * lat_step
    lon_step = lat_step / max(math.cos(math.radians(centre_lat)), 0.01)
    col = math.floor((lon + 180.0) / lon_step)
    centre_lon = -180.0 + (col + 0.5) * lon_step
    centre_lat = max(-90.0, min(90.0, centre_lat))
    centre_lon = ((centre_lon + 180.0) % 360.0) - 180.0
    return round(centre_lat, 5), round(centre_lon, 5), cell_km


def round_distance_km(km: float, step: float = 5.0) -> float:
    """Round a distance shown to someone who may not see the exact point (to 5 km)."""
    return float(max(step, round(km / step) * step))
