"""Location privacy (DESIGN.md): the one policy is :class:`aidmatch.privacy.policy.Viewer`.

The functions below are the policy's answers for a user, for callers that ask one question.
"""

from __future__ import annotations

from aidmatch.privacy.policy import Viewer, viewer_for

__all__ = [
    "Viewer",
    "can_see_exact",
    "distance_for",
    "exact_ids",
    "location_for",
    "viewer_for",
]


def exact_ids(user, objs) -> set[int]:
    """The ids among objs (all needs or all offers) whose exact point the user may see."""
    return viewer_for(user).exact_ids(objs)


def can_see_exact(user, obj) -> bool:
    """May this user see obj's (a need's or an offer's) exact point and private notes?"""
    return viewer_for(user).sees_exact(obj)


def location_for(user, obj, exact: bool | None = None) -> dict:
    """{"lat", "lon", "precision_km"}: the exact point (precision 0) or the coarse one."""
    return viewer_for(user).point(obj, exact)


def distance_for(obj, lat: float, lon: float, exact: bool) -> float:
    """Distance from (lat, lon) to obj as a viewer may know it: exact, or coarse and rounded."""
    return Viewer(None).distance_km(obj, lat, lon, exact)
