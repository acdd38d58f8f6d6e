"""At most one message beyond the inbox per recipient, per kind, per run of a job that reminds.

A reminder job tells each recipient about each match or need due (each with its dedupe key:
told once). ``summed_up`` rewrites such a job's tellings before they go to outbox.tell_all: a
recipient with one new thing gets it as before (e-mail and Telegram, with its buttons); a
recipient with several gets each in the inbox only (quiet, still with its dedupe key, so each
is told once), and one summary of another kind (notify/kinds.py: it follows the choices made
for the kind it sums up) with their count. Tellings already quiet pass as they are and count
for nothing. After 10 000 proposals a donor gets one e-mail, not 10 000.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace

from sqlalchemy import select

from aidmatch.extensions import db
from aidmatch.notify.kinds import KINDS
from aidmatch.notify.models import Notification
from aidmatch.notify.outbox import Telling

CHUNK = 500  # keys per IN (...)


def _key(telling: Telling, user) -> str | None:
    """The dedupe key outbox.tell_all writes for this user (None: told every time)."""
    return f"{telling.dedupe_key}:u{user.id}" if telling.dedupe_key else None


def _told(keys: set[str]) -> set[str]:
    """Which of these dedupe keys were told already (a few queries)."""
    ordered, found = sorted(keys), set()
    for start in range(0, len(ordered), CHUNK):
        found.update(
            db.session.scalars(
                select(Notification.dedupe_key).where(
                    Notification.dedupe_key.in_(ordered[start : start + CHUNK])
                )
            )
        )
    return found


def _recipients(telling: Telling) -> list:
    return [user for user in telling.users if user is not None and user.active]


def new_counts(tellings: list[Telling]) -> Counter:
    """How many things each user (by id) would be told beyond the inbox for the first time."""
    loud = [t for t in tellings if not t.quiet]
    told = _told({k for t in loud for u in _recipients(t) if (k := _key(t, u))})
    counts: Counter = Counter()
    for telling in loud:
        for user in {u.id: u for u in _recipients(telling)}.values():
            key = _key(telling, user)
            if key in told:
                continue
            if key:
                told.add(key)  # once within this run too
            counts[user.id] += 1
    return counts


def summed_up(tellings: Iterable[Telling], summary: str) -> list[Telling]:
    """These tellings with at most one message beyond the inbox per recipient (see the module
    docstring); summary: the kind that counts several (its params: {"count": n})."""
    assert KINDS[summary].follows, f"{summary} is not a summary kind"
    tellings = list(tellings)
    counts = new_counts(tellings)
    result: list[Telling] = []
    for telling in tellings:
        if telling.quiet:
            result.append(telling)
            continue
        one = [u for u in telling.users if u is not None and counts[u.id] <= 1]
        several = [u for u in telling.users if u is not None and counts[u.id] > 1]
        if one:
            result.append(replace(telling, users=one))
        if several:
            result.append(replace(telling, users=several, quiet=True))
    by_count: dict[int, dict] = {}
    for telling in tellings:
        for user in _recipients(telling):
            if not telling.quiet and counts[user.id] > 1:
                by_count.setdefault(counts[user.id], {})[user.id] = user
    result += [
        Telling(list(users.values()), summary, {"count": count})
        for count, users in sorted(by_count.items())
    ]
    return result
