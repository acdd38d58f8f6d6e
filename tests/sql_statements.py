"""Counting the SQL a block of test code sends: statements() collects each statement's text."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from aidmatch.extensions import db


@contextmanager
def statements() -> Iterator[list[str]]:
    """The statements sent to the database inside the with block, in order."""
    seen: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
