"""Who hears of something, and what each may know of it.

``members_of`` and ``staff`` load the active members of organizations and the active
coordinators and admins, in one query each (a job telling thousands asks no query per row).
``posting_params`` is what a notification names of a need or an offer for one recipient, asked
of the privacy policy: the category, a quantity and its unit, the oblast, and the settlement
only for a recipient who may see the posting at all; never its title, description, delivery
note, contact, point or dates. ``each_told`` tells every recipient once, one telling per
distinct set of params, never the acting user (give many of them to outbox.tell_all at once).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from sqlalchemy import select

from aidmatch.auth.models import User
from aidmatch.extensions import db
from aidmatch.notify.outbox import Telling
from aidmatch.permissions import STAFF_ROLES
from aidmatch.privacy.policy import Viewer

CHUNK = 500  # ids per IN (...)


def members_of(org_ids: Iterable[int | None]) -> dict[int, list[User]]:
    """The active members of each of these organizations (an empty list for none)."""
    ids = sorted({i for i in org_ids if i is not None})
    found: dict[int, list[User]] = {i: [] for i in ids}
    for start in range(0, len(ids), CHUNK):
        users = db.session.scalars(
            select(User)
            .where(User.organization_id.in_(ids[start : start + CHUNK]), User.active.is_(True))
            .order_by(User.id)
        )
        for user in users:
            found[user.organization_id].append(user)
    return found


def staff() -> list[User]:
    """The active coordinators and admins."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.role.in_([role.value for role in STAFF_ROLES]), User.active.is_(True))
            .order_by(User.id)
        )
    )


def posting_params(posting, user, quantity: int | None = None, **extra) -> dict:
    """What a notification to this user may name of this need or offer (its place, category
    and organization loaded): the settlement only if the privacy policy lets the user see the
    posting at all, else the oblast; extra (a typed reason, a count received) as given."""
    place = posting.place
    params = {
        "category_id": posting.category_id,
        "quantity": posting.quantity if quantity is None else quantity,
        "unit": str(posting.category.unit),
    }
    if place.oblast:
        params["oblast"] = place.oblast
    if Viewer(user).sees_row(posting, sensitive=bool(getattr(posting, "sensitive", False))):
        params.update(place_id=place.id, place_level="settlement")
    else:
        params["place_level"] = "oblast"
    params.update({key: value for key, value in extra.items() if value not in (None, "")})
    return params


def each_told(
    users: Iterable[User],
    kind: str,
    params_for: Callable[[User], dict],
    *,
    not_to=None,
    **about,
) -> list[Telling]:
    """What tells each user (but not_to, the acting user) this kind with params_for(user):
    one Telling per distinct params. about: match=, need=, organization=, dedupe_key= as tell
    takes them."""
    skip = getattr(not_to, "id", None)
    groups: dict[str, tuple[dict, list[User]]] = {}
    for user in users:
        if user is None or user.id == skip:
            continue
        params = params_for(user)
        key = json.dumps(params, sort_keys=True, default=str)
        groups.setdefault(key, (params, []))[1].append(user)
    return [Telling(group, kind, params, **about) for params, group in groups.values()]
