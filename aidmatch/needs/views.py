"""HTML pages for needs: browse, read, post, edit, cancel (the twin of needs/api.py).

The flows are the posting kit's (postings/pages.py); here are the routes and what a need's
pages have of their own: the urgency filter, its matches, its edit form's starting values.
"""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from aidmatch.extensions import db
from aidmatch.labels import URGENCY_LABELS
from aidmatch.matches.models import Match
from aidmatch.matching.views import need_page_candidates
from aidmatch.needs.forms import NEED_SORTS, NeedForm, NeedListForm
from aidmatch.needs.kind import NEED
from aidmatch.permissions import require_login
from aidmatch.places.models import Place
from aidmatch.postings import pages as kit

bp = Blueprint("needs", __name__, url_prefix="/needs")
bp.context_processor(kit.template_helpers)


def need_initial(data: dict, place: Place) -> dict:
    """The edit form's starting values, from the need as its owner may see it."""
    initial = {
        key: data.get(key)
        for key in ("title", "description", "category", "urgency", "needed_by", "sensitive")
    }
    initial["quantity"] = str(data["quantity"])
    initial["delivery_note"] = data.get("delivery_note", "")
    initial.update(kit.location_initial(data, place))
    return initial


PAGES = kit.Pages(
    kind=NEED,
    form=NeedForm,
    list_form=NeedListForm,
    sorts=NEED_SORTS,
    initial=need_initial,
    list_extra=lambda form: {
        "urgency": form.urgency.data if form.urgency.data in URGENCY_LABELS else None
    },
)


@bp.get("")
@require_login
def index():
    """Needs the user may see, filtered, sorted and paginated."""
    return kit.index_page(PAGES)


@bp.get("/<int:need_id>")
@require_login
def detail(need_id: int):
    """One need: progress, location as the viewer may see it, matches and history."""
    return kit.detail_page(PAGES, need_id, own=_own)


def _own(need, may_edit: bool) -> dict:
    return {"matches": need_matches(need.id), **need_page_candidates(need, current_user)}


@bp.route("/new", methods=["GET", "POST"])
@require_login
def new():
    """Post a need for the user's frontline group."""
    return kit.new_page(PAGES)


@bp.route("/<int:need_id>/edit", methods=["GET", "POST"])
@require_login
def edit(need_id: int):
    """Edit an open need of the user's organization."""
    return kit.edit_page(PAGES, need_id)


@bp.route("/<int:need_id>/cancel", methods=["GET", "POST"])
@require_login
def cancel(need_id: int):
    """Cancel an open need (after a confirmation); its matches not yet shipped end too."""
    return kit.end_page(PAGES, need_id)


def need_matches(need_id: int) -> list[dict]:
    """The matches of a need, oldest first: status, quantity and the donor organization."""
    rows = db.session.scalars(
        select(Match)
        .where(Match.need_id == need_id)
        .options(joinedload(Match.organization))
        .order_by(Match.id)
    )
    return [
        {
            "status": str(m.status),
            "quantity": m.quantity,
            "quantity_received": m.quantity_received,
            "organization": m.organization.name,
            "source": str(m.source),
            "created_at": m.created_at,
        }
        for m in rows
    ]
