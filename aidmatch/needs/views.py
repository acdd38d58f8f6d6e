"""HTML pages for needs: browse, read, post, edit, cancel (the twin of needs/api.py).

Pages render from serialize.need_to_dict (the privacy-filtered view of a need), never from
the model's exact point or note. The helpers at the bottom are shared with offers/views.py.
"""

from __future__ import annotations

import math
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from aidmatch.audit.models import AuditEvent
from aidmatch.auth.models import User
from aidmatch.candidates.views import need_page_candidates
from aidmatch.drafts import draft_sent
from aidmatch.errors import ApiError
from aidmatch.extensions import db
from aidmatch.i18n import local_date, local_number
from aidmatch.matches.models import Match
from aidmatch.needs.forms import (
    MATCH_STATUS_LABELS,
    NEED_SORTS,
    NEED_STATUS_LABELS,
    URGENCY_LABELS,
    NeedForm,
    NeedListForm,
    PlaceLookup,
    ReasonForm,
    category_menu,
    label_of,
    language,
    place_label,
    unit_label,
    urgency_label,
)
from aidmatch.needs.models import Need, NeedStatus
from aidmatch.needs.operations import (
    can_edit_need,
    can_post_need,
    cancel_need,
    post_need,
    update_need,
)
from aidmatch.needs.queries import get_visible_need, list_needs
from aidmatch.needs.sending import give_token, posted_drafts, save, send_new
from aidmatch.permissions import STAFF_ROLES, can_see_org_members, deny_unless, require_login
from aidmatch.places.models import Place
from aidmatch.serialize import need_to_dict, page_to_dicts

bp = Blueprint("needs", __name__, url_prefix="/needs")


def template_helpers() -> dict:
    """Names the needs and offers templates use to put values into words."""
    return {
        "unit_label": unit_label,
        "urgency_label": urgency_label,
        "urgency_words": lambda: {str(u): str(label) for u, label in URGENCY_LABELS.items()},
        "need_status_label": lambda s: label_of(NEED_STATUS_LABELS, s),
        "match_status_label": lambda s: label_of(MATCH_STATUS_LABELS, s),
        "page_url": page_url,
    }


bp.context_processor(template_helpers)


@bp.get("")
@require_login
def index():
    """Needs the user may see, filtered, sorted and paginated."""
    menu = category_menu(language())
    form = NeedListForm()
    form.set_choices(language(), NEED_STATUS_LABELS, NEED_SORTS)
    urgency = form.urgency.data if form.urgency.data in {u.value for u in URGENCY_LABELS} else None
    filters, near_place = form.filters(urgency=urgency)
    page = list_needs(current_user, filters)
    view = page_view(page, need_to_dict, near_place)
    may_post = can_post_need(current_user)
    db.session.commit()  # list_needs expires stale needs on the way
    return render_template(
        "needs/index.html",
        form=form,
        page=view,
        menu=menu,
        near_place=near_place,
        may_post=may_post,
    )


@bp.get("/<int:need_id>")
@require_login
def detail(need_id: int):
    """One need: progress, location as the viewer may see it, matches and history."""
    need = get_visible_need(current_user, need_id)
    data = need_to_dict(need, current_user)
    context = {
        "need": data,
        "category": need.category.name(language()),
        "may_edit": can_edit_need(current_user, need),
        "matches": need_matches(need.id),
        "history": history_of(need, current_user, exact_shown(data), NEED_STATUS_LABELS),
        **need_page_candidates(need, current_user),
    }
    db.session.commit()  # get_visible_need may have expired it
    return render_template("needs/detail.html", **context)


@bp.route("/new", methods=["GET", "POST"])
@require_login
def new():
    """Post a need for the user's frontline group."""
    deny_unless(can_post_need(current_user))
    form = NeedForm()
    lookup = PlaceLookup()
    if request.method == "POST":
        user = current_user._get_current_object()
        response, lookup = send_new(
            form,
            lambda data, key: post_need(user.organization, data, user, idempotency_key=key),
            "needs.detail",
            "need_id",
            {
                "posted": _("Your need is posted."),
                "again": _("This form was already sent: your need was posted once, here it is."),
                "changed": _(
                    "This form was already sent and posted this need; changes made after "
                    "sending it were not saved. Edit the need to make them."
                ),
            },
        )
        if response is not None:
            return response
    give_token(form)
    context = {
        "form": form,
        "lookup": lookup,
        "need": None,
        "menu": category_menu(language()),
        "posted_drafts": posted_drafts(Need, "needs.detail", "need_id"),
    }
    return render_template("needs/form.html", **context)


