"""The old name of a verb's refusal: DomainError(message, field=None, status=422, code="").

Kept so that callers not yet converted keep working: the status picks the refusal class of
refusals.py (404 NotFound, 403 NotAllowed, 409 Conflict, else Invalid), so `except Conflict`
catches DomainError(..., status=409) and `except DomainError` / `except ApiError` still work.
New code raises the refusals directly.
"""

from __future__ import annotations

from flask import current_app, has_app_context
from flask_babel import force_locale

from aidmatch.refusals import Conflict, Invalid, NotAllowed, NotFound
from aidmatch.web.errors import ApiError, put_on_form


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
    """An operation was refused (the old constructor; see the module doc).

    `status` follows the API's conventions: 422 invalid input (default), 409 a conflict with
    what exists (taken email, duplicate name, wrong state), 403 not allowed, 404 not found.
    """

    def __new__(cls, message=None, field: str | None = None, status: int = 422, code: str = ""):
        if cls is DomainError:
            cls = _BY_STATUS.get(status, _Invalid)
        return super().__new__(cls)

    def __init__(self, message, field: str | None = None, status: int = 422, code: str = ""):
        text = _text(message)
        super().__init__(status, text, {field: text} if field else {}, code)
        self.field = field

    def attach_to(self, form, field_map: dict[str, str] | None = None) -> None:
        """Show the message next to the matching form field, else at the top of the form."""
        put_on_form(form, self, field_map)


class _NotFound(DomainError, NotFound):
    pass


class _NotAllowed(DomainError, NotAllowed):
    pass


class _Conflict(DomainError, Conflict):
    pass


class _Invalid(DomainError, Invalid):
    pass


_BY_STATUS = {404: _NotFound, 403: _NotAllowed, 409: _Conflict, 422: _Invalid}
