"""Linking a Telegram chat to a user, and unlinking it.

/account makes a one-time code (only its SHA-256 is stored, valid CODE_TTL); the user sends
``/start <code>`` to the bot (or opens the deep link, which sends it); the chat is then the
user's. A chat linked to another user moves to this one. Either side unlinks: the Unlink
button on /account, /stop in the chat, or the channel when Telegram says the chat is gone
(then telegram_lost_at says so on /account). Verbs flush and audit; the edge commits.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update

from aidmatch.audit.operations import record
from aidmatch.auth.models import User
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.notify.models import TelegramCode

CODE_TTL = timedelta(minutes=15)
CODE_BYTES = 12  # 16 characters of [A-Za-z0-9_-]: what a deep link's start parameter takes


def digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def new_code(user: User) -> tuple[str, TelegramCode]:
    """A fresh one-time code for this user (the code itself is returned, never stored); the
    user's earlier codes go (one live code per user: the table does not grow)."""
    db.session.execute(delete(TelegramCode).where(TelegramCode.user_id == user.id))
    code = secrets.token_urlsafe(CODE_BYTES)
    row = TelegramCode(user_id=user.id, digest=digest(code), expires_at=utcnow() + CODE_TTL)
    db.session.add(row)
    db.session.flush()
    return code, row


def linked_user(chat_id) -> User | None:
    """The active user this chat is linked to, if any."""
    if not isinstance(chat_id, int) or isinstance(chat_id, bool):
        return None
    user = db.session.scalar(select(User).where(User.telegram_chat_id == chat_id))
    return user if user is not None and user.active else None


@dataclass(frozen=True)
class Linked:
    """What /start <code> did: the user it linked (None: the code was not valid), and whether
    the code had already linked this very chat (a repeated update)."""

    user: User | None
    again: bool = False


def link(chat_id: int, code: str) -> Linked:
    """Link the chat to the user whose unused, unexpired code this is (the code is used up);
    a chat linked to someone else moves."""
    now = utcnow()
    if not code or len(code) > 64:
        return Linked(None)
    row = db.session.scalar(select(TelegramCode).where(TelegramCode.digest == digest(code)))
    if row is None:
        return Linked(None)
    user = db.session.get(User, row.user_id)
    if user is None or not user.active:
        return Linked(None)
    if row.used_at is not None:
        # Telegram sends an update again when our answer was lost: say it is done.
        return Linked(user, again=True) if user.telegram_chat_id == chat_id else Linked(None)
    if row.expires_at <= now:
        return Linked(None)
    used = db.session.execute(
        update(TelegramCode)
        .where(TelegramCode.id == row.id, TelegramCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if used != 1:  # another update took it meanwhile
        return Linked(None)
    previous = db.session.scalar(select(User).where(User.telegram_chat_id == chat_id))
    if previous is not None and previous.id != user.id:
        previous.telegram_chat_id = None
        db.session.flush()  # the chat id is unique: free it before it moves
        record(previous, "user.telegram_unlink", previous, after={"why": "moved"})
    user.telegram_chat_id = chat_id
    user.telegram_lost_at = None
    db.session.flush()
    record(user, "user.telegram_link", user)
    return Linked(user)


def unlink(user: User, actor, why: str, lost: bool = False) -> bool:
    """Forget the user's chat (why: account, chat or lost); lost: the bot could not reach it
    any more, which /account then says. False if no chat was linked."""
    if user.telegram_chat_id is None:
        return False
    user.telegram_chat_id = None
    user.telegram_lost_at = utcnow() if lost else None
    db.session.flush()
    record(actor, "user.telegram_unlink", user, after={"why": why})
    return True
