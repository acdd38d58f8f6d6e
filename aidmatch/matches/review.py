"""The coordinators' review queue: pending matches to approve or reject (one by one or in bulk),
deliveries with a discrepancy, and confirmed matches not shipped in time (to release).

The page runs a fixed number of statements whatever the number of rows: matches are loaded with
their need, place, category and both organizations joined, and the organizations' histories
come from one GROUP BY (lists.org_histories). Reading the queue writes nothing: a lapsed
pending match reads as expired and leaves the queue by its time.
"""

from __future__ import annotations

import math

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload

from aidmatch.categories.menu import category_menu
from aidmatch.categories.operations import descendant_ids, get_by_slug
from aidmatch.db import is_id, utcnow
from aidmatch.extensions import db
from aidmatch.matches import lifecycle
from aidmatch.matches import operations as ops
from aidmatch.matches.attention import review_queue_condition
from aidmatch.matches.forms import ActionForm, BulkReviewForm, ReasonForm, ReviewFilterForm
from aidmatch.matches.lists import org_histories, overdue_condition
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.matches.pages import allowed_actions, explanation_view, status_label, time_left
from aidmatch.needs.models import Need
from aidmatch.permissions import require_staff
from aidmatch.places.labels import oblast_choices, place_label
from aidmatch.places.models import Place
from aidmatch.postings.validate import check_texts
from aidmatch.refusals import Refusal
from aidmatch.web.api import paginate
from aidmatch.web.labels import language, options, unit_label, urgency_label

bp = Blueprint("review", __name__, url_prefix="/review")

PER_PAGE = 50
SIDE_LIMIT = 50
MAX_BULK = 200


def _page_number() -> int:
    try:
        page = int(request.args.get("page", 1))
    except (TypeError, ValueError):
        return 1
    return page if 1 <= page <= 100_000 else 1


def _with_need():
    """Match joined to its need and the need's place, everything a row shows loaded at once."""
    need = contains_eager(Match.need)
    return (
        select(Match)
        .join(Need, Need.id == Match.need_id)
        .join(Place, Place.id == Need.place_id)
        .options(
            need,
            need.contains_eager(Need.place),
            need.joinedload(Need.organization),
            need.joinedload(Need.category),
            joinedload(Match.organization),
            joinedload(Match.offer),
        )
    )


def queue_query(now, oblast: str | None = None, category: str | None = None):
    """Pending matches still needing a coordinator: most urgent need first, then oldest."""
    stmt = _with_need().where(review_queue_condition(now))
    if oblast:
        stmt = stmt.where(Place.oblast == oblast)
    if category:
        found = get_by_slug(category)
        ids = descendant_ids(found) if found else set()
        stmt = stmt.where(Need.category_id.in_(ids or {-1}))
    return stmt.order_by(Need.urgency_rank, Match.created_at, Match.id)


def _org(org) -> dict:
    return {"id": org.id, "name": org.name, "verified": org.verified}


def _row(match: Match, viewer, now, names: dict[int, str]) -> dict:
    need = match.need
    return {
        "id": match.id,
        "quantity": match.quantity,
        "unit": unit_label(need.category.unit),
        "source": str(match.source),
        "donor_accepted": match.donor_accepted_at is not None,
        "created_at": match.created_at,
        "time_left": time_left(match, now),
        "need": {
            "id": need.id,
            "title": need.title,
            "urgency": str(need.urgency),
            "urgency_label": urgency_label(need.urgency),
            "category": names.get(need.category_id, need.category.slug),
            "place": place_label(need.place),  # with its oblast, in the reader's language
            "open": need.quantity - need.pledged,
            "quantity": need.quantity,
            "sensitive": need.sensitive,
        },
        "group": _org(match.need.organization),
        "donor": _org(match.organization),
        "distance_km": match.distance_km,
        "explanation": explanation_view(match, exact=True),
        "actions": allowed_actions(viewer, match, now),
        "status_label": status_label(match.status),
        "quantity_received": match.quantity_received,
        "delivery_note": match.delivery_note,
        "delivered_at": match.delivered_at,
        "expires_at": match.expires_at,
        "confirmed_at": match.confirmed_at,
    }


