"""Writing the audit trail: one call per change, in the same transaction as the change."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

from aidmatch.audit.models import AuditEvent
from aidmatch.extensions import db


def _jsonable(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def record(actor, action: str, obj, before: dict | None = None, after: dict | None = None):
    """Append an AuditEvent for `obj` (flushed so it has an id); never commits."""
    if obj.id is None:
        db.session.flush()
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=obj.__tablename__,
        object_id=obj.id,
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
    )
    db.session.add(event)
    db.session.flush()
    return event
