"""Flask-Login wiring: load the user of a session cookie (bearer tokens: auth/tokens.py)."""

from __future__ import annotations

import hmac

from flask import request

from aidmatch.extensions import db


def setup_login_manager(login_manager) -> None:
    """Tell Flask-Login how to load users and where the login page is."""
    from aidmatch.auth.models import User

    login_manager.login_view = "auth.login"
    # "basic", not "strong": strong deletes the session whenever the client's address changes,
    # which on a phone moving between mobile networks would log people out mid-form.
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def _load_user(user_id: str):
        # The JSON API authenticates by bearer token only (see auth/tokens.py): a browser's
        # session cookie, sent along by any page on any site, must not act there (no CSRF).
        if request.path.startswith("/api/"):
            return None
        key, _, stamp = str(user_id).partition(":")
        try:
            user = db.session.get(User, int(key))
        except (TypeError, ValueError):
            return None
        # A user disabled after logging in is logged out on the next request, and so is a
        # session made before the password last changed (User.get_id).
        if user is None or not user.active:
            return None
        return user if hmac.compare_digest(stamp, user.session_stamp) else None
