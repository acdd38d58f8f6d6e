"""/api/v1: claims on needs, and matches with their actions (the same operations as the pages).

Each write runs as one transaction that is retried (a few times) when PostgreSQL aborts it to
break a deadlock or a serialization conflict: the work is redone from fresh rows, so a retry
never applies anything twice.
"""

from __future__ import annotations

import logging

import marshmallow as ma
from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import DBAPIError

from aidmatch.api import PageArgs, make_blueprint, page_schema, paginate, token_required
from aidmatch.db import is_id
from aidmatch.errors import ApiError
from aidmatch.extensions import db
from aidmatch.matches import operations as ops
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.matches.schemas import (
    ClaimIn,
    DeliveryIn,
    MatchOut,
    OptionalReasonIn,
    RequiredReasonIn,
    ShipIn,
)
from aidmatch.needs.operations import get_visible_need
from aidmatch.offers.models import Offer
from aidmatch.serialize import match_to_dict, matches_to_dicts

log = logging.getLogger(__name__)

blp = make_blueprint(
    "api_matches", __name__, description="Claims, matches, review, shipping and delivery"
)

MatchPage = page_schema(MatchOut, "MatchPage")
STATUSES = [s.value for s in MatchStatus]
# PostgreSQL aborts one of two transactions that wait for each other (40P01) or that conflict
# under a stricter isolation level (40001); SQLite reports an exhausted busy timeout as locked.
RETRYABLE_SQLSTATES = {"40P01", "40001"}
ATTEMPTS = 4


def _retryable(exc: DBAPIError) -> bool:
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(orig or exc)


