"""HTML pages for needs: browse, read, post, edit, cancel (the twin of needs/api.py).

The routes and flows are the posting kit's (postings/pages.py); here is what a need's pages
have of their own: its form, the urgency filter, its edit form's starting values, and on its
page its matches and the offers that could cover it.
"""

from __future__ import annotations

from flask import Blueprint

from aidmatch.needs.forms import NEED_SORTS, NeedForm, NeedListForm
from aidmatch.needs.kind import NEED
from aidmatch.places.models import Place
from aidmatch.postings import pages as kit
from aidmatch.web.labels import URGENCY_LABELS

bp = Blueprint("needs", __name__, url_prefix="/needs")


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


# Its matches and candidates are sections the matches and candidates packages add.
kit.page_routes(bp, PAGES)
