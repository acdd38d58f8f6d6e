"""Organizations: review and verification by coordinators, the member's view, invites (stub)."""

from flask import Blueprint

bp = Blueprint("orgs", __name__, url_prefix="/orgs")


@bp.get("/review")
def review():
    return "review"


@bp.get("/<int:org_id>")
def detail(org_id: int):
    return "detail"
