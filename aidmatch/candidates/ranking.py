"""Instant candidates: the offers that could cover a need and the needs an offer could
cover, ranked by the engine's score, as the viewer may see them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aidmatch.candidates.explain import explanation_text
from aidmatch.candidates.inputs import category_catalog, engine_weights
from aidmatch.candidates.queries import (
    CANDIDATE_POOL,
    NEED_POOL,
    SQL_SLACK,
    need_statements,
    offer_statements,
    point_params,
    viewer_params,
)
from aidmatch.db import utcnow
from aidmatch.engine import (
    NeedRecord,
    OfferRecord,
    Proposal,
    rank_needs_for_offer,
    rank_offers_for_need,
)
from aidmatch.extensions import db
from aidmatch.geo import haversine_km, round_distance_km
from aidmatch.needs.models import Need, NeedStatus
from aidmatch.offers.models import Offer, OfferStatus
from aidmatch.permissions import is_staff
from aidmatch.postings.models import today
from aidmatch.postings.queries import KM_PER_DEG_LAT
from aidmatch.privacy import viewer_for


def candidates_for_need(need: Need, viewer, limit: int = 5, *, now: datetime | None = None):
    """The best offers the viewer may see that could cover this need, with explanations.

    SQL loads only plausible rows: open offers with something remaining, of the need's
    category or an ancestor, visible to the viewer, not already matched with the need; of
    those with a radius, the ones reaching the need, nearest relative to their radius first
    (the order of their closeness); of the "anywhere" ones, the nearest. Python ranks them
    by the engine's score. The statements are built once, with parameters. The need is at
    its exact point for those who may see it, at its coarse one for everyone else.
    """
    if need.effective_status != NeedStatus.OPEN or need.quantity - need.pledged <= 0:
        return []
    ancestry, units = category_catalog()
    staff = is_staff(viewer)
    # Which offers reach the need is decided at the point the viewer may know: a donor
    # moving its own offer's radius must not find where the need's exact point is.
    subject_exact = viewer_for(viewer).sees_exact(need)
    subject_point = _point(need, subject_exact)
    params = {
        **point_params(*subject_point),
        "today": today(),
        **({} if staff else viewer_params(viewer)),
        "need_id": need.id,
        "need_org": need.organization_id,
        "categories": [need.category_id, *ancestry.get(need.category_id, ())],
        "pool": max(CANDIDATE_POOL, limit * 4),
    }
    local, anywhere = offer_statements(staff)
    rows = [*db.session.execute(local, params), *db.session.execute(anywhere, params)]
    # Offers reach the need from their coarse point for everyone but staff: an organizer
    # moving her need must not find where a donor's stock is (as a donor moving its radius
    # must not find the need: the need is at the point the viewer knows).
    records = [_offer_record(r, r.remaining, units, staff) for r in rows]
    weights = engine_weights()
    ranked = rank_offers_for_need(
        _need_record(need, units, subject_point),
        records,
        ancestry,
        now or utcnow(),
        limit,
        weights=weights,
        units=units,
    )
    shown = _Shown(viewer, "offer_id", subject_exact, subject_point, units)
    return shown.items(
        ranked,
        rows,
        lambda row: {"remaining": row.remaining, "delivery_radius_km": row.delivery_radius_km},
    )


def candidates_for_offer(offer: Offer, viewer, limit: int = 5, *, now: datetime | None = None):
    """The best needs the viewer may see that this offer could cover, with explanations.

    SQL loads open needs with something open, of the offer's category or below it, visible
    to the viewer (sensitive ones only to verified organizations), not already matched with
    the offer, within the offer's radius (a box, then the distance; from each need's exact
    point for staff, its coarse one for everyone else): the most urgent ones and the
    nearest ones, up to ``NEED_POOL`` each; Python ranks them by the engine's score.
    """
    if offer.effective_status != OfferStatus.OPEN or offer.quantity - offer.allocated <= 0:
        return []
    ancestry, units = category_catalog()
    staff = is_staff(viewer)
    # The offer reaches from the point the viewer may know of it (its coarse one for a group
    # looking at a donor's offer), so moving a need cannot find the offer's exact point.
    offer_exact = viewer_for(viewer).sees_exact(offer)
    offer_lat, offer_lon = _point(offer, offer_exact)
    params = {
        **point_params(offer_lat, offer_lon),
        "today": today(),
        **({} if staff else viewer_params(viewer)),
        "offer_id": offer.id,
        "offer_org": offer.organization_id,
        "categories": sorted(_descendants(ancestry, offer.category_id)),
        "pool": max(NEED_POOL, limit * 4),
    }
    bounded = offer.delivery_radius_km is not None
    if bounded:
        reach = float(offer.delivery_radius_km) * SQL_SLACK
        dlat = reach / KM_PER_DEG_LAT
        dlon = reach / max(params["kx"], 1.0)
        params.update(
            lat_lo=offer_lat - dlat,
            lat_hi=offer_lat + dlat,
            lon_lo=offer_lon - dlon,
            lon_hi=offer_lon + dlon,
            reach2=reach * reach,
        )
    rows = {}
    for stmt in need_statements(staff, bounded):
        for row in db.session.execute(stmt, params):
            rows[row.id] = row
    records = [
        NeedRecord(
            r.id,
            r.category_id,
            units.get(r.category_id, ""),
            r.open,
            # the need's exact or coarse point, as in the SQL
            *((r.lat, r.lon) if staff else (r.public_lat, r.public_lon)),
            str(r.urgency),
            r.needed_by,
            r.created_at,
            bool(r.org_verified),
        )
        for r in rows.values()
    ]
    subject = _offer_record(offer, offer.quantity - offer.allocated, units, offer_exact)
    weights = engine_weights()
    ranked = rank_needs_for_offer(
        subject, records, ancestry, now or utcnow(), limit, weights=weights, units=units
    )
    subject_exact = viewer_for(viewer).sees_exact(offer)
    subject_point = _point(offer, subject_exact)
    shown = _Shown(viewer, "need_id", subject_exact, subject_point, units)
    return shown.items(
        ranked,
        rows.values(),
        lambda row: {"open": row.open, "urgency": str(row.urgency), "needed_by": row.needed_by},
    )


@dataclass
class _Shown:
    """How one viewer sees the candidates of one need or offer (the subject)."""

    viewer: object
    key: str  # the candidates' id field: "offer_id" for a need's, "need_id" for an offer's
    subject_exact: bool  # may the viewer see the subject's exact point?
    subject_point: tuple[float, float]  # the subject's point as the viewer may know it
    units: dict[int, str]

    def items(self, ranked: list[Proposal], rows: Iterable, own: Callable[[Any], dict]) -> list:
        """The ranked candidates (their SQL ``rows``) as the viewer may see them, each with
        the fields of its kind from ``own(row)``."""
        by_id = {row.id: row for row in rows}
        kind = "Offer" if self.key == "offer_id" else "Need"
        exact = viewer_for(self.viewer).exact_ids(by_id.values(), kind=kind)
        return [
            self._item(p, by_id[getattr(p, self.key)], own, getattr(p, self.key) in exact)
            for p in ranked
        ]

    def _item(self, proposal: Proposal, row, own: Callable[[Any], dict], exact: bool) -> dict:
        """One candidate: id, title, organization, place, unit, its own fields, quantity and
        explanation (distance from the points the viewer knows; the score only to who may see
        both exact points: privacy.Viewer.explanation)."""
        both = self.subject_exact and exact
        explanation = proposal.explanation()
        if not both:
            candidate_point = (row.public_lat, row.public_lon)
            if exact:
                candidate_point = (row.lat, row.lon)
            distance = round_distance_km(haversine_km(*self.subject_point, *candidate_point))
            explanation = viewer_for(self.viewer).explanation(explanation, False, distance)
        explanation["text"] = explanation_text(explanation["facts"])
        return {
            self.key: row.id,
            "title": row.title,
            "organization": {
                "id": row.organization_id,
                "name": row.org_name,
                "verified": bool(row.org_verified),
            },
            "place": {
                "name": row.place_name,
                "oblast": row.oblast,
                "name_uk": row.name_uk,
                "oblast_uk": row.oblast_uk,
            },
            "unit": self.units.get(row.category_id, ""),
            **own(row),
            "quantity": proposal.quantity,
            "distance_km": explanation["facts"]["distance_km"],
            "score": explanation.get("score"),
            "explanation": explanation,
        }


def _descendants(ancestry: dict[int, tuple[int, ...]], category_id: int) -> set[int]:
    """A category and every category below it, from the ancestry map."""
    return {c for c, above in ancestry.items() if c == category_id or category_id in above}


def _need_record(need: Need, units: dict[int, str], point: tuple[float, float]) -> NeedRecord:
    """A need (ORM) as the engine's record, placed at the given (exact or coarse) point."""
    return NeedRecord(
        need.id,
        need.category_id,
        units.get(need.category_id, ""),
        need.quantity - need.pledged,
        *point,
        str(need.urgency),
        need.needed_by,
        need.created_at,
        need.organization.verified_at is not None,
    )


def _offer_record(offer, remaining: int, units: dict[int, str], exact: bool) -> OfferRecord:
    """An offer (ORM object or candidate row) as the engine's record, at its exact point or,
    for a viewer who may not see that, at its coarse one (reach is decided there too)."""
    return OfferRecord(
        offer.id,
        offer.category_id,
        units.get(offer.category_id, ""),
        remaining,
        *_point(offer, exact),
        offer.delivery_radius_km,
        offer.organization_id,
    )


def _point(obj, exact: bool) -> tuple[float, float]:
    """The point of a need or offer as a viewer may know it: exact or the coarse one."""
    return (obj.lat, obj.lon) if exact else (obj.public_lat, obj.public_lon)
