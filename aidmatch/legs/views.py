"""The route of a shipment on the match page (a section through matches/pages.match_section):
where the goods are and who holds them, each leg, the holder's hand-over form and the
receiver's confirmation; POST /matches/<id>/legs and /legs/<id>/confirm."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.legs import operations as ops
from aidmatch.legs.forms import HandOverForm, LegReceiptForm, parse_handed_over_at
from aidmatch.legs.models import Leg, LegStatus
from aidmatch.legs.overdue import late_legs
from aidmatch.matches.forms import parse_quantity
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.matches.pages import match_section
from aidmatch.matches.views import get_match, render_match
from aidmatch.permissions import is_staff, require_login
from aidmatch.privacy import viewer_for
from aidmatch.refusals import Invalid, Refusal
from aidmatch.web.errors import put_on_form, refusal_status
from aidmatch.web.home import AttentionItem, attention_provider
from aidmatch.web.i18n import local_datetime

bp = Blueprint("legs", __name__)

STATUS_LABELS = {
    LegStatus.ON_THE_WAY: _l("on the way"),
    LegStatus.RECEIVED: _l("received"),
}


def leg_view(leg: Leg, viewer, now) -> dict:
    """One leg as this viewer may see it: the receiver's contact, carrier, tracking and note
    only for the leg's two organizations and staff (privacy/policy.sees_leg_details)."""
    details = viewer_for(viewer).sees_leg_details(leg)
    return {
        "id": leg.id,
        "position": leg.position,
        "from": leg.from_org.name,
        "to": leg.to_org.name,
        "to_contact": leg.to_org.contact if details and leg.to_org.contact else None,
        "carrier": leg.carrier if details else None,
        "tracking": leg.tracking if details else None,
        "note": leg.note if details else None,
        "handed_over_at": leg.handed_over_at,
        "quantity_sent": leg.quantity_sent,
        "quantity_received": leg.quantity_received,
        "shortfall": leg.shortfall,
        "status": str(leg.status),
        "status_label": str(STATUS_LABELS[leg.status]),
        "confirmed_at": leg.confirmed_at,
        "late": ops.is_late(leg, now) and leg.match.status == MatchStatus.SHIPPED,
        "may_confirm": ops.may_confirm(viewer, leg),
    }


def where_now(match: Match, legs: list[Leg]) -> str:
    """Where the goods are and who holds them, in words."""
    if match.status == MatchStatus.DELIVERED:
        return _("Delivered to %(org)s.", org=match.need.organization.name)
    moving = ops.open_leg(legs)
    if moving is not None:
        return _(
            "On the way to %(org)s since %(when)s.",
            org=moving.to_org.name,
            when=local_datetime(moving.handed_over_at),
        )
    return _("Held by %(org)s.", org=ops.holder(match, legs).name)


def hand_over_form(match: Match, legs: list[Leg], form: HandOverForm | None = None):
    """The holder's form, its choices the places the goods may go next."""
    form = form or HandOverForm(formdata=None)
    holder = ops.holder_id(match, legs)
    form.to_org_id.choices = [
        (str(org.id), org.name) for org in ops.receivers(match) if org.id != holder
    ]
    if form.quantity_sent.data is None:
        form.quantity_sent.data = str(ops.quantity_at_holder(match, legs))
    return form


def receiving_leg(match: Match, viewer) -> Leg | None:
    """The leg on its way that this viewer receives and may confirm now, if any (the slip
    page offers its form too)."""
    leg = ops.open_leg(ops.legs_of(match))
    return leg if leg is not None and ops.may_confirm(viewer, leg) else None


def leg_receipt_form(leg: Leg) -> LegReceiptForm:
    """The receiver's form for this leg, what was sent filled in."""
    form = LegReceiptForm(formdata=None)
    form.quantity_received.data = str(leg.quantity_sent)
    return form


