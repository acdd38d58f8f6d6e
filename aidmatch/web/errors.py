"""One place for errors: JSON under /api, HTML pages elsewhere; a 500 rolls back first.

Domain refusals (refusals.py) become status codes here and nowhere else: NotFound 404,
NotAllowed 403, Conflict 409, Invalid 422; put_on_form() shows one next to a form's field.
"""

from __future__ import annotations

import logging

from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from aidmatch.extensions import db
from aidmatch.refusals import Conflict, Invalid, NotAllowed, NotFound, Refusal

log = logging.getLogger(__name__)

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "validation_error",
    429: "too_many_requests",
    500: "server_error",
    503: "unavailable",
}


REFUSAL_STATUS: tuple[tuple[type[Refusal], int], ...] = (
    (NotFound, 404),
    (NotAllowed, 403),
    (Conflict, 409),
    (Invalid, 422),
)


def refusal_status(err: Refusal) -> int:
    """The HTTP status of a refusal: its class decides."""
    return next((code for kind, code in REFUSAL_STATUS if isinstance(err, kind)), 422)


def refusal_code(err: Refusal) -> str:
    """The machine code of a refusal in the JSON envelope."""
    return err.code or ERROR_CODES.get(refusal_status(err), "error")


def put_on_form(form, err: Refusal, field_map: dict[str, str] | None = None) -> None:
    """Show a refusal next to the form field(s) it names, else at the top of the form."""
    placed = False
    for name, message in (err.fields or {}).items():
        field = form._fields.get((field_map or {}).get(name, name))
        if field is not None and name != "csrf_token":
            field.errors = [*field.errors, message]
            placed = True
    if not placed:
        form.form_errors.append(err.message)


def error_response(status: int, message: str, fields: dict | None = None, code: str = ""):
    """The JSON body every API error uses: {"error": {"code", "message", "fields"}}."""
    body = {
        "error": {
            "code": code or ERROR_CODES.get(status, "error"),
            "message": message,
            "fields": fields or {},
        }
    }
    return jsonify(body), status


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.endswith(".json")


def _validation_fields(err: HTTPException) -> dict:
    """Per-field messages of a webargs/marshmallow validation error, flattened to strings."""
    messages = (getattr(err, "data", None) or {}).get("messages") or {}
    fields: dict[str, str] = {}
    for location_messages in messages.values():
        if isinstance(location_messages, dict):
            for name, problems in location_messages.items():
                fields[str(name)] = _first_message(problems)
        else:
            fields["_body"] = _first_message(location_messages)
    return fields


def _first_message(problems) -> str:
    if isinstance(problems, list | tuple) and problems:
        return _first_message(problems[0])
    if isinstance(problems, dict) and problems:
        key, value = next(iter(problems.items()))
        return f"{key}: {_first_message(value)}"
    return str(problems)


def register_error_handlers(app) -> None:
    """Install the handlers for refusals, HTTP errors and the unexpected."""

    @app.errorhandler(Refusal)
    def _refusal(err: Refusal):
        db.session.rollback()
        status = refusal_status(err)
        if _wants_json():
            return error_response(status, err.message, err.fields, refusal_code(err))
        template = f"errors/{status}.html" if status in (403, 404) else "errors/error.html"
        return render_template(template, status=status, message=err.message), status

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        status = err.code or 500
        if status >= 400:
            db.session.rollback()
        if _wants_json():
            fields = _validation_fields(err)
            message = err.description or err.name
            if fields and status == 422:
                message = "Some fields are not valid: " + ", ".join(sorted(fields))
            elif status == 400 and fields:
                message = "; ".join(str(m) for m in fields.values())
                fields = {}
            return error_response(status, message, fields)
        template = f"errors/{status}.html" if status in (403, 404) else "errors/error.html"
        # Werkzeug's own descriptions (and CSRF's) are English: the page then says it in the
        # reader's language. A description of ours (the translated login limit) is shown.
        csrf = isinstance(err, CSRFError)
        if csrf:  # the page says "expired"; why it failed (no Referer, no cookie) goes here
            log.info(
                "CSRF check failed on %s %s: %s", request.method, request.path, err.description
            )
        own = err.description != type(err).description and not csrf
        message = err.description if own else None
        return render_template(template, status=status, message=message, csrf=csrf), status

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return error_response(500, "Internal server error")
        return render_template("errors/500.html", status=500), 500
