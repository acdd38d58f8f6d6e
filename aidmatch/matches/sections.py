"""What a need's and an offer's page show of their matches (a section of the posting kit's
detail page, aidmatch.postings.pages)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from aidmatch.extensions import db
from aidmatch.matches.models import Match
from aidmatch.needs.models import Need
from aidmatch.permissions import is_staff
from aidmatch.postings.pages import page_section
from aidmatch.privacy import viewer_for


@page_section("need")
def _need_matches(need, viewer, may_edit: bool) -> dict:
    return {"matches": matches_of(need, viewer)}


@page_section("offer")
def _offer_matches(offer, viewer, may_edit: bool) -> dict:
    from aidmatch.matches.asking_views import request_form_for

    # Which need each match serves: only for the offer's own collective and staff.
    return {
        "matches": matches_of(offer, viewer, show_needs=may_edit or is_staff(viewer)),
        "request_form": request_form_for(offer, viewer),
    }


def matches_of(obj, viewer, show_needs: bool = False) -> list[dict]:
    """The matches of a need or offer that this viewer may see (staff and the two sides of
    each: others learn of other donors' matches only from the totals), oldest first: status,
    quantities, the donor organization and, when show_needs, the need each serves (an offer's
    own collective and staff only: others must not learn of needs they may not see)."""
    column = Match.need_id if obj.__tablename__ == "needs" else Match.offer_id
    options = [joinedload(Match.organization), joinedload(Match.need).joinedload(Need.organization)]
    policy = viewer_for(viewer)
    rows = [
        m
        for m in db.session.scalars(select(Match).where(column == obj.id).options(*options))
        if policy.sees_match(m)
    ]
    return [
        {
            "status": str(m.effective_status),
            "quantity": m.quantity,
            "quantity_received": m.quantity_received,
            "organization": m.organization.name,
            "need": (
                {"id": m.need.id, "title": m.need.title, "organization": m.need.organization.name}
                if show_needs
                else None
            ),
            "source": str(m.source),
            "created_at": m.created_at,
        }
        for m in sorted(rows, key=lambda m: m.id)
    ]
