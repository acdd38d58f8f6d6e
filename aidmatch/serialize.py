"""Needs and offers as the API, pages and CSV show them to one viewer (privacy applied)."""

from __future__ import annotations

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
        "status": str(obj.status),
        "place": {"id": obj.place.id, "name": obj.place.name, "oblast": obj.place.oblast},
        "location": location_for(viewer, obj, exact),
        "organization": {"id": org.id, "name": org.name, "verified": org.verified},
        "created_at": obj.created_at,
        "updated_at": obj.updated_at,
    }
    if near is not None:
        data["distance_km"] = distance_for(obj, near["lat"], near["lon"], exact)
    return data


def need_to_dict(need, viewer, near: dict | None = None, exact: bool | None = None) -> dict:
    """A need for this viewer: exact location and delivery note only if allowed."""
    if exact is None:
        exact = can_see_exact(viewer, need)
    data = _common(need, viewer, exact, near)
    data.update(
        urgency=str(need.urgency),
        needed_by=need.needed_by,
        sensitive=need.sensitive,
        pledged=need.pledged,
        delivered=need.delivered,
        open=need.quantity - need.pledged,
    )
    if exact:
        data["delivery_note"] = need.delivery_note
    return data


def offer_to_dict(offer, viewer, near: dict | None = None, exact: bool | None = None) -> dict:
    """An offer for this viewer: exact location only if allowed."""
    if exact is None:
        exact = can_see_exact(viewer, offer)
    data = _common(offer, viewer, exact, near)
    data.update(
        delivery_radius_km=offer.delivery_radius_km,
        available_until=offer.available_until,
        allocated=offer.allocated,
        remaining=offer.quantity - offer.allocated,
    )
    return data


def page_to_dicts(page: dict, viewer, to_dict, near: dict | None = None) -> dict:
    """A list page with each row shown to this viewer (one privacy query for all rows)."""
    exact = exact_ids(viewer, page["items"])
    items = [to_dict(obj, viewer, near=near, exact=obj.id in exact) for obj in page["items"]]
    return {**page, "items": items}
