"""/api/v1: vouching (the same verbs as the pages: orgs/vouches.py). An owner of a verified
organization vouches for one waiting for verification (POST /orgs/<id>/vouches) and withdraws
it (POST /vouches/<id>/withdraw); coordinators read who vouched for whom (GET /vouches, GET
/orgs/<id>/vouches). Anyone else may read only whether an organization is vouched for: the
badge (the needs' "organization.vouched"), never who vouched.

Refused: 403 for a caller who may not vouch (checked before the body is read) or read the
vouches, 404 for an unknown organization or vouch, 409 for oneself, an organization not
waiting for verification, a vouch already standing or already withdrawn, 422 for a missing or
too long reason."""

from __future__ import annotations

from functools import wraps

import marshmallow as ma
from flask import abort
from flask_login import current_user

from aidmatch.extensions import db
from aidmatch.orgs.models import Organization, Vouch
from aidmatch.orgs.vouches import (
    REASON_MAX,
    all_vouches_query,
    get_vouch,
    vouch,
    vouched_ids,
    vouches_for,
    withdraw,
)
from aidmatch.permissions import (
    can_open_vouch_page,
    can_see_vouchers,
    can_vouch,
    can_withdraw_vouch,
)
from aidmatch.refusals import NotFound
from aidmatch.web.api import PageArgs, make_blueprint, page_schema, paginate, token_required
from aidmatch.web.schemas import OrgRef

blp = make_blueprint(
    "api_vouches",
    __name__,
    tag="Vouches",
    description="Verified organizations vouching for organizations waiting for verification",
)


class VouchIn(ma.Schema):
    reason = ma.fields.String(
        required=True,
        metadata={"description": f"how you know them: a sentence, at most {REASON_MAX} characters"},
    )


class VouchOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    voucher = ma.fields.Nested(OrgRef, required=True)
    vouched = ma.fields.Nested(OrgRef, required=True)
    reason = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)
    withdrawn_at = ma.fields.DateTime(allow_none=True, required=True)


VouchPage = page_schema(VouchOut, "VouchPage")


class VouchListArgs(PageArgs):
    active = ma.fields.Boolean(
        metadata={"description": "true: standing vouches; false: withdrawn ones; absent: all"}
    )


def _org(org: Organization, vouched: set[int]) -> dict:
    return {"id": org.id, "name": org.name, "verified": org.verified, "vouched": org.id in vouched}


def vouch_to_dict(row: Vouch, vouched: set[int] | None = None) -> dict:
    """A vouch as its voucher and coordinators read it."""
    if vouched is None:
        vouched = vouched_ids([row.voucher_id, row.vouched_id])
    return {
        "id": row.id,
        "voucher": _org(row.voucher, vouched),
        "vouched": _org(row.vouched, vouched),
        "reason": row.reason,
        "created_at": row.created_at,
        "withdrawn_at": row.withdrawn_at,
    }


def _may_vouch(view):
    """403 before the body is read for anyone but an owner of a verified organization."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        user = current_user._get_current_object()
        if not can_vouch(user, user.organization):
            abort(403, "Only an owner of a verified organization may vouch for another.")
        return view(*args, **kwargs)

    return wrapped


def _require_staff() -> None:
    if not can_see_vouchers(current_user):
        abort(403, "Only coordinators and admins see who vouched for whom.")


def _organization(org_id: int) -> Organization:
    org = db.session.get(Organization, org_id)
    if org is None:
        raise NotFound("No such organization.")
    return org


@blp.route("/orgs/<int:org_id>/vouches", methods=["POST"])
@token_required
@_may_vouch
@blp.arguments(VouchIn)
@blp.response(201, VouchOut)
def create(payload, org_id):
    """Your verified organization vouches for this one, waiting for verification."""
    user = current_user._get_current_object()
    org = _organization(org_id)
    if not can_open_vouch_page(user, org):  # rejected or suspended: as on the page, none
        raise NotFound("No such organization.")
    row = vouch(user.organization, org, user, payload["reason"])
    return vouch_to_dict(row), 201


@blp.route("/vouches/<int:vouch_id>/withdraw", methods=["POST"])
@token_required
@blp.response(200, VouchOut)
def withdraw_(vouch_id):
    """Withdraw a vouch your organization made (its owners)."""
    user = current_user._get_current_object()
    row = get_vouch(vouch_id)
    if not can_withdraw_vouch(user, row.voucher):
        abort(403, "Only the owners of the organization that vouched may withdraw it.")
    withdraw(row, user)
    return vouch_to_dict(row)


@blp.route("/orgs/<int:org_id>/vouches", methods=["GET"])
@token_required
@blp.response(200, VouchPage)
def of_org(org_id):
    """Who vouched for this organization and why, newest first (coordinators)."""
    _require_staff()
    rows = vouches_for(_organization(org_id))
    vouched = vouched_ids(i for row in rows for i in (row.voucher_id, row.vouched_id))
    items = [vouch_to_dict(row, vouched) for row in rows]
    return {"items": items, "page": 1, "per_page": max(len(items), 1), "total": len(items)}


@blp.route("/vouches", methods=["GET"])
@token_required
@blp.arguments(VouchListArgs, location="query")
@blp.response(200, VouchPage)
def list_(args):
    """Every vouch, newest first (coordinators): who vouched for whom, and why."""
    _require_staff()
    page = paginate(all_vouches_query(args.get("active")), args["page"], args["per_page"])
    vouched = vouched_ids(i for row in page["items"] for i in (row.voucher_id, row.vouched_id))
    page["items"] = [vouch_to_dict(row, vouched) for row in page["items"]]
    return page
