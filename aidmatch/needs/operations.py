"""Verbs and queries on needs: the posting kit's, bound to the NEED kind (needs/kind.py).

post_need(org, data, actor, today=None, idempotency_key=None) -> Posted (create_need: the
need); update_need(need, data, actor): never below what is pledged; cancel_need(need, actor,
reason=""): its matches not yet shipped end too; expire_needs(today=None, ids=None): stores
`expired` on needs past needed-by (for `flask expire`); can_post_need(user): organizers of a
frontline group; can_edit_need(user, need): members of its group. The verbs flush and audit;
the caller commits. needs_query(viewer, filters), list_needs(viewer, filters) and
get_visible_need(viewer, need_id) read only (a need past its date reads as expired).
"""

from __future__ import annotations

from aidmatch.needs.kind import NEED
from aidmatch.postings.operations import may_change as can_edit_need
from aidmatch.postings.operations import verbs_for
from aidmatch.postings.queries import queries_for

post_need, create_need, update_need, cancel_need, expire_needs, can_post_need = verbs_for(NEED)
needs_query, list_needs, get_visible_need = queries_for(NEED)

__all__ = [
    "can_edit_need", "can_post_need", "cancel_need", "create_need", "expire_needs",
    "get_visible_need", "list_needs", "needs_query", "post_need", "update_need",
]  # fmt: skip
