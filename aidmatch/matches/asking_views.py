"""The pages where a match is asked for: a donor claims a need (/needs/<id>/claim), a group
requests an offer (/offers/<id>/request), and the need page's part (its matches, the Claim
button). Routes of the matches blueprint (views.bp); factory.py imports this module."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from aidmatch.categories.models import Category
from aidmatch.categories.operations import ancestor_ids
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches import (
    attention,  # noqa: F401  (registers the home page's items)
)
from aidmatch.matches import operations as ops
from aidmatch.matches.forms import (
    ClaimForm,
    RequestForm,
    new_idempotency_key,
    open_of,
    parse_quantity,
)
from aidmatch.matches.models import Match
from aidmatch.matches.pages import status_label
from aidmatch.matches.rules import (
    can_claim,
    can_request,
    party_condition,
)
from aidmatch.matches.views import bp
from aidmatch.needs.models import Need
from aidmatch.needs.operations import get_visible_need
from aidmatch.offers.models import Offer, OfferStatus
from aidmatch.offers.operations import get_visible_offer
from aidmatch.permissions import deny_unless, is_staff, require_login
from aidmatch.postings.serialize import need_to_dict
from aidmatch.refusals import Refusal
from aidmatch.web.drafts import draft_sent
from aidmatch.web.errors import put_on_form, refusal_status
from aidmatch.web.labels import language, unit_label, urgency_label


@bp.app_context_processor
def _asking_helpers() -> dict:
    return {"need_matches_for_viewer": need_matches_for_viewer, "may_claim_need": may_claim_need}


# --- the need page's part -------------------------------------------------------------------


def may_claim_need(need: dict) -> bool:
    """Show the Claim button: a donor, and a need of a verified group (a vouched group's need
    is shown, not claimed: matches/claims.py) still open with something not pledged (what is
    only proposed to other donors may still be claimed: matches/holds.py)."""
    return (
        can_claim(current_user)
        and need["organization"]["verified"]
        and need["status"] == "open"
        and need["quantity"] - need["pledged"] > 0
    )


def need_matches_for_viewer(need_id: int) -> list[dict]:
    """The matches of a need whose page this viewer may open (its side's, or all for staff)."""
    if not current_user.is_authenticated:
        return []
    stmt = (
        select(Match)
        .where(Match.need_id == need_id)
        .options(joinedload(Match.organization), joinedload(Match.need))
        .order_by(Match.id)
    )
    if not is_staff(current_user):
        stmt = stmt.where(party_condition(current_user.organization_id))
    now = utcnow()
    return [
        {
            "id": m.id,
            "organization": m.organization.name,
            "quantity": m.quantity,
            "status": status_label(m.status_at(now)),
        }
        for m in db.session.scalars(stmt)
    ]


# --- claim ----------------------------------------------------------------------------------


def claimable_offers(user, need: Need) -> list[Offer]:
    """The user's organization's open offers with something left, of the need's category or
    one above it, counted in the same unit."""
    categories = [need.category_id, *ancestor_ids(need.category_id)]
    return list(
        db.session.scalars(
            select(Offer)
            .join(Category, Category.id == Offer.category_id)
            .where(
                Offer.organization_id == user.organization_id,
                Offer.status == OfferStatus.OPEN,
                Offer.quantity - Offer.allocated > 0,
                Offer.category_id.in_(categories),
                Category.unit == need.category.unit,
            )
            .order_by(Offer.created_at, Offer.id)
        )
    )


@bp.route("/needs/<int:need_id>/claim", methods=["GET", "POST"])
@require_login
def claim(need_id: int):
    """A donor claims all or part of a need's open quantity, optionally from its offer."""
    need = get_visible_need(current_user, need_id)
    deny_unless(can_claim(current_user))
    user = current_user._get_current_object()
    offers = claimable_offers(user, need)
    unit = unit_label(need.category.unit)
    form = ClaimForm()
    form.set_offers(offers, unit)
    status = 200
    if request.method == "GET":
        form.quantity.data = str(need.open_quantity) if need.open_quantity > 0 else ""
        form.idempotency_key.data = new_idempotency_key()
    elif not form.validate_on_submit():
        status = 400
        form.form_errors.append(_("The form had expired. Please send it again."))
    else:
        quantity = parse_quantity(form.quantity)
        offer = None
        if form.offer.data:
            offer = next((o for o in offers if str(o.id) == form.offer.data), None)
            if offer is None:
                form.offer.errors = [_("Choose one of your open offers of this category.")]
        if quantity is not None and not form.offer.errors:
            try:
                result = ops.claim(
                    need,
                    user,
                    quantity,
                    offer=offer,
                    idempotency_key=form.idempotency_key.data or None,
                )
            except Refusal as err:
                db.session.rollback()
                put_on_form(form, err, {"offer_id": "offer", "idempotency_key": "quantity"})
                status = refusal_status(err)
            else:
                draft_sent(f"claim:{need_id}")
                if result.created:
                    flash(_("Your claim is sent: a coordinator reviews it next."), "ok")
                else:
                    flash(_("This claim was already sent; it is listed below."), "ok")
                return redirect(url_for("needs.detail", need_id=need_id, _anchor="matches"))
        else:
            status = 422
    data = need_to_dict(need, user)
    return render_template(
        "matches/claim.html",
        form=form,
        need=data,
        unit=unit,
        category=need.category.name(language()),
        urgency=urgency_label(need.urgency),
        has_offers=bool(offers),
    ), status


# --- a group's request for an offer -------------------------------------------------------------


def request_form_for(offer: Offer, user, needs: list[Need] | None = None) -> RequestForm | None:
    """The "Request this" form for an organizer of a group with a fitting open need, drawn
    with the first need and min(its open part, the offer's remaining) filled in; else None."""
    if not can_request(user) or offer.effective_status != OfferStatus.OPEN:
        return None
    needs = ops.requestable_needs(user, offer) if needs is None else needs
    if not needs:
        return None
    form = RequestForm(formdata=None)
    form.set_needs(needs, unit_label(offer.category.unit))
    form.need.data = str(needs[0].id)
    form.quantity.data = str(max(min(open_of(needs[0]), open_of(offer)), 1))
    form.idempotency_key.data = new_idempotency_key()
    return form


@bp.route("/offers/<int:offer_id>/request", methods=["GET", "POST"])
@require_login
def request_offer(offer_id: int):
    """An organizer asks for a quantity of this offer for one of her group's open needs: a
    pending match the donor accepts or declines (matches/requests.py)."""
    offer = get_visible_offer(current_user, offer_id)
    user = current_user._get_current_object()
    deny_unless(can_request(user))
    needs = ops.requestable_needs(user, offer)
    unit = unit_label(offer.category.unit)
    status = 200
    if request.method == "GET":
        form = request_form_for(offer, user, needs) or RequestForm(formdata=None)
        form.set_needs(needs, unit)
    else:
        form = RequestForm()
        form.set_needs(needs, unit)
        if not form.validate_on_submit():
            status = 400
            form.form_errors.append(_("The form had expired. Please send it again."))
        else:
            quantity = parse_quantity(form.quantity)
            need = next((n for n in needs if str(n.id) == form.need.data), None)
            if need is None and form.need.data and str(form.need.data).isdigit():
                # not among the fitting ones: the verb says why (not hers, not open, ...)
                need = db.session.get(Need, int(form.need.data))
            if quantity is None:
                status = 422
            else:
                try:
                    result = ops.request_offer(
                        offer, user, need, quantity, form.idempotency_key.data or None
                    )
                except Refusal as err:
                    db.session.rollback()
                    put_on_form(form, err, {"need_id": "need", "idempotency_key": "quantity"})
                    status = refusal_status(err)
                else:
                    if result.created:
                        flash(_("Your request is sent: the donor answers it next."), "ok")
                    else:
                        flash(_("This request was already sent."), "ok")
                    return redirect(url_for("matches.detail", match_id=result.match.id))
    from aidmatch.postings.serialize import offer_to_dict

    return render_template(
        "matches/request.html",
        form=form,
        offer=offer_to_dict(offer, user),
        unit=unit,
        has_needs=bool(needs),
        verified=user.organization.verified,
    ), status
