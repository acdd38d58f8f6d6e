"""HTML pages for offers: browse, read, post, edit, withdraw (the twin of offers/api.py).

The routes and flows are the posting kit's (postings/pages.py); here is what an offer's pages
have of their own: its form, its edit form's starting values, and on its page its matches
(which need each serves only for its own collective) and the needs it could cover.
"""

from __future__ import annotations

from flask import Blueprint

from aidmatch.offers.forms import OFFER_SORTS, OfferForm
from aidmatch.offers.kind import OFFER
from aidmatch.places.models import Place
from aidmatch.postings import pages as kit
from aidmatch.postings.forms import ListForm

bp = Blueprint("offers", __name__, url_prefix="/offers")


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


# Its matches and candidates are sections the matches and candidates packages add.
kit.page_routes(bp, PAGES)
