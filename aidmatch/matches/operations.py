"""Verbs on matches (DESIGN.md): the API of the whole package, re-exported from where each
theme lives: claims (claims.py), the lifecycle's moves (transitions.py, reading the table of
lifecycle.py), holds (holds.py), bulk endings and expiry (expiry.py), rules (rules.py).
They take objects and the acting user, flush and audit, never commit; they refuse with the
refusals of refusals.py.
"""

from __future__ import annotations

from aidmatch.matches.claims import ClaimResult, claim, claim_need, find_claim
from aidmatch.matches.expiry import cancel_active_matches, expire_matches
from aidmatch.matches.holds import (
    expire_counters,
    lock_for_cancellation,
    lock_for_update,
    release_hold,
    reserve,
)
from aidmatch.matches.models import REVEALED, TERMINAL
from aidmatch.matches.requests import find_request, request_offer, requestable_needs
from aidmatch.matches.rules import (
    CANCELLABLE,
    STATUS_LABELS,
    can_act_as_donor,
    can_claim,
    can_confirm_delivery,
    can_review,
    can_view_match,
    confirmed_ttl,
    extension,
    is_overdue,
    is_party,
    pending_ttl,
    visible_matches,
)
from aidmatch.matches.transitions import (
    accept,
    approve,
    confirm_delivery,
    decline,
    receipt_arrived,
    reject,
    release,
    request_extension,
    ship,
    withdraw,
)
from aidmatch.postings.operations import end_matches_with

__all__ = [
    "CANCELLABLE",
    "REVEALED",
    "STATUS_LABELS",
    "TERMINAL",
    "ClaimResult",
    "accept",
    "approve",
    "can_act_as_donor",
    "can_claim",
    "can_confirm_delivery",
    "can_review",
    "can_view_match",
    "cancel_active_matches",
    "claim",
    "claim_need",
    "confirm_delivery",
    "confirmed_ttl",
    "decline",
    "expire_counters",
    "expire_matches",
    "extension",
    "find_claim",
    "find_request",
    "is_overdue",
    "is_party",
    "lock_for_cancellation",
    "receipt_arrived",
    "lock_for_update",
    "pending_ttl",
    "reject",
    "release",
    "request_offer",
    "requestable_needs",
    "release_hold",
    "request_extension",
    "reserve",
    "ship",
    "visible_matches",
    "withdraw",
]

# A need or offer that ends (cancelled, withdrawn) takes its matches not yet shipped with it.
end_matches_with(lock_for_cancellation, cancel_active_matches)
