"""Notifications for the inbox tests, told through the real outbox (notify.outbox.tell)."""

from __future__ import annotations

from datetime import timedelta

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.notify.outbox import tell
from tests.posting_factories import category


def tell_one(user, kind: str = "match_claimed", minutes_ago: int = 0, **about):
    """One notification of this kind for user, made minutes_ago, about what `about` names
    (match=, need=, offer=, organization=); flushed."""
    params = about.pop("params", None)
    if params is None:
        params = {"category_id": category().id, "quantity": 5, "oblast": "Kharkiv Oblast"}
    (note,) = tell([user], kind, params=params, **about)
    db.session.flush()
    note.created_at = utcnow() - timedelta(minutes=minutes_ago)
    db.session.flush()
    return note
