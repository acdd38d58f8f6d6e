"""One place for errors: JSON under /api, HTML pages elsewhere; a 500 rolls back first."""

from __future__ import annotations

import logging

from flask import jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from aidmatch.extensions import db

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


class ApiError(Exception):
    """An error with an HTTP status, a machine code, a message and per-field messages."""

    def __init__(self, status: int, message: str, fields: dict | None = None, code: str = ""):
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields or {}
        self.code = code or ERROR_CODES.get(status, "error")


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
    return request.path.startswith("/api/")


def register_error_handlers(app) -> None:
    """Install the handlers for ApiError, HTTP errors and unexpected exceptions."""

    @app.errorhandler(ApiError)
    def _api_error(err: ApiError):
        db.session.rollback()
        if _wants_json():
            return error_response(err.status, err.message, err.fields, err.code)
        return render_template("errors/error.html", status=err.status, message=err.message), (
            err.status
        )

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        status = err.code or 500
        if status >= 400:
            db.session.rollback()
        if _wants_json():
            return error_response(status, err.description or err.name)
        template = f"errors/{status}.html" if status in (403, 404) else "errors/error.html"
        return render_template(template, status=status, message=err.description), status

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return error_response(500, "Internal server error")
        return render_template("errors/500.html", status=500), 500
