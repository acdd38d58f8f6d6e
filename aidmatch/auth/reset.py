"""Password reset by e-mail: asking for it, the link's token, and setting the new password.

The token is signed (itsdangerous, salt "password-reset") over the user's id and session stamp
(auth/models.User.session_stamp), and made when the e-mail is sent: it is never stored. A new
password changes the stamp, so a link works once; it expires after PASSWORD_RESET_TTL_MINUTES.

Asking for a reset does the same work whatever the address: it only enqueues the job
``auth.reset_request`` with the address, after the request commits, and looks nothing up, so
neither the answer nor its timing says whether the address has an account. The job lives in
notify (notify/mail.py: auth sits below notify): it looks the address up and tells the outbox
for an active account only.

A new password also ends what acts as the user without a password: every session, every API
token, and the linked Telegram chat (its buttons run verbs as the user).
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import update

from aidmatch.audit.operations import record
from aidmatch.auth.models import User
from aidmatch.auth.operations import _check_password, normalise_email
from aidmatch.auth.passwords import hash_password
from aidmatch.auth.tokens import revoke_all
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.jobs.queue import after_commit
from aidmatch.refusals import Invalid

SALT = "password-reset"
MAX_TOKEN_LENGTH = 400  # a real token is about 90 characters
# The job that e-mails a link to the account with the address asked for, if any (registered
# by notify/mail.py); its only argument is the normalised address.
RESET_REQUEST_JOB = "auth.reset_request"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_reset_token(user: User) -> str:
    """A reset link's token for this user, valid until the password (or the session version)
    changes or PASSWORD_RESET_TTL_MINUTES pass. Made at send time; never stored or logged."""
    return _serializer().dumps([user.id, user.session_stamp])


def ttl() -> timedelta:
    return timedelta(minutes=current_app.config["PASSWORD_RESET_TTL_MINUTES"])


def _not_valid() -> Invalid:
    return Invalid(
        _l("This password reset link is not valid. Copy the whole link from the e-mail."),
        code="reset_link_invalid",
    )


def user_for_reset_token(token: str, now: datetime | None = None) -> User:
    """The user a reset token is for; refused when forged, expired, or used already (the
    password or the session version changed since it was made). Reads only."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise _not_valid()
    try:
        payload, issued = _serializer().loads(token, return_timestamp=True)
    except BadData:
        raise _not_valid() from None
    if not (isinstance(payload, list) and len(payload) == 2):
        raise _not_valid()
    user_id, stamp = payload
    if not isinstance(user_id, int) or not isinstance(stamp, str):
        raise _not_valid()
    if (now or utcnow()) - issued > ttl():
        raise Invalid(
            _l(
                "This password reset link has expired (links work for %(minutes)d minutes). "
                "Ask for a new one.",
                minutes=current_app.config["PASSWORD_RESET_TTL_MINUTES"],
            ),
            code="reset_link_expired",
        )
    user = db.session.get(User, user_id)
    if user is None or not user.active or not hmac.compare_digest(stamp, user.session_stamp):
        raise _used()
    return user


def _used() -> Invalid:
    return Invalid(
        _l(
            "This password reset link was used already, or the password changed since it was "
            "sent. Ask for a new one if you still need it."
        ),
        code="reset_link_used",
    )


def request_reset(email: str) -> None:
    """Someone asks to reset the password of this address: hand it to the reset job once the
    request commits, whatever the address (no lookup, no write: the same work for an account's
    address and for any other). The caller answers alike either way."""
    after_commit(RESET_REQUEST_JOB, normalise_email(email or ""))


def reset_password(user: User, new: str) -> bool:
    """Set a new password from a reset link: every session of the user ends, every API token
    is revoked and the linked Telegram chat is unlinked. Of two uses of one link at once, only
    the first one counts. Returns whether a Telegram chat was unlinked."""
    _check_password(new, user.email, field="new_password")
    version = user.session_version or 0
    # end_sessions() with the password, on the condition that nobody did it in between:
    # the session version is part of the stamp the link carries.
    changed = db.session.execute(
        update(User)
        .where(User.id == user.id, User.session_version == version)
        .values(session_version=version + 1, password_hash=hash_password(new))
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise _used()
    db.session.refresh(user)
    revoke_all(user)
    record(user, "user.reset_password", user)
    unlinked = _unlink_telegram(user)
    db.session.flush()
    return unlinked


def _unlink_telegram(user: User) -> bool:
    """Forget the user's Telegram chat, as telegram/linking.unlink does (auth sits below
    telegram): whoever holds the chat could otherwise go on pressing its buttons as the user.
    False if no chat was linked."""
    if user.telegram_chat_id is None:
        return False
    user.telegram_chat_id = None
    user.telegram_lost_at = None
    db.session.flush()
    record(user, "user.telegram_unlink", user, after={"why": "reset"})
    return True
