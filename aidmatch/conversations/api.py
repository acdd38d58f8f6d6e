"""/api/v1/matches/<id>/messages: a match's conversation (the same reads and verbs as the
match's page: conversations/operations.py).

Refused in the order of the match API: 404 for a match the caller may not see, 403 for one it
sees but may not write on (both before the body is read), 422 for an empty or too long message.
"""

from __future__ import annotations

from functools import wraps

import marshmallow as ma
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from aidmatch.conversations import operations as ops
from aidmatch.conversations.models import BODY_MAX, Message
from aidmatch.conversations.views import posting_limit
from aidmatch.matches.rules import get_visible_match
from aidmatch.refusals import NotAllowed
from aidmatch.web.api import PageArgs, make_blueprint, page_schema, paginate, token_required
from aidmatch.web.schemas import OrgRef, Text

blp = make_blueprint(
    "api_conversations", __name__, description="The conversation on a match, between its sides"
)


class MessageIn(ma.Schema):
    body = Text(
        required=True,
        metadata={"description": f"the message: not empty, at most {BODY_MAX} characters"},
    )


class MessageOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    body = ma.fields.String(required=True)
    organization = ma.fields.Nested(
        OrgRef,
        allow_none=True,
        required=True,
        metadata={"description": "the side that wrote it; null: a coordinator"},
    )
    by_coordinator = ma.fields.Boolean(required=True)
    mine = ma.fields.Boolean(required=True, metadata={"description": "you wrote it"})
    created_at = ma.fields.DateTime(required=True)
    reported = ma.fields.Boolean(
        required=True, metadata={"description": "reported to the coordinators"}
    )


MessagePage = page_schema(MessageOut, "MessagePage")


def may_write(view):
    """Check, before the body is parsed, that the caller may see the match (else 404) and
    write on it (a side or a coordinator; else 403)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        match = get_visible_match(current_user, kwargs.get("match_id"))
        if not ops.may_write_match(current_user, match):
            raise NotAllowed(ops.NOT_YOURS)
        return view(*args, **kwargs)

    return wrapped


@blp.route("/matches/<int:match_id>/messages", methods=["GET"])
@token_required
@blp.arguments(PageArgs, location="query")
@blp.response(200, MessagePage)
def list_(args, match_id):
    """The match's conversation, oldest first (the match's sides and coordinators only)."""
    user = current_user._get_current_object()
    match = get_visible_match(user, match_id)
    thread = ops.match_thread(match)
    if thread is None:
        return {"items": [], "page": args["page"], "per_page": args["per_page"], "total": 0}
    ops.check_read(user, thread)
    statement = (
        select(Message)
        .where(Message.thread_id == thread.id)
        .options(joinedload(Message.organization))
        .order_by(Message.id)
    )
    page = paginate(statement, args["page"], args["per_page"])
    page["items"] = [ops.message_to_dict(m, user) for m in page["items"]]
    return page


@blp.route("/matches/<int:match_id>/messages", methods=["POST"])
@token_required
@posting_limit
@may_write
@blp.arguments(MessageIn)
@blp.response(201, MessageOut)
def write(payload, match_id):
    """Write to the other side of the match (and the coordinators who take part); they are
    told through their notification channels. 422 for an empty or too long message."""
    user = current_user._get_current_object()
    match = get_visible_match(user, match_id)
    message = ops.write_on_match(match, user, payload["body"])
    return ops.message_to_dict(message, user), 201
