"""Finding offers as a given user may see them (pages, API, map and CSV all use these)."""

from __future__ import annotations

from aidmatch.offers.models import Offer
from aidmatch.offers.operations import OFFER
from aidmatch.postings.queries import Filters, apply_filters, find_visible, kind_query, run_page


def offers_query(viewer, filters: Filters):
    """The select for offers the viewer may see, filtered and sorted (newest first)."""
    stmt, near = apply_filters(kind_query(OFFER, viewer), Offer, filters, viewer)
    if not (filters.sort == "closest" and near):
        stmt = stmt.order_by(Offer.created_at.desc(), Offer.id.desc())
    return stmt


def list_offers(viewer, filters: Filters) -> dict:
    """One page of offers for the viewer (those past their date read as expired)."""
    return run_page(offers_query(viewer, filters), filters)


def get_visible_offer(viewer, offer_id: int) -> Offer:
    """The offer if the viewer may see it; a 404 refusal otherwise."""
    return find_visible(OFFER, viewer, offer_id)
