"""/api/v1: claims on needs, and matches with their actions (the same operations as the pages).

Each write runs as one transaction that is retried (a few times) when PostgreSQL aborts it to
break a deadlock or a serialization conflict: the work is redone from fresh rows, so a retry
never applies anything twice. Reads write nothing: a lapsed pending match reads as expired.

An action is refused in this order, like the pages: 404 for a match the caller may not see,
403 for the wrong side (both before the body is read), 422 for a bad body, 409 for the state.
"""

from __future__ import annotations

import logging
from functools import wraps

import marshmallow as ma
from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from aidmatch.db import is_id, utcnow
from aidmatch.extensions import db
from aidmatch.matches import lifecycle
from aidmatch.matches import operations as ops
from aidmatch.matches.lists import changes_at
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.matches.rules import (
    can_claim,
    can_request,
    deny,
    get_visible_match,
    party_condition,
)
from aidmatch.matches.schemas import (
    AcceptIn,
    ApproveIn,
    ClaimIn,
    DeliveryIn,
    MatchOut,
    OptionalReasonIn,
    RequestIn,
    RequiredReasonIn,
    ShipIn,
)
from aidmatch.matches.serialize import match_options, match_to_dict, matches_to_dicts
from aidmatch.needs.models import Need
from aidmatch.needs.operations import get_visible_need
from aidmatch.offers.models import Offer
from aidmatch.offers.operations import get_visible_offer
from aidmatch.refusals import Invalid
from aidmatch.web.api import PageArgs, make_blueprint, page_schema, paginate, token_required
from aidmatch.web.kept import held_until, kept_json
from aidmatch.web.schemas import Id

log = logging.getLogger(__name__)

blp = make_blueprint(
    "api_matches",
    __name__,
    tag="Matches",
    description="Claims, matches, review, shipping and delivery",
)

MatchPage = page_schema(MatchOut, "MatchPage")
MATCH_PAGE = MatchPage()  # made once: a schema copies its fields when it is made
STATUSES = [s.value for s in MatchStatus]


def may_act(name: str):
    """Check, before the body is parsed, that the caller may see the match (else 404) and
    stands on the side the lifecycle table names for this action (else 403)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            match = get_visible_match(current_user, kwargs.get("match_id"))
            lifecycle.check_side(name, current_user, match)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _act(match_id: int, action):
    """Apply action(match) to a match and answer with the match as the user now sees it (the
    request's edge commits, and runs it again if the database aborted it as a deadlock victim)."""
    match = get_visible_match(current_user, match_id)
    action(match)
    db.session.flush()
    return match_to_dict(match, current_user)


class MatchListArgs(PageArgs):
    status = ma.fields.String(validate=ma.validate.OneOf([*STATUSES, "active"]))
    need = Id()
    offer = Id()
    mine = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "only matches where your organization is one of the sides"},
    )


def may_claim(view):
    """Check, before the body is parsed, that the need is visible (else 404) and the caller is
    a donor (else 403)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        get_visible_need(current_user, kwargs.get("need_id"))
        deny(
            can_claim(current_user), _("Only members of a donor or supply collective claim needs.")
        )
        return view(*args, **kwargs)

    return wrapped


@blp.route("/needs/<int:need_id>/claims", methods=["POST"])
@token_required
@may_claim
@blp.arguments(ClaimIn)
@blp.response(201, MatchOut)
@blp.alt_response(200, schema=MatchOut, description="the match a repeated Idempotency-Key made")
def claim(payload, need_id):
    """Claim all or part of a need's open quantity, optionally from one of your offers.

    Send an `Idempotency-Key` header to make a retry safe: the same key returns the match the
    first request made (200) instead of making a second one.
    """
    key = request.headers.get("Idempotency-Key")
    need = get_visible_need(current_user, need_id)
    offer = None
    offer_id = payload.get("offer_id")
    if offer_id is not None:
        offer = db.session.get(Offer, offer_id) if is_id(offer_id) else None
        if offer is None:
            raise Invalid(_("Choose one of your offers."), field="offer_id")
    result = ops.claim(need, current_user, payload["quantity"], offer, key)
    db.session.flush()
    return match_to_dict(result.match, current_user), 201 if result.created else 200


def may_request(view):
    """Check, before the body is parsed, that the offer is visible (else 404) and the caller
    is a member of a group (else 403)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        get_visible_offer(current_user, kwargs.get("offer_id"))
        deny(can_request(current_user), _("Only members of a group request aid from an offer."))
        return view(*args, **kwargs)

    return wrapped


@blp.route("/offers/<int:offer_id>/requests", methods=["POST"])
@token_required
@may_request
@blp.arguments(RequestIn)
@blp.response(201, MatchOut)
@blp.alt_response(200, schema=MatchOut, description="the match a repeated Idempotency-Key made")
def request_offer(payload, offer_id):
    """Ask for a quantity of an offer for one of your group's open needs that it fits.

    The request is a pending match (`source`: `request`) that holds the quantity softly until
    the donor accepts it (all or less) or declines; a coordinator approves or rejects it. Only
    members of a verified group may ask. Send an `Idempotency-Key` header to make a retry
    safe: the same key returns the match the first request made (200).
    """
    key = request.headers.get("Idempotency-Key")
    offer = get_visible_offer(current_user, offer_id)
    need_id = payload["need_id"]
    need = db.session.get(Need, need_id) if is_id(need_id) else None
    result = ops.request_offer(offer, current_user, need, payload["quantity"], key)
    db.session.flush()
    return match_to_dict(result.match, current_user), 201 if result.created else 200


