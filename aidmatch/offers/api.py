"""/api/v1/offers: list, post, read, edit and withdraw offers (the same operations as pages)."""

from __future__ import annotations

import marshmallow as ma
from flask import abort, request
from flask_login import current_user

from aidmatch.api import make_blueprint, page_schema, token_required
from aidmatch.extensions import db
from aidmatch.offers.operations import (
    can_edit_offer,
    can_post_offer,
    post_offer,
    update_offer,
    withdraw_offer,
)
from aidmatch.offers.queries import get_visible_offer, list_offers
from aidmatch.schemas import (
    ListArgs,
    PostingIn,
    PostingOut,
    ReasonIn,
    filters_from_args,
    near_point,
)
from aidmatch.serialize import offer_to_dict, page_to_dicts

blp = make_blueprint(
    "api_offers", __name__, url_prefix="/offers", description="Offers of donor collectives"
)


class OfferIn(PostingIn):
    delivery_radius_km = ma.fields.Integer(
        allow_none=True, strict=True, metadata={"description": "null: can deliver anywhere"}
    )
    available_until = ma.fields.Date(allow_none=True)


class OfferPatch(OfferIn):
    """The fields of an offer to change (any subset)."""


class OfferOut(PostingOut):
    delivery_radius_km = ma.fields.Integer(allow_none=True)
    available_until = ma.fields.Date(allow_none=True)
    allocated = ma.fields.Integer()
    remaining = ma.fields.Integer()


OfferPage = page_schema(OfferOut, "OfferPage")


@blp.route("", methods=["GET"])
@token_required
@blp.arguments(ListArgs, location="query")
@blp.response(200, OfferPage)
def list_(args):
    """Offers you may see: filter by category, oblast, status, organization, place."""
    filters = filters_from_args(args)
    page = list_offers(current_user, filters)
    result = page_to_dicts(page, current_user, offer_to_dict, near=near_point(filters))
    db.session.commit()
    return result


@blp.route("", methods=["POST"])
@token_required
@blp.arguments(OfferIn)
@blp.response(201, OfferOut)
@blp.alt_response(200, schema=OfferOut, description="the offer a repeated Idempotency-Key posted")
def create(payload):
    """Post an offer for your donor or supply collective.

    Send an `Idempotency-Key` header to make a retry safe: the same key returns the offer the
    first request posted (200) instead of posting a second one; the same key with other
    content is refused (409).
    """
    if not can_post_offer(current_user):
        abort(403, "Only members of a donor or supply collective post offers.")
    key = request.headers.get("Idempotency-Key")
    posted = post_offer(current_user.organization, payload, current_user, idempotency_key=key)
    db.session.commit()
    return offer_to_dict(posted.obj, current_user), 201 if posted.created else 200


@blp.route("/<int:offer_id>", methods=["GET"])
@token_required
@blp.response(200, OfferOut)
def read(offer_id):
    """One offer (404 if you may not see it)."""
    offer = get_visible_offer(current_user, offer_id)
    db.session.commit()
    return offer_to_dict(offer, current_user)


@blp.route("/<int:offer_id>", methods=["PATCH"])
@token_required
@blp.arguments(OfferPatch(partial=True))
@blp.response(200, OfferOut)
def update(payload, offer_id):
    """Edit an open offer of your collective; the quantity may not drop below the allocated."""
    offer = get_visible_offer(current_user, offer_id)
    if not can_edit_offer(current_user, offer):
        abort(403, "Only members of the collective that posted this offer may edit it.")
    update_offer(offer, payload, current_user)
    db.session.commit()
    return offer_to_dict(offer, current_user)


@blp.route("/<int:offer_id>/withdraw", methods=["POST"])
@token_required
@blp.arguments(ReasonIn)
@blp.response(200, OfferOut)
def withdraw(payload, offer_id):
    """Withdraw an offer of your collective; its matches not yet shipped are cancelled."""
    offer = get_visible_offer(current_user, offer_id)
    if not can_edit_offer(current_user, offer):
        abort(403, "Only members of the collective that posted this offer may withdraw it.")
    withdraw_offer(offer, current_user, payload.get("reason", ""))
    db.session.commit()
    return offer_to_dict(offer, current_user)
