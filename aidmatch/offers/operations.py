"""Verbs and queries on offers: the posting kit's, bound to the OFFER kind (offers/kind.py).

post_offer(org, data, actor, today=None, idempotency_key=None) -> Posted (create_offer: the
offer); update_offer(offer, data, actor): never below what is allocated; withdraw_offer(offer,
actor, reason=""): its matches not yet shipped end too; expire_offers(today=None, ids=None):
stores `expired` on offers past available-until (for `flask expire`); can_post_offer(user):
donors of a donor or supply collective; can_edit_offer(user, offer): members of it. The verbs
flush and audit; the caller commits. offers_query, list_offers and get_visible_offer read only.
"""

from __future__ import annotations

from aidmatch.offers.kind import OFFER
from aidmatch.postings.operations import may_change as can_edit_offer
from aidmatch.postings.operations import verbs_for
from aidmatch.postings.queries import queries_for

post_offer, create_offer, update_offer, withdraw_offer, expire_offers, can_post_offer = verbs_for(
    OFFER
)
offers_query, list_offers, get_visible_offer = queries_for(OFFER)

__all__ = [
    "can_edit_offer", "can_post_offer", "create_offer", "expire_offers", "get_visible_offer",
    "list_offers", "offers_query", "post_offer", "update_offer", "withdraw_offer",
]  # fmt: skip
