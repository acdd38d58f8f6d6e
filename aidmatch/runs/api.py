"""/api/v1 matching runs: start and read them (staff)."""

from __future__ import annotations

import marshmallow as ma
from flask import abort
from flask_login import current_user
from sqlalchemy import select

from aidmatch.db import is_id
from aidmatch.extensions import db
from aidmatch.permissions import is_staff
from aidmatch.runs.job import run_matching
from aidmatch.runs.models import MatchingRun
from aidmatch.web.api import PageArgs, make_blueprint, page_schema, paginate, token_required

blp = make_blueprint("api_matching", __name__, description="Matching runs")


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


RunPage = page_schema(RunOut, "MatchingRunPage")


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
    return _run_dict(run)


@blp.route("/matching/runs", methods=["GET"])
@token_required
@blp.arguments(PageArgs, location="query")
@blp.response(200, RunPage)
def list_(args):
    """Matching runs, newest first."""
    _require_staff()
    page = paginate(select(MatchingRun).order_by(MatchingRun.id.desc()), **args)
    return {**page, "items": [_run_dict(run) for run in page["items"]]}


@blp.route("/matching/runs/<int:run_id>", methods=["GET"])
@token_required
@blp.response(200, RunOut)
def read(run_id):
    """One matching run: its status, figures, skipped reasons and timings."""
    _require_staff()
    run = db.session.get(MatchingRun, run_id) if is_id(run_id) else None
    if run is None:
        abort(404)
    return _run_dict(run)
