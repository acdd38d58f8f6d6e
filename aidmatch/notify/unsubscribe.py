"""Turning e-mail off without logging in: the one-click unsubscribe link of each kind (a token
signed over the user and the kind, itsdangerous with its own salt; it does not expire, as
RFC 8058 links are kept by mail clients), and the verbs behind it and /account's e-mail part.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from aidmatch.auth.models import User
from aidmatch.extensions import db
from aidmatch.notify.kinds import KINDS
from aidmatch.notify.models import Channel, Preference
from aidmatch.refusals import NotFound

SALT = "notify-unsubscribe"
MAX_TOKEN_LENGTH = 300


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def unsubscribe_token(user: User, kind: str) -> str:
    """The token of the link that turns this kind off on e-mail for this user."""
    return _serializer().dumps([user.id, kind])


def _bad_link() -> NotFound:
    return NotFound(
        _l(
            "This unsubscribe link is not valid: copy the whole link from the e-mail, or "
            "choose your notifications on your account page."
        ),
        code="bad_unsubscribe_link",
    )


def read_unsubscribe_token(token: str) -> tuple[User, str]:
    """The user and the kind a link names; refused (NotFound) when forged, cut short, or
    naming a kind that cannot be turned off or an account that is gone."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise _bad_link()
    try:
        payload = _serializer().loads(token)
    except BadData:
        raise _bad_link() from None
    if not (isinstance(payload, list) and len(payload) == 2):
        raise _bad_link()
    user_id, kind = payload
    if not isinstance(user_id, int) or kind not in KINDS or not KINDS[kind].optional:
        raise _bad_link()
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        raise _bad_link()
    return user, kind


def stop_email(user: User, kind: str) -> Preference:
    """This user gets this kind no more by e-mail (the inbox still shows it)."""
    row = _choice(user, kind)
    if row is None:
        try:
            with db.session.begin_nested():  # two clicks at once: the second finds the first
                row = Preference(user_id=user.id, kind=kind, channel=Channel.EMAIL, enabled=False)
                db.session.add(row)
        except IntegrityError:
            row = _choice(user, kind)
    row.enabled = False
    db.session.flush()
    return row


def _choice(user: User, kind: str) -> Preference | None:
    return db.session.scalar(
        select(Preference).where(
            Preference.user_id == user.id,
            Preference.kind == kind,
            Preference.channel == Channel.EMAIL,
        )
    )


def resume_email(user: User) -> None:
    """Try the user's address again after it bounced (/account's button)."""
    user.email_bounced_at = None
    db.session.flush()
