"""The API routes of needs and offers, written once: list, post, read, edit and end (cancel
or withdraw). needs/api.py and offers/api.py give their schemas, words and verbs in an
ApiSpec; the routes are registered on their blueprints by posting_routes().

Permission is checked before the body is parsed: a caller who may not post or edit gets 403
whatever it sent. Each POST or PATCH commits once, at its end; a GET writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import abort, request
from flask_login import current_user

from aidmatch.postings import operations as verbs
from aidmatch.postings.args import filters_from_args, near_point
from aidmatch.postings.kind import Kind
from aidmatch.postings.queries import find_visible, list_page
from aidmatch.postings.serialize import page_to_dicts
from aidmatch.web.api import token_required
from aidmatch.web.kept import MAX_SECONDS, kept_json
from aidmatch.web.schemas import ReasonIn


@dataclass(frozen=True)
class ApiSpec:
    """What the API of one kind differs in, beyond its Kind."""

    kind: Kind
    schema_in: type
    schema_patch: type
    schema_out: type
    schema_page: type
    list_args: type
    docs: dict[str, str]  # the routes' docstrings (the OpenAPI summaries)
    refusals: dict[str, str]  # 403 messages: post, edit, end
    list_extra: Callable = lambda args: {}

    def get(self, obj_id: int):
        """The need or offer if the caller may see it (a 404 refusal otherwise)."""
        return find_visible(self.kind, current_user, obj_id)


def allowed(check: Callable[[], bool], message: str):
    """Refuse (403) before the body is parsed unless check() says yes."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not check():
                abort(403, message)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def allowed_on(spec: ApiSpec, message: str):
    """For a route on one need or offer: 404 if the caller may not see it, then 403 unless
    it may change it, both before the body is parsed."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            obj = spec.get(kwargs[spec.kind.id_arg])
            if not verbs.may_change(current_user, obj):
                abort(403, message)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def _documented(doc: str):
    def decorate(view):
        view.__doc__ = doc
        return view

    return decorate


def posting_routes(blp, spec: ApiSpec) -> None:
    """Register the five routes of a kind on its API blueprint."""
    kind, out, id_rule = spec.kind, spec.schema_out, f"/<int:{spec.kind.id_arg}>"
    page_schema = spec.schema_page()  # made once: a schema copies its fields when it is made

    @blp.route("", methods=["GET"], endpoint="list_")
    @token_required
    @blp.arguments(spec.list_args, location="query")
    @blp.response(200, spec.schema_page)
    @_documented(spec.docs["list"])
    def list_(args):
        def compute():
            filters = filters_from_args(args, **spec.list_extra(args))
            page = list_page(kind, current_user, filters)
            dicts = page_to_dicts(page, current_user, kind.to_dict, near=near_point(filters))
            return page_schema.dump(dicts), MAX_SECONDS

        # kept for the caller until anything is written (web/kept.py)
        return kept_json(f"api:{kind.plural}", compute)

    @blp.route("", methods=["POST"], endpoint="create")
    @token_required
    @allowed(lambda: kind.may_post(current_user.organization), spec.refusals["post"])
    @blp.arguments(spec.schema_in)
    @blp.response(201, out)
    @blp.alt_response(200, schema=out, description=spec.docs["again"])
    @_documented(spec.docs["create"])
    def create(payload):
        key = request.headers.get("Idempotency-Key")
        posted = verbs.post(
            kind, current_user.organization, payload, current_user, idempotency_key=key
        )
        return kind.to_dict(posted.obj, current_user), 201 if posted.created else 200

    @blp.route(id_rule, methods=["GET"], endpoint="read")
    @token_required
    @blp.response(200, out)
    @_documented(spec.docs["read"])
    def read(**ids):
        return kind.to_dict(spec.get(ids[kind.id_arg]), current_user)

    @blp.route(id_rule, methods=["PATCH"], endpoint="update")
    @token_required
    @allowed_on(spec, spec.refusals["edit"])
    @blp.arguments(spec.schema_patch(partial=True))
    @blp.response(200, out)
    @_documented(spec.docs["update"])
    def update(payload, **ids):
        obj = verbs.edit(kind, spec.get(ids[kind.id_arg]), payload, current_user)
        return kind.to_dict(obj, current_user)

    @blp.route(f"{id_rule}/{kind.end_verb}", methods=["POST"], endpoint=kind.end_verb)
    @token_required
    @allowed_on(spec, spec.refusals["end"])
    @blp.arguments(ReasonIn, required=False)
    @blp.response(200, out)
    @_documented(spec.docs["end"])
    def end(payload, **ids):
        obj = verbs.end(kind, spec.get(ids[kind.id_arg]), current_user, payload.get("reason", ""))
        return kind.to_dict(obj, current_user)
