"""The one error type operations raise when they refuse: a message, and the field it concerns."""

from __future__ import annotations

from flask import current_app, has_app_context
from flask_babel import force_locale

from aidmatch.errors import ApiError


def _text(message) -> str:
    """Render a (lazy) translatable message now, also where there is no request (CLI, tests)."""
    try:
        return str(message)
    except RuntimeError:
        # The locale selector reads the request; outside one, use the default language.
        if not has_app_context():
            raise
        with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "en")):
            return str(message)


class DomainError(ApiError):
    """An operation was refused: a message a person understands, optionally tied to a field.

    `status` follows the API's conventions: 422 invalid input (default), 409 a conflict with
    what exists (taken email, duplicate name, wrong state), 403 not allowed, 404 not found.
    The API shows it as {"error": {"message", "fields": {field: message}}}; a form shows it
    next to the field with attach_to().
    """

    def __init__(self, message, field: str | None = None, status: int = 422, code: str = ""):
        text = _text(message)
        super().__init__(status, text, {field: text} if field else {}, code)
        self.field = field

    def attach_to(self, form, field_map: dict[str, str] | None = None) -> None:
        """Show the message next to the matching form field, else at the top of the form."""
        name = (field_map or {}).get(self.field, self.field) if self.field else None
        field = form._fields.get(name) if name else None
        if field is not None:
            field.errors = [*field.errors, self.message]
        else:
            form.form_errors.append(self.message)
