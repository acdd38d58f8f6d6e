"""Pages of proof of delivery: a match's delivery slip (/matches/<id>/slip), the receipt
link anyone holding the goods opens (/r/<token>), and the receipt's section of the match page
with the group's dispute button.

A wrong token answers 404 and a used or dead one 410, each with the same page that names
nothing of any match. The receipt POST is rate-limited per client address
(RECEIPT_RATE_LIMIT) and stores once per form (its hidden one-time token, idempotency_key):
sent again, it leads where the first sending led (/r/<token>/signed), so the phone's offline
outbox (static/js/offline.js, which the receipt page joins under an owner of its own, made
from the link's id, never from the token) sends a receipt exactly once.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_limiter.util import get_remote_address
from flask_login import current_user

from aidmatch.db import utcnow
from aidmatch.extensions import db, limiter
from aidmatch.legs.operations import between_hubs
from aidmatch.legs.views import leg_receipt_form, receiving_leg
from aidmatch.matches.models import Match
from aidmatch.matches.pages import match_section
from aidmatch.matches.views import get_match
from aidmatch.permissions import is_staff, require_login, require_staff
from aidmatch.photos.images import MAX_BYTES
from aidmatch.photos.operations import photos_of
from aidmatch.privacy import viewer_for
from aidmatch.receipts import operations as ops
from aidmatch.receipts.forms import DisputeForm, SignForm, SlipForm, new_form_key
from aidmatch.receipts.slip import qr_svg, slip_blocks
from aidmatch.refusals import NotFound, Refusal
from aidmatch.web.errors import put_on_form, refusal_status
from aidmatch.web.home import AttentionItem, attention_provider
from aidmatch.web.i18n import local_number

bp = Blueprint("receipts", __name__)


def _receipt_url(link) -> str:
    return url_for("receipts.receipt", token=ops.link_token(link), _external=True)


@bp.get("/matches/<int:match_id>/slip")
@require_login
def slip(match_id: int):
    """The delivery slip: for printing and for a phone, in the group's and the donor's
    language, with the QR code of the receipt link (once the slip is made), for the two sides
    and coordinators. The receiver of a leg on its way (a hub, or the group at the end of a
    route) confirms that hand-off here too; a hub sees the paper's facts, never the receipt
    link (its QR code signs for the group)."""
    match = get_match(match_id)
    policy = viewer_for(current_user)
    if not policy.sees_slip(match):
        raise NotFound(_("Not found"))
    side = policy.sees_photos(match)
    link = ops.link_of(match) if side else None
    url = _receipt_url(link) if link is not None else None
    now = utcnow()
    usable = link is not None and ops.link_open(link, match, now)
    leg = receiving_leg(match, current_user)
    context = {
        "match": match,
        "blocks": slip_blocks(match, "receipts/_slip_block.html"),
        "url": url if usable else None,
        "qr": qr_svg(url) if usable else None,
        "link": link,
        "side": side,
        "can_make": side and link is None and match.status in ops.OPEN,
        "form": SlipForm(formdata=None),
        "leg": leg,
        "leg_form": leg_receipt_form(leg) if leg is not None else None,
    }
    return render_template("receipts/slip.html", **context)


@bp.post("/matches/<int:match_id>/slip")
@require_login
def make_slip(match_id: int):
    """Make the slip and its receipt link (once), then show it (the sides and coordinators;
    for anyone else, a hub on the route too, it does not exist)."""
    match = get_match(match_id)
    if not viewer_for(current_user).sees_photos(match):
        raise NotFound(_("Not found"))
    form = SlipForm()
    if not form.validate_on_submit():
        db.session.rollback()
        flash(_("The form had expired. Please send it again."), "error")
        return redirect(url_for("receipts.slip", match_id=match.id))
    try:
        ops.make_link(match, current_user._get_current_object())
    except Refusal as err:
        db.session.rollback()
        flash(err.message, "error")
    return redirect(url_for("receipts.slip", match_id=match.id))


# --- the receipt link ------------------------------------------------------------------------


def _gone(status: int):
    """The page of a link that opens nothing (404) or nothing any more (410): it names no match."""
    return render_template("receipts/gone.html", status=status), status


def _receipt_limit() -> str:
    return current_app.config["RECEIPT_RATE_LIMIT"]


def _open_link(token: str):
    """(link, match) for a token, or (None, None)."""
    link = ops.find_link(token)
    if link is None:
        return None, None
    return link, db.session.get(Match, link.match_id)


def outbox_owner(link) -> str:
    """Whom the phone's outbox keeps this link's receipt for (static/js/offline.js): the
    link's own id, never its token (the page shows and stores nothing of the token)."""
    return f"receipt-{link.id}"


def _render_receipt(link, match, form, status: int = 200):
    form.idempotency_key.data = form.idempotency_key.data or new_form_key()
    if not form.quantity_received.data:
        form.quantity_received.data = str(match.quantity)
    blocks = slip_blocks(match, "receipts/_slip_block.html")
    page = render_template(
        "receipts/receipt.html",
        match=match,
        blocks=blocks,
        form=form,
        outbox_owner=outbox_owner(link),
        between_hubs=between_hubs(match),
    )
    return page, status


