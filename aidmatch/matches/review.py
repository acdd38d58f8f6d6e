"""The coordinators' review queue (/review): pending matches to approve or reject, as compact
rows (queue.py reads them), one by one or in bulk; deliveries with a discrepancy, and confirmed
matches not shipped in time (to release).

Bulk decisions: the ticked matches, or every match shown on the page ("all on this page":
the page's ids travel as a hidden input, so it works without JavaScript; static/js/
select-all.js only ticks the boxes to show it). Each match goes through the real verb
(transitions.approve / reject) in its own savepoint of the request's one transaction: one that
another coordinator moved meanwhile is reported, and the others still go through (the page
says so). A request the queue cannot take (nothing ticked, no reason for a rejection, a bad
filter) is drawn again with what was ticked and typed, and a message (422).

Reading the queue writes nothing: a lapsed pending match reads as expired and leaves the queue
by its time.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import MultiDict

from aidmatch.categories.menu import category_menu
from aidmatch.db import is_id, utcnow
from aidmatch.extensions import db
from aidmatch.matches import lifecycle
from aidmatch.matches import operations as ops
from aidmatch.matches.flags import FLAGS
from aidmatch.matches.forms import ActionForm, BulkReviewForm, ReasonForm, ReviewFilterForm
from aidmatch.matches.lists import changes_at, org_histories, overdue_condition
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.matches.pages import allowed_actions, status_label
from aidmatch.matches.queue import ARG_NAMES, SORTS, queue_page, read_args, row, side_list
from aidmatch.needs.models import Need
from aidmatch.permissions import require_staff
from aidmatch.places.labels import oblast_choices, place_label
from aidmatch.refusals import Refusal
from aidmatch.web.kept import held_until, kept_page
from aidmatch.web.labels import MATCH_SOURCE_LABELS, language, options, unit_label, urgency_label

bp = Blueprint("review", __name__, url_prefix="/review")

SIDE_LIMIT = 50
MAX_BULK = 200


def _filter_form(args: MultiDict, errors: dict[str, str]) -> ReviewFilterForm:
    form = ReviewFilterForm(formdata=args)
    form.oblast.choices = options([("", _("All oblasts")), *oblast_choices()])
    form.flag.choices = options(
        [("", _("Any, or none")), *((n, f.label) for n, f in FLAGS.items())]
    )
    form.source.choices = options([("", _("Any")), *MATCH_SOURCE_LABELS.items()])
    form.sort.choices = options(list(SORTS.items()))
    for name, message in errors.items():
        if name in form._fields and name != "per_page":
            form[name].errors = [message]
    return form


def _side_row(match: Match, viewer, now) -> dict:
    """A match of the side lists (overdue, short deliveries)."""
    need = match.need
    return {
        "id": match.id,
        "need_title": need.title,
        "urgency": str(need.urgency),
        "urgency_label": urgency_label(need.urgency),
        "place": place_label(need.place),
        "quantity": match.quantity,
        "unit": unit_label(need.category.unit),
        "group": need.organization.name,
        "donor": match.organization.name,
        "actions": allowed_actions(viewer, match, now),
        "status_label": status_label(match.status),
        "quantity_received": match.quantity_received,
        "delivery_note": match.delivery_note,
        "delivered_at": match.delivered_at,
        "expires_at": match.expires_at,
    }


def render_queue(
    args: MultiDict,
    *,
    bulk: BulkReviewForm | None = None,
    ticked: frozenset[int] = frozenset(),
    all_ticked: bool = False,
    problem: str | None = None,
    status: int = 200,
):
    """The queue page for these query arguments; a bulk form sent back with what was ticked
    and typed, and a problem to show, when a decision could not be taken."""
    context = queue_context(args, bulk=bulk, ticked=ticked, all_ticked=all_ticked, problem=problem)
    if context["queue"].errors:
        status = 422
    return render_template("review/index.html", **context), status


def queue_context(
    args: MultiDict,
    *,
    bulk: BulkReviewForm | None = None,
    ticked: frozenset[int] = frozenset(),
    all_ticked: bool = False,
    problem: str | None = None,
) -> dict:
    """What review/index.html draws (render_queue), and when it changes with time alone
    (``changes_at``: a pending match lapses, a confirmed one's time to ship runs out)."""
    viewer = current_user._get_current_object()
    now = utcnow()
    queue = read_args(args)
    menu = category_menu(language())
    filters = _filter_form(args, queue.errors)
    page, parents, rows = None, {}, []
    if not queue.errors:
        page, parents = queue_page(now, queue)
        rows = [row(m, viewer, now, menu.names_by_id, parents) for m in page["items"]]
    discrepancies = side_list(
        (Match.status == MatchStatus.DELIVERED, Match.discrepancy.is_(True)),
        (Match.delivered_at.desc(), Match.id.desc()),
        SIDE_LIMIT,
    )
    stale = side_list((overdue_condition(now),), (Match.expires_at,), SIDE_LIMIT)
    org_ids = [o.id for r in rows for o in (r["group"], r["donor"])]
    histories = org_histories(org_ids, now)
    kept = {k: v for k, v in args.items() if k in ARG_NAMES and v and k != "page"}

    def page_url(number: int) -> str:
        return url_for("review.index", **kept, page=number)

    here = page_url(queue.page) if queue.page != 1 else url_for("review.index", **kept)
    return {
        "page": page,
        "rows": rows,
        "queue": queue,
        "shown": [r["id"] for r in rows if r["may_approve"]],
        "ticked": ticked,
        "all_ticked": all_ticked,
        "problem": problem,
        "discrepancies": [_side_row(m, viewer, now) for m in discrepancies],
        "stale": [_side_row(m, viewer, now) for m in stale],
        "histories": histories,
        "filters": filters,
        "menu": menu,
        "flag_labels": {name: f.label for name, f in FLAGS.items()},
        "flags": list(FLAGS.values()),
        "bulk": bulk or BulkReviewForm(formdata=None),
        "release_form": ReasonForm(formdata=None),
        "action_form": ActionForm(formdata=None),
        "page_url": page_url,
        "here": here,
        "changes_at": changes_at(select(Match), now),
    }


@bp.get("")
@require_staff
def index():
    """The queue: filtered, sorted and paged as asked, with the side lists; kept for the
    coordinator until anything is written or a match in the network changes with time
    (web/kept.py). Filters it refuses are drawn with their errors, never kept."""
    if read_args(request.args).errors:
        return render_queue(request.args)
    return kept_page(
        "review",
        "review/index.html",
        lambda: queue_context(request.args),
        seconds=lambda context: held_until(context["changes_at"]),
    )


def _ids(values) -> list[int]:
    """Match ids from form values (each may hold several, separated by spaces or commas)."""
    numbers = []
    for value in values:
        for raw in value.replace(",", " ").split():
            try:
                number = int(raw)
            except ValueError:
                continue
            if is_id(number):
                numbers.append(number)
    return list(dict.fromkeys(numbers))[:MAX_BULK]


def _back() -> str:
    """Where the decision came from: the queue with its filters and page (never elsewhere)."""
    back = request.form.get("back") or ""
    parts = urlsplit(back)
    if parts.scheme or parts.netloc or parts.path != url_for("review.index"):
        return url_for("review.index")
    return back


@bp.post("")
@require_staff
def decide():
    """Approve or reject the ticked matches, all those of the page, or one row's: each in its
    own savepoint, so that one another coordinator moved meanwhile does not undo the rest."""
    back = _back()
    form = BulkReviewForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        flash(_("The form had expired. Please send it again."), "error")
        return redirect(back)
    verb, _sep, one = request.form.get("action", "").partition(":")
    all_ticked = request.form.get("all") == "page"
    if one:
        ids = _ids([one])
    elif all_ticked:
        ids = _ids(request.form.getlist("shown"))
    else:
        ids = _ids(request.form.getlist("ids"))

    def again(problem: str | None):
        args = MultiDict(_query(back))
        return render_queue(
            args,
            bulk=form,
            ticked=frozenset(_ids(request.form.getlist("ids"))),
            all_ticked=all_ticked,
            problem=problem,
            status=422,
        )

    if verb not in ("approve", "reject"):
        return again(_("Choose “Approve” or “Reject”."))
    if not ids:
        return again(_("Tick at least one match first, or “All matches on this page”."))
    reason = (request.form.get(f"reason-{ids[0]}") if one else "") or form.reason.data or ""
    reason = reason.strip()
    if form.reason.errors:
        return again(None)
    if lifecycle.action(verb).reason == "required" and not reason:
        form.reason.errors = [_("Please give a reason for rejecting: both sides read it.")]
        return again(None)
    done, failed = _decide(verb, ids, reason)
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


def _query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def _decide(verb: str, ids: list[int], reason: str) -> tuple[int, list[str]]:
    """Take the decision on each match through the real verb, each in a savepoint; (how many
    went through, a message for each that did not)."""
    user = current_user._get_current_object()
    matches = {
        m.id: m
        for m in db.session.scalars(
            select(Match)
            .where(Match.id.in_(ids))
            .options(joinedload(Match.need).joinedload(Need.organization))
            .order_by(Match.id)
        )
    }
    done, failed = 0, []
    for match_id in ids:
        match = matches.get(match_id)
        if match is None:
            failed.append(_("Match #%(id)d: there is no such match.", id=match_id))
            continue
        try:
            with db.session.begin_nested():
                if verb == "approve":
                    ops.approve(match, user)
                else:
                    ops.reject(match, user, reason)
        except Refusal as err:
            failed.append(_("Match #%(id)d: %(message)s", id=match.id, message=err.message))
        else:
            done += 1
    return done, failed
