"""Finding offers as a given user may see them (pages, API and CSV all use these)."""

from __future__ import annotations

from flask import abort

from aidmatch.db import is_id
from aidmatch.extensions import db
from aidmatch.listing import Filters, apply_filters, base_query, run_page
from aidmatch.offers.models import Offer
from aidmatch.offers.operations import expire_offers


def offers_query(viewer, filters: Filters):
    """The select for offers the viewer may see, filtered and sorted (newest first)."""
    stmt, near = apply_filters(base_query(Offer, viewer), Offer, filters, viewer)
    if not (filters.sort == "closest" and near):
        stmt = stmt.order_by(Offer.created_at.desc(), Offer.id.desc())
    return stmt


def list_offers(viewer, filters: Filters) -> dict:
    """One page of offers for the viewer; stale ones are expired first."""
    expire_offers()
    return run_page(offers_query(viewer, filters), filters)


def get_visible_offer(viewer, offer_id: int) -> Offer:
    """The offer if the viewer may see it; 404 otherwise."""
    if not is_id(offer_id):
        abort(404)
    expire_offers(ids=[offer_id])
    offer = db.session.scalar(base_query(Offer, viewer).where(Offer.id == offer_id))
    if offer is None:
        abort(404)
    return offer
