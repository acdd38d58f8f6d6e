"""/api/v1/matches/<id>/legs and /api/v1/legs/<id>/confirm: a shipment's route through hubs
(the same verbs as the match page: legs/operations.py).

Refused as the match API refuses: 404 for a match the caller may not see, 403 for a hand-over
by anyone but the holder or a confirmation by anyone but the leg's receiver, 409 for a leg
already confirmed or a match not shipped, 422 for a quantity beyond what was sent or held."""

from __future__ import annotations

import marshmallow as ma
from flask_login import current_user

from aidmatch.legs import operations as ops
from aidmatch.legs.models import CARRIER_MAX, TRACKING_MAX, Leg
from aidmatch.legs.views import where_now
from aidmatch.matches.rules import get_visible_match
from aidmatch.privacy import viewer_for
from aidmatch.web.api import make_blueprint, token_required
from aidmatch.web.schemas import Id, OrgRef, Text

blp = make_blueprint(
    "api_legs", __name__, description="A shipment's route through hubs, leg by leg"
)


class HandOverIn(ma.Schema):
    to_org_id = Id(
        required=True, metadata={"description": "a verified hub, or the group of the need"}
    )
    quantity_sent = ma.fields.Integer(
        required=True, strict=True, metadata={"description": "1 to what the holder has"}
    )
    carrier = Text(load_default="", validate=ma.validate.Length(max=CARRIER_MAX))
    tracking = Text(load_default="", validate=ma.validate.Length(max=TRACKING_MAX))
    handed_over_at = ma.fields.AwareDateTime(
        load_default=None, metadata={"description": "when (default: now); not in the future"}
    )


class LegConfirmIn(ma.Schema):
    quantity_received = ma.fields.Integer(
        required=True, strict=True, metadata={"description": "0 to the leg's quantity sent"}
    )
    note = Text(load_default="")


class LegOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    match_id = ma.fields.Integer(required=True)
    position = ma.fields.Integer(required=True, metadata={"description": "1 for the first"})
    from_org = ma.fields.Nested(OrgRef, required=True)
    to_org = ma.fields.Nested(OrgRef, required=True)
    status = ma.fields.String(required=True, metadata={"description": "on_the_way, received"})
    handed_over_at = ma.fields.DateTime(required=True)
    quantity_sent = ma.fields.Integer(required=True)
    quantity_received = ma.fields.Integer(allow_none=True, required=True)
    shortfall = ma.fields.Integer(required=True, metadata={"description": "lost on this leg"})
    confirmed_at = ma.fields.DateTime(allow_none=True, required=True)
    late = ma.fields.Boolean(required=True, metadata={"description": "not confirmed in time"})
    # Only for the leg's two organizations and coordinators (null for anyone else).
    carrier = ma.fields.String(allow_none=True)
    tracking = ma.fields.String(allow_none=True)
    note = ma.fields.String(allow_none=True)
    to_contact = ma.fields.String(allow_none=True)


class RouteOut(ma.Schema):
    where = ma.fields.String(required=True, metadata={"description": "where the goods are"})
    holder = ma.fields.Nested(OrgRef, required=True, metadata={"description": "who holds them"})
    shortfall = ma.fields.Integer(required=True)
    items = ma.fields.List(ma.fields.Nested(LegOut), required=True)


def _org(org) -> dict:
    return {"id": org.id, "name": org.name, "verified": org.verified}


def leg_to_dict(leg: Leg, user) -> dict:
    """A leg as this user may see it (privacy/policy.sees_leg_details)."""
    details = viewer_for(user).sees_leg_details(leg)
    return {
        "id": leg.id,
        "match_id": leg.match_id,
        "position": leg.position,
        "from_org": _org(leg.from_org),
        "to_org": _org(leg.to_org),
        "status": str(leg.status),
        "handed_over_at": leg.handed_over_at,
        "quantity_sent": leg.quantity_sent,
        "quantity_received": leg.quantity_received,
        "shortfall": leg.shortfall,
        "confirmed_at": leg.confirmed_at,
        "late": ops.is_late(leg) and leg.match.status == "shipped",
        "carrier": leg.carrier if details else None,
        "tracking": leg.tracking if details else None,
        "note": leg.note if details else None,
        "to_contact": leg.to_org.contact if details else None,
    }


@blp.route("/matches/<int:match_id>/legs", methods=["GET"])
@token_required
@blp.response(200, RouteOut)
def route(match_id):
    """The match's route: where the goods are, who holds them, each leg (to whoever sees the
    match: its sides, the organizations of its legs, coordinators)."""
    user = current_user._get_current_object()
    match = get_visible_match(user, match_id)
    legs = ops.legs_of(match)
    return {
        "where": where_now(match, legs),
        "holder": _org(ops.holder(match, legs)),
        "shortfall": sum(leg.shortfall for leg in legs),
        "items": [leg_to_dict(leg, user) for leg in legs],
    }


@blp.route("/matches/<int:match_id>/legs", methods=["POST"])
@token_required
@blp.arguments(HandOverIn)
@blp.response(201, LegOut)
def hand_over(payload, match_id):
    """The holder of the goods (the donor, then each leg's receiver) hands them over to a hub
    or to the group: a new leg on the way."""
    user = current_user._get_current_object()
    match = get_visible_match(user, match_id)
    leg = ops.hand_over(
        match,
        user,
        payload["to_org_id"],
        payload["quantity_sent"],
        payload["carrier"],
        payload["tracking"],
        payload["handed_over_at"],
    )
    return leg_to_dict(leg, user), 201


@blp.route("/legs/<int:leg_id>/confirm", methods=["POST"])
@token_required
@blp.arguments(LegConfirmIn)
@blp.response(200, LegOut)
def confirm(payload, leg_id):
    """The receiver of the leg confirms what arrived (the leg into the group confirms the
    match's delivery too)."""
    user = current_user._get_current_object()
    leg = ops.get_leg(leg_id)
    get_visible_match(user, leg.match_id)
    ops.confirm(leg, user, payload["quantity_received"], payload["note"])
    return leg_to_dict(leg, user)
