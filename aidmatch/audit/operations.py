"""Writing the audit trail: one call per change, in the same transaction as the change."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

from sqlalchemy import insert

from aidmatch.audit.models import AuditEvent
from aidmatch.db import driver_values, insert_unnest, utcnow
from aidmatch.extensions import db


def jsonable(value):
    """A value as the audit trail stores it in JSON (enums by value, dates in ISO 8601)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
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
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
    )
    db.session.add(event)
    db.session.flush()
    return event


def record_all(actor, action: str, object_type: str, afters: list[tuple[int, dict]]) -> None:
    """Append one AuditEvent per (object id, after) in one bulk INSERT: what ``record`` writes
    for each, for a batch of objects of one table written together (a run's proposals).
    Each ``after`` is given JSON-ready (strings, numbers, None: what ``record`` makes of
    enums and dates), as converting them here costs more than the INSERT. PostgreSQL gets
    them in one INSERT ... SELECT FROM unnest, SQLite (its fastest) in an executemany."""
    if not afters:
        return
    connection = db.session.connection()
    rows = [{"object_id": object_id, "after": after} for object_id, after in afters]
    constants = {
        "actor_id": getattr(actor, "id", None),
        "action": action,
        "object_type": object_type,
        "before": None,
        "created_at": utcnow(),
    }
    if connection.dialect.name == "postgresql":  # one INSERT, not one per row
        insert_unnest(AuditEvent.__table__, rows, constants, connection)
        return
    table, values = driver_values(AuditEvent.__table__, rows, constants, connection)
    connection.execute(insert(table), values)