@bp.get("")
@require_staff
def index():
    """The queue, filtered by oblast and category, with discrepancies and overdue matches."""
    viewer = current_user._get_current_object()
    now = utcnow()
    lang = language()
    menu = category_menu(lang)
    filters = ReviewFilterForm(formdata=request.args)
    check_texts({"oblast": filters.oblast.data, "category": filters.category.data})
    filters.oblast.choices = options([("", _("All oblasts")), *oblast_choices()])
    page = paginate(
        queue_query(now, filters.oblast.data or None, filters.category.data or None),
        _page_number(),
        PER_PAGE,
    )
    page["pages"] = max(1, math.ceil(page["total"] / PER_PAGE))
    discrepancies = list(
        db.session.scalars(
            _with_need()
            .where(Match.status == MatchStatus.DELIVERED, Match.discrepancy.is_(True))
            .order_by(Match.delivered_at.desc(), Match.id.desc())
            .limit(SIDE_LIMIT)
        )
    )
    stale = list(
        db.session.scalars(
            _with_need().where(overdue_condition(now)).order_by(Match.expires_at).limit(SIDE_LIMIT)
        )
    )
    shown = [*page["items"], *discrepancies, *stale]
    histories = org_histories(
        (org_id for m in shown for org_id in (m.organization_id, m.need.organization_id)), now
    )
    names = menu.names_by_id
    context = {
        "page": {**page, "items": [_row(m, viewer, now, names) for m in page["items"]]},
        "discrepancies": [_row(m, viewer, now, names) for m in discrepancies],
        "stale": [_row(m, viewer, now, names) for m in stale],
        "histories": histories,
        "filters": filters,
        "menu": menu,
        "bulk": BulkReviewForm(formdata=None),
        "release_form": ReasonForm(formdata=None),
        "action_form": ActionForm(formdata=None),
        "page_url": lambda n: url_for("review.index", **{**request.args.to_dict(), "page": n}),
        "here": request.full_path.rstrip("?"),
    }
    return render_template("review/index.html", **context)


def _selected(action: str) -> tuple[str, list[int]]:
    """("approve" | "reject", match ids) from the pressed button: a row's own, or the bulk one
    with the ticked boxes."""
    verb, _sep, one = action.partition(":")
    ids = [one] if one else request.form.getlist("ids")
    numbers = []
    for raw in ids[:MAX_BULK]:
        try:
            number = int(raw)
        except ValueError:
            continue
        if is_id(number):
            numbers.append(number)
    return verb, list(dict.fromkeys(numbers))


@bp.post("")
@require_staff
def decide():
    """Approve or reject the ticked matches (or one row's): each in its own savepoint, so one
    that another coordinator moved meanwhile does not undo the rest."""
    back = request.form.get("back") or ""
    back = back if back.startswith("/review") else url_for("review.index")
    form = BulkReviewForm()
    if not form.validate_on_submit():
        flash(_("The form had expired. Please send it again."), "error")
        return redirect(back)
    verb, ids = _selected(request.form.get("action", ""))
    if verb not in ("approve", "reject") or not ids:
        flash(_("Tick at least one match first."), "error")
        return redirect(back)
    reason = (request.form.get(f"reason-{ids[0]}") if len(ids) == 1 else "") or form.reason.data
    reason = (reason or "").strip()
    if lifecycle.action(verb).reason == "required" and not reason:
        flash(_("Please give a reason for rejecting: both sides read it."), "error")
        return redirect(back)
    user = current_user._get_current_object()
    matches = db.session.scalars(
        select(Match)
        .where(Match.id.in_(ids))
        .options(joinedload(Match.need).joinedload(Need.organization))
        .order_by(Match.id)
    ).all()
    done, failed = 0, []
    for match in matches:
        try:
            with db.session.begin_nested():
                if verb == "approve":
                    ops.approve(match, user)
                else:
                    ops.reject(match, user, reason)
        except Refusal as err:
            failed.append(_("Match %(id)d: %(message)s", id=match.id, message=err.message))
        else:
            done += 1
    if done:
        message = (
            ngettext("%(num)d match approved.", "%(num)d matches approved.", done)
            if verb == "approve"
            else ngettext("%(num)d match rejected.", "%(num)d matches rejected.", done)
        )
        flash(message, "ok")
    for message in failed:
        flash(message, "error")
    return redirect(back)
