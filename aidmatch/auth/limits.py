"""How often a client may try a password (the login limits, shared by the login page and the
API's token endpoint), register, or ask for a password reset; the buckets they count in."""

from __future__ import annotations

from flask import current_app, g, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from aidmatch.auth.operations import normalise_email
from aidmatch.extensions import limiter


def _pair_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _address_limit() -> str:
    return current_app.config["LOGIN_ADDRESS_RATE_LIMIT"]


def _account_limit() -> str:
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def address_key() -> str:
    """Rate-limit bucket of the client's address."""
    return "address:" + (get_remote_address() or "unknown")


def _email_tried() -> str:
    email = request.form.get("email")
    if email is None and request.is_json:
        body = request.get_json(silent=True)
        email = body.get("email") if isinstance(body, dict) else None
    return normalise_email(email if isinstance(email, str) else "")


def account_key() -> str:
    """Rate-limit bucket of the account being tried (form or JSON email), whoever tries it."""
    return "account:" + _email_tried()


def pair_key() -> str:
    """Rate-limit bucket of one account tried from one client address."""
    return f"pair:{_email_tried()}:{get_remote_address() or 'unknown'}"


def _login_failed(response) -> bool:
    """Only failed attempts count: a view sets g.login_failed, or the API answers 401."""
    return bool(g.get("login_failed")) or response.status_code == 401


def _too_many_attempts() -> str:
    return _(
        "Too many failed login attempts for this account or from your network. "
        "Please wait a few minutes, then try again."
    )


def login_rate_limits(view):
    """Failed POSTs are limited per account and client address (LOGIN_RATE_LIMIT), per client
    address (LOGIN_ADDRESS_RATE_LIMIT) and per account from anywhere over a short window
    (LOGIN_ACCOUNT_RATE_LIMIT): guessing from many addresses is slowed to a few tries a
    minute, and nobody can lock the owner out for longer than that window.

    The budgets are shared by every view so decorated (the login page, the API's token
    endpoint): trying passwords through both gives no more attempts.
    """
    for scope, limit, key_func in (
        ("login-account", _account_limit, account_key),
        ("login-pair", _pair_limit, pair_key),
        ("login-address", _address_limit, address_key),
    ):
        view = limiter.shared_limit(
            limit,
            scope,
            key_func=key_func,
            methods=["POST"],
            deduct_when=_login_failed,
            error_message=_too_many_attempts,
        )(view)
    return view


def register_limit() -> str:
    return current_app.config["REGISTER_RATE_LIMIT"]


def reset_limit() -> str:
    return current_app.config["PASSWORD_RESET_RATE_LIMIT"]


def reset_email_key() -> str:
    """Rate-limit bucket of the address a reset is asked for, whoever asks."""
    return "reset-email:" + _email_tried()


def too_many_resets() -> str:
    return _(
        "Too many password reset requests for this address or from your network. "
        "Please try again later."
    )
