"""HTML pages of matches: claim a need, a match's page with its buttons, the user's matches.

Thin: check who may see the match (404) and the side the lifecycle table names (403), then
parse the form, call the verb in matches/operations.py, commit once; the verb's refusal goes
onto the form (errors.put_on_form), with its status. GET pages write nothing.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import joinedload

from aidmatch.auth.links import safe_next
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches import (
    attention,  # noqa: F401  (registers the home page's items)
    lifecycle,
)
from aidmatch.matches import operations as ops
from aidmatch.matches.forms import (
    AcceptForm,
    ActionForm,
    ApproveForm,
    ReasonForm,
    ReceiptForm,
    ShipForm,
    parse_quantity,
    with_ids,
)
from aidmatch.matches.lists import MAX_PAGE, my_changes_at, my_matches
from aidmatch.matches.models import Match
from aidmatch.matches.pages import allowed_actions, history, match_sections, match_view, sides
from aidmatch.matches.rules import (
    REMAINED,
    can_claim,
    get_visible_match,
    remained_message,
)
from aidmatch.needs.models import Need
from aidmatch.permissions import is_staff, require_login
from aidmatch.refusals import Invalid, Refusal
from aidmatch.web.drafts import draft_sent
from aidmatch.web.errors import put_on_form, refusal_status
from aidmatch.web.kept import held_until, kept_page

bp = Blueprint("matches", __name__)

ACTION_FORMS = {
    "accept": AcceptForm,
    "approve": ApproveForm,
    "extend": ActionForm,
    "decline": ReasonForm,
    "reject": ReasonForm,
    "withdraw": ReasonForm,
    "release": ReasonForm,
    "ship": ShipForm,
    "confirm-delivery": ReceiptForm,
}
DONE_MESSAGES = {
    "accept": _l("You accepted the match."),
    "approve": _l("The match is approved."),
    "extend": _l("You have more time for this match."),
    "decline": _l("You declined the match."),
    "reject": _l("The match is rejected."),
    "withdraw": _l("You withdrew from the match."),
    "release": _l("The match is released; its quantity is open again."),
    "ship": _l("The match is marked shipped."),
    "confirm-delivery": _l("Thank you: the receipt is confirmed."),
}


@bp.app_context_processor
def _helpers() -> dict:
    return {"with_ids": with_ids}


# --- one match ------------------------------------------------------------------------------


def get_match(match_id: int) -> Match:
    """The match if this viewer is one of its parties or staff; NotFound otherwise (unseen)."""
    return get_visible_match(
        current_user,
        match_id,
        options=(
            joinedload(Match.need).joinedload(Need.organization),
            joinedload(Match.need).joinedload(Need.category),
            joinedload(Match.need).joinedload(Need.place),
            joinedload(Match.organization),
            joinedload(Match.offer),
        ),
    )


def action_forms(actions: list[str], match: Match, bound: dict | None = None) -> dict:
    """A form per button the viewer may press (the one just sent keeps what was typed)."""
    forms = {}
    for action in actions:
        if bound and action in bound:
            forms[action] = bound[action]
            continue
        form = ACTION_FORMS[action](formdata=None)
        if action == "confirm-delivery":
            form.quantity_received.data = str(match.quantity)
        elif action in ("accept", "approve"):
            form.quantity.data = str(match.quantity)
        forms[action] = form
    return forms


def render_match(match: Match, bound: dict | None = None, status: int = 200, **extra):
    """The match page for this viewer, optionally with a form that came back with errors
    (bound: an action's; extra: a registered section's, as its own view renders it)."""
    viewer = current_user._get_current_object()
    now = utcnow()
    actions = allowed_actions(viewer, match, now)
    if bound:
        actions = list(dict.fromkeys([*actions, *bound]))
    context = {
        "match": match_view(match, viewer, now),
        "actions": actions,
        "forms": action_forms(actions, match, bound),
        "history": history(match, viewer),
        "my_sides": sides(viewer, match),
        **match_sections(match, viewer),
        **extra,
    }
    return render_template("matches/detail.html", **context), status


@bp.get("/matches/<int:match_id>")
@require_login
def detail(match_id: int):
    """A match: parties, quantities, consents, time left, what the viewer may do, history."""
    return render_match(get_match(match_id))


def run_action(action: str, match: Match, user, form) -> None:
    """Call the verb behind a button with what the form holds; a refusal propagates."""
    if action in ("accept", "approve"):
        quantity = parse_quantity(form.quantity, blank=True) if form.quantity.data else None
        if form.quantity.errors:
            raise Invalid(form.quantity.errors[-1], "quantity")
        if action == "accept":
            ops.accept(match, user, quantity)
        else:
            ops.approve(match, user, quantity, form.reason.data or "")
    elif action == "extend":
        ops.request_extension(match, user)
    elif action == "decline":
        ops.decline(match, user, form.reason.data or "")
    elif action == "reject":
        ops.reject(match, user, form.reason.data or "")
    elif action == "withdraw":
        ops.withdraw(match, user, form.reason.data or "")
    elif action == "release":
        ops.release(match, user, form.reason.data or "")
    elif action == "ship":
        ops.ship(match, user, form.note.data or "", form.tracking.data or "")
    elif action == "confirm-delivery":
        quantity = parse_quantity(form.quantity_received)
        if quantity is None:
            raise Invalid(form.quantity_received.errors[-1])
        form.quantity_received.errors = []
        ops.confirm_delivery(
            match, user, quantity, form.note.data or "", key=form.idempotency_key.data or None
        )


@bp.post("/matches/<int:match_id>/<action>")
@require_login
def act(match_id: int, action: str):
    """Press one button on a match (accept, approve, ship, ...), then go back where it was."""
    if action not in ACTION_FORMS:
        abort(404)
    match = get_match(match_id)
    user = current_user._get_current_object()
    lifecycle.check_side(action, user, match)
    back = safe_next(request.form.get("next"))
    form = ACTION_FORMS[action]()
    if action == "confirm-delivery" and ops.receipt_arrived(match, form.idempotency_key.data):
        # The same receipt again (kept offline and sent twice): the answer of the first time.
        draft_sent(f"receipt:{match.id}")
        flash(_("This receipt had already arrived."), "ok")
        return redirect(back or url_for("matches.detail", match_id=match.id))
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            form.form_errors.append(_("The form had expired. Please send it again."))
        db.session.rollback()
        return render_match(match, {action: form}, 400)
    try:
        run_action(action, match, user, form)
    except Refusal as err:
        # Shown on the match page, next to what was typed (also when sent from a list).
        db.session.rollback()
        put_on_form(form, err)
        return render_match(match, {action: form}, refusal_status(err))
    flash(str(DONE_MESSAGES[action]), "ok")
    if action == "confirm-delivery":
        draft_sent(f"receipt:{match.id}")  # static/js/drafts.js forgets what was typed
    if action == "accept" and match.quantity_note == REMAINED:
        flash(remained_message(match), "warn")
    return redirect(back or url_for("matches.detail", match_id=match.id))


# --- my matches -----------------------------------------------------------------------------


@bp.get("/matches")
@require_login
def index():
    """The viewer's organization's matches: what waits for its answer, what to ship, what
    to confirm as received, and what happened recently."""
    viewer = current_user._get_current_object()

    def context() -> dict:
        now = utcnow()
        page, page_note = _page_argument()
        sections, recent, envelope = my_matches(viewer, now, page)
        if envelope["page"] < page:
            page_note = _("There is no page %(page)d (any more): this is the last page.", page=page)
        return {
            "sections": sections,
            "recent": recent,
            "page": envelope,
            "page_note": page_note,
            "page_url": lambda n: url_for("matches.index", page=n),
            "is_donor": can_claim(viewer),
            "is_group": viewer.organization is not None and not can_claim(viewer),
            "staff": is_staff(viewer),
            "forms": {"ship": ShipForm(formdata=None), "action": ActionForm(formdata=None)},
            "new_receipt_form": ReceiptForm,
            "changes_at": my_changes_at(viewer, now),
        }

    # kept for the viewer until anything is written or one of its matches changes with time
    return kept_page(
        "matches", "matches/index.html", context, seconds=lambda ctx: held_until(ctx["changes_at"])
    )


def _page_argument() -> tuple[int, str | None]:
    """?page= of /matches, and a message when it is not a page number (page 1 is shown)."""
    raw = (request.args.get("page") or "").strip()
    if not raw:
        return 1, None
    try:
        page = int(raw)
    except ValueError:
        page = 0
    if 1 <= page <= MAX_PAGE:
        return page, None
    return 1, _("A page number is a whole number from 1 to %(max)d.", max=MAX_PAGE)
