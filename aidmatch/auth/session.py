"""Flask-Login wiring: load the user of a session cookie (bearer tokens: auth/tokens.py)."""

from __future__ import annotations

import hmac
import time

from flask import current_app, request, session

from aidmatch.auth.loading import load_user

# The session's last use is noted at most once a minute (fewer cookie rewrites).
SEEN_RESOLUTION_S = 60


def setup_login_manager(login_manager) -> None:
    """Tell Flask-Login how to load users and where the login page is."""
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
            user = load_user(int(key))  # its row held: auth/loading.py
        except (TypeError, ValueError):
            return None
        # A user disabled after logging in is logged out on the next request, and so is a
        # session made before the password last changed (User.get_id).
        if user is None or not user.active:
            return None
        if not hmac.compare_digest(stamp, user.session_stamp) or _idle_too_long():
            return None
        return user


def _idle_too_long() -> bool:
    """Has this browser session gone unused for longer than SESSION_IDLE_HOURS? Each request
    notes its time in the (signed) session cookie; nothing is written to the database."""
    now = int(time.time())
    seen = session.get("seen")
    idle = current_app.config["SESSION_IDLE_HOURS"] * 3600
    if isinstance(seen, int) and now - seen > idle:
        session.clear()
        return True
    if not isinstance(seen, int) or now - seen >= SEEN_RESOLUTION_S:
        note_seen()
    return False


def note_seen() -> None:
    """Note in the session that it is being used now. Logging in notes it too, so the
    cookie the login sets is not written again by the first page after it."""
    session["seen"] = int(time.time())
