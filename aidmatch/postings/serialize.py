"""Needs and offers as the API, pages and CSV show them to one viewer (privacy applied)."""

from __future__ import annotations

from functools import partial

from aidmatch.privacy import viewer_for


def _common(obj, policy, exact: bool, near: dict | None) -> dict:
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
        "location": policy.point(obj, exact),
        "organization": {
            "id": org.id,
            "name": org.name,
            "verified": org.verified,
            # the badge (orgs/vouches.py), never who vouched
            "vouched": not org.verified and policy.vouched(org.id),
        },
        "created_at": obj.created_at,
        "updated_at": obj.updated_at,
    }
    if near is not None:
        data["distance_km"] = policy.distance_km(obj, near["lat"], near["lon"], exact)
    return data


def _need_fields(need, policy, exact: bool) -> dict:
    data = {
        "urgency": str(need.urgency),
        "needed_by": need.needed_by,
        "sensitive": need.sensitive,
        "pledged": need.pledged,
        # held softly by proposals and requests the donor has not accepted (matches/holds.py)
        "proposed": need.proposed,
        "delivered": need.delivered,
        "open": max(need.quantity - need.pledged - need.proposed, 0),
    }
    note = policy.delivery_note(need, exact)
    if note is not None:
        data["delivery_note"] = note
    return data


def _offer_fields(offer, _policy, _exact: bool) -> dict:
    return {
        "delivery_radius_km": offer.delivery_radius_km,
        "available_until": offer.available_until,
        "allocated": offer.allocated,
        "proposed": offer.proposed,
        "remaining": max(offer.quantity - offer.allocated - offer.proposed, 0),
    }


def posting_to_dict(own, obj, viewer, near: dict | None = None, exact: bool | None = None):
    """A need or offer for this viewer (own(obj, policy, exact) adds the kind's fields): the
    exact location, and a need's delivery note, only as the privacy policy allows."""
    policy = viewer_for(viewer)
    if exact is None:
        exact = policy.sees_exact(obj)
    return {**_common(obj, policy, exact, near), **own(obj, policy, exact)}


need_to_dict = partial(posting_to_dict, _need_fields)  # (need, viewer, near=None, exact=None)
offer_to_dict = partial(posting_to_dict, _offer_fields)  # (offer, viewer, near=None, exact=None)


def page_to_dicts(page: dict, viewer, to_dict, near: dict | None = None) -> dict:
    """A list page with each row shown to this viewer (one privacy query for all rows)."""
    policy = viewer_for(viewer)
    exact = policy.exact_ids(page["items"])
    items = [to_dict(obj, viewer, near=near, exact=obj.id in exact) for obj in page["items"]]
    return {**page, "items": items}
