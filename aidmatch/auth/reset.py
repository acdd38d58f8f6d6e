"""Password reset by e-mail: asking for it, the link's token, and setting the new password.

The token is signed (itsdangerous, salt "password-reset") over the user's id and session stamp
(auth/models.User.session_stamp), and made when the e-mail is sent: it is never stored. A new
password changes the stamp, so a link works once; it expires after PASSWORD_RESET_TTL_MINUTES.

auth sits below notify: asking for a reset only announces ``reset_requested`` (a blinker
signal) with the user; the e-mail channel (notify/mail.py) listens and tells the outbox.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from blinker import Namespace
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import update

from aidmatch.audit.operations import record
from aidmatch.auth.models import User
from aidmatch.auth.operations import _check_password, find_user
from aidmatch.auth.passwords import hash_password
from aidmatch.auth.tokens import revoke_all
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.refusals import Invalid

SALT = "password-reset"
MAX_TOKEN_LENGTH = 400  # a real token is about 90 characters

signals = Namespace()
# Sent with the user (an active account with the address asked for), in the request's
# transaction; never for an unknown address.
reset_requested = signals.signal("password-reset-requested")


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
    """Someone asks to reset the password of this address: announce it for an active account
    (the e-mail channel sends the link); do nothing for any other address. The caller answers
    alike either way."""
    user = find_user(email) if email else None
    if user is not None and user.active:
        reset_requested.send(user)


def reset_password(user: User, new: str) -> User:
    """Set a new password from a reset link: every session of the user ends and every API
    token is revoked. Of two uses of one link at once, only the first one counts."""
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
    db.session.flush()
    return user
