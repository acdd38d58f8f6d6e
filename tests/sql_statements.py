"""Counting the SQL a block of test code sends: statements() collects each statement's text,
writes() only the INSERT/UPDATE/DELETE ones."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from aidmatch.extensions import db

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


@contextmanager
def statements(only: re.Pattern | None = None) -> Iterator[list[str]]:
    """The statements sent to the database inside the with block (those `only` matches), in
    order."""
    seen: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        if only is None or only.match(statement):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)


def writes():
    """The INSERT/UPDATE/DELETE statements sent to the database inside the with block."""
    return statements(WRITE)