def run_transaction(work):
    """Run work() and commit; redo it from scratch when the database aborted it as a deadlock
    victim. work() returns the response body (built before the commit)."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            result = work()
            db.session.commit()
            return result
        except DBAPIError as exc:
            db.session.rollback()
            if attempt == ATTEMPTS or not _retryable(exc):
                raise
            log.warning("retrying %s %s after %s", request.method, request.path, exc.orig)
    raise AssertionError("unreachable")


def _load_match(match_id: int, *, visible: bool) -> Match:
    """The match (404 if none, or if visible and the user may not see it), brought up to date:
    a match past its time expires on read, in its own transaction."""
    match = db.session.get(Match, match_id) if is_id(match_id) else None
    if match is None or (visible and not ops.can_view_match(current_user, match)):
        abort(404)
    if ops.expire_stale_match(match):
        db.session.commit()
        match = db.session.get(Match, match_id)
    return match


def _act(match_id: int, action):
    """Apply action(match) to a match and answer with the match as the user now sees it."""

    def work():
        match = _load_match(match_id, visible=False)
        action(match)
        db.session.flush()
        return match_to_dict(match, current_user)

    return run_transaction(work)


class MatchListArgs(PageArgs):
    status = ma.fields.String(validate=ma.validate.OneOf([*STATUSES, "active"]))
    need = ma.fields.Integer()
    offer = ma.fields.Integer()
    mine = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "only matches where your organization is one of the sides"},
    )


@blp.route("/needs/<int:need_id>/claims", methods=["POST"])
@token_required
@blp.arguments(ClaimIn)
@blp.response(201, MatchOut)
@blp.alt_response(200, schema=MatchOut, description="the match a repeated Idempotency-Key made")
def claim(payload, need_id):
    """Claim all or part of a need's open quantity, optionally from one of your offers.

    Send an `Idempotency-Key` header to make a retry safe: the same key returns the match the
    first request made (200) instead of making a second one.
    """
    key = request.headers.get("Idempotency-Key")
    status = {}

    def work():
        need = get_visible_need(current_user, need_id)
        offer = None
        offer_id = payload.get("offer_id")
        if offer_id is not None:
            offer = db.session.get(Offer, offer_id) if is_id(offer_id) else None
            if offer is None:
                message = _("Choose one of your offers.")
                raise ApiError(422, message, {"offer_id": message})
        result = ops.claim(need, current_user, payload["quantity"], offer, key)
        status["code"] = 201 if result.created else 200
        db.session.flush()
        return match_to_dict(result.match, current_user)

    body = run_transaction(work)
    return body, status["code"]


@blp.route("/matches", methods=["GET"])
@token_required
@blp.arguments(MatchListArgs, location="query")
@blp.response(200, MatchPage)
def list_(args):
    """Matches you may see (your organization's, on either side; coordinators see all)."""
    from sqlalchemy import or_

    from aidmatch.matches.models import ACTIVE_MATCH_STATUSES
    from aidmatch.needs.models import Need

    ops.expire_matches()
    db.session.commit()
    stmt = ops.visible_matches(current_user)
    status = args.get("status")
    if status == "active":
        stmt = stmt.where(Match.status.in_(ACTIVE_MATCH_STATUSES))
    elif status:
        stmt = stmt.where(Match.status == status)
    if args.get("need") is not None:
        stmt = stmt.where(Match.need_id == args["need"])
    if args.get("offer") is not None:
        stmt = stmt.where(Match.offer_id == args["offer"])
    if args.get("mine"):
        org_id = current_user.organization_id
        if org_id is not None:
            stmt = stmt.where(
                or_(
                    Match.organization_id == org_id,
                    Match.need.has(Need.organization_id == org_id),
                )
            )
        else:
            uid = current_user.id
            stmt = stmt.where(
                or_(Match.created_by_id == uid, Match.coordinator_approved_by_id == uid)
            )
    stmt = stmt.order_by(Match.created_at.desc(), Match.id.desc())
    page = paginate(stmt, args["page"], args["per_page"])
    result = matches_to_dicts(page, current_user)
    db.session.commit()
    return result


@blp.route("/matches/<int:match_id>", methods=["GET"])
@token_required
@blp.response(200, MatchOut)
def read(match_id):
    """One match (404 if you may not see it)."""
    match = _load_match(match_id, visible=True)
    body = match_to_dict(match, current_user)
    db.session.commit()
    return body


@blp.route("/matches/<int:match_id>/accept", methods=["POST"])
@token_required
@blp.response(200, MatchOut)
def accept(match_id):
    """The donor agrees (confirmed at once if a coordinator already approved)."""
    return _act(match_id, lambda m: ops.accept(m, current_user))


@blp.route("/matches/<int:match_id>/decline", methods=["POST"])
@token_required
@blp.arguments(OptionalReasonIn)
@blp.response(200, MatchOut)
def decline(payload, match_id):
    """The donor says no to a pending match; its quantity is released."""
    return _act(match_id, lambda m: ops.decline(m, current_user, payload.get("reason", "")))


@blp.route("/matches/<int:match_id>/approve", methods=["POST"])
@token_required
@blp.response(200, MatchOut)
def approve(match_id):
    """A coordinator approves (confirmed at once if the donor already accepted)."""
    return _act(match_id, lambda m: ops.approve(m, current_user))


@blp.route("/matches/<int:match_id>/reject", methods=["POST"])
@token_required
@blp.arguments(RequiredReasonIn)
@blp.response(200, MatchOut)
def reject(payload, match_id):
    """A coordinator rejects a pending match, with a reason both sides read."""
    return _act(match_id, lambda m: ops.reject(m, current_user, payload.get("reason")))


@blp.route("/matches/<int:match_id>/withdraw", methods=["POST"])
@token_required
@blp.arguments(RequiredReasonIn)
@blp.response(200, MatchOut)
def withdraw(payload, match_id):
    """The donor withdraws from a confirmed match (reason required)."""
    return _act(match_id, lambda m: ops.withdraw(m, current_user, payload.get("reason")))


@blp.route("/matches/<int:match_id>/ship", methods=["POST"])
@token_required
@blp.arguments(ShipIn)
@blp.response(200, MatchOut)
def ship(payload, match_id):
    """The donor marks a confirmed match shipped (note, optional tracking)."""
    return _act(
        match_id,
        lambda m: ops.ship(m, current_user, payload.get("note"), payload.get("tracking", "")),
    )


@blp.route("/matches/<int:match_id>/confirm-delivery", methods=["POST"])
@token_required
@blp.arguments(DeliveryIn)
@blp.response(200, MatchOut)
def confirm_delivery(payload, match_id):
    """The group that posted the need confirms what arrived (0 to the match's quantity)."""
    return _act(
        match_id,
        lambda m: ops.confirm_delivery(
            m, current_user, payload["quantity_received"], payload.get("note", "")
        ),
    )


@blp.route("/matches/<int:match_id>/release", methods=["POST"])
@token_required
@blp.arguments(OptionalReasonIn)
@blp.response(200, MatchOut)
def release(payload, match_id):
    """A coordinator releases a confirmed match not shipped in time."""
    return _act(match_id, lambda m: ops.release(m, current_user, payload.get("reason", "")))


@blp.route("/matches/<int:match_id>/extend", methods=["POST"])
@token_required
@blp.response(200, MatchOut)
def extend(match_id):
    """The donor asks for more time, once per match."""
    return _act(match_id, lambda m: ops.request_extension(m, current_user))
