"""Needs and offers as the API, pages and CSV show them to one viewer (privacy applied)."""

from __future__ import annotations

from functools import partial

from aidmatch.privacy import can_see_exact, distance_for, exact_ids, location_for


def _common(obj, viewer, exact: bool, near: dict | None) -> dict:
    org = obj.organization
    data = {
        "id": obj.id,
        "title": obj.title,
        "description": obj.description,
        "category": obj.category.slug,
        "unit": str(obj.category.unit),
        "quantity": obj.quantity,
        "status": obj.effective_status,  # past its date: expired
        # name_uk and oblast_uk are for the pages (places.labels); the API's schemas leave them out.
        "place": {
            "id": obj.place.id,
            "name": obj.place.name,
            "oblast": obj.place.oblast,
            "name_uk": obj.place.name_uk,
            "oblast_uk": obj.place.oblast_uk,
        },
        "location": location_for(viewer, obj, exact),
        "organization": {"id": org.id, "name": org.name, "verified": org.verified},
        "created_at": obj.created_at,
        "updated_at": obj.updated_at,
    }
    if near is not None:
        data["distance_km"] = distance_for(obj, near["lat"], near["lon"], exact)
    return data


def _need_fields(need, exact: bool) -> dict:
    data = {
        "urgency": str(need.urgency),
        "needed_by": need.needed_by,
        "sensitive": need.sensitive,
        "pledged": need.pledged,
        "delivered": need.delivered,
        "open": need.quantity - need.pledged,
    }
    if exact:
        data["delivery_note"] = need.delivery_note
    return data


def _offer_fields(offer, exact: bool) -> dict:
    return {
        "delivery_radius_km": offer.delivery_radius_km,
        "available_until": offer.available_until,
        "allocated": offer.allocated,
        "remaining": offer.quantity - offer.allocated,
    }


def posting_to_dict(own, obj, viewer, near: dict | None = None, exact: bool | None = None):
    """A need or offer for this viewer (own(obj, exact) adds the kind's fields): the exact
    location, and a need's delivery note, only if allowed."""
    if exact is None:
        exact = can_see_exact(viewer, obj)
    return {**_common(obj, viewer, exact, near), **own(obj, exact)}


need_to_dict = partial(posting_to_dict, _need_fields)  # (need, viewer, near=None, exact=None)
offer_to_dict = partial(posting_to_dict, _offer_fields)  # (offer, viewer, near=None, exact=None)


def page_to_dicts(page: dict, viewer, to_dict, near: dict | None = None) -> dict:
    """A list page with each row shown to this viewer (one privacy query for all rows)."""
    exact = exact_ids(viewer, page["items"])
    items = [to_dict(obj, viewer, near=near, exact=obj.id in exact) for obj in page["items"]]
    return {**page, "items": items}


def _rounded_explanation(explanation: dict, distance: float | None) -> dict:
    """The engine's explanation for a viewer who may not see both exact points: the distance
    as that viewer may know it (from the coarse point, rounded), and without the closeness
    part (and so the score), from which with the offer's public radius the exact distance
    could be worked back."""
    if not isinstance(explanation, dict):
        return explanation
    shown = {k: v for k, v in explanation.items() if k != "score"}
    facts = explanation.get("facts")
    if isinstance(facts, dict) and "distance_km" in facts:
        shown["facts"] = {**facts, "distance_km": distance, "distance_rounded": True}
    parts = explanation.get("parts")
    if isinstance(parts, dict):
        shown["parts"] = {k: v for k, v in parts.items() if k != "closeness"}
    return shown


def match_to_dict(
    match, viewer, exact_need: bool | None = None, exact_offer: bool | None = None
) -> dict:
    """A match for this viewer: the other side's contact and exact points only for the two
    parties of a confirmed (or later) match and for staff; distances coarse for the others."""
    from aidmatch.matches.operations import is_confirmed_party, is_overdue
    from aidmatch.permissions import is_member, is_staff

    need, offer, org = match.need, match.offer, match.organization
    if exact_need is None:
        exact_need = can_see_exact(viewer, need)
    if exact_offer is None and offer is not None:
        exact_offer = can_see_exact(viewer, offer)
    distance, explanation = match.distance_km, match.explanation or {}
    hidden: set[str] = set()
    if not (exact_need and (offer is None or exact_offer)):
        hidden.add("score")
        # Even rounded, a distance from the exact point would help triangulate it: measure
        # from the need's coarse point, as the match's page does (pages.distance_shown).
        distance = (
            distance_for(need, offer.lat, offer.lon, exact=False) if offer is not None else None
        )
        explanation = _rounded_explanation(explanation, distance)
    data = {
        "id": match.id,
        "need_id": match.need_id,
        "offer_id": match.offer_id,
        "organization": {"id": org.id, "name": org.name, "verified": org.verified},
        "quantity": match.quantity,
        "status": str(match.effective_status),
        "source": str(match.source),
        "donor_accepted": match.donor_accepted_at is not None,
        "coordinator_approved": match.coordinator_approved_at is not None,
        "distance_km": distance,
        "score": match.score if "score" not in hidden else None,
        "explanation": explanation,
        "quantity_received": match.quantity_received,
        "discrepancy": match.discrepancy,
        "expires_at": match.expires_at,
        "overdue": is_overdue(match),
        "extension_used": match.extension_used,
        "reason": match.reason,
        "confirmed_at": match.confirmed_at,
        "shipped_at": match.shipped_at,
        "shipped_note": match.shipped_note,
        "tracking": match.tracking,
        "delivered_at": match.delivered_at,
        "delivery_note": match.delivery_note,
        "created_at": match.created_at,
        "updated_at": match.updated_at,
        "need": need_to_dict(need, viewer, exact=exact_need),
        "offer": offer_to_dict(offer, viewer, exact=exact_offer) if offer is not None else None,
    }
    if is_staff(viewer):
        data["contacts"] = {"donor": org.contact, "group": need.organization.contact}
    elif is_confirmed_party(viewer, match):
        other = need.organization if is_member(viewer, org) else org
        data["contact"] = other.contact
    return data


def matches_to_dicts(page: dict, viewer) -> dict:
    """A page of matches for this viewer, with the privacy of their needs and offers decided
    in one query each."""
    matches = page["items"]
    exact_needs = exact_ids(viewer, [m.need for m in matches])
    exact_offers = exact_ids(viewer, [m.offer for m in matches if m.offer is not None])
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
