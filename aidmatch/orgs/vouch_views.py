"""Vouching pages (orgs/vouches.py): the page where an owner of a verified organization vouches
for one waiting for verification (/orgs/<id>/vouch: the link its members pass on), withdrawing
a vouch, the coordinators' list of who vouched for whom (/orgs/vouches), and the organization
page's section: the badge, the vouches it made (its members), who vouched for it (staff)."""

from __future__ import annotations

import math

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from aidmatch.extensions import db
from aidmatch.orgs.forms import ActionForm, VouchForm
from aidmatch.orgs.lifecycle import OrgState
from aidmatch.orgs.models import Organization
from aidmatch.orgs.sections import org_page_section
from aidmatch.orgs.views import bp
from aidmatch.orgs.vouches import (
    REASON_MAX,
    VOUCHES_NEEDED,
    all_vouches_query,
    get_vouch,
    is_vouched,
    vouch,
    vouched_ids,
    vouches_by,
    vouches_for,
    withdraw,
)
from aidmatch.permissions import (
    can_open_vouch_page,
    can_see_vouchers,
    can_vouch,
    can_withdraw_vouch,
    deny_unless,
    is_member,
    require_login,
    require_staff,
)
from aidmatch.places.neighbours import near
from aidmatch.refusals import Invalid, NotFound, Refusal
from aidmatch.web.api import paginate
from aidmatch.web.errors import put_on_form

PER_PAGE = 50
SHOWN = {"active": True, "withdrawn": False}


@org_page_section
def vouch_section(org, viewer) -> dict:
    """The badge for everyone who sees the page; the link to pass on and the vouches made, for
    the organization's members; who vouched for it and why, for staff."""
    staff = can_see_vouchers(viewer)
    member = is_member(viewer, org)
    return {
        "vouched": is_vouched(org),
        "vouches_needed": VOUCHES_NEEDED,
        "vouch_link": member and org.state == OrgState.UNVERIFIED,
        "vouches_made": vouches_by(org) if member or staff else [],
        "may_withdraw": can_withdraw_vouch(viewer, org),
        "vouchers": vouches_for(org) if staff else [],
    }


def _vouch_page(org: Organization, form: VouchForm, status: int = 200):
    own = current_user.organization_id == org.id
    refusal = None
    if own:
        refusal = _("An organization cannot vouch for itself.")
    elif org.state != OrgState.UNVERIFIED:
        refusal = _("Only an organization waiting for verification can be vouched for.")
    mine, theirs = current_user.organization.place, org.place
    return render_template(
        "orgs/vouch.html",
        org=org,
        form=form,
        refusal=refusal,
        counts=near(getattr(mine, "oblast", None), getattr(theirs, "oblast", None)),
        reason_max=REASON_MAX,
        needed=VOUCHES_NEEDED,
    ), status


@bp.route("/<int:org_id>/vouch", methods=["GET", "POST"])
@require_login
def vouch_for(org_id: int):
    """Vouch for an organization waiting for verification, on behalf of one's own verified
    organization (its owners), with a sentence of why."""
    user = current_user._get_current_object()
    deny_unless(can_vouch(user, user.organization))
    org = db.session.get(Organization, org_id)
    if not can_open_vouch_page(user, org):
        raise NotFound(_("Not found"))
    form = VouchForm()
    if request.method == "GET":
        return _vouch_page(org, form)
    if not form.validate_on_submit():
        form.form_errors.append(_("The form expired: send it again."))
        return _vouch_page(org, form, 422)
    try:
        vouch(user.organization, org, user, form.reason.data)
    except Invalid as err:  # what was typed stays on the form
        db.session.rollback()
        put_on_form(form, err)
        return _vouch_page(db.get_or_404(Organization, org_id), form, 422)
    except Refusal as err:
        db.session.rollback()
        form.form_errors.append(err.message)
        return _vouch_page(db.get_or_404(Organization, org_id), form, 409)
    flash(_("Your organization vouches for %(org)s.", org=org.name), "ok")
    return redirect(url_for("orgs.detail", org_id=user.organization_id))


@bp.post("/vouches/<int:vouch_id>/withdraw")
@require_login
def withdraw_vouch(vouch_id: int):
    """Withdraw a vouch of one's organization (its owners)."""
    row = get_vouch(vouch_id)
    deny_unless(can_withdraw_vouch(current_user, row.voucher))
    back = redirect(url_for("orgs.detail", org_id=row.voucher_id))
    if not ActionForm().validate_on_submit():
        flash(_("The form expired: send it again."), "error")
        return back
    try:
        withdraw(row, current_user._get_current_object())
    except Refusal as err:
        db.session.rollback()
        flash(err.message, "error")
        return back
    flash(_("Your organization no longer vouches for %(org)s.", org=row.vouched.name), "ok")
    return back


@bp.get("/vouches")
@require_staff
def vouch_list():
    """Who vouched for whom, newest first, for coordinators: all, active or withdrawn."""
    shown = request.args.get("shown", "")
    shown = shown if shown in SHOWN else ""
    try:
        number = max(1, min(int(request.args.get("page", 1)), 100_000))
    except (TypeError, ValueError):
        number = 1
    page = paginate(all_vouches_query(SHOWN.get(shown)), number, PER_PAGE)
    page["pages"] = max(1, math.ceil(page["total"] / page["per_page"]))
    return render_template(
        "orgs/vouches.html",
        page=page,
        shown=shown,
        vouched=vouched_ids(row.vouched_id for row in page["items"]),
        page_url=lambda n: url_for(
            "orgs.vouch_list", page=n, **({"shown": shown} if shown else {})
        ),
    )
