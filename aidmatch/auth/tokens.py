"""Bearer tokens: random secrets handed out once; only their SHA-256 digest is stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import g, request
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from aidmatch.auth.models import ApiToken, User
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
    row = db.session.scalar(
        select(ApiToken)
        .where(ApiToken.digest == _digest(token.strip()))
        .options(joinedload(ApiToken.user))  # one statement for the token and its user
    )
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    if not row.user.is_active:
        return None
    g.api_token = row
    return row.user


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
    row = g.get("api_token")
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
