"""/api/v1/offers: list, post, read, edit and withdraw offers (the same operations as the
pages; the routes are the posting kit's, postings/api.py)."""

from __future__ import annotations

import marshmallow as ma

from aidmatch.offers.kind import OFFER
from aidmatch.offers.models import OfferStatus
from aidmatch.postings.api import ApiSpec, posting_routes
from aidmatch.web.api import make_blueprint, page_schema
from aidmatch.web.schemas import ListArgs, PostingIn, PostingOut, status_filter

blp = make_blueprint(
    "api_offers",
    __name__,
    tag="Offers",
    url_prefix="/offers",
    description="Offers of donor collectives",
)


class OfferIn(PostingIn):
    delivery_radius_km = ma.fields.Integer(
        allow_none=True, strict=True, metadata={"description": "null: can deliver anywhere"}
    )
    available_until = ma.fields.Date(allow_none=True)


class OfferPatch(OfferIn):
    """The fields of an offer to change (any subset)."""


class OfferListArgs(ListArgs):
    status = status_filter([s.value for s in OfferStatus])


class OfferOut(PostingOut):
    delivery_radius_km = ma.fields.Integer(allow_none=True)
    available_until = ma.fields.Date(allow_none=True)
    allocated = ma.fields.Integer(metadata={"description": "held by matches the donor agreed to"})
    proposed = ma.fields.Integer(
        metadata={"description": "held by proposals and requests the donor has not accepted"}
    )
    remaining = ma.fields.Integer(
        metadata={"description": "quantity - allocated - proposed (at least 0)"}
    )


posting_routes(
    blp,
    ApiSpec(
        kind=OFFER,
        schema_in=OfferIn,
        schema_patch=OfferPatch,
        schema_out=OfferOut,
        schema_page=page_schema(OfferOut, "OfferPage"),
        list_args=OfferListArgs,
        docs={
            "list": "Offers you may see: filter by category, oblast, status, organization, place.",
            "create": """Post an offer for your donor or supply collective.

    Send an `Idempotency-Key` header to make a retry safe: the same key returns the offer the
    first request posted (200) instead of posting a second one; the same key with other
    content is refused (409).
    """,
            "again": "the offer a repeated Idempotency-Key posted",
            "read": "One offer (404 if you may not see it).",
            "update": "Edit an open offer of your collective; the quantity may not drop below "
            "the allocated.",
            "end": "Withdraw an offer of your collective; its matches not yet shipped are "
            "cancelled.",
        },
        refusals={
            "post": "Only members of a donor or supply collective post offers.",
            "edit": "Only members of the collective that posted this offer may edit it.",
            "end": "Only members of the collective that posted this offer may withdraw it.",
        },
    ),
)
