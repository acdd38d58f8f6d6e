"""What a match's moves tell whom: the lifecycle table's `tells` (lifecycle.py), written in the
transaction of the move, so a move that rolls back tells nobody.

Recipients are the active members of a side's organization (donor: the match's organization;
group: its need's) and, for the reviewer side, the active coordinators and admins of neither
side; lifecycle.SIDES decides who stands where, the one rule. The acting user is never told.
What each recipient reads is asked of the privacy policy for that recipient
(notify.recipients.posting_params): category, quantity, unit, oblast, the settlement only for
who may see the need, a reason a person typed; never a title, a note, a contact, a point or a
date.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from aidmatch.extensions import db
from aidmatch.matches import lifecycle
from aidmatch.matches.lifecycle import Tell
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.matches.rules import can_view_match
from aidmatch.needs.models import Need
from aidmatch.notify.audience import audience
from aidmatch.notify.outbox import Telling, tell_all
from aidmatch.notify.recipients import CHUNK, each_told, members_of, posting_params, staff


def tell_move(match: Match, name: str, actor, reason: str = "", asked: int | None = None) -> int:
    """Tell whom the table's row `name` names about this move (reason: what the actor typed;
    asked: the quantity before the move lowered it)."""
    return tell_sides([match], lifecycle.action(name).tells, actor, reason=reason, asked=asked)


def tell_moves(matches: Iterable[Match], name: str, actor, reason: str = "") -> int:
    """The same for several matches moved at once (cancelled with their need, expired)."""
    return tell_sides(list(matches), lifecycle.action(name).tells, actor, reason=reason)


def tell_claim(match: Match, actor) -> int:
    """A donor's claim: the group and the coordinators' queue hear of it (lifecycle.ON_CLAIM)."""
    return tell_sides([match], lifecycle.ON_CLAIM, actor)


def tell_request(match: Match, actor) -> int:
    """A group's request: the donor's members and the coordinators' queue hear of it
    (lifecycle.ON_REQUEST)."""
    return tell_sides([match], lifecycle.ON_REQUEST, actor)


def load_needs(matches: list[Match]) -> None:
    """Load the needs of these matches with their place, category and group, a few queries for
    any number of matches."""
    ids = sorted({m.need_id for m in matches})
    for start in range(0, len(ids), CHUNK):
        db.session.scalars(
            select(Need)
            .where(Need.id.in_(ids[start : start + CHUNK]))
            .options(
                joinedload(Need.place), joinedload(Need.category), joinedload(Need.organization)
            )
        ).all()


def params_for(match: Match, reason: str = "", asked: int | None = None) -> Callable:
    """(user) -> what this user may read of this match (see the module docstring); asked: the
    quantity first asked, when the move lowered it."""
    received = match.quantity_received if match.status == MatchStatus.DELIVERED else None

    def params(user) -> dict:
        return posting_params(
            match.need,
            user,
            quantity=match.quantity,
            reason=reason,
            received=received,
            asked=asked,
        )

    return params


def tell_sides(
    matches: list[Match],
    tells: Iterable[Tell],
    actor=None,
    *,
    reason: str = "",
    key: Callable[[Match], str] | None = None,
    asked: int | None = None,
) -> int:
    """Tell each side named in tells (when its condition holds for the match as it is now)
    about each match, never the actor; key(match): a dedupe key (a reminder is told once).
    All in one outbox.tell_all: a few queries whatever the number of matches. Returns how
    many notifications were written."""
    return len(tell_all(tellings_of(matches, tells, actor, reason=reason, key=key, asked=asked)))


def tellings_of(
    matches: list[Match],
    tells: Iterable[Tell],
    actor=None,
    *,
    reason: str = "",
    key: Callable[[Match], str] | None = None,
    asked: int | None = None,
) -> list[Telling]:
    """What tell_sides tells, not told yet (a reminder job sums them up first)."""
    tells = tuple(tells)
    due = [(m, t) for m in matches for t in tells if lifecycle.TOLD_WHEN[t.when](m)]
    if not due:
        return []
    load_needs([m for m, _t in due])
    members = members_of(o for m, _t in due for o in (m.organization_id, m.need.organization_id))
    reviewers = staff() if any(t.side == "reviewer" for _m, t in due) else []
    tellings = []
    for match, told in due:
        if told.side == "reviewer":
            candidates = reviewers
        elif told.side == "donor":
            candidates = members[match.organization_id]
        else:
            candidates = members[match.need.organization_id]
        side = lifecycle.SIDES[told.side]
        tellings += each_told(
            [user for user in candidates if side(user, match)],
            told.kind,
            params_for(match, reason, asked),
            not_to=actor,
            match=match,
            dedupe_key=key(match) if key else None,
        )
    return tellings


@audience
def _still_sees_match(note, user) -> bool | None:
    """A notification about a match leaves only for who still sees it when it goes out: staff,
    the members of its two sides and of the organizations on its route (the privacy policy's
    sees_match); a member removed from a side since it was told gets nothing."""
    if note.match_id is None:
        return None
    match = db.session.get(Match, note.match_id)
    return None if match is None else can_view_match(user, match)
