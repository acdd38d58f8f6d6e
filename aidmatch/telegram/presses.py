"""What a button press does: the same verbs as the pages, for the linked user, after the same
checks (who may see it, which side, the lifecycle table's state); a refusal propagates with
the message a page would show. Verbs flush and audit; the edge commits.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _

from aidmatch.matches import lifecycle
from aidmatch.matches import operations as ops
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.matches.rules import REMAINED, get_visible_match, remained_message
from aidmatch.needs.models import Need
from aidmatch.needs.operations import can_edit_need, cancel_need, get_visible_need
from aidmatch.postings.models import OPEN
from aidmatch.refusals import Conflict, NotAllowed
from aidmatch.telegram.signing import Press


def _match(user, press: Press, slug: str) -> Match:
    """The match, if this user may see it and stands on the side of this action."""
    match = get_visible_match(user, press.target_id)
    lifecycle.check_side(slug, user, match)
    return match


def accept(user, press: Press) -> str:
    """All of it (less is typed on the match's page); less if others pledged part meanwhile."""
    match = ops.accept(_match(user, press, "accept"), user)
    if match.status == MatchStatus.CONFIRMED:
        said = _("Accepted: the match is confirmed.")
    else:
        said = _("Accepted: a coordinator reviews it next.")
    if match.quantity_note == REMAINED:
        said = f"{said} {remained_message(match)}"
    return said


def decline(user, press: Press) -> str:
    ops.decline(_match(user, press, "decline"), user, "")
    return _("Declined.")


def approve(user, press: Press) -> str:
    match = ops.approve(_match(user, press, "approve"), user)
    if match.status == MatchStatus.CONFIRMED:
        return _("Approved: the match is confirmed.")
    return _("Approved: the donor's answer is awaited.")


def confirm_delivery(user, press: Press) -> str:
    """The full quantity arrived (a partial receipt is typed on the match's page)."""
    match = _match(user, press, "confirm_delivery")
    ops.confirm_delivery(match, user, match.quantity)
    return _("Thank you: the full quantity is confirmed as received.")


def _own_open_need(user, press: Press) -> Need:
    need = get_visible_need(user, press.target_id)
    if not can_edit_need(user, need):
        raise NotAllowed(_("Only members of the group that posted the need may answer this."))
    if need.effective_status != OPEN:
        raise Conflict(_("This need is not open any more."))
    return need


def keep_open(user, press: Press) -> str:
    """Still needed: nothing changes."""
    _own_open_need(user, press)
    return _("The need stays open.")


def close_need(user, press: Press) -> str:
    """Received elsewhere: the need ends as the page's Cancel ends it (its matches not yet
    shipped end with it), with the reason said."""
    need = _own_open_need(user, press)
    cancel_need(need, user, reason=_("Received elsewhere"))
    return _("The need is closed as received elsewhere.")


PRESSES: dict[str, Callable[[object, Press], str]] = {
    "accept": accept,
    "decline": decline,
    "approve": approve,
    "confirm_delivery": confirm_delivery,
    "keep_open": keep_open,
    "close_need": close_need,
}


def run(user, press: Press) -> str:
    """Do what the button asks, as this user; what happened, in words (a Refusal raises)."""
    return PRESSES[press.verb](user, press)
