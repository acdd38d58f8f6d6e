"""Language selection: the user's setting, else the browser's, else the default."""

from flask import current_app, has_request_context, request, session
from flask_login import current_user


def select_locale() -> str:
    """Pick uk, en or de for this request."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands and background jobs
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("language")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.language in languages:
        return str(current_user.language)
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )
