"""/api/v1/notifications: the caller's inbox (in the caller's language), marking read, and
the choices of what reaches them by e-mail and Telegram (the same queries and verbs as the
pages: notify/inbox.py, notify/preferences.py)."""

from __future__ import annotations

import marshmallow as ma
from flask_babel import get_locale
from flask_login import current_user

from aidmatch.notify import inbox, preferences
from aidmatch.notify.kinds import KINDS
from aidmatch.web.api import PageArgs, make_blueprint, page_schema, token_required

blp = make_blueprint(
    "api_notifications",
    __name__,
    tag="Notifications",
    description="Your notifications, and what reaches you by e-mail and Telegram",
)

CHANNEL_NAMES = [str(c) for c in preferences.CHANNELS]


class NotificationOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": sorted(KINDS)})
    subject = ma.fields.String(required=True, metadata={"description": "what kind of news"})
    text = ma.fields.String(
        required=True, metadata={"description": "the message, in your language"}
    )
    path = ma.fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "the page it is about, within the site (or null)"},
    )
    created_at = ma.fields.DateTime(required=True)
    read_at = ma.fields.DateTime(allow_none=True, required=True)
    unread = ma.fields.Boolean(required=True)
    match_id = ma.fields.Integer(allow_none=True, required=True)
    need_id = ma.fields.Integer(allow_none=True, required=True)
    offer_id = ma.fields.Integer(allow_none=True, required=True)
    organization_id = ma.fields.Integer(allow_none=True, required=True)


NotificationPage = page_schema(NotificationOut, "NotificationPage")


class NotificationListArgs(PageArgs):
    unread = ma.fields.Boolean(
        metadata={"description": "true: only unread ones; false: only read ones; absent: all"}
    )


class ReadAllOut(ma.Schema):
    marked = ma.fields.Integer(
        required=True, metadata={"description": "how many were unread and are now read"}
    )


class PreferenceIn(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # a line of the GET answer may be sent back as it is

    kind = ma.fields.String(required=True, metadata={"description": "a kind the GET answer lists"})
    channel = ma.fields.String(required=True, metadata={"enum": CHANNEL_NAMES})
    enabled = ma.fields.Boolean(required=True, truthy={True}, falsy={False})


class PreferencesIn(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # the GET answer may be sent back as it is ("channels" too)

    preferences = ma.fields.List(
        ma.fields.Nested(PreferenceIn),
        required=True,
        metadata={"description": "the choices to change; those not listed stay as they are"},
    )


class PreferenceOut(ma.Schema):
    kind = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    channel = ma.fields.String(required=True, metadata={"enum": CHANNEL_NAMES})
    enabled = ma.fields.Boolean(required=True)
    default = ma.fields.Boolean(required=True)


class ChannelOut(ma.Schema):
    channel = ma.fields.String(required=True, metadata={"enum": CHANNEL_NAMES})
    label = ma.fields.String(required=True)
    on_server = ma.fields.Boolean(
        required=True, metadata={"description": "false: this server sends nothing on it"}
    )
    reaches_you = ma.fields.Boolean(
        required=True,
        metadata={"description": "false: Telegram not linked, or mail to you bounced"},
    )
    note = ma.fields.String(allow_none=True, required=True)


class PreferencesOut(ma.Schema):
    preferences = ma.fields.List(ma.fields.Nested(PreferenceOut), required=True)
    channels = ma.fields.List(ma.fields.Nested(ChannelOut), required=True)


def _language() -> str:
    return str(get_locale() or "en")


def _preferences() -> dict:
    user = current_user._get_current_object()
    return {"preferences": preferences.table(user), "channels": preferences.channels(user)}


@blp.route("/notifications", methods=["GET"])
@token_required
@blp.arguments(NotificationListArgs, location="query")
@blp.response(200, NotificationPage)
def list_(args):
    """Your notifications (those of the inbox), newest first, in your language."""
    page = inbox.inbox_page(current_user.id, args["page"], args["per_page"], args.get("unread"))
    language = _language()
    page["items"] = inbox.describe_all(page["items"], language)
    return page


@blp.route("/notifications/<int:note_id>/read", methods=["POST"])
@token_required
@blp.response(200, NotificationOut)
def read(note_id):
    """Mark one of your notifications read (404 for any other)."""
    note = inbox.get_own(current_user.id, note_id)
    inbox.mark_read(note)
    return inbox.describe(note, _language())


@blp.route("/notifications/read-all", methods=["POST"])
@token_required
@blp.response(200, ReadAllOut)
def read_all():
    """Mark all your unread notifications read; says how many."""
    return {"marked": inbox.mark_all_read(current_user.id)}


@blp.route("/notifications/preferences", methods=["GET"])
@token_required
@blp.response(200, PreferencesOut)
def get_preferences():
    """What reaches you by e-mail and Telegram, per kind (the inbox shows every kind), and
    whether each channel works on this server and reaches you."""
    return _preferences()


@blp.route("/notifications/preferences", methods=["PUT"])
@token_required
@blp.arguments(PreferencesIn)
@blp.response(200, PreferencesOut)
def put_preferences(payload):
    """Change some choices: each {kind, channel, enabled}; the others stay as they are. An
    unknown kind or channel, a kind that is always sent, or one that only coordinators
    receive: 422 naming the entry (preferences.<n>.kind)."""
    user = current_user._get_current_object()
    preferences.save(user, preferences.check(user, payload["preferences"]))
    return _preferences()
