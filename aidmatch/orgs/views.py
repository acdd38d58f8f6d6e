"""Organizations: a member's view with invite codes, and review and verification by staff."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.orgs.forms import ActionForm, org_kind_label
from aidmatch.orgs.models import Invite, Organization
from aidmatch.orgs.operations import create_invite, verify_organization
from aidmatch.orgs.sections import org_page_sections
from aidmatch.permissions import (
    can_invite,
    can_see_org_contact,
    can_see_org_members,
    can_view_org,
    deny_unless,
    require_login,
    require_staff,
)
from aidmatch.refusals import Refusal

bp = Blueprint("orgs", __name__, url_prefix="/orgs")


@bp.app_context_processor
def _org_helpers() -> dict:
    return {"org_kind_label": org_kind_label}


@bp.get("/review")
@require_staff
def review():
    """Unverified organizations, oldest first, each with a Verify button."""
    orgs = db.session.scalars(
        select(Organization)
        .where(Organization.verified_at.is_(None))
        .options(selectinload(Organization.members))
        .order_by(Organization.created_at, Organization.id)
    ).all()
    return render_template("orgs/review.html", orgs=orgs)


@bp.post("/<int:org_id>/verify")
@require_staff
def verify(org_id: int):
    """Verify an organization (audited)."""
    org = db.get_or_404(Organization, org_id)
    if ActionForm().validate_on_submit():
        try:
            verify_organization(org, current_user._get_current_object())
        except Refusal as err:
            db.session.rollback()
            flash(err.message, "error")
        else:
            flash(_("%(org)s is verified.", org=org.name), "ok")
    return redirect(url_for("orgs.review"))


@bp.get("/<int:org_id>")
@require_login
def detail(org_id: int):
    """An organization's page: its town, what the registered sections add (its open needs or
    offers), members and invite codes for those who may see them."""
    org = db.get_or_404(Organization, org_id)
    deny_unless(can_view_org(current_user, org))
    members = []
    if can_see_org_members(current_user, org):
        members = list(org.members)  # ordered by display name
    invites = []
    if can_invite(current_user, org):
        invites = db.session.scalars(
            select(Invite)
            .where(
                Invite.organization_id == org.id,
                Invite.used_at.is_(None),
                Invite.expires_at > utcnow(),
            )
            .order_by(Invite.created_at.desc(), Invite.id.desc())
        ).all()
    return render_template(
        "orgs/detail.html",
        org=org,
        members=members,
        invites=invites,
        may_invite=can_invite(current_user, org),
        show_contact=can_see_org_contact(current_user, org),
        **org_page_sections(org, current_user),
    )


@bp.post("/<int:org_id>/invites")
@require_login
def new_invite(org_id: int):
    """Make a single-use invite code for this organization."""
    org = db.get_or_404(Organization, org_id)
    deny_unless(can_invite(current_user, org))
    if ActionForm().validate_on_submit():
        try:
            invite = create_invite(org, current_user._get_current_object())
        except Refusal as err:
            db.session.rollback()
            flash(err.message, "error")
        else:
            flash(_("New invite code: %(code)s", code=invite.code), "ok")
    return redirect(url_for("orgs.detail", org_id=org.id))
