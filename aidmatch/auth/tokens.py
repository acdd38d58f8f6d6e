"""Bearer tokens: random secrets handed out once; only their SHA-256 digest is stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import g, request
from sqlalchemy import select

from aidmatch.auth.loading import USER_SECONDS, columns, load_user, reading
from aidmatch.auth.models import ApiToken, User
from aidmatch.cache import held
from aidmatch.db import utcnow
from aidmatch.extensions import db


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(user: User, ttl_hours: int) -> tuple[str, ApiToken]:
    """Create a token for the user; return the secret (shown once) and its row."""
    token = secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id, digest=_digest(token), expires_at=utcnow() + timedelta(hours=ttl_hours)
    )
    db.session.add(row)
    db.session.flush()
    return token, row


def user_from_request() -> User | None:
    """The active user of a valid, unexpired, unrevoked `Authorization: Bearer` token."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 200:
        return None
    # The token's row is held in the process as its user's is (auth/loading.py): issuing or
    # revoking one is a committed write like any other, so the next request reads it again.
    digest = _digest(token.strip())
    if reading():
        row = held("token", (digest,), lambda: columns(_token(digest)), USER_SECONDS)
    else:
        row = columns(_token(digest))
    if row is None or row["revoked_at"] is not None or row["expires_at"] <= utcnow():
        return None
    user = load_user(row["user_id"])
    if user is None or not user.is_active:
        return None
    g.api_token_id = row["id"]
    return user


def _token(digest: str) -> ApiToken | None:
    """The token with this digest."""
    return db.session.scalar(select(ApiToken).where(ApiToken.digest == digest))


def revoke_all(user: User) -> int:
    """Revoke every unrevoked token of the user (a new password); how many there were."""
    rows = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    for row in rows:
        row.revoked_at = utcnow()
    db.session.flush()
    return len(rows)


def revoke_current() -> None:
    """Revoke the token of the current request."""
    token_id = g.get("api_token_id")
    row = db.session.get(ApiToken, token_id) if token_id is not None else None
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.flush()


def setup_token_loader(login_manager) -> None:
    """Let Flask-Login authenticate /api requests from their bearer token."""

    @login_manager.request_loader
    def _load_from_token(_request):
        if not request.path.startswith("/api/"):
            return None
        return user_from_request()
