"""The JSON API's shared parts: the flask-smorest Api, bearer-token auth, pagination.

Each domain keeps its own routes in `<domain>/api.py` as a flask-smorest Blueprint; schemas
validate input and shape output there, and the OpenAPI document at /api/v1/openapi.json is
generated from them. Errors are rendered in one place, aidmatch/errors.py.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import datetime
from functools import wraps

import marshmallow as ma
from flask import abort, request
from flask_login import current_user
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from sqlalchemy import func, select
from sqlalchemy.sql.util import find_tables
from webargs.flaskparser import FlaskParser

from aidmatch.cache import remember, tracked
from aidmatch.extensions import db

API_PREFIX = "/api/v1"
MAX_PER_PAGE = 200


class ErrorBody(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "e.g. validation_error"})
    message = ma.fields.String(required=True)
    fields = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        required=True,
        metadata={"description": "a message per field that is wrong (may be empty)"},
    )


class Error(ma.Schema):
    """Every error of the API: {"error": {"code", "message", "fields"}} (errors.py)."""

    error = ma.fields.Nested(ErrorBody, required=True)


class AidmatchApi(Api):
    """flask-smorest's Api, minus its own error handler: aidmatch/errors.py renders errors,
    and the document describes them in that shape. A blueprint's operations go into the
    document when it is first read (`spec`), not when the app is made: documenting them is
    half the cost of making an app, and most apps (every test's) never serve it."""

    ERROR_SCHEMA = Error

    def __init__(self, *args, **kwargs):
        self._undocumented: list[Callable[[], None]] = []
        # Two threads of a worker asking for the document at once: the second waits until
        # every step is done (a step is dropped once it has run, so one that failed fails
        # every read, as it would have failed the app's start).
        self._documenting = threading.RLock()
        self._running_steps = False  # a step that read `spec` would get it as it stands
        self._registering = False  # flask-smorest reads `spec` to register a blueprint
        super().__init__(*args, **kwargs)

    @property
    def spec(self):
        """The OpenAPI document, with every registered blueprint's operations in it."""
        if self._undocumented and not self._registering:
            with self._documenting:
                if not self._running_steps:
                    self._running_steps = True
                    try:
                        while self._undocumented:
                            self._undocumented[0]()
                            del self._undocumented[0]
                    finally:
                        self._running_steps = False
        return self._spec

    @spec.setter
    def spec(self, value) -> None:
        """A new document (init_app): blueprints registered for another app are left out."""
        self._undocumented.clear()
        self._spec = value

    def document_later(self, step: Callable[[], None]) -> None:
        """Put a blueprint's operations into the document when it is first read."""
        self._undocumented.append(step)

    def _register_error_handlers(self):
        """Register nothing: errors of every kind are rendered in one place."""

    def register_blueprint(self, blp, *, parameters=None, **options):
        """Register a blueprint; its operations are grouped in the document under its tag
        ("Needs"), not its endpoint name ("api_needs"), which flask-smorest would use."""
        self._registering = True
        try:
            super().register_blueprint(blp, parameters=parameters, **options)
        finally:
            self._registering = False
        tag = getattr(blp, "tag", None)
        if tag:
            name = options.get("name", blp.name)
            # apispec keeps the tags in a list that only grows (APISpec.tag appends to it).
            self._spec._tags[:] = [
                {"name": tag, "description": blp.description} if t["name"] == name else t
                for t in self._spec._tags
            ]


api = AidmatchApi()


def api_config() -> dict:
    """Flask config keys that flask-smorest reads."""
    return {
        "API_TITLE": "aidmatch",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": API_PREFIX,
        "OPENAPI_JSON_PATH": "openapi.json",
        "API_SPEC_OPTIONS": {
            "info": {
                "description": (
                    "Needs of frontline groups, offers of donors, and the matches between "
                    "them. Authenticate with a bearer token from POST /api/v1/tokens. "
                    'Errors: {"error": {"code", "message", "fields"}}.'
                )
            },
        },
    }


def init_api(app) -> None:
    """Bind the Api to the app and declare the bearer security scheme."""
    for key, value in api_config().items():
        app.config.setdefault(key, value)
    api.init_app(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "opaque token"}
    )
    app.after_request(conditional_json)


