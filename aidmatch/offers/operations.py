"""Verbs on offers: post, edit, withdraw, expire: the posting kit's verbs for the OFFER kind
(offers/kind.py). They flush and audit; the caller commits."""

from __future__ import annotations

from functools import partial

from aidmatch.offers.kind import OFFER
from aidmatch.postings import operations as kit

can_edit_offer = kit.may_change  # members of the owning organization edit and withdraw


def can_post_offer(user) -> bool:
    """Donors of a donor or supply collective post offers."""
    return OFFER.may_post(user.organization if user and user.is_authenticated else None)


# post_offer(org, data, actor, today=None, idempotency_key=None) -> Posted; create_offer -> Offer
post_offer = partial(kit.post, OFFER)
create_offer = partial(kit.create, OFFER)
# update_offer(offer, data, actor): the quantity may not drop below what is already allocated.
update_offer = partial(kit.edit, OFFER)
# withdraw_offer(offer, actor, reason=""): also cancels its matches not yet shipped.
withdraw_offer = partial(kit.end, OFFER)
# expire_offers(today=None, ids=None): store `expired` on offers past available-until; audit each.
expire_offers = partial(kit.expire_stale, OFFER)
