"""Finding needs as a given user may see them (pages, API, map and CSV all use these)."""

from __future__ import annotations

from aidmatch.needs.models import Need, Urgency
from aidmatch.needs.operations import NEED
from aidmatch.postings.queries import Filters, apply_filters, find_visible, kind_query, run_page


def needs_query(viewer, filters: Filters):
    """The select for needs the viewer may see, filtered and sorted (most urgent first)."""
    stmt = kind_query(NEED, viewer)
    if filters.urgency in {u.value for u in Urgency}:
        stmt = stmt.where(Need.urgency == filters.urgency)
    stmt, near = apply_filters(stmt, Need, filters, viewer)
    if filters.sort == "newest":
        stmt = stmt.order_by(Need.created_at.desc(), Need.id.desc())
    elif not (filters.sort == "closest" and near):
        stmt = stmt.order_by(Need.urgency_rank, Need.needed_by.is_(None), Need.needed_by, Need.id)
    return stmt


def list_needs(viewer, filters: Filters) -> dict:
    """One page of needs for the viewer (those past their date read as expired)."""
    return run_page(needs_query(viewer, filters), filters)


def get_visible_need(viewer, need_id: int) -> Need:
    """The need if the viewer may see it; a 404 refusal otherwise."""
    return find_visible(NEED, viewer, need_id)
