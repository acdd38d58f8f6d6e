"""marshmallow schemas of the matches API: what clients send, and the match they get back.

They parse types and say which fields a body must have (so the OpenAPI document tells the
truth: reject and withdraw need a reason, ship a note); the rules (quantities, blank
reasons, lengths) are checked by the operations, once, for the pages and the API alike.
"""

from __future__ import annotations

import marshmallow as ma

from aidmatch.needs.api import NeedOut
from aidmatch.offers.api import OfferOut
from aidmatch.web.schemas import OrgRef, Text


class ClaimIn(ma.Schema):
    quantity = ma.fields.Integer(
        required=True, strict=True, metadata={"description": "whole units, at most what is open"}
    )
    offer_id = ma.fields.Integer(
        allow_none=True, strict=True, metadata={"description": "one of your offers (optional)"}
    )


class RequestIn(ma.Schema):
    need_id = ma.fields.Integer(
        required=True,
        strict=True,
        metadata={"description": "one of your group's open needs that the offer fits"},
    )
    quantity = ma.fields.Integer(
        required=True,
        strict=True,
        metadata={"description": "whole units, at most what the need and the offer have "
                  "neither pledged nor proposed"},
    )  # fmt: skip


class AcceptIn(ma.Schema):
    quantity = ma.fields.Integer(
        strict=True,
        allow_none=True,
        metadata={"description": "1 to the match's quantity; left out: all of it"},
    )


class ApproveIn(AcceptIn):
    reason = Text(
        load_default="",
        metadata={"description": "required when the quantity is less; both sides read it"},
    )


class OptionalReasonIn(ma.Schema):
    reason = Text(load_default="")


class RequiredReasonIn(ma.Schema):
    reason = Text(
        required=True,
        validate=ma.validate.Length(min=1),
        metadata={"description": "not blank; the other side reads it"},
    )


class ShipIn(ma.Schema):
    note = Text(
        required=True, validate=ma.validate.Length(min=1), metadata={"description": "not blank"}
    )
    tracking = Text(load_default="")


class DeliveryIn(ma.Schema):
    quantity_received = ma.fields.Integer(
        required=True, strict=True, metadata={"description": "0 to the match's quantity"}
    )
    note = Text(load_default="")


class Contacts(ma.Schema):
    donor = ma.fields.String()
    group = ma.fields.String()


class MatchOut(ma.Schema):
    id = ma.fields.Integer()
    need_id = ma.fields.Integer()
    offer_id = ma.fields.Integer(allow_none=True)
    organization = ma.fields.Nested(OrgRef, metadata={"description": "the donor organization"})
    quantity = ma.fields.Integer()
    quantity_asked = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "what was first proposed, claimed or requested, when an "
                  "answer lowered it"},
    )  # fmt: skip
    quantity_note = ma.fields.String(
        allow_none=True,
        metadata={"description": "why it was lowered: the coordinator's reason, or that "
                  "others pledged part of it meanwhile"},
    )  # fmt: skip
    status = ma.fields.String()
    source = ma.fields.String(metadata={"description": "engine, claim or request"})
    donor_accepted = ma.fields.Boolean()
    coordinator_approved = ma.fields.Boolean()
    distance_km = ma.fields.Float(
        allow_none=True,
        metadata={"description": "rounded to 5 km unless you may see the exact point"},
    )
    score = ma.fields.Float(allow_none=True)
    explanation = ma.fields.Dict(metadata={"description": "the score's parts and facts"})
    quantity_received = ma.fields.Integer(allow_none=True)
    discrepancy = ma.fields.Boolean(metadata={"description": "less arrived than was shipped"})
    expires_at = ma.fields.DateTime(
        allow_none=True,
        metadata={"description": "pending: expires then; confirmed: overdue then if not shipped"},
    )
    overdue = ma.fields.Boolean(metadata={"description": "confirmed, not shipped in time"})
    extension_used = ma.fields.Boolean()
    reason = ma.fields.String(allow_none=True)
    confirmed_at = ma.fields.DateTime(allow_none=True)
    shipped_at = ma.fields.DateTime(allow_none=True)
    shipped_note = ma.fields.String(allow_none=True)
    tracking = ma.fields.String(allow_none=True)
    delivered_at = ma.fields.DateTime(allow_none=True)
    delivery_note = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    need = ma.fields.Nested(NeedOut, metadata={"description": "the need, as you may see it"})
    offer = ma.fields.Nested(
        OfferOut, allow_none=True, metadata={"description": "the offer, as you may see it"}
    )
    contact = ma.fields.String(
        metadata={"description": "the other side's contact: confirmed (or later) parties only"}
    )
    contacts = ma.fields.Nested(Contacts, metadata={"description": "both contacts: staff only"})
