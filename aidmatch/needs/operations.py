"""Verbs on needs: post, edit, cancel, expire: the posting kit's verbs for the NEED kind
(needs/kind.py). They flush and audit; the caller commits."""

from __future__ import annotations

from functools import partial

from aidmatch.needs.kind import NEED
from aidmatch.postings import operations as kit

can_edit_need = kit.may_change  # members of the owning organization edit and cancel


def can_post_need(user) -> bool:
    """Organizers of a frontline group (verified or not) post needs."""
    return NEED.may_post(user.organization if user and user.is_authenticated else None)


# post_need(org, data, actor, today=None, idempotency_key=None) -> Posted; create_need -> Need
post_need = partial(kit.post, NEED)
create_need = partial(kit.create, NEED)
# update_need(need, data, actor): the quantity may not drop below what is already pledged.
update_need = partial(kit.edit, NEED)
# cancel_need(need, actor, reason=""): also cancels its matches not yet shipped.
cancel_need = partial(kit.end, NEED)
# expire_needs(today=None, ids=None): store `expired` on open needs past needed-by; audit each.
expire_needs = partial(kit.expire_stale, NEED)