def _signed(token: str, receipt):
    """Post/Redirect/Get: what the signer typed is said once (a flash in this browser's
    session), the page it leads to names nothing of the match."""
    flash(
        _(
            "%(n)s received, signed by %(name)s. The group has been told.",
            n=local_number(receipt.quantity_received),
            name=receipt.signer_name,
        ),
        "ok",
    )
    return redirect(url_for("receipts.signed", token=token))


@bp.get("/r/<token>")
def receipt(token: str):
    """The receipt link: what the slip shows and the receipt form, for anyone holding it."""
    link, match = _open_link(token)
    if link is None:
        return _gone(404)
    if not ops.link_open(link, match, utcnow()):
        return _gone(410)
    return _render_receipt(link, match, SignForm(formdata=None))


@bp.post("/r/<token>")
@limiter.limit(
    _receipt_limit,
    key_func=get_remote_address,
    methods=["POST"],
    error_message=lambda: _("Too many receipts from your network. Please try again later."),
)
def sign(token: str):
    """Sign the receipt: the match is delivered, the group told; the same form again stores
    nothing more."""
    request.max_content_length = 3 * MAX_BYTES + 1024 * 1024
    link, match = _open_link(token)
    if link is None:
        return _gone(404)
    form = SignForm()
    # form_key: the field's name on receipt pages drawn before it joined the outbox.
    key = (form.idempotency_key.data or request.form.get("form_key") or "")[:64]
    stored = ops.receipt_by_key(key) if key else None
    if stored is not None and stored.match_id == match.id:
        return _signed(token, stored)  # the same sending again: where the first one led
    if not ops.link_open(link, match, utcnow()):
        return _gone(410)
    if not form.validate_on_submit() or not key:
        db.session.rollback()
        if "csrf_token" in form.errors or not key:
            form.form_errors.append(_("The form had expired. Please send it again."))
        return _render_receipt(link, match, form, 400)
    data = {
        "condition": form.condition.data,
        "quantity_received": form.quantity_received.data,
        "note": form.note.data,
        "signer_name": form.signer_name.data,
        "photos": [f.read() for f in request.files.getlist("photos") if f and f.filename],
    }
    try:
        stored = ops.sign(link, match, data, key)
    except Refusal as err:
        db.session.rollback()
        if err.code == "gone":
            return _gone(410)
        put_on_form(form, err)
        return _render_receipt(link, match, form, refusal_status(err))
    return _signed(token, stored)


@bp.get("/r/<token>/signed")
def signed(token: str):
    """Where a signed receipt leads: thanks, and that the link is used (nothing of the match:
    anyone holding the slip may open it). A link not used yet leads back to its form."""
    link, match = _open_link(token)
    if link is None:
        return _gone(404)
    if link.used_at is None:
        return redirect(url_for("receipts.receipt", token=token))
    return render_template("receipts/signed.html")


# --- on the match page: the receipt, its photos, the dispute ------------------------------


@match_section
def _receipt_section(match: Match, viewer) -> dict:
    """The match page's receipt: who signed what, its photos, and the group's dispute button
    while it may still dispute."""
    policy = viewer_for(viewer)
    if not policy.sees_photos(match):
        return {}
    receipt = ops.receipt_of(match.id)
    now = utcnow()
    return {
        "receipt": {
            "row": receipt,
            "photos": photos_of(match.id),
            "until": ops.dispute_until(receipt) if receipt else None,
            "may_dispute": ops.may_dispute(viewer, match, receipt, now),
            "form": DisputeForm(formdata=None),
            "slip_open": match.status in ops.OPEN,
        }
    }


@bp.post("/matches/<int:match_id>/receipt/dispute")
@require_login
def dispute(match_id: int):
    """The group disputes the receipt signed through the link: the coordinators are told."""
    match = get_match(match_id)
    receipt = ops.receipt_of(match.id)
    form = DisputeForm()
    back = url_for("matches.detail", match_id=match.id)
    if receipt is None or not form.validate_on_submit():
        db.session.rollback()
        flash(_("The form had expired. Please send it again."), "error")
        return redirect(back)
    try:
        ops.dispute(match, receipt, current_user._get_current_object(), form.reason.data or "")
    except Refusal as err:
        db.session.rollback()
        from aidmatch.matches.views import render_match

        put_on_form(form, err)
        return render_match(match, None, refusal_status(err), dispute_form=form)
    flash(_("The receipt is disputed: the coordinators will look into it."), "ok")
    return redirect(back)


# --- the coordinators: disputed receipts ----------------------------------------------------

RECENT_DISPUTES = timedelta(days=7)


@bp.get("/receipts/disputed")
@require_staff
def disputed():
    """The coordinators' list of disputed receipts, newest dispute first: each match to look
    into with both sides."""
    rows = [{"receipt": receipt, "match": match} for receipt, match in ops.disputed_receipts()]
    return render_template("receipts/disputed.html", rows=rows)


@attention_provider
def _recent_disputes(user):
    """On a coordinator's home page: the receipts disputed in the last week."""
    if not is_staff(user):
        return
    count = ops.disputes_since(utcnow() - RECENT_DISPUTES)
    if count:
        yield AttentionItem(
            ngettext(
                "%(num)d receipt was disputed in the last 7 days",
                "%(num)d receipts were disputed in the last 7 days",
                count,
            ),
            url_for("receipts.disputed"),
            "warn",
        )
