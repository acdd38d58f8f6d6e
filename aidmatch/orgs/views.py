"""Organizations: the directory for staff (search, filters, pages), an organization's page
(profile, members, invite codes, the coordinators' decisions), editing the profile, and the
members' verbs (remove, make owner, leave)."""

from __future__ import annotations

import math

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from aidmatch.db import is_id, utcnow
from aidmatch.extensions import db
from aidmatch.orgs import lifecycle
from aidmatch.orgs.forms import (
    ActionForm,
    DecisionForm,
    DirectoryForm,
    OrgEditForm,
    kinds_for,
    org_kind_filter_choices,
    org_kind_label,
    org_state_choices,
)
from aidmatch.orgs.members import leave_organization, remove_member, set_member_role
from aidmatch.orgs.models import Invite, Organization, OrgKind, OrgRole, org_name_key
from aidmatch.orgs.operations import create_invite, decide, update_organization
from aidmatch.orgs.sections import org_page_sections
from aidmatch.permissions import (
    can_decide_on,
    can_decide_orgs,
    can_edit_org,
    can_invite,
    can_leave_org,
    can_manage_members,
    can_see_org_contact,
    can_see_org_members,
    can_view_org,
    deny_unless,
    require_login,
    require_staff,
)
from aidmatch.places.labels import oblast_choices, place_label
from aidmatch.places.lookup import lookup_place
from aidmatch.places.models import Place
from aidmatch.refusals import Invalid, Refusal
from aidmatch.web.api import paginate
from aidmatch.web.errors import put_on_form
from aidmatch.web.labels import options
from aidmatch.web.text import search_terms

bp = Blueprint("orgs", __name__, url_prefix="/orgs")

PER_PAGE = 50
DECISIONS = "any(" + ",".join(lifecycle.TABLE) + ")"


@bp.app_context_processor
def _org_helpers() -> dict:
    return {"org_kind_label": org_kind_label, "org_state_label": lifecycle.state_label}


# --- the directory ---------------------------------------------------------------------------


def _page_number() -> int:
    try:
        page = int(request.args.get("page", 1))
    except (TypeError, ValueError):
        return 1
    return page if 1 <= page <= 100_000 else 1


def directory_query(q: str | None, state: str, kind: str, oblast: str):
    """Organizations with their member count, narrowed by name words, state, kind and the
    oblast of their settlement; waiting ones oldest first (the review order), others by
    name."""
    users = Organization.members.property.target  # the users table (auth is above orgs)
    members = (
        select(func.count())
        .select_from(users)
        .where(users.c.organization_id == Organization.id)
        .correlate(Organization)
        .scalar_subquery()
    )
    stmt = (
        select(Organization, members.label("members"))
        .outerjoin(Place, Place.id == Organization.place_id)
        .options(selectinload(Organization.place))
    )
    if q:
        key = org_name_key(q).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Organization.name_key.like(f"%{key}%", escape="\\"))
    if state:
        stmt = stmt.where(Organization.state == state)
    if kind:
        stmt = stmt.where(Organization.kind == kind)
    if oblast:
        stmt = stmt.where(Place.oblast == oblast)
    if state == lifecycle.UNVERIFIED:
        return stmt.order_by(Organization.created_at, Organization.id)
    return stmt.order_by(Organization.name_key, Organization.id)


@bp.get("")
@require_staff
def directory():
    """Every organization, for coordinators and admins: search by name, filter by state, kind
    and oblast, a page at a time."""
    form = DirectoryForm(formdata=request.args)
    form.state.choices = org_state_choices()
    form.kind.choices = org_kind_filter_choices()
    form.oblast.choices = options([("", _("all")), *oblast_choices()])
    q = search_terms(form.q.data)
    state = form.state.data if form.state.data in {s.value for s in lifecycle.OrgState} else ""
    kind = form.kind.data if form.kind.data in {k.value for k in OrgKind} else ""
    oblasts = {value for value, _label in oblast_choices()}
    oblast = form.oblast.data if form.oblast.data in oblasts else ""
    page = paginate(
        directory_query(q, state, kind, oblast), _page_number(), PER_PAGE, scalars=False
    )
    page["pages"] = max(1, math.ceil(page["total"] / page["per_page"]))
    args = {k: v for k, v in (("q", q), ("state", state), ("kind", kind), ("oblast", oblast)) if v}
    return render_template(
        "orgs/directory.html",
        form=form,
        page=page,
        filtered=bool(args),
        page_url=lambda n: url_for("orgs.directory", page=n, **args),
    )


