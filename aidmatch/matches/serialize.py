"""Matches as the API shows them to one viewer (the privacy policy decides what of each)."""

from __future__ import annotations

from sqlalchemy.orm import joinedload

from aidmatch.matches.models import Match
from aidmatch.needs.models import Need
from aidmatch.offers.models import Offer
from aidmatch.postings.serialize import need_to_dict, offer_to_dict
from aidmatch.privacy import viewer_for


def match_options() -> tuple:
    """The loader options of a select of matches that match_to_dict shows: the donor
    organization, and the need and offer with their organization, place and category, in the
    same statement (a list of matches costs one query, whatever its length)."""
    need, offer = joinedload(Match.need), joinedload(Match.offer)
    return (
        joinedload(Match.organization),
        need.joinedload(Need.organization),
        need.joinedload(Need.place),
        need.joinedload(Need.category),
        offer.joinedload(Offer.organization),
        offer.joinedload(Offer.place),
        offer.joinedload(Offer.category),
    )


def match_to_dict(
    match, viewer, exact_need: bool | None = None, exact_offer: bool | None = None
) -> dict:
    """A match for this viewer: the other side's contact and exact points only for the two
    parties of a confirmed (or later) match and for staff; distances coarse for the others."""
    from aidmatch.matches.operations import is_overdue
    from aidmatch.matches.rules import quantity_note_text

    need, offer, org = match.need, match.offer, match.organization
    policy = viewer_for(viewer)
    if exact_need is None:
        exact_need = policy.sees_exact(need)
    if exact_offer is None and offer is not None:
        exact_offer = policy.sees_exact(offer)
    both = policy.sees_both_points(match, exact_need, exact_offer)
    distance = policy.match_distance(match, both)
    notes = policy.sees_match_notes(match)
    data = {
        "id": match.id,
        "need_id": match.need_id,
        "offer_id": match.offer_id,
        "organization": {"id": org.id, "name": org.name, "verified": org.verified},
        "quantity": match.quantity,
        "quantity_asked": match.quantity_asked,
        "quantity_note": quantity_note_text(match.quantity_note),
        "status": str(match.effective_status),
        "source": str(match.source),
        "donor_accepted": match.donor_accepted_at is not None,
        "coordinator_approved": match.coordinator_approved_at is not None,
        "distance_km": distance,
        "score": match.score if both else None,
        "explanation": policy.explanation(match.explanation, both, distance),
        "quantity_received": match.quantity_received,
        "discrepancy": match.discrepancy,
        "expires_at": match.expires_at,
        "overdue": is_overdue(match),
        "extension_used": match.extension_used,
        "reason": match.reason,
        "confirmed_at": match.confirmed_at,
        "shipped_at": match.shipped_at,
        "shipped_note": match.shipped_note if notes else None,
        "tracking": match.tracking if notes else None,
        "delivered_at": match.delivered_at,
        "delivery_note": match.delivery_note if notes else None,
        "created_at": match.created_at,
        "updated_at": match.updated_at,
        "need": need_to_dict(need, viewer, exact=exact_need),
        "offer": offer_to_dict(offer, viewer, exact=exact_offer) if offer is not None else None,
    }
    data.update(policy.match_contacts(match))
    return data


def matches_to_dicts(page: dict, viewer) -> dict:
    """A page of matches for this viewer, with the privacy of their needs and offers decided
    in one query each."""
    matches = page["items"]
    policy = viewer_for(viewer)
    exact_needs = policy.exact_ids([m.need for m in matches])
    exact_offers = policy.exact_ids([m.offer for m in matches if m.offer is not None])
    items = [
        match_to_dict(
            m,
            viewer,
            exact_need=m.need_id in exact_needs,
            exact_offer=m.offer_id in exact_offers if m.offer_id is not None else None,
        )
        for m in matches
    ]
    return {**page, "items": items}
