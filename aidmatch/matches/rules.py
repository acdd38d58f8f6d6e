"""The rules of matches in one place: who is on which side, how long things wait, the statuses
that end a match or reveal contacts, and the checks on what people type. Which action each
side may take from which state is the lifecycle table (lifecycle.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.orgs.models import DONOR_KINDS
from aidmatch.permissions import is_member, is_staff
from aidmatch.postings.validate import MAX_QUANTITY, NOTE_MAX
from aidmatch.privacy.policy import side_condition, viewer_for
from aidmatch.refusals import Conflict, Invalid, NotAllowed, NotFound
from aidmatch.web.i18n import local_date, local_number
from aidmatch.web.text import text_problem

# Statuses that a cancellation of the need or offer ends (a shipped match stays: goods on the
# way still arrive): the "cancel" row of the lifecycle table starts from these.
CANCELLABLE = (MatchStatus.PENDING, MatchStatus.CONFIRMED)
STATUS_LABELS = {
    MatchStatus.PENDING: _l("pending"),
    MatchStatus.CONFIRMED: _l("confirmed"),
    MatchStatus.SHIPPED: _l("shipped"),
    MatchStatus.DELIVERED: _l("delivered"),
    MatchStatus.DECLINED: _l("declined"),
    MatchStatus.REJECTED: _l("rejected"),
    MatchStatus.EXPIRED: _l("expired"),
    MatchStatus.WITHDRAWN: _l("withdrawn"),
    MatchStatus.CANCELLED: _l("cancelled"),
}
# What a match's quantity_note holds when less remained for the donor than it accepted (others
# pledged part of the need or offer meanwhile); any other note is the reason a coordinator
# typed when approving less.
REMAINED = "remained"


def quantity_note_text(note: str | None) -> str | None:
    """Why a match's quantity is lower than was asked, in the reader's language."""
    if not note:
        return None
    if note == REMAINED:
        return _("Others pledged part of it meanwhile: the donor got what remained.")
    return note


def remained_message(match: Match) -> str:
    """What the donor is told when it got less than it accepted (others pledged meanwhile)."""
    return _(
        "Others pledged part of it meanwhile: you accepted %(n)s of the %(asked)s proposed.",
        n=local_number(match.quantity),
        asked=local_number(match.quantity_asked or match.quantity),
    )


# --- permissions (the one place for match permissions) -------------------------------------


def can_claim(user) -> bool:
    """Donors (members of a donor or supply collective) claim needs."""
    org = user.organization if user and user.is_authenticated else None
    return org is not None and org.kind in DONOR_KINDS


def can_request(user) -> bool:
    """Members of a group (not a donor or supply collective) request aid from an offer
    (matches/requests.py; a verified group only, which the verb checks with its own words)."""
    org = user.organization if user and user.is_authenticated else None
    return org is not None and org.kind not in DONOR_KINDS


def can_act_as_donor(user, match: Match) -> bool:
    """Members of the match's donor organization accept, decline, withdraw, ship, extend."""
    return is_member(user, match.organization)


def can_confirm_delivery(user, match: Match) -> bool:
    """Members of the group whose need it is confirm what they received."""
    return is_member(user, match.need.organization)


def can_review(user, match: Match | None = None) -> bool:
    """Coordinators and admins approve, reject and release matches (not those of their own org)."""
    if not is_staff(user):
        return False
    if match is not None and user.organization_id is not None:
        own = {match.organization_id, match.need.organization_id}
        return user.organization_id not in own
    return True


# Who sees a match is the privacy policy's answer (aidmatch.privacy.policy); these name it
# for the lifecycle table, the lists and the views.


def is_party(user, match: Match) -> bool:
    """The user belongs to either side of this match (the donor organization or the group)."""
    return viewer_for(user).is_side(match)


def party_condition(org_id: int | None):
    """SQL: matches that this organization is on either side of (none for no organization)."""
    return side_condition(org_id)


def can_view_match(user, match: Match) -> bool:
    """Staff and the two parties (the donor organization and the need's group) see a match."""
    return viewer_for(user).sees_match(match)


def visible_matches(user):
    """A select of the matches this user may see (staff: all; others: their org's, either side)."""
    return select(Match).where(viewer_for(user).matches_clause())


