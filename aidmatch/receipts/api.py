"""/api/v1/matches/<id>/receipt: the receipt signed through the match's slip link, as its
sides and the coordinators see it on the match page (anyone else: 404)."""

from __future__ import annotations

import marshmallow as ma
from flask_login import current_user

from aidmatch.db import utcnow
from aidmatch.photos.api import PhotoOut, photo_to_dict, visible_match
from aidmatch.photos.operations import photos_of
from aidmatch.receipts import operations as ops
from aidmatch.receipts.models import Condition
from aidmatch.web.api import make_blueprint, token_required

blp = make_blueprint(
    "api_receipts", __name__, tag="Receipts", description="Receipts signed at the drop point"
)


class ReceiptOut(ma.Schema):
    match_id = ma.fields.Integer(required=True)
    signed = ma.fields.Boolean(required=True, metadata={"description": "signed through the link"})
    slip_made = ma.fields.Boolean(required=True)
    link_used = ma.fields.Boolean(required=True)
    quantity_received = ma.fields.Integer(allow_none=True, required=True)
    condition = ma.fields.String(
        allow_none=True, required=True, metadata={"enum": [c.value for c in Condition]}
    )
    note = ma.fields.String(allow_none=True, required=True)
    signer_name = ma.fields.String(allow_none=True, required=True)
    signed_at = ma.fields.DateTime(allow_none=True, required=True)
    disputed_at = ma.fields.DateTime(allow_none=True, required=True)
    dispute_reason = ma.fields.String(allow_none=True, required=True)
    dispute_until = ma.fields.DateTime(allow_none=True, required=True)
    may_dispute = ma.fields.Boolean(required=True, metadata={"description": "you may, now"})
    photos = ma.fields.List(ma.fields.Nested(PhotoOut), required=True)


@blp.route("/matches/<int:match_id>/receipt", methods=["GET"])
@token_required
@blp.response(200, ReceiptOut)
def show(match_id):
    """The match's receipt (all fields null until it is signed) and its photos."""
    user = current_user._get_current_object()
    match = visible_match(user, match_id)
    receipt = ops.receipt_of(match.id)
    link = ops.link_of(match)
    row = receipt
    return {
        "match_id": match.id,
        "signed": receipt is not None,
        "slip_made": link is not None,
        "link_used": bool(link is not None and link.used_at),
        "quantity_received": row.quantity_received if row else None,
        "condition": str(row.condition) if row else None,
        "note": row.note if row else None,
        "signer_name": row.signer_name if row else None,
        "signed_at": row.signed_at if row else None,
        "disputed_at": row.disputed_at if row else None,
        "dispute_reason": row.dispute_reason if row else None,
        "dispute_until": ops.dispute_until(row) if row else None,
        "may_dispute": ops.may_dispute(user, match, receipt, utcnow()),
        "photos": [photo_to_dict(p) for p in photos_of(match.id)],
    }