# The request headers that can make an answer conditional (304, 412) or partial (206).
CONDITIONAL = frozenset(
    f"HTTP_{name}"
    for name in ("IF_NONE_MATCH", "IF_MATCH", "IF_MODIFIED_SINCE", "IF_UNMODIFIED_SINCE",
                 "IF_RANGE", "RANGE")
)  # fmt: skip


def conditional_json(response):
    """A JSON answer to a GET (the API's lists and records, the map's markers) carries an
    ETag of its body; asked again with that ETag in If-None-Match, it is a 304 with no body:
    a phone on a slow connection reloading a list that did not change gets a few bytes."""
    if (
        request.method in ("GET", "HEAD")
        and response.status_code == 200
        and response.mimetype == "application/json"
        and not response.direct_passthrough
    ):
        response.add_etag()
        if not CONDITIONAL.isdisjoint(request.environ):  # nothing to compare: as it is
            response.make_conditional(request)
    return response


def _text_problems(value, name: str, problems: dict) -> None:
    """Collect, per field, why a string in value (nested too, keys included) can't be stored."""
    from aidmatch.web.text import text_problem

    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            problems.setdefault(name, [problem])
    elif isinstance(value, dict):
        for key, item in value.items():
            _text_problems(key, name, problems)
            _text_problems(item, f"{name}.{key}" if name else str(key), problems)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _text_problems(item, f"{name}.{index}", problems)


class CheckedParser(FlaskParser):
    """webargs' parser, refusing (422 naming the field) a NUL character or a lone surrogate
    anywhere in a JSON body or query string before any schema reads it; fields that drop
    them (search words, schemas.SearchText) are left to do so."""

    def pre_load(self, location_data, *, schema, req, location):
        """Check every string of the location's raw data."""
        raw = location_data
        if location in ("query", "querystring"):
            raw = {key: "".join(req.args.getlist(key)) for key in req.args}
        if isinstance(raw, dict):
            keep = {k for k, f in schema.fields.items() if getattr(f, "drops_bad_characters", 0)}
            raw = {k: v for k, v in raw.items() if k not in keep}
        problems: dict = {}
        _text_problems(raw, "", problems)
        if problems:
            if isinstance(raw, dict):
                raise ma.ValidationError(problems)
            # Not an object (a list, a bare string): the body as a whole is refused.
            raise ma.ValidationError(sorted({m for found in problems.values() for m in found}))
        return location_data


