"""HTML pages for offers: browse, read, post, edit, withdraw (the twin of offers/api.py).

The flows are the posting kit's (postings/pages.py); here are the routes and what an offer's
pages have of their own: its matches (the needs only for its own collective), its edit
form's starting values.
"""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from aidmatch.extensions import db
from aidmatch.matches.models import Match
from aidmatch.matching.views import offer_page_candidates
from aidmatch.offers.forms import OFFER_SORTS, OfferForm
from aidmatch.offers.kind import OFFER
from aidmatch.permissions import is_staff, require_login
from aidmatch.places.models import Place
from aidmatch.postings import pages as kit
from aidmatch.postings.forms import ListForm

bp = Blueprint("offers", __name__, url_prefix="/offers")
bp.context_processor(kit.template_helpers)


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
    initial.update(kit.location_initial(data, place))
    return initial


PAGES = kit.Pages(
    kind=OFFER, form=OfferForm, list_form=ListForm, sorts=OFFER_SORTS, initial=offer_initial
)


@bp.get("")
@require_login
def index():
    """Offers the user may see, filtered, sorted and paginated."""
    return kit.index_page(PAGES)


@bp.get("/<int:offer_id>")
@require_login
def detail(offer_id: int):
    """One offer: progress, location as the viewer may see it, matches and history."""
    return kit.detail_page(PAGES, offer_id, own=_own)


def _own(offer, may_edit: bool) -> dict:
    # Which need each match serves: only for the offer's own collective and staff.
    matches = offer_matches(offer.id, may_edit or is_staff(current_user))
    return {"matches": matches, **offer_page_candidates(offer, current_user, own=may_edit)}


@bp.route("/new", methods=["GET", "POST"])
@require_login
def new():
    """Post an offer for the user's donor or supply collective."""
    return kit.new_page(PAGES)


@bp.route("/<int:offer_id>/edit", methods=["GET", "POST"])
@require_login
def edit(offer_id: int):
    """Edit an open offer of the user's organization."""
    return kit.edit_page(PAGES, offer_id)


@bp.route("/<int:offer_id>/withdraw", methods=["GET", "POST"])
@require_login
def withdraw(offer_id: int):
    """Withdraw an offer (after a confirmation); its matches not yet shipped end too."""
    return kit.end_page(PAGES, offer_id)


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
