"""The deliveries a viewer may see, as a CSV file (/matches/deliveries.csv, site/sheet_views),
optionally with its HXL hashtag row (?hxl=1, postings/hxl.py): the delivered matches of staff
(all) or of the viewer's organization (either side); a hub on a match's route gets none (a
delivery's date and what was received are the sides' business).

An HXL file is made to be passed on, and timing is location too: it holds only the
deliveries the transparency page publishes (queries.publication_cutoff: the delay, whole
weeks), each dated by its week's Monday, as the ledger dates it. The plain file is the
sides' own record: every delivery, on its day.

A row is what was received, where (the need's settlement, its oblast and P-codes: never a
point, a note, a contact), when (the day the group confirmed it) and by whom: the donor and
the group, each named only where a shared file may name it (privacy/names.shared_name), and
a sensitive need without its title (as on paper).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from aidmatch.extensions import db
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.matches.rules import party_condition
from aidmatch.needs.models import Need
from aidmatch.offers.models import Offer
from aidmatch.postings.hxl import PLACE, place_cells
from aidmatch.postings.sheets import write_csv
from aidmatch.privacy import viewer_for
from aidmatch.privacy.names import shared_name
from aidmatch.transparency.queries import monday, publication_cutoff

MAX_DELIVERIES = 50_000
COLUMNS = (
    ("id", "#meta+id"),
    ("title", "#item+name"),
    ("category", "#item+type"),
    ("unit", "#item+unit"),
    ("quantity_received", "#item+num"),
    ("status", "#status"),
    ("delivered_on", "#date+reported"),
    ("donor", "#org+name+provider"),
    ("group", "#org+name+beneficiary"),
    *PLACE,
)


def deliveries_query(viewer, hxl: bool = False):
    """The delivered matches this viewer may export, newest first (in an HXL file, only
    those published)."""
    policy = viewer_for(viewer)
    stmt = (
        select(Match)
        .where(Match.status == MatchStatus.DELIVERED)
        .options(
            joinedload(Match.need).joinedload(Need.place),
            joinedload(Match.need).joinedload(Need.category),
            joinedload(Match.need).joinedload(Need.organization),
            joinedload(Match.organization),
            joinedload(Match.offer).joinedload(Offer.place),
        )
        .order_by(Match.delivered_at.desc(), Match.id.desc())
    )
    if not policy.staff:
        stmt = stmt.where(party_condition(policy.org_id))
    if hxl:
        stmt = stmt.where(Match.delivered_at < publication_cutoff())
    return stmt.limit(MAX_DELIVERIES)


def delivery_row(match: Match, policy, hxl: bool) -> dict:
    """One delivery as the file shows it to the viewer whose policy is given; in an HXL file
    the organizations are named only where a shared file may name them."""
    need = match.need
    donor_oblast = match.offer.place.oblast if match.offer is not None else need.place.oblast
    donor, group = match.organization, need.organization
    return {
        "id": match.id,
        "title": policy.paper_title(need) or "",
        "category": need.category.slug,
        "unit": str(need.category.unit),
        "quantity_received": match.quantity_received or 0,
        "status": str(match.status),
        "delivered_on": _day(match.delivered_at, hxl),
        "donor": shared_name(policy, donor, oblast=donor_oblast) if hxl else donor.name,
        "group": (
            shared_name(policy, group, sensitive=need.sensitive, oblast=need.place.oblast)
            if hxl
            else group.name
        ),
        **place_cells(need.place),
    }


def _day(when, hxl: bool) -> str:
    """The day of a delivery (UTC); in an HXL file the Monday of its week."""
    if when is None:
        return ""
    return (monday(when.date()) if hxl else when.date()).isoformat()


def deliveries_csv(viewer, hxl: bool) -> bytes:
    """The viewer's deliveries as CSV, with the HXL hashtag row under the header if asked
    (then newest week first, by the match's id within a week, never by the hour)."""
    policy = viewer_for(viewer)
    found = db.session.scalars(deliveries_query(viewer, hxl)).unique()
    rows = [delivery_row(m, policy, hxl) for m in found]
    if hxl:
        rows.sort(key=lambda r: (r["delivered_on"], r["id"]), reverse=True)
    columns = tuple(c for c, _tag in COLUMNS)
    return write_csv(columns, rows, dict(COLUMNS) if hxl else None)