@blp.route("/matches", methods=["GET"])
@token_required
@blp.arguments(MatchListArgs, location="query")
@blp.response(200, MatchPage)
def list_(args):
    """Matches you may see (your organization's, on either side; coordinators see all)."""

    def compute() -> dict:
        now = utcnow()
        stmt = ops.visible_matches(current_user)
        if args.get("need") is not None:
            stmt = stmt.where(Match.need_id == args["need"])
        if args.get("offer") is not None:
            stmt = stmt.where(Match.offer_id == args["offer"])
        if args.get("mine"):
            org_id = current_user.organization_id
            if org_id is not None:
                stmt = stmt.where(party_condition(org_id))
            else:
                uid = current_user.id
                stmt = stmt.where(
                    or_(Match.created_by_id == uid, Match.coordinator_approved_by_id == uid)
                )
        # what time alone changes, whatever the status asked for (a lapse moves a match from
        # pending to expired): the list holds until then (web/kept.py)
        holds = held_until(changes_at(stmt, now))
        status = args.get("status")
        if status == "active":
            stmt = stmt.where(Match.is_active(now))
        elif status:
            stmt = stmt.where(Match.status_in([status], now))
        order = (Match.created_at.desc(), Match.id.desc())
        # The page's ids first, from matches alone (a select both databases narrow by the
        # viewer's side and status before anything else), then those matches with all they
        # show in one more statement: joined to six more tables at once, PostgreSQL joined
        # them for every match in the network before keeping the viewer's.
        page = paginate(
            stmt.with_only_columns(Match.id).order_by(*order), args["page"], args["per_page"]
        )
        if page["items"]:
            full = select(Match).where(Match.id.in_(page["items"])).order_by(*order)
            page["items"] = list(db.session.scalars(full.options(*match_options())).unique())
        return MATCH_PAGE.dump(matches_to_dicts(page, current_user)), holds

    return kept_json("api:matches", compute)


@blp.route("/matches/<int:match_id>", methods=["GET"])
@token_required
@blp.response(200, MatchOut)
def read(match_id):
    """One match (404 if you may not see it)."""
    return match_to_dict(get_visible_match(current_user, match_id), current_user)


@blp.route("/matches/<int:match_id>/accept", methods=["POST"])
@token_required
@may_act("accept")
@blp.arguments(AcceptIn, required=False)
@blp.response(200, MatchOut)
def accept(payload, match_id):
    """The donor agrees, for all of it or less (confirmed at once if a coordinator already
    approved); the rest is released at once.

    If others pledged part of the need or offer meanwhile, the donor gets what remains: the
    answer's `quantity` is lower than `quantity_asked`, and `quantity_note` says why; if
    nothing remains, 409 and nothing changes.
    """
    return _act(match_id, lambda m: ops.accept(m, current_user, payload.get("quantity")))


@blp.route("/matches/<int:match_id>/decline", methods=["POST"])
@token_required
@may_act("decline")
@blp.arguments(OptionalReasonIn, required=False)
@blp.response(200, MatchOut)
def decline(payload, match_id):
    """The donor says no to a pending match; its quantity is released."""
    return _act(match_id, lambda m: ops.decline(m, current_user, payload.get("reason", "")))


@blp.route("/matches/<int:match_id>/approve", methods=["POST"])
@token_required
@may_act("approve")
@blp.arguments(ApproveIn, required=False)
@blp.response(200, MatchOut)
def approve(payload, match_id):
    """A coordinator approves, for all of it or less with a reason (confirmed at once if the
    donor already accepted); the difference is released at once."""
    return _act(
        match_id,
        lambda m: ops.approve(m, current_user, payload.get("quantity"), payload.get("reason", "")),
    )


@blp.route("/matches/<int:match_id>/reject", methods=["POST"])
@token_required
@may_act("reject")
@blp.arguments(RequiredReasonIn)
@blp.response(200, MatchOut)
def reject(payload, match_id):
    """A coordinator rejects a pending match, with a reason both sides read."""
    return _act(match_id, lambda m: ops.reject(m, current_user, payload.get("reason")))


@blp.route("/matches/<int:match_id>/withdraw", methods=["POST"])
@token_required
@may_act("withdraw")
@blp.arguments(RequiredReasonIn)
@blp.response(200, MatchOut)
def withdraw(payload, match_id):
    """The donor withdraws from a confirmed match (reason required)."""
    return _act(match_id, lambda m: ops.withdraw(m, current_user, payload.get("reason")))


@blp.route("/matches/<int:match_id>/ship", methods=["POST"])
@token_required
@may_act("ship")
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
@may_act("confirm_delivery")
@blp.arguments(DeliveryIn)
@blp.response(200, MatchOut)
def confirm_delivery(payload, match_id):
    """The group that posted the need confirms what arrived (0 to the match's quantity).

    Send an `Idempotency-Key` header to make a retry safe: sent again with the key of the
    request that confirmed the receipt, it changes nothing and returns the match."""
    key = request.headers.get("Idempotency-Key")
    return _act(
        match_id,
        lambda m: ops.confirm_delivery(
            m, current_user, payload["quantity_received"], payload.get("note", ""), key=key
        ),
    )


@blp.route("/matches/<int:match_id>/release", methods=["POST"])
@token_required
@may_act("release")
@blp.arguments(OptionalReasonIn, required=False)
@blp.response(200, MatchOut)
def release(payload, match_id):
    """A coordinator releases a confirmed match not shipped in time."""
    return _act(match_id, lambda m: ops.release(m, current_user, payload.get("reason", "")))


@blp.route("/matches/<int:match_id>/extend", methods=["POST"])
@token_required
@may_act("extend")
@blp.response(200, MatchOut)
def extend(match_id):
    """The donor asks for more time, once per match."""
    return _act(match_id, lambda m: ops.request_extension(m, current_user))
