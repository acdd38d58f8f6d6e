"""Who hears of money (notify/kinds.py: money_*): a notification names the need's category
and its settlement (or only the oblast), never an amount, a payment detail or a title."""

from __future__ import annotations

from aidmatch.notify.outbox import tell_all
from aidmatch.notify.recipients import each_told, members_of, posting_params, staff


def _params(need, user) -> dict:
    params = posting_params(need, user)
    params.pop("quantity", None)
    params.pop("unit", None)
    return params


def tell(kind: str, pledge, org_ids, actor=None, dedupe_key: str | None = None) -> None:
    """Tell the members of these organizations (the pledge's sides) this kind about it."""
    need = pledge.need
    members = members_of(org_ids)
    users = [user for org_id in org_ids for user in members.get(org_id, [])]
    tell_all(
        each_told(
            users,
            kind,
            lambda user: _params(need, user),
            not_to=actor,
            need=need,
            dedupe_key=dedupe_key,
        )
    )


def tell_coordinators(pledge, actor=None) -> None:
    """A pledge waits for a coordinator's decision."""
    need = pledge.need
    tell_all(
        each_told(
            staff(),
            "money_pledge_to_review",
            lambda user: _params(need, user),
            not_to=actor,
            need=need,
        )
    )
