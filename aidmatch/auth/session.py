"""Flask-Login wiring: load the user of a session cookie."""

from __future__ import annotations

from aidmatch.extensions import db


def setup_login_manager(login_manager) -> None:
    """Tell Flask-Login how to load users and where the login page is."""
    from aidmatch.auth.models import User

    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load_user(user_id: str):
        try:
            return db.session.get(User, int(user_id))
        except (TypeError, ValueError):
            return None