def get_visible_match(user, match_id, options=()) -> Match:
    """The match if this user may see it (staff, either side); NotFound otherwise, so that a
    stranger learns nothing, not even that it exists."""
    from aidmatch.db import is_id

    match = None
    if is_id(match_id):
        match = db.session.scalar(select(Match).where(Match.id == match_id).options(*options))
    if match is None or not can_view_match(user, match):
        raise NotFound(_("Not found"))
    return match


def deny(allowed: bool, message) -> None:
    """Refuse (NotAllowed, a 403 at the edge) with this message unless allowed."""
    if not allowed:
        raise NotAllowed(message, code="forbidden")


# --- settings and small helpers -----------------------------------------------------------


def pending_ttl() -> timedelta:
    """How long a pending match waits for both consents (MATCH_PENDING_TTL_HOURS)."""
    return timedelta(hours=current_app.config.get("MATCH_PENDING_TTL_HOURS", 72))


def confirmed_ttl() -> timedelta:
    """How long a confirmed match may stay unshipped before it is overdue."""
    return timedelta(days=current_app.config.get("MATCH_CONFIRMED_TTL_DAYS", 14))


def extension() -> timedelta:
    """How much more time a donor's one extension gives (MATCH_EXTENSION_HOURS)."""
    return timedelta(hours=current_app.config.get("MATCH_EXTENSION_HOURS", 72))


def needed_by_end(needed_by: date | None) -> datetime | None:
    """The last minute of a needed-by date (UTC, the day dates are read in:
    postings.models.today); None for a need without one."""
    if needed_by is None:
        return None
    return datetime.combine(needed_by, time(23, 59), tzinfo=UTC)


def ship_by(need, now: datetime) -> datetime:
    """When a match confirmed now must have shipped (its expires_at): the usual time
    (MATCH_CONFIRMED_TTL_DAYS), but never after the end of the need's needed-by date (and
    never before now)."""
    usual = now + confirmed_ttl()
    end = needed_by_end(need.needed_by)
    return usual if end is None else max(now, min(usual, end))


def time_too_short(need, now: datetime) -> bool:
    """Is the need due before the usual time to ship has run from now (so a match confirmed
    now gets less than MATCH_CONFIRMED_TTL_DAYS)? Coordinators are told on the match page."""
    end = needed_by_end(need.needed_by)
    return end is not None and end < now + confirmed_ttl()


def extended_until(match: Match, now: datetime) -> datetime:
    """The new time limit of a donor's extension: MATCH_EXTENSION_HOURS more, but not past
    the end of the need's needed-by date (capped there); Conflict when the limit is there
    already, as nothing more can be given."""
    wanted = max(match.expires_at or now, now) + extension()
    end = needed_by_end(match.need.needed_by)
    if end is None:
        return wanted
    if match.expires_at is not None and match.expires_at >= end:
        raise Conflict(
            _(
                "The need is needed by %(date)s: the time limit is already that day, so no "
                "more time can be given.",
                date=local_date(match.need.needed_by),
            ),
            code="conflict",
        )
    return min(wanted, end)


def is_overdue(match: Match, now: datetime | None = None) -> bool:
    """A confirmed match not shipped within its time: flagged, a coordinator may release it."""
    now = now or utcnow()
    return (
        match.status == MatchStatus.CONFIRMED
        and match.expires_at is not None
        and match.expires_at <= now
    )


def status_label(status) -> str:
    """A status in the reader's language."""
    return str(STATUS_LABELS.get(MatchStatus(status), status))


def clean_text(value, field: str, required: bool, max_len: int = NOTE_MAX) -> str:
    """A stripped text of at most max_len characters; Invalid naming the field otherwise."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid(_("Must be text."), field=field)
    problem = text_problem(value)
    if problem:
        raise Invalid(problem, field=field)
    value = value.strip()
    if required and not value:
        if field == "reason":
            raise Invalid(_("Please give a reason."), field=field)
        raise Invalid(_("This field is required."), field=field)
    if len(value) > max_len:
        raise Invalid(_("At most %(max)d characters, please.", max=max_len), field=field)
    return value


def clean_quantity(value, field: str = "quantity", minimum: int = 1) -> int:
    """A whole number from minimum to MAX_QUANTITY; Invalid otherwise."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(_("Quantities are whole numbers."), field=field)
    if value < minimum:
        if minimum == 1:
            raise Invalid(_("The quantity must be more than zero."), field=field)
        raise Invalid(_("The quantity may not be negative."), field=field)
    if value > MAX_QUANTITY:
        raise Invalid(_("The quantity may be at most %(max)d.", max=MAX_QUANTITY), field=field)
    return value
