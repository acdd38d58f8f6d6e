"""/api/v1 matching: start and read runs (staff), and the instant candidates of a need or offer."""

from __future__ import annotations

import marshmallow as ma
from flask import abort
from flask_login import current_user
from sqlalchemy import select

from aidmatch.api import PageArgs, make_blueprint, page_schema, paginate, token_required
from aidmatch.db import is_id
from aidmatch.extensions import db
from aidmatch.matches.models import MatchingRun
from aidmatch.needs.operations import get_visible_need
from aidmatch.offers.operations import get_visible_offer
from aidmatch.permissions import is_staff
from aidmatch.schemas import OrgRef

from .service import candidates_for_need, candidates_for_offer, run_matching

blp = make_blueprint("api_matching", __name__, description="Matching runs and instant candidates")

MAX_CANDIDATES = 20


class RunIn(ma.Schema):
    category = ma.fields.String(
        allow_none=True, metadata={"description": "slug; the run covers it and what is below"}
    )
    oblast = ma.fields.String(
        allow_none=True, metadata={"description": "the needs of this oblast, offers from anywhere"}
    )
    allocator = ma.fields.String(
        load_default="flow", validate=ma.validate.OneOf(["flow", "greedy"])
    )


class RunOut(ma.Schema):
    id = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": "running, finished or failed"})
    scope = ma.fields.String()
    proposals = ma.fields.Integer()
    needs_considered = ma.fields.Integer()
    offers_considered = ma.fields.Integer()
    candidate_pairs = ma.fields.Integer()
    skipped = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Integer(), metadata={"description": "by reason"}
    )
    skipped_rows = ma.fields.List(
        ma.fields.Dict(),
        metadata={"description": "the first 50 rows skipped as invalid: kind, id, reason"},
    )
    timings = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Float())
    seconds = ma.fields.Float(allow_none=True)
    error = ma.fields.String(allow_none=True)
    started_at = ma.fields.DateTime()
    finished_at = ma.fields.DateTime(allow_none=True)


class Explanation(ma.Schema):
    score = ma.fields.Float()
    parts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Float())
    facts = ma.fields.Dict(keys=ma.fields.String())
    text = ma.fields.String(metadata={"description": 'e.g. "34 km, critical, waiting 9 days"'})


class CandidateOut(ma.Schema):
    title = ma.fields.String()
    organization = ma.fields.Nested(OrgRef)
    unit = ma.fields.String()
    quantity = ma.fields.Integer(metadata={"description": "what this pair could move"})
    distance_km = ma.fields.Float(
        metadata={"description": "rounded to 5 km unless you may see both exact points"}
    )
    score = ma.fields.Float()
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


RunPage = page_schema(RunOut, "MatchingRunPage")
OfferCandidates = page_schema(OfferCandidateOut, "OfferCandidatePage")
NeedCandidates = page_schema(NeedCandidateOut, "NeedCandidatePage")


def _run_dict(run: MatchingRun) -> dict:
    return {
        **{
            name: getattr(run, name)
            for name in (
                "id",
                "scope",
                "proposals",
                "needs_considered",
                "offers_considered",
                "candidate_pairs",
                "timings",
                "seconds",
                "error",
                "started_at",
                "finished_at",
            )
        },  # fmt: skip
        "status": str(run.status),
        "skipped": dict(run.skipped or {}),
        "skipped_rows": run.skipped_rows,
    }


def _require_staff() -> None:
    if not is_staff(current_user):
        abort(403, "Only coordinators and admins run matching.")


@blp.route("/matching/runs", methods=["POST"])
@token_required
@blp.arguments(RunIn)
@blp.response(201, RunOut)
def start(payload):
    """Run matching now over a scope (409 while a run for an overlapping scope is running)."""
    _require_staff()
    run = run_matching(
        current_user._get_current_object(),
        payload.get("category"),
        payload.get("oblast"),
        payload.get("allocator", "flow"),
    )
    result = _run_dict(run)
    db.session.commit()
    return result


@blp.route("/matching/runs", methods=["GET"])
@token_required
@blp.arguments(PageArgs, location="query")
@blp.response(200, RunPage)
def list_(args):
    """Matching runs, newest first."""
    _require_staff()
    page = paginate(select(MatchingRun).order_by(MatchingRun.id.desc()), **args)
    result = {**page, "items": [_run_dict(run) for run in page["items"]]}
    db.session.commit()
    return result


@blp.route("/matching/runs/<int:run_id>", methods=["GET"])
@token_required
@blp.response(200, RunOut)
def read(run_id):
    """One matching run: its status, figures, skipped reasons and timings."""
    _require_staff()
    run = db.session.get(MatchingRun, run_id) if is_id(run_id) else None
    if run is None:
        abort(404)
    result = _run_dict(run)
    db.session.commit()
    return result


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
    items = candidates_for_need(need, current_user, args["limit"])
    db.session.commit()
    return _envelope(items, args["limit"])


@blp.route("/offers/<int:offer_id>/candidates", methods=["GET"])
@token_required
@blp.arguments(CandidateArgs, location="query")
@blp.response(200, NeedCandidates)
def offer_candidates(args, offer_id):
    """The best open needs you may see that this offer could cover, with why.

    Only the best ``limit`` are ranked: there is one page, and ``total`` counts the items
    on it, not every need the offer could reach."""
    offer = get_visible_offer(current_user, offer_id)
    items = candidates_for_offer(offer, current_user, args["limit"])
    db.session.commit()
    return _envelope(items, args["limit"])