class ApiBlueprint(SmorestBlueprint):
    """flask-smorest's Blueprint with the checked parser, its operations documented under
    `tag` (a name people read in the API's documentation)."""

    ARGUMENTS_PARSER = CheckedParser()

    def __init__(self, *args, tag: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.tag = tag

    def register_views_in_doc(self, api, app, spec, *, name, parameters):
        """Document the views under the blueprint's tag (where a route names no tags), when
        the document is first read (AidmatchApi.spec)."""
        if self.tag:
            for endpoint_doc in self._docs.values():
                for key, operation in endpoint_doc.items():
                    if key != "parameters" and operation.get("tags") is None:
                        operation["tags"] = [self.tag]
        document = super().register_views_in_doc
        api.document_later(lambda: document(api, app, spec, name=name, parameters=parameters))


def make_blueprint(
    name: str, import_name: str, url_prefix: str = "", *, tag: str | None = None, **kwargs
):
    """A flask-smorest Blueprint mounted under /api/v1 (CSRF-exempt: bearer auth only), its
    operations grouped under `tag` in the API's documentation ("Needs", "Matches"); without
    one, a tag made of its name ("api_orgs": "Orgs"), never the raw name."""
    tag = tag or name.removeprefix("api_").replace("_", " ").capitalize()
    return ApiBlueprint(name, import_name, url_prefix=API_PREFIX + url_prefix, tag=tag, **kwargs)


def token_required(view):
    """Require a valid bearer token (401 otherwise; documented as the route's security); the
    user is then `current_user`."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            abort(401, "A valid bearer token is required: POST /api/v1/tokens to get one.")
        return view(*args, **kwargs)

    # The document asks for the token on these routes only: the others are public.
    return SmorestBlueprint.doc(security=[{"bearerAuth": []}])(wrapped)


class PageArgs(ma.Schema):
    """?page=&per_page= for every list."""

    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=100_000))
    per_page = ma.fields.Integer(
        load_default=50, validate=ma.validate.Range(min=1, max=MAX_PER_PAGE)
    )


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The envelope of a list: {"items": [...], "page", "per_page", "total"}."""
    return ma.Schema.from_dict(
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema)),
            "page": ma.fields.Integer(),
            "per_page": ma.fields.Integer(),
            "total": ma.fields.Integer(),
        },
        name=name,
    )


# A list's total is counted exactly up to this many rows by a count that stops there; a
# larger one once per generation of the data (count_rows).
EXACT_UP_TO = 1000


def count_rows(statement) -> int:
    """How many rows statement selects. A count that stops after EXACT_UP_TO + 1 rows costs
    little however large the table; a larger total is counted in full once per generation of
    the data and kept in the shared cache (cache.remember: any committed write makes it
    stale), keyed by the statement's SQL and parameters, which say the viewer and the date
    too. So a list of 100 000 needs is not counted again for every page and every reader."""
    unordered = statement.order_by(None)
    total = func.count().label("list_total")  # named: tests tell a list's total by it
    capped = db.session.scalar(
        select(total).select_from(unordered.limit(EXACT_UP_TO + 1).subquery())
    )
    if capped <= EXACT_UP_TO:
        return capped
    # The statement's structure and its parameters' values, as SQLAlchemy's own cache of
    # compiled statements keys them: far cheaper than compiling it to text or spelling the
    # structure out. Python hashes it differently in each process (so each process counts
    # once per generation); the values, which say the viewer and the date, are spelled out.
    key = unordered._generate_cache_key()
    values = [bind.effective_value for bind in key.bindparams]
    whole = select(total).select_from(unordered.subquery())
    tables = {table.name for table in find_tables(unordered, check_columns=True)}
    if any(isinstance(value, datetime) for value in values) or not tracked(tables):
        # Kept in vain: a statement of this moment (matches that lapse, read at `now`) is
        # never asked again; the cache's generation does not follow these tables' writes.
        return db.session.scalar(whole)
    parts = (os.getpid(), hash(key.key), [repr(value) for value in values])
    return remember("total", parts, lambda: db.session.scalar(whole))


def paginate(statement, page: int, per_page: int, *, scalars: bool = True) -> dict:
    """Run a select for one page and count the whole (count_rows; no count at all when this
    page is short of per_page: the last one); return the list envelope."""
    paged = statement.limit(per_page).offset((page - 1) * per_page)
    result = db.session.scalars(paged) if scalars else db.session.execute(paged)
    items = list(result)
    if 0 < len(items) < per_page or (page == 1 and len(items) < per_page):
        total = (page - 1) * per_page + len(items)
    else:
        total = count_rows(statement)
    return {"items": items, "page": page, "per_page": per_page, "total": total}


def register_docs_page(app) -> None:
    """/api/v1/docs: Swagger UI, vendored into static/, over the generated OpenAPI document."""
    from flask import render_template, url_for

    @app.get(f"{API_PREFIX}/docs")
    def api_docs():
        return render_template("api/docs.html", spec_url=url_for("api-docs.openapi_json"))
