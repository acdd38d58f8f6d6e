"""The review queue's reading half: its query arguments (each bad one refused with a message
next to its field), the query (filters by oblast, category, flag and source; four orders; one
page), and its compact rows. The routes are in review.py.

A page runs a fixed number of statements whatever the number of rows: the page's matches with
their need, place, category, offer and both organizations joined, one COUNT, the category
tree once (for the flags and the category filter), the organizations' histories in one
GROUP BY (lists.org_histories).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload

from aidmatch.categories.operations import category_parents, get_by_slug
from aidmatch.extensions import db
from aidmatch.matches import flags
from aidmatch.matches.attention import review_queue_condition
from aidmatch.matches.models import Match, MatchSource
from aidmatch.matches.pages import allowed_actions, time_left
from aidmatch.needs.models import Need
from aidmatch.places.labels import UA_OBLASTS, place_label
from aidmatch.places.models import Place
from aidmatch.web.api import paginate
from aidmatch.web.labels import MATCH_SOURCE_LABELS, label_of, unit_label, urgency_label
from aidmatch.web.text import text_problem

PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_PAGE = 100_000
SORTS = {
    "urgent": _l("Most urgent first"),
    "best": _l("Best score first"),
    "oldest": _l("Oldest first"),
    "closest": _l("Closest first"),
}
ORDERS = {
    "urgent": (Need.urgency_rank, Match.created_at, Match.id),
    "best": (Match.score.is_(None), Match.score.desc(), Match.created_at, Match.id),
    "oldest": (Match.created_at, Match.id),
    "closest": (Match.distance_km.is_(None), Match.distance_km, Match.created_at, Match.id),
}
OBLASTS = frozenset(en for en, _uk in UA_OBLASTS)
ARG_NAMES = ("oblast", "category", "flag", "source", "sort", "page", "per_page")


@dataclass
class QueueArgs:
    """What the queue is narrowed to and sorted by, and which page; `errors` names each
    argument that could not be taken, with why."""

    oblast: str | None = None
    category: str | None = None
    category_id: int | None = None
    flag: str | None = None
    source: str | None = None
    sort: str = "urgent"
    page: int = 1
    per_page: int = PER_PAGE
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def narrowed(self) -> bool:
        """Whether any filter is set (the filters' box opens)."""
        return any((self.oblast, self.category, self.flag, self.source)) or bool(self.errors)


def _number(raw, default: int, maximum: int) -> int | None:
    if raw in (None, ""):
        return default
    try:
        number = int(str(raw).strip())
    except ValueError:
        return None
    return number if 1 <= number <= maximum else None


def read_args(args) -> QueueArgs:
    """The queue's arguments from a query string (a MultiDict); each bad one is left out and
    named in `errors` with a message a coordinator understands."""
    found = QueueArgs()
    errors = found.errors
    text = {name: (args.get(name) or "").strip() for name in ARG_NAMES}
    for name, value in text.items():
        problem = text_problem(value)
        if problem:
            errors[name] = problem
            text[name] = ""
    if text["oblast"]:
        if text["oblast"] in OBLASTS:
            found.oblast = text["oblast"]
        else:
            errors["oblast"] = _("Choose an oblast from the list.")
    if text["category"]:
        category = get_by_slug(text["category"])
        if category is None:
            errors["category"] = _("No such category: choose one from the list.")
        else:
            found.category, found.category_id = category.slug, category.id
    if text["flag"]:
        if text["flag"] in flags.FLAGS:
            found.flag = text["flag"]
        else:
            errors["flag"] = _("Choose a flag from the list.")
    if text["source"]:
        if text["source"] in {s.value for s in MatchSource}:
            found.source = text["source"]
        else:
            errors["source"] = _("Choose one of the sources in the list.")
    if text["sort"]:
        if text["sort"] in SORTS:
            found.sort = text["sort"]
        else:
            errors["sort"] = _("Choose an order from the list.")
    page = _number(text["page"], 1, MAX_PAGE)
    if page is None:
        errors["page"] = _("A page number is a whole number from 1 to %(max)d.", max=MAX_PAGE)
    else:
        found.page = page
    per_page = _number(text["per_page"], PER_PAGE, MAX_PER_PAGE)
    if per_page is None:
        errors["per_page"] = _(
            "Matches per page: a whole number from 1 to %(max)d.", max=MAX_PER_PAGE
        )
    else:
        found.per_page = per_page
    return found


def _with_need():
    """Match joined to its need and the need's place, everything a row shows loaded at once."""
    need = contains_eager(Match.need)
    return (
        select(Match)
        .join(Need, Need.id == Match.need_id)
        .join(Place, Place.id == Need.place_id)
        .options(
            need,
            need.contains_eager(Need.place),
            need.joinedload(Need.organization),
            need.joinedload(Need.category),
            joinedload(Match.organization),
            joinedload(Match.offer),
        )
    )


def queue_query(now: datetime, args: QueueArgs, parents: dict[int, int | None]):
    """Pending matches still needing a coordinator, narrowed and sorted as asked."""
    stmt = _with_need().where(review_queue_condition(now))
    if args.oblast:
        stmt = stmt.where(Place.oblast == args.oblast)
    if args.category:
        ids = {cid for cid in parents if _under(parents, cid, args.category_id)}
        stmt = stmt.where(Need.category_id.in_(ids))
    if args.flag:
        stmt = stmt.where(flags.condition(args.flag, now, parents))
    if args.source:
        stmt = stmt.where(Match.source == args.source)
    return stmt.order_by(*ORDERS[args.sort])


def _under(parents: dict[int, int | None], category_id: int, root_id: int | None) -> bool:
    seen = set()
    current: int | None = category_id
    while current is not None and current not in seen:
        if current == root_id:
            return True
        seen.add(current)
        current = parents.get(current)
    return False


def queue_page(now: datetime, args: QueueArgs) -> tuple[dict, dict[int, int | None]]:
    """One page of the queue (the list envelope plus "pages" and a "note"), and the category
    tree it read. A page past the last (the queue shrank) shows the last one, and says so."""
    parents = category_parents()
    stmt = queue_query(now, args, parents)
    page = paginate(stmt, args.page, args.per_page)
    pages = max(1, math.ceil(page["total"] / args.per_page))
    note = None
    if args.page > pages:
        note = _("There is no page %(page)d (any more): this is the last page.", page=args.page)
        args.page = pages
        page = paginate(stmt, pages, args.per_page)
    page["pages"], page["note"] = pages, note
    return page, parents


def row(match: Match, viewer, now: datetime, names: dict[int, str], parents) -> dict:
    """A match as one compact line of the queue: need, offer, quantity, distance, fit,
    urgency, flags, where it comes from and whether the donor agreed."""
    need, offer = match.need, match.offer
    tl = time_left(match, now)
    return {
        "id": match.id,
        "need_title": need.title,
        "category": names.get(need.category_id, need.category.slug),
        "place": place_label(need.place),
        "sensitive": need.sensitive,
        "group": need.organization,
        "donor": match.organization,
        "offer_title": offer.title if offer is not None else None,
        "offer_category": names.get(offer.category_id) if offer is not None else None,
        "quantity": match.quantity,
        "unit": unit_label(need.category.unit),
        "open": need.quantity - need.pledged,
        "need_quantity": need.quantity,
        "distance_km": match.distance_km,
        "score": match.score,
        "urgency": str(need.urgency),
        "urgency_label": urgency_label(need.urgency),
        "needed_by": need.needed_by,
        "expires_soon": tl if tl and tl["soon"] else None,
        "flags": flags.flags_of(match, now, parents),
        "source": str(match.source),
        "source_label": label_of(MATCH_SOURCE_LABELS, match.source),
        "donor_accepted": match.donor_accepted_at is not None,
        "may_approve": "approve" in allowed_actions(viewer, match, now),
    }


def side_list(condition, order, limit: int) -> list[Match]:
    """Matches of one of the queue's side lists (discrepancies, overdue), rows loaded."""
    return list(db.session.scalars(_with_need().where(*condition).order_by(*order).limit(limit)))
