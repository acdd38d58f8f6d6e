"""HTML pages for offers: browse, read, post, edit, withdraw (the twin of offers/api.py).

Pages render from serialize.offer_to_dict; the shared page helpers live in needs/views.py,
and sending a form (posting once per one-time token) in needs/sending.py.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from aidmatch.candidates.views import offer_page_candidates
from aidmatch.drafts import draft_sent
from aidmatch.errors import ApiError
from aidmatch.extensions import db
from aidmatch.matches.models import Match
from aidmatch.needs.forms import (
    ListForm,
    PlaceLookup,
    ReasonForm,
    category_menu,
    label_of,
    language,
)
from aidmatch.needs.sending import give_token, posted_drafts, save, send_new
from aidmatch.needs.views import (
    exact_shown,
    history_of,
    location_initial,
    page_view,
    template_helpers,
)
from aidmatch.offers.forms import OFFER_SORTS, OFFER_STATUS_LABELS, OfferForm
from aidmatch.offers.models import Offer, OfferStatus
from aidmatch.offers.operations import (
    can_edit_offer,
    can_post_offer,
    post_offer,
    update_offer,
    withdraw_offer,
)
from aidmatch.offers.queries import get_visible_offer, list_offers
from aidmatch.permissions import deny_unless, is_staff, require_login
from aidmatch.places.models import Place
from aidmatch.serialize import offer_to_dict

bp = Blueprint("offers", __name__, url_prefix="/offers")


@bp.context_processor
def _helpers() -> dict:
    return {
        **template_helpers(),
        "offer_status_label": lambda s: label_of(OFFER_STATUS_LABELS, s),
    }


@bp.get("")
@require_login
def index():
    """Offers the user may see, filtered, sorted and paginated."""
    menu = category_menu(language())
    form = ListForm()
    form.set_choices(language(), OFFER_STATUS_LABELS, OFFER_SORTS)
    filters, near_place = form.filters()
    page = list_offers(current_user, filters)
    view = page_view(page, offer_to_dict, near_place)
    may_post = can_post_offer(current_user)
    db.session.commit()  # list_offers expires stale offers on the way
    return render_template(
        "offers/index.html",
        form=form,
        page=view,
        menu=menu,
        near_place=near_place,
        may_post=may_post,
    )


@bp.get("/<int:offer_id>")
@require_login
def detail(offer_id: int):
    """One offer: progress, location as the viewer may see it, matches and history."""
    offer = get_visible_offer(current_user, offer_id)
    data = offer_to_dict(offer, current_user)
    may_edit = can_edit_offer(current_user, offer)
    context = {
        "offer": data,
        "category": offer.category.name(language()),
        "may_edit": may_edit,
        "matches": offer_matches(offer.id, may_edit or is_staff(current_user)),
        "history": history_of(offer, current_user, exact_shown(data), OFFER_STATUS_LABELS),
        **offer_page_candidates(offer, current_user, own=may_edit),
    }
    db.session.commit()  # get_visible_offer may have expired it
    return render_template("offers/detail.html", **context)


@bp.route("/new", methods=["GET", "POST"])
@require_login
def new():
    """Post an offer for the user's donor or supply collective."""
    deny_unless(can_post_offer(current_user))
    form = OfferForm()
    lookup = PlaceLookup()
    if request.method == "POST":
        user = current_user._get_current_object()
        response, lookup = send_new(
            form,
            lambda data, key: post_offer(user.organization, data, user, idempotency_key=key),
            "offers.detail",
            "offer_id",
            {
                "posted": _("Your offer is posted."),
                "again": _("This form was already sent: your offer was posted once, here it is."),
                "changed": _(
                    "This form was already sent and posted this offer; changes made after "
                    "sending it were not saved. Edit the offer to make them."
                ),
            },
        )
        if response is not None:
            return response
    give_token(form)
    context = {
        "form": form,
        "lookup": lookup,
        "offer": None,
        "menu": category_menu(language()),
        "posted_drafts": posted_drafts(Offer, "offers.detail", "offer_id"),
    }
    return render_template("offers/form.html", **context)


@bp.route("/<int:offer_id>/edit", methods=["GET", "POST"])
@require_login
def edit(offer_id: int):
    """Edit an open offer of the user's organization."""
    offer = get_visible_offer(current_user, offer_id)
    deny_unless(can_edit_offer(current_user, offer))
    heading = {"id": offer.id, "title": offer.title}
    if offer.status != OfferStatus.OPEN:
        db.session.commit()
        flash(_("Only an open offer can be edited."), "error")
        return redirect(url_for("offers.detail", offer_id=offer_id))
    form = OfferForm(data=offer_initial(offer_to_dict(offer, current_user), offer.place))
    lookup = PlaceLookup()
    if request.method == "POST":
        user = current_user._get_current_object()
        lookup, saved = save(form, lambda values: update_offer(offer, values, user))
        if saved is not None:
            draft_sent(f"offer:{offer_id}")
            flash(_("Your changes are saved."), "ok")
            return redirect(url_for("offers.detail", offer_id=offer_id))
    else:
        db.session.commit()
    menu = category_menu(language())
    return render_template("offers/form.html", form=form, lookup=lookup, offer=heading, menu=menu)


@bp.route("/<int:offer_id>/withdraw", methods=["GET", "POST"])
@require_login
def withdraw(offer_id: int):
    """Withdraw an offer (after a confirmation); its matches not yet shipped end too."""
    offer = get_visible_offer(current_user, offer_id)
    deny_unless(can_edit_offer(current_user, offer))
    form = ReasonForm()
    heading = {"id": offer.id, "title": offer.title, "allocated": offer.allocated}
    if form.validate_on_submit():
        try:
            withdraw_offer(offer, current_user._get_current_object(), form.reason.data or "")
        except ApiError as err:
            db.session.rollback()
            flash(err.message, "error")
        else:
            db.session.commit()
            flash(_("The offer is withdrawn."), "ok")
        return redirect(url_for("offers.detail", offer_id=offer_id))
    db.session.commit()
    return render_template("offers/withdraw.html", form=form, offer=heading)


def offer_initial(data: dict, place: Place) -> dict:
    """The edit form's starting values, from the offer as its owner may see it."""
    radius = data.get("delivery_radius_km")
    initial = {
        "title": data["title"],
        "description": data["description"],
        "category": data["category"],
        "quantity": str(data["quantity"]),
        "delivery_radius_km": "" if radius is None else str(radius),
        "available_until": data.get("available_until"),
    }
    initial.update(location_initial(data, place))
    return initial


def offer_matches(offer_id: int, show_needs: bool) -> list[dict]:
    """The matches of an offer, oldest first; which need each serves only for the offer's
    own organization and staff (others must not learn of needs they may not see)."""
    from aidmatch.needs.models import Need

    rows = db.session.scalars(
        select(Match)
        .where(Match.offer_id == offer_id)
        .options(joinedload(Match.need).joinedload(Need.organization))
        .order_by(Match.id)
    )
    return [
        {
            "status": str(m.status),
            "quantity": m.quantity,
            "quantity_received": m.quantity_received,
            "need": (
                {"id": m.need.id, "title": m.need.title, "organization": m.need.organization.name}
                if show_needs
                else None
            ),
            "source": str(m.source),
            "created_at": m.created_at,
        }
        for m in rows
    ]
