"""The TELEGRAM channel of the outbox (notify/outbox.py): who can be reached, and sending one
delivery as a plain-text message (no parse mode: nothing a person typed is read as markup)
with its link and the buttons its recipient may press now; a kind that takes replies (a
conversation's message) asks for one, and the message sent is remembered so that a reply to it
lands where it belongs (telegram/updates.py).

Faults: a chat that is gone (403: the user blocked the bot; 400: chat not found) is unlinked
and the delivery fails for good; 429 waits Telegram's retry_after; the network, a time-out or
a 5xx is tried again with the outbox's backoff.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from telegram import ForceReply, LinkPreviewOptions

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.notify.kinds import KINDS
from aidmatch.notify.messages import render
from aidmatch.notify.models import Channel, Delivery, TelegramMessage
from aidmatch.notify.outbox import Permanent, Sender, Transient, register_sender
from aidmatch.telegram import api
from aidmatch.telegram.keyboard import keyboard
from aidmatch.telegram.linking import unlink

MAX_TEXT = 4096  # Telegram's limit on a message's text


def reachable(user) -> bool:
    """The bot is on and the user linked a chat."""
    return bool(current_app.config.get("TELEGRAM_BOT_TOKEN")) and user.telegram_chat_id is not None


def text_of(message, replies: bool = False) -> str:
    """The message's words, then its link (also when a button carries it: a development
    address gets no button); for a kind that takes replies, how to answer (call it in the
    recipient's language)."""
    text = message.text if not message.url else f"{message.text}\n\n{message.url}"
    if not replies:
        return text[:MAX_TEXT]
    hint = _("Reply to this message to answer in aidmatch.")
    return f"{text[: MAX_TEXT - len(hint) - 2]}\n\n{hint}"


def send(delivery: Delivery, user) -> None:
    """Send one notification to the user's chat, or raise Transient / Permanent."""
    if not api.configured():
        raise Permanent("Telegram is off: TELEGRAM_BOT_TOKEN is not set")
    chat_id = user.telegram_chat_id
    if chat_id is None:
        raise Permanent("no Telegram chat is linked any more")
    note = delivery.notification
    language = str(user.language)
    message = render(note, language)
    replies = KINDS[note.kind].replies
    with force_locale(language):
        markup = keyboard(note, message, user, utcnow())
        if markup is None and replies:
            # A message one answers: Telegram opens the reply for the recipient.
            markup = ForceReply(input_field_placeholder=_("Your answer")[:64])
        text = text_of(message, replies)
    try:
        sent = api.call(
            "send_message",
            chat_id=chat_id,
            text=text,
            reply_markup=markup,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
    except api.ChatGone as exc:
        unlink(user, None, "lost", lost=True)
        raise Permanent(f"Telegram chat gone, unlinked: {exc}") from exc
    except api.Flood as exc:
        raise Transient(f"Telegram flood control: {exc}", retry_after=exc.retry_after) from exc
    except api.Unavailable as exc:
        raise Transient(f"Telegram unavailable: {exc}") from exc
    except api.Refused as exc:
        raise Permanent(f"Telegram refused the message: {exc}") from exc
    if replies and getattr(sent, "message_id", None) is not None:
        # Kept with the delivery's outcome: a reply to this message answers the notification.
        db.session.add(
            TelegramMessage(chat_id=chat_id, message_id=sent.message_id, notification_id=note.id)
        )


register_sender(Channel.TELEGRAM, Sender(reachable, send))
