"""An offer as the posting kit sees it: its own fields, rules, order and words."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from aidmatch.offers.models import Offer, OfferStatus
from aidmatch.orgs.models import DONOR_KINDS
from aidmatch.postings.kind import Kind
from aidmatch.postings.serialize import offer_to_dict
from aidmatch.postings.validate import (
    MAX_RADIUS_KM,
    FieldErrors,
    clean_kept_or_future_date,
    whole_number,
)
from aidmatch.web.labels import OFFER_STATUS_LABELS

AUDITED = (
    "title", "description", "category_id", "quantity", "place_id", "lat", "lon",
    "delivery_radius_km", "available_until", "status",
)  # fmt: skip
EDITABLE = (
    "title", "description", "category", "quantity", "place_id", "lat", "lon",
    "delivery_radius_km", "available_until",
)  # fmt: skip


def may_post(org) -> bool:
    """Donor and supply collectives post offers."""
    return org is not None and org.kind in DONOR_KINDS


def _clean_radius(errors: FieldErrors, value) -> int | None:
    """A delivery radius in whole km from 1 to MAX_RADIUS_KM; empty or None means anywhere."""
    if value in (None, "", "anywhere"):
        return None
    if isinstance(value, bool):
        errors.add("delivery_radius_km", _("Give the radius in whole kilometres."))
        return None
    radius = whole_number(value)
    if radius is None:
        errors.add("delivery_radius_km", _("Give the radius in whole kilometres."))
    elif not 1 <= radius <= MAX_RADIUS_KM:
        errors.add(
            "delivery_radius_km",
            _("From 1 to %(max)d km, or leave empty for anywhere.", max=MAX_RADIUS_KM),
        )
        radius = None
    return radius


def clean_own(errors: FieldErrors, data: dict, given, offer: Offer | None, today: date) -> dict:
    """An offer's own fields: delivery radius and available-until date."""
    out: dict = {}
    if given("delivery_radius_km"):
        out["delivery_radius_km"] = _clean_radius(errors, data.get("delivery_radius_km"))
    if given("available_until"):
        current = offer.available_until if offer is not None else None
        out["available_until"] = clean_kept_or_future_date(
            errors, data, "available_until", current, today
        )
    return out


def order(stmt, filters):
    """Newest first."""
    return stmt.order_by(Offer.created_at.desc(), Offer.id.desc())


OFFER = Kind(
    name="offer",
    model=Offer,
    held="allocated",
    audited=AUDITED,
    editable=EDITABLE,
    end_status=OfferStatus.WITHDRAWN,
    end_verb="withdraw",
    end_from=(OfferStatus.OPEN, OfferStatus.EXHAUSTED),
    clean_own=clean_own,
    may_post=may_post,
    to_dict=offer_to_dict,
    status_labels=OFFER_STATUS_LABELS,
    order=order,
    sheet_columns=("delivery_radius_km", "available_until"),
    counter_columns=("allocated", "proposed", "remaining"),
    hxl_columns=(("available_until", "#date+end"),),
    words={
        "may_not_post": lambda: _("Only donor and supply collectives post offers."),
        "key_reused": lambda: _("This Idempotency-Key was already used for a different offer."),
        "not_editable": lambda s: _("Only an open offer can be edited; this one is %(s)s.", s=s),
        "not_endable": lambda s: _("Only an open offer can be withdrawn; this one is %(s)s.", s=s),
        "edit_refused": lambda: _("Only an open offer can be edited."),
        "ended": lambda: _("The offer is withdrawn."),
        "posted": lambda: _("Your offer is posted."),
        "posted_unseen": lambda: _(
            "Your offer is saved. Groups will see it once a coordinator verifies your collective."
        ),
        "again": lambda: _("This form was already sent: your offer was posted once, here it is."),
        "changed": lambda: _(
            "This form was already sent and posted this offer; changes made after "
            "sending it were not saved. Edit the offer to make them."
        ),
    },
)
