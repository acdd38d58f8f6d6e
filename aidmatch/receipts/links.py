"""The receipt link's token: unguessable (the HMAC-SHA256 of a random 32-byte nonce under
SECRET_KEY, 43 URL-safe characters), stored only as its SHA-256 (as API tokens are), and
made again from the nonce whenever the slip is printed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from flask import current_app

TOKEN_LENGTH = 43  # 32 bytes in URL-safe base64, without padding


def new_nonce() -> str:
    """A random nonce for a new link (secrets.token_urlsafe(32))."""
    return secrets.token_urlsafe(32)


def token_of(nonce: str) -> str:
    """The link's token: the HMAC of its nonce under SECRET_KEY."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    mac = hmac.new(key, b"receipt-link:" + nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def digest(token: str) -> str:
    """What the database keeps of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(token: str) -> bool:
    """A string that may be a token at all (a cheap check before any query)."""
    return len(token) == TOKEN_LENGTH and all(c.isalnum() or c in "-_" for c in token)