@bp.get("/review")
@require_staff
def review():
    """The organizations waiting for verification: the directory, filtered."""
    return redirect(url_for("orgs.directory", state=lifecycle.UNVERIFIED.value))


# --- an organization's page ------------------------------------------------------------------


def _detail(org: Organization, decision_forms: dict | None = None, status: int = 200):
    """The organization's page as the viewer may see it."""
    user = current_user
    invites = []
    if can_invite(user, org):
        invites = db.session.scalars(
            select(Invite)
            .where(
                Invite.organization_id == org.id,
                Invite.used_at.is_(None),
                Invite.expires_at > utcnow(),
            )
            .order_by(Invite.created_at.desc(), Invite.id.desc())
        ).all()
    decisions = []
    if can_decide_on(user, org):
        forms = decision_forms or {}
        decisions = [
            (row, forms.get(row.name) or DecisionForm(formdata=None, prefix=row.name))
            for row in lifecycle.available(org.state)
        ]
    return render_template(
        "orgs/detail.html",
        org=org,
        members=list(org.members) if can_see_org_members(user, org) else [],
        invites=invites,
        may_invite=can_invite(user, org),
        may_edit=can_edit_org(user, org),
        may_manage=can_manage_members(user, org),
        may_leave=can_leave_org(user, org),
        show_contact=can_see_org_contact(user, org),
        show_decision=can_decide_orgs(user),
        decisions=decisions,
        **org_page_sections(org, user),
    ), status


@bp.get("/<int:org_id>")
@require_login
def detail(org_id: int):
    """An organization's page: its profile; members and invite codes for those who may see
    them; the decisions a coordinator may take."""
    org = db.get_or_404(Organization, org_id)
    deny_unless(can_view_org(current_user, org))
    return _detail(org)


@bp.post(f"/<int:org_id>/<{DECISIONS}:decision>")
@require_staff
def decide_on(org_id: int, decision: str):
    """Verify, reject, suspend or un-verify an organization, with a reason (audited)."""
    org = db.get_or_404(Organization, org_id)
    form = DecisionForm(prefix=decision)
    if not form.validate_on_submit():
        flash(_("The form expired: send it again."), "error")
        return redirect(url_for("orgs.detail", org_id=org.id))
    try:
        decide(org, decision, current_user._get_current_object(), form.reason.data, form.note.data)
    except Invalid as err:  # what was typed stays on the form
        db.session.rollback()
        put_on_form(form, err)
        return _detail(db.get_or_404(Organization, org_id), {decision: form}, 422)
    except Refusal as err:  # another coordinator decided meanwhile: the page as it is now
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for("orgs.detail", org_id=org_id))
    flash(
        _("%(org)s is now %(state)s.", org=org.name, state=lifecycle.state_label(org.state)), "ok"
    )
    return redirect(url_for("orgs.detail", org_id=org.id))


# --- the profile -----------------------------------------------------------------------------


