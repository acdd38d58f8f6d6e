"""The donor's view of engine proposals on its offer that wait for its answer."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from aidmatch.candidates.explain import explanation_text
from aidmatch.extensions import db
from aidmatch.geo import haversine_km, round_distance_km
from aidmatch.matches.models import Match, MatchSource, MatchStatus
from aidmatch.needs.models import Need
from aidmatch.offers.models import Offer
from aidmatch.permissions import is_staff


def proposals_awaiting_donor(offer: Offer, viewer) -> list[dict]:
    """Engine proposals on this offer that wait for the donor's answer, best score first.

    For the offer's own organization (and staff). Distances are shown as the donor may know
    them: from the offer to the need's coarse point, rounded to 5 km, until confirmed.
    """
    rows = db.session.scalars(
        select(Match)
        .where(
            Match.offer_id == offer.id,
            Match.status == MatchStatus.PENDING,
            Match.source == MatchSource.ENGINE,
            Match.donor_accepted_at.is_(None),
        )
        .options(joinedload(Match.need).joinedload(Need.organization))
        .order_by(Match.score.desc(), Match.id)
    ).all()
    staff = is_staff(viewer)
    items = []
    for match in rows:
        need = match.need
        facts = dict((match.explanation or {}).get("facts") or {})
        if staff:
            distance = match.distance_km
        else:
            distance = round_distance_km(
                haversine_km(offer.lat, offer.lon, need.public_lat, need.public_lon)
            )
            facts["distance_km"], facts["distance_rounded"] = distance, True
        items.append(
            {
                "id": match.id,
                "need_id": need.id,
                "title": need.title,
                "organization": {
                    "id": need.organization.id,
                    "name": need.organization.name,
                    "verified": need.organization.verified_at is not None,
                },
                "quantity": match.quantity,
                "unit": str(offer.category.unit),
                "distance_km": distance,
                "score": match.score,
                "text": explanation_text(facts),
                "expires_at": match.expires_at,
            }
        )
    return items
