"""Who hears of money (notify/kinds.py: money_*): a notification names the need's category
and its settlement (or only the oblast), never an amount, a payment detail or a title."""

from __future__ import annotations

from sqlalchemy import select

from aidmatch.extensions import db
from aidmatch.money.models import MoneyPledge
from aidmatch.needs.models import Need
from aidmatch.notify.audience import audience
from aidmatch.notify.outbox import tell_all
from aidmatch.notify.recipients import each_told, members_of, posting_params, staff
from aidmatch.permissions import is_staff


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


@audience
def _still_a_side(note, user) -> bool | None:
    """A money notification leaves only for staff, the need's group and the collectives that
    pledged to the need: a member removed from either since it was told gets nothing."""
    if not note.kind.startswith("money_") or note.need_id is None:
        return None
    if is_staff(user):
        return True
    need = db.session.get(Need, note.need_id)
    if need is None or user.organization_id is None:
        return False
    if user.organization_id == need.organization_id:
        return True
    pledged = select(MoneyPledge.id).where(
        MoneyPledge.need_id == need.id, MoneyPledge.organization_id == user.organization_id
    )
    return db.session.scalar(pledged.limit(1)) is not None