@bp.route("/<int:need_id>/edit", methods=["GET", "POST"])
@require_login
def edit(need_id: int):
    """Edit an open need of the user's organization."""
    need = get_visible_need(current_user, need_id)
    deny_unless(can_edit_need(current_user, need))
    data = need_to_dict(need, current_user)
    heading = {"id": need.id, "title": need.title}
    if need.status != NeedStatus.OPEN:
        db.session.commit()
        flash(_("Only an open need can be edited."), "error")
        return redirect(url_for("needs.detail", need_id=need_id))
    form = NeedForm(data=need_initial(data, need.place))
    lookup = PlaceLookup()
    if request.method == "POST":
        user = current_user._get_current_object()
        lookup, saved = save(form, lambda values: update_need(need, values, user))
        if saved is not None:
            draft_sent(f"need:{need_id}")
            flash(_("Your changes are saved."), "ok")
            return redirect(url_for("needs.detail", need_id=need_id))
    else:
        db.session.commit()
    menu = category_menu(language())
    return render_template("needs/form.html", form=form, lookup=lookup, need=heading, menu=menu)


@bp.route("/<int:need_id>/cancel", methods=["GET", "POST"])
@require_login
def cancel(need_id: int):
    """Cancel an open need (after a confirmation); its matches not yet shipped end too."""
    need = get_visible_need(current_user, need_id)
    deny_unless(can_edit_need(current_user, need))
    form = ReasonForm()
    heading = {"id": need.id, "title": need.title, "pledged": need.pledged}
    if form.validate_on_submit():
        try:
            cancel_need(need, current_user._get_current_object(), form.reason.data or "")
        except ApiError as err:
            db.session.rollback()
            flash(err.message, "error")
        else:
            db.session.commit()
            flash(_("The need is cancelled."), "ok")
        return redirect(url_for("needs.detail", need_id=need_id))
    db.session.commit()
    return render_template("needs/cancel.html", form=form, need=heading)


def need_initial(data: dict, place: Place) -> dict:
    """The edit form's starting values, from the need as its owner may see it."""
    initial = {
        key: data.get(key)
        for key in ("title", "description", "category", "urgency", "needed_by", "sensitive")
    }
    initial["quantity"] = str(data["quantity"])
    initial["delivery_note"] = data.get("delivery_note", "")
    initial.update(location_initial(data, place))
    return initial


# Shared with offers/views.py ---------------------------------------------------------------


def exact_shown(data: dict) -> bool:
    """Does this dict (need_to_dict/offer_to_dict) hold the exact point for its viewer?"""
    return data["location"]["precision_km"] == 0


def location_initial(data: dict, place: Place) -> dict:
    """The place box and, if it differs from the place's own point, the exact point."""
    initial = {"place_id": str(data["place"]["id"]), "place_name": place_label(place)}
    location = data["location"]
    if exact_shown(data) and (location["lat"], location["lon"]) != (place.lat, place.lon):
        initial["lat"], initial["lon"] = repr(location["lat"]), repr(location["lon"])
    return initial


def page_url(page: int) -> str:
    """This list's URL with the same filters, at another page."""
    args = request.args.to_dict()
    args["page"] = page
    return url_for(request.endpoint, **args)


def page_view(page: dict, to_dict, near_place: Place | None) -> dict:
    """A page of rows as dicts for this viewer, with the number of pages."""
    near = {"lat": near_place.lat, "lon": near_place.lon} if near_place else None
    view = page_to_dicts(page, current_user, to_dict, near=near)
    view["pages"] = max(1, math.ceil(view["total"] / view["per_page"]))
    return view


