"""/api/v1/offers/<id>/recurrence: how an offer repeats (read by whoever may see the offer;
made, changed, paused, resumed and stopped by its collective: the verbs of the offer's page,
recurring/operations.py).

Refused as the offers API refuses: 404 for an offer the caller may not see, 403 for anyone
but a member of its collective, 409 for an offer that is not open or repeats already, a
pause of a paused or stopped series, a resume of one not paused, any change of a stopped
one; 422 naming each bad field (zero quantity, an end before the start, a start in the
past...)."""

from __future__ import annotations

import marshmallow as ma
from flask_babel import gettext as _
from flask_login import current_user

from aidmatch.offers.kind import OFFER
from aidmatch.postings.queries import find_visible
from aidmatch.recurring import operations as ops
from aidmatch.refusals import NotFound
from aidmatch.web.api import make_blueprint, token_required

blp = make_blueprint(
    "api_recurring",
    __name__,
    tag="Offers",
    description="Offers that repeat every week or month",
)


class RepeatIn(ma.Schema):
    every = ma.fields.String(required=True, metadata={"description": "week or month"})
    quantity = ma.fields.Integer(
        required=True, strict=True, metadata={"description": "made available each period"}
    )
    starts_on = ma.fields.Date(
        load_default=None, metadata={"description": "today (default) or later"}
    )
    ends_on = ma.fields.Date(allow_none=True, metadata={"description": "null: until stopped"})
    carry_over = ma.fields.Boolean(
        metadata={"description": "what a period does not use is added to the next one"}
    )


class RepeatPatch(ma.Schema):
    """What may change, from the next period on (any subset)."""

    quantity = ma.fields.Integer(strict=True)
    ends_on = ma.fields.Date(allow_none=True)
    carry_over = ma.fields.Boolean()


class PeriodOut(ma.Schema):
    starts_on = ma.fields.Date(required=True)
    ends_on = ma.fields.Date(required=True, metadata={"description": "the day after its last"})
    offer_id = ma.fields.Integer(required=True, metadata={"description": "the period's offer"})
    quantity = ma.fields.Integer(required=True, metadata={"description": "made available"})
    carried = ma.fields.Integer(required=True, metadata={"description": "of it carried over"})
    unused = ma.fields.Integer(allow_none=True, metadata={"description": "left when it closed"})
    missed = ma.fields.Boolean(
        required=True,
        metadata={"description": "a match the donor accepted in it had not shipped at its end"},
    )


class RecurrenceOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    offer_id = ma.fields.Integer(required=True, metadata={"description": "the first offer"})
    every = ma.fields.String(required=True)
    quantity = ma.fields.Integer(required=True)
    unit = ma.fields.String(required=True)
    starts_on = ma.fields.Date(required=True)
    ends_on = ma.fields.Date(allow_none=True)
    carry_over = ma.fields.Boolean(required=True)
    paused = ma.fields.Boolean(required=True)
    stopped = ma.fields.Boolean(required=True)
    next_due = ma.fields.Date(allow_none=True, metadata={"description": "null: none coming"})
    current = ma.fields.Nested(PeriodOut, allow_none=True)
    # The collective's and coordinators' only (null or absent for anyone else).
    missed = ma.fields.Integer(allow_none=True)
    periods = ma.fields.List(ma.fields.Nested(PeriodOut))


def _offer(offer_id: int):
    return find_visible(OFFER, current_user, offer_id)


def _series(offer):
    rec = ops.recurrence_of(offer)
    if rec is None:
        raise NotFound(_("This offer does not repeat."))
    return rec


@blp.route("/offers/<int:offer_id>/recurrence", methods=["GET"])
@token_required
@blp.response(200, RecurrenceOut)
def read(offer_id):
    """How the offer repeats (404 when it does not, or you may not see it)."""
    user = current_user._get_current_object()
    return ops.summary(_series(_offer(offer_id)), user)


@blp.route("/offers/<int:offer_id>/recurrence", methods=["POST"])
@token_required
@blp.arguments(RepeatIn)
@blp.response(201, RecurrenceOut)
def make(payload, offer_id):
    """Make an open offer of your collective repeat; starting today, it is the first period."""
    user = current_user._get_current_object()
    offer = _offer(offer_id)
    ops.check_member(user, offer)
    return ops.summary(ops.make_recurring(offer, payload, user), user)


@blp.route("/offers/<int:offer_id>/recurrence", methods=["PATCH"])
@token_required
@blp.arguments(RepeatPatch)
@blp.response(200, RecurrenceOut)
def update(payload, offer_id):
    """Change the quantity per period, the end or the carry-over, from the next period on."""
    user = current_user._get_current_object()
    offer = _offer(offer_id)
    ops.check_member(user, offer)
    return ops.summary(ops.change(_series(offer), payload, user), user)


def _verb(verb: str, doc: str) -> None:
    def view(offer_id):
        user = current_user._get_current_object()
        offer = _offer(offer_id)
        ops.check_member(user, offer)
        return ops.summary(getattr(ops, verb)(_series(offer), user), user)

    view.__name__ = f"recurrence_{verb}"
    view.__doc__ = doc
    blp.route(f"/offers/<int:offer_id>/recurrence/{verb}", methods=["POST"])(
        token_required(blp.response(200, RecurrenceOut)(view))
    )


_verb("pause", "Open no period until resumed (the current one runs to its end).")
_verb("resume", "Open periods again, the current one at once.")
_verb("stop", "Open no period any more (the current one runs to its end).")
