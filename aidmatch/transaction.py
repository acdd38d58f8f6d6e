"""One transaction per request, CLI command or job, committed at its edge.

Views, verbs and helpers never commit: they change rows and flush. The edge decides:

- a web request's view runs inside :func:`run_in_transaction` (through ``TransactionalFlask``,
  so pages, the API and routes added later all get it): it commits when the response is a
  success or a redirect (status < 400) and rolls back otherwise; an exception rolls back before
  the error handlers run. A read (GET, HEAD, OPTIONS) is never committed: the session closes
  with the request; tests/test_reads_never_write.py counts the statements of every GET route.
- a CLI command or a job wraps its body in :func:`transactional` (or calls
  :func:`run_in_transaction` itself).

When the database aborts the transaction to break a deadlock (PostgreSQL 40P01), for a
serialization conflict (40001), or because SQLite's busy timeout ran out ("database is
locked"), the whole unit of work is run again from fresh rows, a bounded number of times.
A retry never applies anything twice: the rolled-back attempt left nothing behind.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, request
from sqlalchemy.exc import DBAPIError, IntegrityError

from aidmatch.db import reading
from aidmatch.extensions import db

log = logging.getLogger(__name__)

T = TypeVar("T")

# PostgreSQL aborts one of two transactions that wait for each other (40P01) or that conflict
# under a stricter isolation level (40001); SQLite reports an exhausted busy timeout as locked.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
SQLITE_LOCKED = ("database is locked", "database table is locked")
ATTEMPTS = 4
# Requests that change nothing by definition: they are never committed.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# What a request remembers that a rolled-back attempt may have made stale (the privacy
# policy's answers): forgotten before the next attempt.
_RETRY_HOOKS: list[Callable[[], None]] = []


def on_retry(hook: Callable[[], None]) -> Callable[[], None]:
    """Register a function that forgets per-request memories before a unit of work runs
    again."""
    _RETRY_HOOKS.append(hook)
    return hook


def is_retryable(exc: BaseException) -> bool:
    """Did the database abort this unit of work for a reason that a fresh attempt cures?"""
    if not isinstance(exc, DBAPIError):
        return False
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    text = str(orig or exc)
    return any(words in text for words in SQLITE_LOCKED)


def _pause(attempt: int) -> None:
    """A short, growing, jittered pause before the next attempt, so two retried requests do
    not meet again at the same instant."""
    time.sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311 (jitter, not secrecy)


def run_in_transaction(
    work: Callable[[], T], keep: Callable[[T], bool | None] = lambda _result: True, what: str = ""
) -> T:
    """Run work() as one transaction and end it as keep(result) says: True commits, False
    rolls back, None leaves it to whoever closes the session (a read: the end of the request
    closes it). An exception rolls back; work() runs again (at most ATTEMPTS times in all) when
    the database aborted it as a deadlock victim or could not take its lock in time."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            result = work()
            kept = keep(result)
            if kept:
                db.session.commit()
            elif kept is not None:
                db.session.rollback()
            return result
        except Exception as exc:
            db.session.rollback()
            if attempt == ATTEMPTS or not is_retryable(exc):
                raise
            log.warning("retrying %s (attempt %d) after %s", what or work, attempt + 1, exc)
            for hook in _RETRY_HOOKS:
                hook()
            _pause(attempt)
    raise AssertionError("unreachable")


def transactional(fn: Callable[..., T]) -> Callable[..., T]:
    """Decorate a CLI command or a job: its body is one transaction, committed when it returns
    and retried on a deadlock or lock time-out."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return run_in_transaction(lambda: fn(*args, **kwargs), what=fn.__qualname__)

    return wrapper


def _commit_if_succeeded(response) -> bool | None:
    """A read ends with its request (nothing to commit); a write commits when it succeeded."""
    if request.method in SAFE_METHODS:
        return None
    return response.status_code < 400


class TransactionalFlask(Flask):
    """Flask whose every view runs as one transaction (see the module's docstring); a read
    (GET, HEAD, OPTIONS), from its first before-request hook to its response, in a
    transaction that only reads (db.reading: on SQLite, BEGIN DEFERRED)."""

    def full_dispatch_request(self):
        """The whole request, hooks included; a read marked as one."""
        if request.method in SAFE_METHODS:
            with reading():
                return super().full_dispatch_request()
        return super().full_dispatch_request()

    def dispatch_request(self):
        """Run the view in a transaction; its response's status decides commit or rollback."""
        view = super().dispatch_request
        return run_in_transaction(
            lambda: self.make_response(view()),
            keep=_commit_if_succeeded,
            what=f"{request.method} {request.path}",
        )


def add_unless_taken(row) -> bool:
    """Insert row in a savepoint of the current transaction; False when another transaction
    took its unique key first (two first sendings at once: the caller then reads that row and
    goes on as a later edit would)."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return False
    return True
