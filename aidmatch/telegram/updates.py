"""One update from Telegram, whether the webhook received it or polling fetched it.

``handle_update`` works out what the update changes in one transaction (run_in_transaction:
committed, or retried on a deadlock), and only then answers in Telegram: an answer never
announces a change that rolled back. What it understands, in a private chat only: ``/start
<code>`` (link the chat), ``/stop`` (unlink it), a press on one of our buttons, and a reply to
one of our messages that takes replies (a conversation's message: the reply is written into
that conversation as the linked user, with the pages' checks). The rest is ignored. A button counts only from the chat linked to the user it was signed for; anything
else is answered "This button is not valid.", logged, and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from telegram import ReplyParameters

from aidmatch.conversations.operations import reply_in_thread
from aidmatch.conversations.views import take_from_budget, too_many
from aidmatch.extensions import db
from aidmatch.notify.models import Notification, TelegramMessage
from aidmatch.refusals import Conflict, Refusal
from aidmatch.telegram import api, linking, presses, signing
from aidmatch.telegram.keyboard import after_press
from aidmatch.transaction import run_in_transaction

log = logging.getLogger(__name__)

ANSWER_MAX = 200  # Telegram shows at most this much of a callback answer


@dataclass
class Replies:
    """The Bot API calls that answer an update, made once its changes are committed."""

    calls: list[tuple[str, dict]] = field(default_factory=list)

    def add(self, method: str, **params) -> None:
        self.calls.append((method, params))


def language_of(sender: dict | None) -> str:
    """The language for someone the bot does not know: their Telegram app's, if we speak it."""
    code = str((sender or {}).get("language_code") or "")[:2].lower()
    languages = current_app.config["LANGUAGES"]
    return code if code in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def _is_private(chat) -> bool:
    return isinstance(chat, dict) and chat.get("type") == "private"


def _linked_text() -> str:
    return _(
        "This chat is linked to your aidmatch account: what needs you comes here. "
        "Send /stop to unlink it."
    )


def _command(message: dict, replies: Replies) -> None:
    """/start <code> or /stop in a private chat."""
    chat_id, text = message["chat"].get("id"), message.get("text")
    if not isinstance(chat_id, int) or not isinstance(text, str):
        return
    words = text.split()
    command = words[0].split("@", 1)[0] if words else ""
    user = linking.linked_user(chat_id)
    if command == "/start" and len(words) > 1:
        linked = linking.link(chat_id, words[1])
        if linked.user is not None:
            user = linked.user
            with force_locale(str(user.language)):
                text = _linked_text()
        else:
            with force_locale(language_of(message.get("from"))):
                text = _(
                    "This code is not valid or has expired. On your aidmatch account page, "
                    "press Link Telegram for a new one."
                )
    elif command == "/stop":
        if user is not None and linking.unlink(user, user, "chat"):
            with force_locale(str(user.language)):
                text = _("This chat is unlinked: aidmatch sends nothing here any more.")
        else:
            with force_locale(language_of(message.get("from"))):
                text = _("This chat is not linked to an aidmatch account.")
    elif user is not None:
        with force_locale(str(user.language)):
            text = _linked_text()
    else:
        with force_locale(language_of(message.get("from"))):
            text = _(
                "To link this chat, press Link Telegram on your aidmatch account page and "
                "send the code it gives you here."
            )
    replies.add("send_message", chat_id=chat_id, text=text)


def _press(query: dict, replies: Replies) -> None:
    """A button press: the verb it names, for the user its chat is linked to."""
    sender = query.get("from") or {}
    user = linking.linked_user(sender.get("id"))
    message = query.get("message") or {}
    chat = message.get("chat")
    press = signing.read(query.get("data"), user.id) if user is not None else None
    if press is None or (chat is not None and not _is_private(chat)):
        log.warning(
            "refused a Telegram button press: from %s, user %s, data %r",
            sender.get("id"),
            getattr(user, "id", None),
            query.get("data"),
        )
        with force_locale(language_of(sender)):
            replies.add(
                "answer_callback_query",
                callback_query_id=query["id"],
                text=_("This button is not valid."),
            )
        return
    with force_locale(str(user.language)):
        try:
            answer = presses.run(user, press)
        except Refusal as refusal:
            db.session.rollback()  # whatever the verb flushed before it refused
            answer = refusal.message
        else:
            if chat is not None and "message_id" in message:
                replies.add(
                    "edit_message_reply_markup",
                    chat_id=chat.get("id"),
                    message_id=message["message_id"],
                    reply_markup=after_press(press),
                )
        replies.calls.insert(
            0,
            (
                "answer_callback_query",
                {"callback_query_id": query["id"], "text": answer[:ANSWER_MAX]},
            ),
        )


def replied_note(chat_id: int, message: dict, user) -> Notification | None:
    """The notification to this user whose Telegram message the message replies to (one we
    remembered: a kind that takes replies), else None."""
    original = message.get("reply_to_message")
    replied = original.get("message_id") if isinstance(original, dict) else None
    if user is None or not isinstance(replied, int):
        return None
    return db.session.scalar(
        select(Notification)
        .join(TelegramMessage, TelegramMessage.notification_id == Notification.id)
        .where(
            TelegramMessage.chat_id == chat_id,
            TelegramMessage.message_id == replied,
            Notification.user_id == user.id,
        )
    )


def _reply(message: dict, replies: Replies) -> bool:
    """A reply to one of our messages that takes replies: written into its conversation as
    the linked user. False when it is no such reply (then it is read as a command)."""
    chat_id = message["chat"].get("id")
    if not isinstance(chat_id, int):
        return False
    user = linking.linked_user(chat_id)
    note = replied_note(chat_id, message, user)
    if note is None:
        return False
    text = message.get("text")
    with force_locale(str(user.language)):
        if not isinstance(text, str):
            answer = _("Only a text answer can be sent to the conversation.")
        else:
            try:
                reply_in_thread(user, note.params.get("thread_id"), text)
                # Counted as a message sent from a page (only once written: a refusal is not).
                if not take_from_budget(user):
                    raise Conflict(too_many())
            except Refusal as refusal:
                db.session.rollback()  # whatever the verb flushed before it refused
                answer = refusal.message
            else:
                answer = _("Sent: your answer is in the conversation on aidmatch.")
    params = {"chat_id": chat_id, "text": answer}
    if isinstance(message.get("message_id"), int):
        params["reply_parameters"] = ReplyParameters(
            message["message_id"], allow_sending_without_reply=True
        )
    replies.add("send_message", **params)
    return True


def process(update: dict) -> Replies:
    """What the update changes (flushed, not committed), and the calls that answer it."""
    replies = Replies()
    query = update.get("callback_query")
    message = update.get("message")
    if isinstance(query, dict) and isinstance(query.get("id"), str):
        _press(query, replies)
    elif (
        isinstance(message, dict)
        and _is_private(message.get("chat"))
        and not _reply(message, replies)
    ):
        _command(message, replies)
    return replies


def handle_update(update: dict) -> None:
    """Handle one update: commit what it changes, then answer in Telegram (a failed answer is
    logged; the change stands)."""
    replies = run_in_transaction(lambda: process(update), what="telegram update")
    for method, params in replies.calls:
        api.call_quietly(method, **params)
