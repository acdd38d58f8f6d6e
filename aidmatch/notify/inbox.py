"""The in-app inbox: which notifications a user sees (inbox=True, of a kind this version
knows), how many are unread, one page of them in words, and marking them read. Queries read;
the two verbs flush (the request's edge commits).

The unread count is asked by every page's bell, so each process holds it under the user's
inbox stamp (cache.stamped), which any committed change to the user's notifications renews:
made, marked read, deleted (the mapper's events below), or marked read all at once."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, event, func, literal_column, select, update

from aidmatch import cache
from aidmatch.db import is_id, utcnow
from aidmatch.extensions import db
from aidmatch.notify.kinds import KINDS
from aidmatch.notify.messages import named_rows, render
from aidmatch.notify.models import Notification
from aidmatch.refusals import NotFound
from aidmatch.web.api import paginate

# The kinds the inbox can show: a row of a kind since removed is left out, not a crash.
INBOX_KINDS = sorted(name for name, spec in KINDS.items() if spec.inbox)


def shown(user_id: int):
    """SQL: the notifications of this user that the inbox shows."""
    return and_(
        Notification.user_id == user_id,
        Notification.inbox.is_(True),
        Notification.kind.in_(INBOX_KINDS),
    )


# The header's bell asks on every page, so its statement is built once, with the kinds
# written into its SQL (names of this code, checked below): no list of 48 parameters to
# expand on every request (0.5 ms -> 0.15 ms per count on SQLite).
if not all(re.fullmatch(r"[a-z_]+", kind) for kind in INBOX_KINDS):
    raise ValueError(f"a notification kind may be written into SQL only as [a-z_]+: {INBOX_KINDS}")
_UNREAD = (
    select(func.count())
    .select_from(Notification)
    .where(
        Notification.user_id == bindparam("user_id"),
        Notification.inbox.is_(True),
        Notification.kind.in_([literal_column(f"'{kind}'") for kind in INBOX_KINDS]),
        Notification.read_at.is_(None),
    )
)


# The stamp of a user's inbox, and how long a process holds a count under it at most.
STAMP = "inbox"
UNREAD_SECONDS = 60  # as a user's row (auth/loading.py): a cache that fails leaves no more


def unread_count(user_id: int) -> int:
    """How many of the user's inbox notifications are unread (one COUNT, or none while the
    user's inbox is as this process last counted it)."""
    return cache.stamped(
        STAMP, user_id, lambda: db.session.scalar(_UNREAD, {"user_id": user_id}), UNREAD_SECONDS
    )


@event.listens_for(Notification, "after_insert")
@event.listens_for(Notification, "after_update")
@event.listens_for(Notification, "after_delete")
def _changed(_mapper, _connection, note: Notification) -> None:
    """A notification made, changed or deleted: its user's count is counted afresh once
    the transaction commits."""
    cache.restamp_after_commit(STAMP, note.user_id)


def inbox_page(user_id: int, page: int, per_page: int, unread: bool | None = None) -> dict:
    """One page of the user's inbox, newest first: {"items", "page", "per_page", "total"}
    with Notification rows; unread True/False keeps only the unread/read ones."""
    stmt = select(Notification).where(shown(user_id))
    if unread is True:
        stmt = stmt.where(Notification.read_at.is_(None))
    elif unread is False:
        stmt = stmt.where(Notification.read_at.is_not(None))
    stmt = stmt.order_by(Notification.created_at.desc(), Notification.id.desc())
    return paginate(stmt, page, per_page)


def describe(note: Notification, language: str) -> dict:
    """A notification as the inbox and the API show it, in this language."""
    message = render(note, language)
    return {
        "id": note.id,
        "kind": note.kind,
        "subject": message.subject,
        "text": message.text,
        "path": message.path,
        "created_at": note.created_at,
        "read_at": note.read_at,
        "unread": note.read_at is None,
        "match_id": note.match_id,
        "need_id": note.need_id,
        "offer_id": note.offer_id,
        "organization_id": note.organization_id,
    }


def describe_all(notes: list[Notification], language: str) -> list[dict]:
    """describe() for a page of notifications: what they name (categories, places) is loaded
    in one query each, not once per notification."""
    named = named_rows([note.params for note in notes])  # noqa: F841 (held while rendering)
    return [describe(note, language) for note in notes]


def get_own(user_id: int, note_id) -> Notification:
    """One of the user's inbox notifications; NotFound for any other (someone else's too:
    nobody learns that it exists)."""
    note = db.session.get(Notification, note_id) if is_id(note_id) else None
    if note is None or note.user_id != user_id or not note.inbox or note.kind not in KINDS:
        raise NotFound(_l("There is no such notification among yours."))
    return note


def mark_read(note: Notification) -> None:
    """Mark one notification read (once: a second time changes nothing)."""
    if note.read_at is None:
        note.read_at = utcnow()
        db.session.flush()


def mark_all_read(user_id: int) -> int:
    """Mark every unread notification of the user's inbox read; returns how many."""
    cache.restamp_after_commit(STAMP, user_id)
    result = db.session.execute(
        update(Notification)
        .where(shown(user_id), Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
