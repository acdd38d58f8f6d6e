"""/api/v1/tokens and /api/v1/me: bearer tokens for the JSON API."""

from __future__ import annotations

import marshmallow as ma
from flask import abort, current_app
from flask_login import current_user

from aidmatch.auth import tokens
from aidmatch.auth.limits import login_rate_limits
from aidmatch.web.api import make_blueprint, token_required

blp = make_blueprint("api_auth", __name__, tag="Tokens", description="Tokens and the current user")


class TokenRequest(ma.Schema):
    email = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=254))
    password = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=1024))


class TokenResponse(ma.Schema):
    token = ma.fields.String()
    expires_at = ma.fields.DateTime()


class OrganizationRef(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    kind = ma.fields.String()
    verified = ma.fields.Boolean()


class MeSchema(ma.Schema):
    id = ma.fields.Integer()
    email = ma.fields.String()
    display_name = ma.fields.String()
    role = ma.fields.String()
    language = ma.fields.String()
    organization = ma.fields.Nested(OrganizationRef, allow_none=True)


@blp.route("/tokens", methods=["POST"])
@login_rate_limits
@blp.arguments(TokenRequest)
@blp.response(201, TokenResponse)
def create_token(payload):
    """Exchange email and password for a bearer token with an expiry."""
    from aidmatch.auth.operations import authenticate

    user = authenticate(payload["email"], payload["password"])
    if user is None:
        abort(401, "Email or password is wrong.")
    token, row = tokens.issue(user, current_app.config["API_TOKEN_TTL_HOURS"])
    return {"token": token, "expires_at": row.expires_at}


@blp.route("/tokens/current", methods=["DELETE"])
@token_required
@blp.response(204)
def revoke_token():
    """Revoke the token this request was made with."""
    tokens.revoke_current()


@blp.route("/me", methods=["GET"])
@token_required
@blp.response(200, MeSchema)
def me():
    """The user the token belongs to, with its organization."""
    return current_user
