"""Verbs on offers: post, edit, withdraw, expire. They flush and audit; the caller commits."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from aidmatch.db import utcnow
from aidmatch.errors import ApiError
from aidmatch.extensions import db
from aidmatch.offers.models import Offer, OfferStatus
from aidmatch.orgs.models import DONOR_KINDS
from aidmatch.permissions import is_member
from aidmatch.posting import (
    MAX_RADIUS_KM,
    FieldErrors,
    Posted,
    audit_changes,
    clean_common,
    clean_idempotency_key,
    clean_kept_or_future_date,
    end_posting,
    expire_stale,
    insert_posting,
    place_point,
    post_once,
    refresh_search_text,
    set_quantity,
    snapshot,
)

AUDITED = (
    "title",
    "description",
    "category_id",
    "quantity",
    "place_id",
    "lat",
    "lon",
    "delivery_radius_km",
    "available_until",
    "status",
)
EDITABLE = (
    "title",
    "description",
    "category",
    "quantity",
    "place_id",
    "lat",
    "lon",
    "delivery_radius_km",
    "available_until",
)


def can_post_offer(user) -> bool:
    """Donors of a donor or supply collective post offers."""
    org = user.organization if user and user.is_authenticated else None
    return org is not None and org.kind in DONOR_KINDS


def can_edit_offer(user, offer: Offer) -> bool:
    """Members of the owning organization edit and withdraw its offers."""
    return is_member(user, offer.organization)


def _clean_radius(errors: FieldErrors, value) -> int | None:
    """A delivery radius in whole km from 1 to MAX_RADIUS_KM; empty or None means anywhere."""
    if value in (None, "", "anywhere"):
        return None
    if isinstance(value, bool):
        errors.add("delivery_radius_km", _("Give the radius in whole kilometres."))
        return None
    try:
        radius = int(value) if not isinstance(value, float) or value.is_integer() else None
    except (TypeError, ValueError):
        radius = None
    if radius is None:
        errors.add("delivery_radius_km", _("Give the radius in whole kilometres."))
    elif not 1 <= radius <= MAX_RADIUS_KM:
        errors.add(
            "delivery_radius_km",
            _("From 1 to %(max)d km, or leave empty for anywhere.", max=MAX_RADIUS_KM),
        )
        radius = None
    return radius


def _clean(data: dict, today: date, partial: bool, offer: Offer | None = None) -> dict:
    """Validate posted fields (all of them, or only those given when partial)."""
    errors = FieldErrors()
    out: dict = {}

    def given(field: str) -> bool:
        return not partial or field in data

    out.update(clean_common(errors, data, given))
    if given("delivery_radius_km"):
        out["delivery_radius_km"] = _clean_radius(errors, data.get("delivery_radius_km"))
    if given("available_until"):
        current = offer.available_until if offer is not None else None
        out["available_until"] = clean_kept_or_future_date(
            errors, data, "available_until", current, today
        )
    errors.raise_if_any()
    return out


def post_offer(org, data: dict, actor, today: date | None = None, idempotency_key=None) -> Posted:
    """Post an offer for a donor or supply collective; 422 with per-field messages.

    With an Idempotency-Key, a repeat returns the offer the first request posted (created
    False), also when both arrive at once; the same key with other content is refused (409).
    """
    if org is None or org.kind not in DONOR_KINDS:
        raise ApiError(403, _("Only donor and supply collectives post offers."))
    key = clean_idempotency_key(idempotency_key)
    values = _clean(data, today or utcnow().date(), partial=False)
    place, lat, lon = values.pop("location")

    sent = {**values, "place_id": place.id, "lat": lat, "lon": lon}
    sent["category_id"] = sent.pop("category").id

    def make(digest: str | None) -> Offer:
        offer = Offer(
            organization=org,
            created_by_id=getattr(actor, "id", None),
            status=OfferStatus.OPEN,
            idempotency_key=key,
            idempotency_digest=digest,
            **values,
        )
        insert_posting(offer, place, lat, lon, actor, "offer.create", AUDITED)
        return offer

    refusal = _("This Idempotency-Key was already used for a different offer.")
    return post_once(Offer, org, key, make, sent, refusal)


def create_offer(org, data: dict, actor, today: date | None = None, idempotency_key=None) -> Offer:
    """Post an offer (see post_offer); return it."""
    return post_offer(org, data, actor, today, idempotency_key).obj


def update_offer(offer: Offer, data: dict, actor, today: date | None = None) -> Offer:
    """Edit an open offer; the quantity may not drop below what is already allocated."""
    if offer.status != OfferStatus.OPEN:
        raise ApiError(
            409, _("Only an open offer can be edited; this one is %(s)s.", s=offer.status)
        )
    today = today or utcnow().date()
    values = _clean({k: v for k, v in data.items() if k in EDITABLE}, today, True, offer)
    before = snapshot(offer, AUDITED)
    if "quantity" in values:
        set_quantity(offer, values.pop("quantity"), "allocated")
    if "location" in values:
        place_point(offer, *values.pop("location"))
    for field, value in values.items():
        setattr(offer, field, value)
    refresh_search_text(offer)
    db.session.flush()
    audit_changes(actor, "offer.update", offer, before, AUDITED)
    return offer


def withdraw_offer(offer: Offer, actor, reason: str = "") -> Offer:
    """Withdraw an open offer and cancel its matches not yet shipped."""
    open_statuses = (OfferStatus.OPEN, OfferStatus.EXHAUSTED)

    def refusal(status):
        return _("Only an open offer can be withdrawn; this one is %(s)s.", s=status)

    end_posting(
        offer, actor, OfferStatus.WITHDRAWN, open_statuses, "offer.withdraw", reason, refusal
    )
    return offer


def expire_offers(today: date | None = None, ids: list[int] | None = None) -> int:
    """Expire open offers past their available-until date (all, or among ids); audit each."""
    return expire_stale(Offer, Offer.available_until, "offer.expire", today or utcnow().date(), ids)
