"""An organization's states as one table (DESIGN: "state (unverified, verified, rejected,
suspended) with who decided, when and why").

Each decision a coordinator takes on an organization is one row: from which states, to which,
its audit action, what a refused person is told, and whether its members hear of it. Every
decision asks for a reason and a note of how the organization was checked (kept on the row
and in the audit trail). The verb (orgs/operations.decide), the directory's buttons and its
state filter read this table, so they cannot disagree.

What a state means for the organization's needs and offers:

- ``PUBLIC``: shown to other organizations, matched, proposed by runs (``verified_at`` is set
  exactly in this state: a CHECK constraint holds it, and SQL reads it through the column's
  index);
- ``WITHDRAWN`` (suspended, rejected): they leave every list, map, candidate list and matching
  run, for coordinators too; the organization's own members still see them (the privacy
  policy's ``in_play`` reads this set);
- pending: seen by coordinators and the organization's members only (vetting comes first).

A withdrawn organization's matches are kept, not cancelled: goods move only once a coordinator
has approved (DESIGN: "both the donor and a coordinator"), so a pending match waits for a
coordinator who sees the state on the match page and in the review queue, and a suspension
that is lifted loses nothing. A withdrawn collective claims no need (matches/claims.py), a
withdrawn group requests no offer (it is not verified: matches/requests.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flask_babel import lazy_gettext as _l


class OrgState(StrEnum):
    UNVERIFIED = "unverified"
    VERIFIED = "verified"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


UNVERIFIED, VERIFIED = OrgState.UNVERIFIED, OrgState.VERIFIED
REJECTED, SUSPENDED = OrgState.REJECTED, OrgState.SUSPENDED

PUBLIC = frozenset({VERIFIED})
WITHDRAWN = frozenset({SUSPENDED, REJECTED})

STATE_LABELS = {
    UNVERIFIED: _l("waiting for verification"),
    VERIFIED: _l("verified"),
    REJECTED: _l("rejected"),
    SUSPENDED: _l("suspended"),
}


@dataclass(frozen=True)
class Decision:
    """One row of the table: a coordinator's decision on an organization."""

    name: str  # the verb in URLs; the audit action is "org.<name>"
    sources: frozenset  # the states it is taken from
    target: OrgState
    label: object  # the button
    refusal: object  # why not, in any other state
    tells: str | None = None  # the notify kind its members receive (notify/events.py)


TABLE: dict[str, Decision] = {
    row.name: row
    for row in (
        Decision(
            "verify",
            frozenset({UNVERIFIED, REJECTED, SUSPENDED}),
            VERIFIED,
            _l("Verify"),
            _l("This organization is already verified."),
            tells="org_verified",
        ),
        Decision(
            "reject",
            frozenset({UNVERIFIED}),
            REJECTED,
            _l("Reject"),
            _l("Only an organization waiting for verification can be rejected."),
            tells="org_rejected",
        ),
        Decision(
            "suspend",
            frozenset({VERIFIED, UNVERIFIED}),
            SUSPENDED,
            _l("Suspend"),
            _l("This organization is already suspended or rejected."),
            tells="org_suspended",
        ),
        Decision(
            "unverify",
            frozenset({VERIFIED}),
            UNVERIFIED,
            _l("Un-verify"),
            _l("Only a verified organization can be un-verified."),
            tells="org_unverified",
        ),
    )
}


def available(state) -> list[Decision]:
    """The decisions that may be taken on an organization in this state (the buttons)."""
    return [row for row in TABLE.values() if state in row.sources]


def state_label(state) -> str:
    """A state in words."""
    return str(STATE_LABELS.get(state, state))
