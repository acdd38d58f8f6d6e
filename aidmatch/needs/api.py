"""/api/v1/needs: list, post, read, edit and cancel needs (the same operations as the pages)."""

from __future__ import annotations

import marshmallow as ma
from flask import abort, request
from flask_login import current_user

from aidmatch.api import make_blueprint, page_schema, token_required
from aidmatch.extensions import db
from aidmatch.needs.models import Urgency
from aidmatch.needs.operations import (
    can_edit_need,
    can_post_need,
    cancel_need,
    post_need,
    update_need,
)
from aidmatch.needs.queries import get_visible_need, list_needs
from aidmatch.schemas import (
    ListArgs,
    PostingIn,
    PostingOut,
    ReasonIn,
    filters_from_args,
    near_point,
)
from aidmatch.serialize import need_to_dict, page_to_dicts

blp = make_blueprint(
    "api_needs", __name__, url_prefix="/needs", description="Needs of frontline groups"
)

URGENCIES = [u.value for u in Urgency]


class NeedIn(PostingIn):
    urgency = ma.fields.String(load_default="normal", validate=ma.validate.OneOf(URGENCIES))
    needed_by = ma.fields.Date(allow_none=True)
    delivery_note = ma.fields.String(load_default="")
    sensitive = ma.fields.Boolean(load_default=False)


class NeedPatch(NeedIn):
    """The fields of a need to change (any subset)."""


class NeedOut(PostingOut):
    urgency = ma.fields.String()
    needed_by = ma.fields.Date(allow_none=True)
    sensitive = ma.fields.Boolean()
    pledged = ma.fields.Integer()
    delivered = ma.fields.Integer()
    open = ma.fields.Integer()
    delivery_note = ma.fields.String(
        metadata={"description": "only for the owner, coordinators and a confirmed donor"}
    )


class NeedListArgs(ListArgs):
    urgency = ma.fields.String(validate=ma.validate.OneOf(URGENCIES))


NeedPage = page_schema(NeedOut, "NeedPage")


@blp.route("", methods=["GET"])
@token_required
@blp.arguments(NeedListArgs, location="query")
@blp.response(200, NeedPage)
def list_(args):
    """Needs you may see: filter by category, oblast, urgency, status, organization, place."""
    filters = filters_from_args(args, urgency=args.get("urgency"))
    page = list_needs(current_user, filters)
    result = page_to_dicts(page, current_user, need_to_dict, near=near_point(filters))
    db.session.commit()
    return result


@blp.route("", methods=["POST"])
@token_required
@blp.arguments(NeedIn)
@blp.response(201, NeedOut)
@blp.alt_response(200, schema=NeedOut, description="the need a repeated Idempotency-Key posted")
def create(payload):
    """Post a need for your frontline group.

    Send an `Idempotency-Key` header to make a retry safe: the same key returns the need the
    first request posted (200) instead of posting a second one; the same key with other
    content is refused (409).
    """
    if not can_post_need(current_user):
        abort(403, "Only organizers of a frontline group post needs.")
    key = request.headers.get("Idempotency-Key")
    posted = post_need(current_user.organization, payload, current_user, idempotency_key=key)
    db.session.commit()
    return need_to_dict(posted.obj, current_user), 201 if posted.created else 200


@blp.route("/<int:need_id>", methods=["GET"])
@token_required
@blp.response(200, NeedOut)
def read(need_id):
    """One need (404 if you may not see it)."""
    need = get_visible_need(current_user, need_id)
    db.session.commit()
    return need_to_dict(need, current_user)


@blp.route("/<int:need_id>", methods=["PATCH"])
@token_required
@blp.arguments(NeedPatch(partial=True))
@blp.response(200, NeedOut)
def update(payload, need_id):
    """Edit an open need of your group; the quantity may not drop below what is pledged."""
    need = get_visible_need(current_user, need_id)
    if not can_edit_need(current_user, need):
        abort(403, "Only members of the group that posted this need may edit it.")
    update_need(need, payload, current_user)
    db.session.commit()
    return need_to_dict(need, current_user)


@blp.route("/<int:need_id>/cancel", methods=["POST"])
@token_required
@blp.arguments(ReasonIn)
@blp.response(200, NeedOut)
def cancel(payload, need_id):
    """Cancel an open need of your group; its matches not yet shipped are cancelled too."""
    need = get_visible_need(current_user, need_id)
    if not can_edit_need(current_user, need):
        abort(403, "Only members of the group that posted this need may cancel it.")
    cancel_need(need, current_user, payload.get("reason", ""))
    db.session.commit()
    return need_to_dict(need, current_user)
