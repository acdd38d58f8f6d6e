"""/api/v1 matching runs: start and read them (staff)."""

from __future__ import annotations

import marshmallow as ma
from flask import abort, url_for
from flask_login import current_user
from sqlalchemy import select

from aidmatch.db import is_id
from aidmatch.extensions import db
from aidmatch.permissions import is_staff
from aidmatch.runs.job import request_run
from aidmatch.runs.models import MatchingRun
from aidmatch.web.api import PageArgs, make_blueprint, page_schema, paginate, token_required

blp = make_blueprint("api_matching", __name__, tag="Matching runs", description="Matching runs")


class RunIn(ma.Schema):
    category = ma.fields.String(
        allow_none=True, metadata={"description": "slug; the run covers it and what is below"}
    )
    oblast = ma.fields.String(
        allow_none=True, metadata={"description": "the needs of this oblast, offers from anywhere"}
    )
    allocator = ma.fields.String(
        load_default="flow",
        validate=ma.validate.OneOf(["flow", "greedy"]),
        metadata={
            "description": "flow: best overall (a min-cost flow over all pairs); greedy: fast, "
            "one by one (the best-scored pair first)"
        },
    )


class RunOut(ma.Schema):
    id = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": "queued, running, finished or failed"})
    stage = ma.fields.String(
        allow_none=True,
        metadata={"description": "while it runs: loading, candidates, allocation or storing"},
    )
    progress_done = ma.fields.Integer(
        metadata={"description": "proposals stored so far (stage storing)"}
    )
    progress_total = ma.fields.Integer(
        metadata={"description": "proposals to store (stage storing)"}
    )
    heartbeat_at = ma.fields.DateTime(
        allow_none=True, metadata={"description": "when its worker last said it is alive"}
    )
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
                "stage",
                "progress_done",
                "progress_total",
                "heartbeat_at",
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
@blp.response(
    202,
    RunOut,
    headers={"Location": {"description": "the run's URL", "schema": {"type": "string"}}},
)
def start(payload):
    """Start a matching run over a scope: it is queued and runs in the background (read it
    for its stage and progress); 409 while a run for an overlapping scope is queued or
    running."""
    _require_staff()
    run = request_run(
        current_user._get_current_object(),
        payload.get("category"),
        payload.get("oblast"),
        payload.get("allocator", "flow"),
    )
    return _run_dict(run), 202, {"Location": url_for("api_matching.read", run_id=run.id)}


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
