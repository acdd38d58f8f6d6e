"""/api/v1/needs: list, post, read, edit and cancel needs (the same operations as the pages;
the routes are the posting kit's, postings/api.py)."""

from __future__ import annotations

import marshmallow as ma

from aidmatch.needs.kind import NEED
from aidmatch.needs.models import NeedStatus, Urgency
from aidmatch.postings.api import ApiSpec, posting_routes
from aidmatch.web.api import make_blueprint, page_schema
from aidmatch.web.schemas import ListArgs, PostingIn, PostingOut, Text, status_filter

blp = make_blueprint(
    "api_needs", __name__, tag="Needs", url_prefix="/needs", description="Needs of frontline groups"
)

URGENCIES = [u.value for u in Urgency]


class NeedIn(PostingIn):
    urgency = ma.fields.String(load_default="normal", validate=ma.validate.OneOf(URGENCIES))
    needed_by = ma.fields.Date(allow_none=True)
    delivery_note = Text(load_default="")
    sensitive = ma.fields.Boolean(load_default=False)


class NeedPatch(NeedIn):
    """The fields of a need to change (any subset)."""


class NeedOut(PostingOut):
    urgency = ma.fields.String()
    needed_by = ma.fields.Date(allow_none=True)
    sensitive = ma.fields.Boolean()
    pledged = ma.fields.Integer(
        metadata={"description": "held by matches a donor agreed to (claims, accepted)"}
    )
    proposed = ma.fields.Integer(
        metadata={
            "description": "held by proposals and requests no donor has accepted yet; "
            "still claimable"
        }
    )
    delivered = ma.fields.Integer()
    open = ma.fields.Integer(
        metadata={"description": "quantity - pledged - proposed (at least 0); a claim may "
                  "take up to quantity - pledged"}
    )  # fmt: skip
    delivery_note = ma.fields.String(
        metadata={"description": "only for the owner, coordinators and a confirmed donor"}
    )


class NeedListArgs(ListArgs):
    status = status_filter([s.value for s in NeedStatus])
    urgency = ma.fields.String(validate=ma.validate.OneOf(URGENCIES))


posting_routes(
    blp,
    ApiSpec(
        kind=NEED,
        schema_in=NeedIn,
        schema_patch=NeedPatch,
        schema_out=NeedOut,
        schema_page=page_schema(NeedOut, "NeedPage"),
        list_args=NeedListArgs,
        list_extra=lambda args: {"urgency": args.get("urgency")},
        docs={
            "list": "Needs you may see: filter by category, oblast, urgency, status, "
            "organization, place.",
            "create": """Post a need for your frontline group.

    Send an `Idempotency-Key` header to make a retry safe: the same key returns the need the
    first request posted (200) instead of posting a second one; the same key with other
    content is refused (409).
    """,
            "again": "the need a repeated Idempotency-Key posted",
            "read": "One need (404 if you may not see it).",
            "update": "Edit an open need of your group; the quantity may not drop below what "
            "is pledged.",
            "end": "Cancel an open need of your group; its matches not yet shipped are "
            "cancelled too.",
        },
        refusals={
            "post": "Only organizers of a frontline group post needs.",
            "edit": "Only members of the group that posted this need may edit it.",
            "end": "Only members of the group that posted this need may cancel it.",
        },
    ),
)