def need_matches(need_id: int) -> list[dict]:
    """The matches of a need, oldest first: status, quantity and the donor organization."""
    rows = db.session.scalars(
        select(Match)
        .where(Match.need_id == need_id)
        .options(joinedload(Match.organization))
        .order_by(Match.id)
    )
    return [
        {
            "status": str(m.status),
            "quantity": m.quantity,
            "quantity_received": m.quantity_received,
            "organization": m.organization.name,
            "source": str(m.source),
            "created_at": m.created_at,
        }
        for m in rows
    ]


ACTION_LABELS = {
    "create": _l("posted"),
    "update": _l("edited"),
    "cancel": _l("cancelled"),
    "withdraw": _l("withdrawn"),
    "expire": _l("expired"),
}
FIELD_LABELS = {
    "title": _l("Title"),
    "description": _l("Description"),
    "category_id": _l("Category"),
    "quantity": _l("Quantity"),
    "urgency": _l("Urgency"),
    "needed_by": _l("Needed by"),
    "place_id": _l("Place"),
    "lat": _l("Latitude"),
    "lon": _l("Longitude"),
    "sensitive": _l("Sensitive"),
    "status": _l("Status"),
    "delivery_radius_km": _l("Delivery radius (km)"),
    "available_until": _l("Available until"),
    "reason": _l("Reason"),
    "matches_cancelled": _l("Matches cancelled"),
}
EXACT_ONLY = frozenset({"lat", "lon"})


def actor_name(actor: User | None, viewer, owner_org) -> str:
    """Who made a change, as this viewer may know it: names of a group's members only to the
    group itself and to staff (as on the organization's page); others see the group's name."""
    if actor is None:
        return _("aidmatch (automatic)")
    if actor.id == viewer.id or can_see_org_members(viewer, owner_org):
        return actor.display_name
    if actor.organization_id == owner_org.id:
        return _("a member of %(org)s", org=owner_org.name)
    if actor.role in STAFF_ROLES:
        return _("a coordinator")
    return actor.display_name


def history_of(obj, viewer, exact: bool, status_labels: dict) -> list[dict]:
    """The audit trail of a need or offer, oldest first, as this viewer may see it (exact
    coordinates only for those who may see the exact point)."""
    rows = db.session.execute(
        select(AuditEvent, User)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.object_type == obj.__tablename__, AuditEvent.object_id == obj.id)
        .order_by(AuditEvent.id)
    ).all()
    place_ids = {
        side.get("place_id")
        for event, _actor in rows
        if event.action.endswith(".update")
        for side in (event.before or {}, event.after or {})
    } - {None}
    places = {}
    if place_ids:
        found = db.session.scalars(select(Place).where(Place.id.in_(place_ids)))
        places = {p.id: place_label(p) for p in found}
    changed_categories = any(
        "category_id" in (event.after or {}) for event, _actor in rows if event.before
    )
    categories = category_menu(language()).names_by_id if changed_categories else {}

    def shown(key: str, value) -> str:
        if value is None:
            return _("anywhere") if key == "delivery_radius_km" else "—"
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        if key == "place_id":
            return places.get(value, str(value))
        if key == "category_id":
            return categories.get(value, str(value))
        if key == "status":
            return label_of(status_labels, value)
        if key == "urgency":
            return urgency_label(value)
        if key in ("quantity", "delivery_radius_km") and isinstance(value, int):
            return local_number(value)
        if key in ("needed_by", "available_until") and isinstance(value, str):
            try:
                return local_date(date.fromisoformat(value))
            except ValueError:
                return value
        return str(value)

    history = []
    for event, actor in rows:
        before, after = event.before or {}, event.after or {}
        changes = []
        if not event.action.endswith(".create"):
            for key in after:
                if key in EXACT_ONLY and not exact:
                    continue
                old = shown(key, before[key]) if key in before else ""
                changes.append((str(FIELD_LABELS.get(key, key)), old, shown(key, after[key])))
        verb = event.action.rpartition(".")[2]
        history.append(
            {
                "time": event.created_at,
                "action": str(ACTION_LABELS.get(verb, event.action)),
                "who": actor_name(actor, viewer, obj.organization),
                "changes": changes,
            }
        )
    return history