@bp.route("/<int:org_id>/edit", methods=["GET", "POST"])
@require_login
def edit(org_id: int):
    """Edit the organization's profile (its owners and staff)."""
    org = db.get_or_404(Organization, org_id)
    deny_unless(can_edit_org(current_user, org))
    form = OrgEditForm()
    form.kind.choices = kinds_for(org)
    lookup = lookup_place(None, None)
    if request.method == "GET":
        form.name.data, form.kind.data = org.name, org.kind.value
        form.description.data, form.contact.data = org.description, org.contact
        form.public_name.data = org.public_name
        if org.place is not None:
            form.place_id.data, form.place_name.data = str(org.place.id), place_label(org.place)
        return render_template("orgs/edit.html", org=org, form=form, lookup=lookup)
    if form.validate_on_submit():
        chosen = [v for v in request.form.getlist(form.place_id.name) if v]
        lookup = lookup_place(form.place_name.data, chosen[0] if chosen else None)
        data = {
            "name": form.name.data,
            "kind": form.kind.data,
            "description": form.description.data,
            "contact": form.contact.data,
            "public_name": form.public_name.data,
        }
        if not lookup.error:
            data["place"] = lookup.place  # an empty box: no settlement
        try:
            update_organization(org, current_user._get_current_object(), data)
        except Refusal as err:
            db.session.rollback()
            put_on_form(form, err)
        if lookup.error:
            form.place_name.errors = [*form.place_name.errors, lookup.error]
        if not form.errors and not form.form_errors:
            flash(_("Saved."), "ok")
            return redirect(url_for("orgs.detail", org_id=org.id))
        db.session.rollback()
        if lookup.place is not None:
            form.place_id.data = str(lookup.place.id)
    else:
        form.form_errors.append(_("The form expired: send it again."))
    org = db.get_or_404(Organization, org_id)
    return render_template("orgs/edit.html", org=org, form=form, lookup=lookup), 422


# --- members ---------------------------------------------------------------------------------


def _member(org: Organization, user_id: int):
    member = next((m for m in org.members if m.id == user_id), None) if is_id(user_id) else None
    if member is None:
        abort(404)
    return member


def _member_verb(org_id: int, verb) -> object:
    """Run a member verb from a button; a refusal is flashed, nothing changes."""
    org = db.get_or_404(Organization, org_id)
    deny_unless(can_manage_members(current_user, org))
    if not ActionForm().validate_on_submit():
        flash(_("The form expired: send it again."), "error")
        return redirect(url_for("orgs.detail", org_id=org.id))
    try:
        message = verb(org)
    except Refusal as err:
        db.session.rollback()
        flash(err.message, "error")
    else:
        flash(message, "ok")
    return redirect(url_for("orgs.detail", org_id=org.id))


@bp.post("/<int:org_id>/members/<int:user_id>/remove")
@require_login
def remove(org_id: int, user_id: int):
    """Remove a member from the organization (owners and staff); the account stays."""

    def verb(org):
        member = _member(org, user_id)
        remove_member(org, member, current_user._get_current_object())
        return _("%(name)s is no longer a member.", name=member.display_name)

    return _member_verb(org_id, verb)


@bp.post("/<int:org_id>/members/<int:user_id>/role")
@require_login
def change_role(org_id: int, user_id: int):
    """Make a member an owner, or an owner a member (owners and staff)."""
    role = request.form.get("org_role", "")

    def verb(org):
        member = _member(org, user_id)
        set_member_role(org, member, role, current_user._get_current_object())
        if member.org_role == OrgRole.OWNER:
            return _("%(name)s is now an owner.", name=member.display_name)
        return _("%(name)s is now a member.", name=member.display_name)

    return _member_verb(org_id, verb)


@bp.post("/<int:org_id>/leave")
@require_login
def leave(org_id: int):
    """Leave the organization (the account stays, without an organization)."""
    org = db.get_or_404(Organization, org_id)
    deny_unless(can_leave_org(current_user, org))
    if not ActionForm().validate_on_submit():
        flash(_("The form expired: send it again."), "error")
        return redirect(url_for("orgs.detail", org_id=org.id))
    try:
        leave_organization(current_user._get_current_object())
    except Refusal as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for("orgs.detail", org_id=org.id))
    flash(_("You left %(org)s.", org=org.name), "ok")
    return redirect(url_for("core.index"))


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
