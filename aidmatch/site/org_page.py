"""An organization's page lists its open needs (a frontline group) or offers (a donor or supply
collective), as the viewer may see them: the list query's rows (postings/queries.list_page,
through the privacy policy's rows_clause: an unverified organization's to staff and itself, a
sensitive need to verified organizations) shown through the serializer (no exact point, no
note); the rest through the list's own filter. A suspended or rejected organization's rows are
in no list, for staff too, but its page is where staff look at what it posted: the query asks
for one organization's rows as opened by their address (``listing=False``: staff see them, its
members too, nobody else), and the page marks them as taking part in nothing."""

from __future__ import annotations

from flask import url_for

from aidmatch.orgs.sections import org_page_section
from aidmatch.postings.queries import Filters, list_page
from aidmatch.postings.serialize import page_to_dicts
from aidmatch.site.dashboard import posting_kind
from aidmatch.web.labels import unit_label, urgency_label

POSTINGS_SHOWN = 20


@org_page_section
def open_postings(org, viewer) -> dict:
    """The organization's open needs or offers this viewer may see, most urgent (needs) or
    newest (offers) first, with their total and the link to the whole list."""
    kind = posting_kind(org)
    filters = Filters(organization_id=org.id, status="open", per_page=POSTINGS_SHOWN)
    page = page_to_dicts(list_page(kind, viewer, filters, listing=False), viewer, kind.to_dict)
    return {
        "postings": {
            "kind": kind.name,
            "items": page["items"],
            "total": page["total"],
            # In no list, map, candidate list or run while it is withdrawn (privacy.in_play).
            "out_of_play": org.withdrawn,
            "url": url_for(f"{kind.plural}.index", organization=org.id),
        },
        "unit_label": unit_label,
        "urgency_label": urgency_label,
    }
