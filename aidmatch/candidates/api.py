"""/api/v1 instant candidates: the offers that could cover a need, the needs an offer could cover."""

from __future__ import annotations

import marshmallow as ma
from flask_login import current_user

from aidmatch.candidates.ranking import candidates_for_need, candidates_for_offer
from aidmatch.needs.operations import get_visible_need
from aidmatch.offers.operations import get_visible_offer
from aidmatch.web.api import make_blueprint, page_schema, token_required
from aidmatch.web.schemas import OrgRef

blp = make_blueprint(
    "api_candidates",
    __name__,
    tag="Candidates",
    description="Instant candidates of a need or offer",
)

MAX_CANDIDATES = 20


class Explanation(ma.Schema):
    score = ma.fields.Float(allow_none=True)
    parts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Float())
    facts = ma.fields.Dict(keys=ma.fields.String())
    text = ma.fields.String(metadata={"description": 'e.g. "34 km, critical, waiting 9 days"'})


class CandidateOut(ma.Schema):
    title = ma.fields.String()
    organization = ma.fields.Nested(OrgRef)
    unit = ma.fields.String()
    quantity = ma.fields.Integer(metadata={"description": "what this pair could move"})
    distance_km = ma.fields.Float(
        allow_none=True,
        metadata={"description": "rounded to 5 km unless you may see both exact points"},
    )
    score = ma.fields.Float(
        allow_none=True, metadata={"description": "null unless you may see both exact points"}
    )
    explanation = ma.fields.Nested(Explanation)


class OfferCandidateOut(CandidateOut):
    offer_id = ma.fields.Integer()
    remaining = ma.fields.Integer()
    delivery_radius_km = ma.fields.Integer(allow_none=True)


class NeedCandidateOut(CandidateOut):
    need_id = ma.fields.Integer()
    open = ma.fields.Integer()
    urgency = ma.fields.String()
    needed_by = ma.fields.Date(allow_none=True)


class CandidateArgs(ma.Schema):
    limit = ma.fields.Integer(load_default=5, validate=ma.validate.Range(min=1, max=MAX_CANDIDATES))


OfferCandidates = page_schema(OfferCandidateOut, "OfferCandidatePage")
NeedCandidates = page_schema(NeedCandidateOut, "NeedCandidatePage")


def _envelope(items: list[dict], limit: int) -> dict:
    return {"items": items, "page": 1, "per_page": limit, "total": len(items)}


@blp.route("/needs/<int:need_id>/candidates", methods=["GET"])
@token_required
@blp.arguments(CandidateArgs, location="query")
@blp.response(200, OfferCandidates)
def need_candidates(args, need_id):
    """The best open offers you may see that could cover this need, with why.

    Only the best ``limit`` are ranked: there is one page, and ``total`` counts the items
    on it, not every offer that could reach the need."""
    need = get_visible_need(current_user, need_id)
    return _envelope(candidates_for_need(need, current_user, args["limit"]), args["limit"])


@blp.route("/offers/<int:offer_id>/candidates", methods=["GET"])
@token_required
@blp.arguments(CandidateArgs, location="query")
@blp.response(200, NeedCandidates)
def offer_candidates(args, offer_id):
    """The best open needs you may see that this offer could cover, with why.

    Only the best ``limit`` are ranked: there is one page, and ``total`` counts the items
    on it, not every need the offer could reach."""
    offer = get_visible_offer(current_user, offer_id)
    return _envelope(candidates_for_offer(offer, current_user, args["limit"]), args["limit"])