@match_section
def _route(match, viewer) -> dict:
    legs = ops.legs_of(match)
    if not legs and match.status != MatchStatus.SHIPPED:
        return {}
    now = utcnow()
    shown = [leg_view(leg, viewer, now) for leg in legs]
    forms = {}
    for leg in shown:  # a form for each leg this viewer receives (one at most is on the way)
        if leg["may_confirm"]:
            forms[leg["id"]] = leg_receipt_form(next(x for x in legs if x.id == leg["id"]))
    may_hand = ops.may_hand_over(viewer, match, legs)
    return {
        "route": {
            "legs": shown,
            "where": where_now(match, legs),
            "shortfall": sum(leg.shortfall for leg in legs),
            "late": any(leg["late"] for leg in shown),
        },
        "leg_forms": forms,
        "hand_over_form": hand_over_form(match, legs) if may_hand else None,
    }


@bp.post("/matches/<int:match_id>/legs")
@require_login
def hand_over(match_id: int):
    """The holder hands the goods over to the next organization, then back to the match."""
    match = get_match(match_id)
    user = current_user._get_current_object()
    legs = ops.legs_of(match)
    form = hand_over_form(match, legs, HandOverForm())
    try:
        if not form.validate_on_submit():
            raise Invalid(_("The form had expired. Please send it again."))
        quantity = parse_quantity(form.quantity_sent)
        if quantity is None:
            raise Invalid(form.quantity_sent.errors.pop(), "quantity_sent")
        when = parse_handed_over_at(form.handed_over_at)
        ops.hand_over(
            match,
            user,
            form.to_org_id.data,
            quantity,
            form.carrier.data,
            form.tracking.data,
            handed_over_at=when,
        )
    except Refusal as err:
        db.session.rollback()
        put_on_form(form, err)
        return render_match(match, status=refusal_status(err), hand_over_form=form)
    flash(_("The hand-over is recorded. Its receiver confirms what arrives."), "ok")
    return redirect(url_for("matches.detail", match_id=match.id, _anchor="route"))


@bp.post("/legs/<int:leg_id>/confirm")
@require_login
def confirm(leg_id: int):
    """The receiver of a leg confirms what arrived, then back to the match."""
    leg = ops.get_leg(leg_id)
    match = get_match(leg.match_id)
    user = current_user._get_current_object()
    form = LegReceiptForm()
    try:
        if not form.validate_on_submit():
            raise Invalid(_("The form had expired. Please send it again."))
        quantity = parse_quantity(form.quantity_received)
        if quantity is None:
            raise Invalid(form.quantity_received.errors.pop(), "quantity_received")
        ops.confirm(leg, user, quantity, form.note.data or "")
    except Refusal as err:
        db.session.rollback()
        put_on_form(form, err)
        forms = {**_route(match, user).get("leg_forms", {}), leg_id: form}
        return render_match(match, status=refusal_status(err), leg_forms=forms)
    flash(_("Thank you: the hand-off is confirmed."), "ok")
    return redirect(url_for("matches.detail", match_id=match.id, _anchor="route"))


@attention_provider
def _legs_to_confirm(user):
    """On a member's home page: the hand-offs on their way to its organization (the oldest
    one's match is linked)."""
    org_id = getattr(user, "organization_id", None)
    if org_id is None:
        return
    waiting = (Leg.to_org_id == org_id, Leg.status == LegStatus.ON_THE_WAY)
    count = db.session.scalar(select(func.count(Leg.id)).where(*waiting))
    if count:
        oldest = db.session.scalar(
            select(Leg.match_id).where(*waiting).order_by(Leg.handed_over_at).limit(1)
        )
        yield AttentionItem(
            ngettext(
                "%(num)d hand-off is on its way to you: confirm what arrives",
                "%(num)d hand-offs are on their way to you: confirm what arrives",
                count,
            ),
            url_for("matches.detail", match_id=oldest, _anchor="route"),
            "warn",
        )


@attention_provider
def _late_legs(user):
    """On a coordinator's home page: the hand-offs not confirmed in time (LEG_CONFIRM_HOURS;
    the oldest one's match is linked, flagged on its page)."""
    if not is_staff(user):
        return
    late = late_legs(utcnow())
    count = db.session.scalar(late.with_only_columns(func.count(Leg.id)))
    if count:
        oldest = db.session.scalar(
            late.with_only_columns(Leg.match_id).order_by(Leg.handed_over_at).limit(1)
        )
        yield AttentionItem(
            ngettext(
                "%(num)d hand-off was not confirmed in time",
                "%(num)d hand-offs were not confirmed in time",
                count,
            ),
            url_for("matches.detail", match_id=oldest, _anchor="route"),
            "urgent",
        )
