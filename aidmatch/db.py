"""Declarative base, constraint naming convention, column types and mixins shared by models."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, MetaData, Table, event
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.expression import TableClause
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every model; its metadata names constraints by NAMING_CONVENTION."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Primary keys are 32-bit integers on PostgreSQL; a bigger number in a URL or a form is no
# row's id, and comparing with it would fail in the driver (SQLite: OverflowError).
MAX_ID = 2**31 - 1


def is_id(value) -> bool:
    """Could value be a row's primary key (an int from 1 to MAX_ID)?"""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def utcnow() -> datetime:
    """Now, as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class TimestampMixin:
    """created_at and updated_at, set by callables at insert and update time."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


# True while a unit of work only reads (a GET): on SQLite its transaction begins DEFERRED.
_READING: ContextVar[bool] = ContextVar("aidmatch_reading", default=False)


@contextmanager
def reading() -> Iterator[None]:
    """Inside: transactions only read. SQLite begins them DEFERRED (a snapshot, no write
    lock), so reads of several workers run side by side, and beside a writer (WAL); a write
    attempted anyway upgrades the lock or fails as "database is locked", never waits in line
    with the writers. PostgreSQL is unchanged."""
    token = _READING.set(True)
    try:
        yield
    finally:
        _READING.reset(token)


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """WAL, foreign keys, busy timeout, and BEGIN IMMEDIATE for every transaction that may
    write (a read, inside :func:`reading`, begins DEFERRED).

    This is SQLAlchemy's documented pysqlite recipe: the driver's own transaction handling is
    switched off and SQLAlchemy emits BEGIN itself, so a writing transaction takes the write
    lock at its start and concurrent writers queue on busy_timeout instead of failing
    half-way. Reads do not take that lock: with BEGIN IMMEDIATE they queued behind each other
    too, and a second gunicorn worker added no throughput.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN" if _READING.get() else "BEGIN IMMEDIATE")


# Rows ANALYZE reads per index on SQLite: statistics good enough for the planner, in
# milliseconds whatever the size of the tables.
ANALYSIS_LIMIT = 1000


def refresh_statistics(connection) -> bool:
    """Give SQLite's query planner statistics of the tables (sqlite_stat1), as its manual
    asks of a long-lived database: without them it may read a busy organization's matches
    through the index of every pending match in the network instead of the organization's
    own. PostgreSQL's autovacuum analyzes by itself (False: nothing done)."""
    if connection.dialect.name != "sqlite":
        return False
    connection.exec_driver_sql(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}")
    connection.exec_driver_sql("ANALYZE")
    return True


def str_enum(enum_cls, name: str):
    """A VARCHAR column type limited by a named CHECK constraint to the enum's values."""
    from sqlalchemy import Enum

    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


def driver_values(
    table: Table, rows: list[dict], constants: dict, bind, extra: tuple[str, ...] = ()
) -> tuple[TableClause, list[dict]]:
    """For one executemany of many rows into ``table`` (a run's proposals): the table with
    untyped columns, and each row with the ``constants`` added, every value already as the
    column's type hands it to the driver (``bind``'s dialect). The constants are processed
    once, the other values once each only where the type has a processor: SQLAlchemy would
    process every value of every row, which costs more than the database's own work.
    Keys of the rows that are no column of the table are bind parameters of the statement
    (``bindparam``), sent as they are; ``extra`` names more columns the statement uses."""
    dialect = bind.dialect
    processors = {}
    for name in {*constants, *(rows[0] if rows else ())}:
        processors[name] = (
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            if name in table.c
            else None
        )
    fixed = {
        name: processors[name](value) if processors[name] else value
        for name, value in constants.items()
    }
    typed = [name for name in (rows[0] if rows else ()) if processors[name]]
    driven = []
    for row in rows:
        values = {**row, **fixed}
        for name in typed:
            values[name] = processors[name](row[name])
        driven.append(values)
    names = [name for name in (*processors, *extra) if name in table.c]
    untyped = sa_table(table.name, *(sa_column(name) for name in dict.fromkeys(names)))
    return untyped, driven


def insert_unnest(
    table: Table, rows: list[dict], constants: dict, connection, returning: tuple[str, ...] = ()
) -> list:
    """PostgreSQL: insert many rows into ``table`` in one statement, ``INSERT ... SELECT FROM
    unnest(...)``: each column of the rows sent as one array in binary (no text escaping of
    every JSON string), each constant once, processed by its column's type as an executemany
    would. Faster than an executemany, which PostgreSQL executes once per row. The rows'
    values are plain (int, float, str, None; a dict for a JSON column, serialized as
    SQLAlchemy does). Returns the ``returning`` columns of the rows inserted, in no order."""
    if not rows:
        return []
    dialect = connection.dialect
    names, arrays, selected, params = list(rows[0]), [], [], {}
    for i, name in enumerate(names):
        sql_type = table.c[name].type.dialect_impl(dialect)
        values = [row[name] for row in rows]
        if isinstance(sql_type, JSON):
            values = [None if v is None else json.dumps(v) for v in values]
            arrays.append(f"CAST(%(r{i})b AS TEXT[])")
            selected.append(f"CAST(v.{name} AS JSON)")
        else:
            arrays.append(f"CAST(%(r{i})b AS {sql_type.compile(dialect=dialect)}[])")
            selected.append(f"v.{name}")
        params[f"r{i}"] = values
    for i, (name, value) in enumerate(constants.items()):
        sql_type = table.c[name].type.dialect_impl(dialect)
        processor = sql_type.bind_processor(dialect)
        params[f"k{i}"] = processor(value) if processor else value
        selected.append(f"CAST(%(k{i})s AS {sql_type.compile(dialect=dialect)})")
    for name in returning:
        table.c[name]  # noqa: B018 - a KeyError for anything but a column of the table
    # Only names of the table's own columns (each looked up in table.c above) and bound
    # parameters go into this text: nothing a user sent.
    into, columns = f"{table.name} ({', '.join([*names, *constants])})", ", ".join(names)
    tail = f" RETURNING {', '.join(returning)}" if returning else ""
    sql = f"INSERT INTO {into} SELECT {', '.join(selected)} FROM unnest({', '.join(arrays)}) AS v({columns}){tail}"  # nosec B608  # noqa: E501
    result = connection.exec_driver_sql(sql, params)
    return result.all() if returning else []
