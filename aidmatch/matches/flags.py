"""Flags a coordinator sees on a match: what to check before saying yes. The one home of each
flag's rule, written twice like lifecycle.condition: a predicate over a loaded match (Python,
for a page: the review queue's rows, the match page) and the same rule as SQL (the review
queue's filter). tests/test_review_flags.py checks that both agree.

- general_offer: the offer's category is not the need's own but an ancestor of it (a "Food"
  offer on a "Baby food" need): the coordinator checks that it contains what is needed. The
  pair of categories decides, so engine proposals, claims from an offer and group requests
  are flagged alike; a claim without an offer never is.
- short_time: the need is needed by a date before the usual ship-by time of a match
  confirmed now (rules.time_too_short), so the donor would have less time than usual.
  A flag for pending matches: a confirmed match has its own ship-by date (never after the
  need's needed-by date).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, false, or_, select
from sqlalchemy.orm import aliased

from aidmatch.categories.operations import ancestors_in, category_parents
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.matches.rules import confirmed_ttl, time_too_short
from aidmatch.needs.models import Need
from aidmatch.offers.models import Offer


@dataclass(frozen=True)
class Flag:
    """A flag's name (in URLs) and its words for coordinators (lazy strings): the label on
    the queue's rows and the match page, and a sentence saying what it means."""

    name: str
    label: object
    hint: object


FLAGS = {
    "general_offer": Flag(
        "general_offer",
        _l("general offer: check it contains what is needed"),
        _l("The offer is of a wider category than the need (Food for baby formula)."),
    ),
    "short_time": Flag(
        "short_time",
        _l("short time to ship"),
        _l(
            "The need is needed before a match confirmed now would usually have to be "
            "shipped: confirmed, it must be shipped by the needed-by date."
        ),
    ),
}


# --- general_offer ---------------------------------------------------------------------------


def is_general_offer(match: Match, parents: Mapping[int, int | None] | None = None) -> bool:
    """The match's offer is of a parent ("general") category of the need's, not its own.

    ``parents`` is the category tree as {id: parent_id} (categories.operations.category_parents);
    a page with many rows loads it once and passes it in."""
    if match.offer is None:
        return False
    need_category, offer_category = match.need.category_id, match.offer.category_id
    if offer_category == need_category:
        return False
    tree = category_parents() if parents is None else parents
    return offer_category in ancestors_in(tree, need_category)


def general_offer_condition(parents: Mapping[int, int | None] | None = None):
    """SQL: is_general_offer. For each category with something below it, an offer of it on a
    need of a category below it (one EXISTS over the match's need and offer)."""
    tree = category_parents() if parents is None else parents
    below: dict[int, set[int]] = {}
    for category in tree:
        for ancestor in ancestors_in(tree, category):
            below.setdefault(ancestor, set()).add(category)
    if not below:
        return false()
    need, offer = aliased(Need), aliased(Offer)
    pairs = [
        and_(offer.category_id == ancestor, need.category_id.in_(sorted(ids)))
        for ancestor, ids in sorted(below.items())
    ]
    return exists(
        select(need.id).where(need.id == Match.need_id, offer.id == Match.offer_id, or_(*pairs))
    )


# --- short_time ------------------------------------------------------------------------------


def usual_ship_by(now: datetime) -> datetime:
    """When a match confirmed at `now` would have to be shipped by, before any cap."""
    return now + confirmed_ttl()


def short_time_cutoff(now: datetime) -> date:
    """Needs needed by a date before this one are short of time (UTC dates, like needed_by
    everywhere: postings.models.today)."""
    return usual_ship_by(now).date()


def is_short_of_time(match: Match, now: datetime) -> bool:
    """A pending match whose need is needed by a date before the usual ship-by time of a
    match confirmed now: confirmed, it would have less time to ship than usual (its ship-by
    date is capped at the needed-by date), so coordinators are told."""
    return match.status == MatchStatus.PENDING and time_too_short(match.need, now)


def short_time_condition(now: datetime):
    """SQL: is_short_of_time (rules.time_too_short as SQL: the end of the needed-by day before
    now + the usual time is a needed-by date before that moment's date)."""
    need = aliased(Need)
    return and_(
        Match.status == MatchStatus.PENDING,
        exists(
            select(need.id).where(
                need.id == Match.need_id,
                need.needed_by.is_not(None),
                need.needed_by < short_time_cutoff(now),
            )
        ),
    )


# --- all flags -------------------------------------------------------------------------------


def flags_of(match: Match, now: datetime, parents: Mapping[int, int | None] | None = None):
    """The names of the flags a match carries, in FLAGS' order."""
    found = []
    if is_general_offer(match, parents):
        found.append("general_offer")
    if is_short_of_time(match, now):
        found.append("short_time")
    return found


def condition(name: str, now: datetime, parents: Mapping[int, int | None] | None = None):
    """SQL: the matches that carry this flag (KeyError for an unknown name)."""
    if name == "general_offer":
        return general_offer_condition(parents)
    if name == "short_time":
        return short_time_condition(now)
    raise KeyError(name)


def label(name: str) -> str:
    """A flag's words in the reader's language."""
    return str(FLAGS[name].label)
