"""Who may still hear a notification when it leaves the outbox (notify/outbox._deliver_one
asks before each send): a message waits minutes or hours, and meanwhile its recipient may
have been disabled, removed from the organization it is about, or no longer be staff.

- A disabled account gets nothing more (auth/admin.disable_user).
- A kind for staff (notify/kinds.Kind.staff) goes to coordinators and admins only.
- A message about an organization (org_verified, org_suspended ..., run_proposals) goes to
  its members only.
- A message about a match, a need or an offer's conversation goes to who may still hear of
  it, as the package that owns the thing says: it registers a check with @audience
  (matches/notices.py: the match's sides, its route and staff; needs/reminders.py: the need's
  organization; conversations/operations.py: an offer's conversation's two organizations).

A delivery refused here is failed with the reason (shown on /admin/deliveries), never tried
again.
"""

from __future__ import annotations

from collections.abc import Callable

from aidmatch.notify.kinds import KINDS
from aidmatch.permissions import is_staff

# (notification, user) -> False: no longer theirs to hear; True or None: not refused here.
_checks: list[Callable] = []

NOT_STAFF = "the recipient is no longer a coordinator or admin"
NOT_MEMBER = "the recipient is no longer a member of the organization it is about"


def audience(check: Callable) -> Callable:
    """Register a check (notification, user) -> bool | None for what a package owns (None:
    the notification is not about its things)."""
    _checks.append(check)
    return check


def refusal(note, user) -> str | None:
    """Why this notification may no longer go to this user (None: it may)."""
    if not user.active:
        return "the account is disabled"
    spec = KINDS.get(note.kind)
    if spec is not None and spec.staff:
        return None if is_staff(user) else NOT_STAFF
    if note.organization_id is not None and user.organization_id != note.organization_id:
        return NOT_MEMBER
    for check in _checks:
        if check(note, user) is False:
            return NOT_MEMBER
    return None
