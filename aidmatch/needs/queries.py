"""Finding needs as a given user may see them (pages, API and CSV all use these)."""

from __future__ import annotations

from flask import abort

from aidmatch.db import is_id
from aidmatch.extensions import db
from aidmatch.listing import Filters, apply_filters, base_query, run_page
from aidmatch.needs.models import Need, Urgency
from aidmatch.needs.operations import expire_needs


def needs_query(viewer, filters: Filters):
    """The select for needs the viewer may see, filtered and sorted."""
    stmt = base_query(Need, viewer, sensitive_column=Need.sensitive)
    if filters.urgency in {u.value for u in Urgency}:
        stmt = stmt.where(Need.urgency == filters.urgency)
    stmt, near = apply_filters(stmt, Need, filters, viewer)
    if filters.sort == "newest":
        stmt = stmt.order_by(Need.created_at.desc(), Need.id.desc())
    elif not (filters.sort == "closest" and near):
        stmt = stmt.order_by(Need.urgency_rank, Need.needed_by.is_(None), Need.needed_by, Need.id)
    return stmt


def list_needs(viewer, filters: Filters) -> dict:
    """One page of needs for the viewer; stale ones are expired first, so none shows as open."""
    expire_needs()
    return run_page(needs_query(viewer, filters), filters)


def get_visible_need(viewer, need_id: int) -> Need:
    """The need if the viewer may see it; 404 otherwise (its existence stays hidden)."""
    if not is_id(need_id):
        abort(404)
    expire_needs(ids=[need_id])
    need = db.session.scalar(
        base_query(Need, viewer, sensitive_column=Need.sensitive).where(Need.id == need_id)
    )
    if need is None:
        abort(404)
    return need
