"""The match lifecycle as one table (DESIGN.md, "The match lifecycle").

Each action on a match is one row: who may take it (a side: a predicate over user and match),
from which statuses (as read now: a lapsed pending match reads as expired), the extra
condition (a consent not given yet, the one extension unused, a deadline passed), where it
goes, whether a reason is asked for, what a refused person is told, whether both organizations
must still be in play (`out_of_play`: neither suspended nor rejected), and who is told about the
move (`tells`: a side and a kind of notify/kinds.py; matches/notices.py writes them). The verbs
(transitions.py), the buttons of every page, the API and the CLI all read this table, so they
cannot disagree: `refusal()` says why not (NotAllowed: wrong side; Conflict: wrong state),
`available()` lists the buttons, `condition()` is the same rule as SQL for counts and queues.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, not_, or_, true

from aidmatch.matches.models import TERMINAL, Match, MatchSource, MatchStatus
from aidmatch.matches.rules import (
    CANCELLABLE,
    can_act_as_donor,
    can_confirm_delivery,
    can_review,
    is_party,
    party_condition,
    status_label,
)
from aidmatch.needs.models import Need
from aidmatch.orgs.lifecycle import WITHDRAWN
from aidmatch.orgs.models import Organization
from aidmatch.permissions import is_staff
from aidmatch.refusals import Conflict, NotAllowed, Refusal
from aidmatch.web.i18n import local_datetime

PENDING, CONFIRMED = MatchStatus.PENDING, MatchStatus.CONFIRMED
SHIPPED, EXPIRED = MatchStatus.SHIPPED, MatchStatus.EXPIRED

# Who stands on which side of a match: the one predicate each row names.
SIDES: dict[str, Callable] = {
    "donor": can_act_as_donor,  # members of the donor organization
    "group": can_confirm_delivery,  # members of the group whose need it is
    "reviewer": can_review,  # coordinators and admins of neither side
    "party_or_staff": lambda user, match: is_staff(user) or is_party(user, match),
    "system": lambda user, match: False,  # only the expiry job (flask matches expire)
    # Whoever holds the goods at the drop point, through the match's single-use receipt link
    # (receipts/): the actor is the link's signer, not a user, and only for its own match.
    "receipt": lambda user, match: getattr(user, "receipt_match_id", None) == match.id,
}


class Tell(NamedTuple):
    """Who hears of a move: the members of a side (donor, group; reviewer: coordinators and
    admins of neither side) get this kind of notification (notify/kinds.py) when the match,
    as the move left it, is as `when` says (a key of TOLD_WHEN). The acting user never."""

    side: str
    kind: str
    when: str = "always"


TOLD_WHEN: dict[str, Callable[[Match], bool]] = {
    "always": lambda match: True,
    "pending": lambda match: match.status == PENDING,  # the other consent is still missing
    "confirmed": lambda match: match.status == CONFIRMED,  # this consent completed it
    # The group hears of a match once a donor agreed to it (a claim, an accepted proposal) or
    # when it asked for it itself (a request): an engine proposal its donor never answered is
    # not news for the group.
    "agreed": lambda match: (
        match.donor_accepted_at is not None or match.source == MatchSource.REQUEST
    ),
    "full": lambda match: (match.quantity_received or 0) >= match.quantity,
    "short": lambda match: (match.quantity_received or 0) < match.quantity,
}


@dataclass(frozen=True)
class Action:
    """One row of the lifecycle table."""

    name: str  # the verb, and the audit action "match.<name>"
    side: str  # a key of SIDES
    sources: frozenset[MatchStatus]  # statuses (as read now) it may start from
    to: MatchStatus | None  # where it goes (None: the status stays; accept/approve: see below)
    reason: str  # "required", "optional" or "none"
    wrong_side: str  # what someone of another side is told (403)
    wrong_state: str  # what is said for another status (409), with %(status)s
    unset: str | None = None  # a column that must still be empty (a consent, the extension)
    unset_message: str | None = None  # what is said when it is not (409)
    deadline: str = "any"  # "passed": only once expires_at is past (release, expire)
    early_message: str | None = None  # what is said before then (409), with %(when)s
    button: bool = True  # pressed by a person on a match (cancel and expire are not)
    tells: tuple[Tell, ...] = ()  # who is told about the move, and what
    # Refused to anyone while the donor organization (first message) or the need's group
    # (second) is suspended or rejected (orgs/lifecycle.WITHDRAWN): None, allowed whatever.
    out_of_play: tuple[str, str] | None = None

    @property
    def slug(self) -> str:
        """The action in URLs and on buttons (confirm-delivery)."""
        return self.name.replace("_", "-")


ALREADY_AGREED = _l("This was already agreed to.")
TABLE: tuple[Action, ...] = (
    # accept / approve: pending stays pending until the other consent is there, then confirmed.
    Action(
        "accept",
        "donor",
        frozenset({PENDING}),
        CONFIRMED,
        "none",
        _l("Only the donor organization may accept."),
        _l("Only a pending match can be accepted; this one is %(status)s."),
        unset="donor_accepted_at",
        unset_message=ALREADY_AGREED,
        # A suspended or rejected organization takes part in nothing new (a collective claims
        # nothing, a group's needs leave every list): an acceptance of a match a coordinator
        # approved before the decision would confirm it, show each side the other's exact
        # point and contact, and send goods, with no coordinator seeing the new state.
        out_of_play=(
            _l("A coordinator suspended or rejected your organization: it may not accept matches."),
            _l(
                "A coordinator suspended or rejected this group: its matches wait for a coordinator."
            ),
        ),
        tells=(
            Tell("group", "match_accepted", "pending"),
            Tell("reviewer", "match_to_review", "pending"),
            Tell("group", "match_confirmed", "confirmed"),
            Tell("donor", "match_confirmed_ship", "confirmed"),
        ),
    ),
    Action(
        "decline",
        "donor",
        frozenset({PENDING}),
        MatchStatus.DECLINED,
        "optional",
        _l("Only the donor organization may decline."),
        _l("Only a pending match can be declined; this one is %(status)s."),
        tells=(Tell("group", "match_declined", "agreed"),),
    ),
    Action(
        "approve",
        "reviewer",
        frozenset({PENDING}),
        CONFIRMED,
        "none",
        _l("Only a coordinator of neither side may approve."),
        _l("Only a pending match can be approved; this one is %(status)s."),
        unset="coordinator_approved_at",
        unset_message=ALREADY_AGREED,
        tells=(
            Tell("donor", "match_approved_answer", "pending"),  # the donor must answer next
            Tell("donor", "match_confirmed_ship", "confirmed"),
            Tell("group", "match_confirmed", "confirmed"),
        ),
    ),
    Action(
        "reject",
        "reviewer",
        frozenset({PENDING}),
        MatchStatus.REJECTED,
        "required",
        _l("Only a coordinator of neither side may reject."),
        _l("Only a pending match can be rejected; this one is %(status)s."),
        unset="coordinator_approved_at",
        unset_message=ALREADY_AGREED,
        tells=(Tell("donor", "match_rejected"), Tell("group", "match_rejected", "agreed")),
    ),
    Action(
        "withdraw",
        "donor",
        frozenset({CONFIRMED}),
        MatchStatus.WITHDRAWN,
        "required",
        _l("Only the donor organization may withdraw."),
        _l("Only a confirmed match can be withdrawn; this one is %(status)s."),
        tells=(Tell("group", "match_withdrawn"),),
    ),
    Action(
        "extend",
        "donor",
        frozenset({PENDING, CONFIRMED}),
        None,
        "none",
        _l("Only the donor organization may ask for more time."),
        _l("Only a pending or confirmed match can get more time; this one is %(status)s."),
        unset="extension_used",
        unset_message=_l("More time was already given once for this match."),
        tells=(Tell("group", "match_extended", "agreed"),),
    ),
    Action(
        "ship",
        "donor",
        frozenset({CONFIRMED}),
        SHIPPED,
        "none",
        _l("Only the donor organization may ship."),
        _l("Only a confirmed match can be marked shipped; this one is %(status)s."),
        tells=(Tell("group", "match_shipped"),),
    ),
    Action(
        "confirm_delivery",
        "group",
        frozenset({SHIPPED}),
        MatchStatus.DELIVERED,
        "none",
        _l("Only the group that posted the need may confirm its delivery."),
        _l("Only a shipped match can be confirmed as received; it is %(status)s."),
        tells=(
            Tell("donor", "match_delivered", "full"),
            Tell("reviewer", "match_delivered", "full"),
            Tell("donor", "match_shortfall", "short"),
            Tell("reviewer", "match_shortfall", "short"),
        ),
    ),
    # The same receipt, signed through the slip's QR link by whoever received the goods, without
    # an account: a confirmed match too (the goods may arrive before the donor marks them
    # shipped). The group's members hear of it at once and may dispute it (receipts/).
    Action(
        "confirm_by_receipt",
        "receipt",
        frozenset({CONFIRMED, SHIPPED}),
        MatchStatus.DELIVERED,
        "none",
        "Only the match's receipt link may sign its receipt.",  # never shown to a person
        _l("This receipt can no longer be signed: the match is %(status)s."),
        button=False,
        tells=(
            Tell("group", "receipt_signed"),
            Tell("donor", "match_delivered", "full"),
            Tell("reviewer", "match_delivered", "full"),
            Tell("donor", "match_shortfall", "short"),
            Tell("reviewer", "match_shortfall", "short"),
        ),
    ),
    Action(
        "cancel",
        "party_or_staff",
        frozenset(CANCELLABLE),
        MatchStatus.CANCELLED,
        "optional",
        # Never shown to a person (cancelling the need or offer ends its matches): not marked
        # for the translators.
        "Only the need's group, the donor or a coordinator may cancel.",
        "Only a pending or confirmed match can be cancelled; this one is %(status)s.",
        button=False,
        tells=(Tell("donor", "match_cancelled"), Tell("group", "match_cancelled", "agreed")),
    ),
    Action(
        "release",
        "reviewer",
        frozenset({CONFIRMED}),
        EXPIRED,
        "optional",
        _l("Only a coordinator may release a match."),
        _l("Only a confirmed match can be released; this one is %(status)s."),
        deadline="passed",
        early_message=_l("This match is not overdue yet: it can be released after %(when)s."),
        tells=(Tell("donor", "match_expired"), Tell("group", "match_expired")),
    ),
    Action(
        "expire",
        "system",
        frozenset({PENDING}),
        EXPIRED,
        "none",
        "Only the expiry job expires matches.",  # never shown to a person, as for cancel
        "Only a pending match expires; this one is %(status)s.",
        deadline="passed",
        early_message="This match is not past its time yet (%(when)s).",
        button=False,
        tells=(Tell("donor", "match_expired"), Tell("group", "match_expired", "agreed")),
    ),
)
# A match made by a claim (it carries the donor's consent) is news for the group and waits in
# the coordinators' queue. An engine proposal tells nobody by itself: its run tells each
# organization once, with a count (runs/storing.tell_organizations); the group hears of a
# proposal by itself once the donor accepts, the coordinators from the queue and its digest.
ON_CLAIM: tuple[Tell, ...] = (Tell("group", "match_claimed"), Tell("reviewer", "match_to_review"))
# A group's request asks the donor to answer and waits in the coordinators' queue; the group
# asked, so it is not told (its member who asked is the actor; matches/requests.py).
ON_REQUEST: tuple[Tell, ...] = (
    Tell("donor", "match_requested"),
    Tell("reviewer", "match_to_review"),
)
# A pending match near its time reminds whoever still has to say yes: the side of each of these
# consents while it is missing (matches/reminders.py).
CONSENTS = ("accept", "approve")

ACTIONS: dict[str, Action] = {action.name: action for action in TABLE}
BY_SLUG: dict[str, Action] = {action.slug: action for action in TABLE if action.button}


def action(name: str) -> Action:
    """The row of an action, by verb (confirm_delivery) or slug (confirm-delivery)."""
    return ACTIONS.get(name) or BY_SLUG[name]


def may_take(user, row: Action, match: Match) -> bool:
    """The user stands on the side this action belongs to."""
    return SIDES[row.side](user, match)


def check_side(name: str, user, match: Match) -> Action:
    """Raise NotAllowed unless the user stands on this action's side; return the row (pages
    and API call it before they read a body)."""
    row = action(name)
    if not may_take(user, row, match):
        raise NotAllowed(row.wrong_side, code="forbidden")
    return row


def _state_problem(row: Action, match: Match, now: datetime) -> tuple[str, str] | None:
    """What in the match's state refuses this action now, and the status it read: ("lapsed",
    "already", "wrong", "unset" or "early", status); None when the state allows it. Cheap:
    the buttons of a page of matches ask it for every row and action."""
    # Actions on a deadline read the stored status; the others the status as read now.
    status = match.status if row.deadline == "passed" else match.status_at(now)
    if status not in row.sources:
        if match.is_lapsed(now):
            return "lapsed", status
        return ("already" if status in TERMINAL or status == row.to else "wrong"), status
    if row.unset and getattr(match, row.unset):
        return "unset", status
    if row.deadline == "passed" and not (match.expires_at and match.expires_at <= now):
        return "early", status
    return None


def play_refusal(row: Action, match: Match) -> NotAllowed | None:
    """Why this action is refused to anyone while a side's organization is suspended or
    rejected (the row's out_of_play); None when it is not."""
    if row.out_of_play is None:
        return None
    donor_words, group_words = row.out_of_play
    if match.organization.withdrawn:
        return NotAllowed(donor_words, code="forbidden")
    if match.need.organization.withdrawn:
        return NotAllowed(group_words, code="forbidden")
    return None


def state_allows(row: Action, match: Match, now: datetime) -> bool:
    """The match's state allows this action now (whoever asks)."""
    return _state_problem(row, match, now) is None


def state_refusal(row: Action, match: Match, now: datetime) -> Conflict | None:
    """Why the match's state does not allow this action now (None: it does)."""
    problem = _state_problem(row, match, now)
    if problem is None:
        return None
    reason, status = problem
    if reason == "lapsed":
        message = _("This match has expired.")
    elif reason == "already":
        message = _("This match is already %(status)s.", status=status_label(status))
    elif reason == "wrong":
        message = str(row.wrong_state) % {"status": status_label(status)}
    elif reason == "unset":
        message = row.unset_message
    else:
        when = local_datetime(match.expires_at, zone=True) if match.expires_at else "—"
        message = str(row.early_message) % {"when": when}
    return Conflict(message, code="conflict")


def refusal(name: str, user, match: Match, now: datetime) -> Refusal | None:
    """Why this user may not take this action on this match now: NotAllowed for the wrong
    side, Conflict for the wrong state; None when the table allows it."""
    row = action(name)
    if not may_take(user, row, match):
        return NotAllowed(row.wrong_side, code="forbidden")
    return play_refusal(row, match) or state_refusal(row, match, now)


def check(name: str, user, match: Match, now: datetime) -> Action:
    """Raise the refusal unless the table allows it; return the row."""
    refused = refusal(name, user, match, now)
    if refused is not None:
        raise refused
    return action(name)


def open_now(name: str, match: Match, now: datetime) -> bool:
    """The match's state and its organizations allow this action now (whoever asks)."""
    row = action(name)
    return state_allows(row, match, now) and play_refusal(row, match) is None


def available(user, match: Match, now: datetime) -> list[str]:
    """The buttons (slugs) this user may press on this match now, in the table's order: what
    refusal() would let through."""
    return [
        row.slug
        for row in TABLE
        if row.button and may_take(user, row, match) and open_now(row.name, match, now)
    ]


def sides_of(user, match: Match) -> set[str]:
    """The sides this user stands on in this match (donor, group, reviewer)."""
    return {side for side in ("donor", "group", "reviewer") if SIDES[side](user, match)}


def condition(name: str, now: datetime):
    """SQL: matches whose state allows this action now (the row's status, extra condition,
    deadline, and both organizations in play where the row asks it), for counts and queues."""
    row = action(name)
    parts = [Match.status.in_([s.value for s in row.sources])]
    if PENDING in row.sources and row.deadline != "passed":
        # Pending ones only while in time, said as a range the index on (status,
        # expires_at) serves: the pending matches of a run that lapsed are not read at all.
        others = [s.value for s in row.sources if s != PENDING]
        parts = [Match.status_in([PENDING], now)]
        if others:
            parts = [or_(Match.status.in_(others), parts[0])]
    if row.unset == "extension_used":
        parts.append(Match.extension_used.is_(False))
    elif row.unset:
        parts.append(getattr(Match, row.unset).is_(None))
    if row.deadline == "passed":
        parts.append(and_(Match.expires_at.is_not(None), Match.expires_at <= now))
    if row.out_of_play is not None:
        withdrawn = Organization.state.in_(sorted(WITHDRAWN))
        parts.append(~Match.organization.has(withdrawn))
        parts.append(~Match.need.has(Need.organization.has(withdrawn)))
    return and_(*parts)


def side_condition(side: str, user):
    """SQL: matches on which this user stands on this side (the SIDES predicate as SQL)."""
    org_id = user.organization_id if user and user.is_authenticated else None
    if side == "donor":
        return Match.organization_id == org_id if org_id else false()
    if side == "group":
        return Match.need.has(Need.organization_id == org_id) if org_id else false()
    if side == "reviewer":
        if not is_staff(user):
            return false()
        return not_(party_condition(org_id)) if org_id else true()
    if side == "party_or_staff":
        return true() if is_staff(user) else party_condition(org_id)
    return false()


def open_to(name: str, user, now: datetime):
    """SQL: the matches on which this user may take this action now."""
    return and_(side_condition(action(name).side, user), condition(name, now))
