"""A cache every process of the service shares, whose entries a committed write makes stale.

Where it lives (``CACHE_BACKEND``): Redis when ``REDIS_URL`` is set (several app servers),
else files in ``instance/cache`` (the processes of one machine), in tests this process's
memory. It holds what is costly to read and cheap to keep: a long list's total, the public
transparency page's figures, a viewer's map markers (``remember``).

Freshness: every entry's key carries the data's *generation*, a random token in the cache
itself. A transaction that wrote to any table but the outbox's and the run's bookkeeping
(``UNTRACKED``) sets a new token right after it commits, in whichever process it ran: a
reader of any process then misses every older entry. A reader takes the token before
the database (once per request: before its user, or as its transaction begins), and a writer
sets it after its commit, so an entry is never older than its token. With Redis, the writer
also pushes the token to every process, which takes it from its own memory instead of
asking Redis on every request (cache_push.py).
A token lost from the cache (evicted, the cache emptied) is replaced by a new one, never by
an old one. Entries also expire after their timeout, for what changes with time alone.

Whole answers (web/kept.py: ``remember(..., local=True)``, values that are never changed
once made) are also held in this process's memory, local_memory.LOCAL_BYTES of text at most, under the
same key: generation included, so a write in any process hides them here too, since every
request takes the generation anew (pushed or read); each until the moment it
expires in the shared cache (by the clock of the process that made it: servers keep their
clocks in time, so a skew of a few seconds is all it changes). A busy page asked again in
the same process then costs no read of the shared cache (with Redis; one, the generation,
with the other backends), and no copy of its text. What must not leave the process and is
asked on every request (the signed-in user's row and a bearer token's: auth/loading.py) is
held the same way and only here (``held``).

Stamps: what the generation does not follow, a subject's stamp does (``stamped``): a random
token per subject in the shared cache (a user's inbox: the header's bell counts its unread
notifications on every page), renewed after a transaction that changed the subject's rows
commits (``restamp_after_commit``). A value of the subject is held in this process under its
stamp; the stamp is read before the database (a value read in a transaction already open
is not held), so, as under the generation, nothing is held under a stamp younger than it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import TypeVar

from flask import Flask, current_app, g, has_request_context
from redis import exceptions as redis_errors
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from aidmatch import local_memory
from aidmatch.cache_push import GenerationPush
from aidmatch.extensions import cache

T = TypeVar("T")
log = logging.getLogger(__name__)

GENERATION_KEY = "generation"
GENERATION_SECONDS = 30 * 24 * 3600  # then a new one (never an old one: bump)
# The shape of an entry, (value, the time.time() it expires at), named in every key: the
# processes of a code that stored another shape (a deploy one server at a time) never
# read each other's entries.
ENTRY_FORMAT = "e2"
# What a value held under a stamp counts for in local_memory.LOCAL_BYTES (its key, token
# and number).
STAMPED_BYTES = 200
COMPLAINT_SECONDS = 60
# A cache that does not answer (rather than one that answers no).
UNREACHABLE = (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)
# Tables whose writes change nothing a cached entry shows: notifications and their
# deliveries (the bell's count follows a stamp of each user's own: stamped), preferences,
# Telegram link codes, the audit trail (written beside a real change anyway), a run's
# progress and heartbeat. (API tokens are followed: a token's row is held,
# auth/tokens.py, and a revoked one must end at once.)
UNTRACKED = frozenset(
    {
        "notifications",
        "deliveries",
        "notification_preferences",
        "telegram_codes",
        "audit_events",
        "matching_runs",
    }
)
_WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)
# Tables a transaction of this thread has written and that are committing or committed.
_WRITTEN: ContextVar[frozenset[str]] = ContextVar("aidmatch_cache_written", default=frozenset())
# The stamps (their keys) to renew once this thread's transaction commits.
_RESTAMP: ContextVar[frozenset[str]] = ContextVar("aidmatch_cache_restamp", default=frozenset())
# Is a transaction of this thread open (begun, neither committed nor rolled back)?
_OPEN: ContextVar[bool] = ContextVar("aidmatch_cache_open", default=False)
# The app's GenerationPush (Redis only): app.extensions[PUSH].
PUSH = "aidmatch_generation_push"


def init_cache(app: Flask) -> None:
    """Bind the cache to the app and watch its engine's writes."""
    cache.init_app(app)
    with app.app_context():
        from aidmatch.extensions import db

        if app.config["CACHE_BACKEND"] == "redis":  # the generation pushed (cache_push.py)
            backend = cache.cache
            app.extensions[PUSH] = GenerationPush(
                backend._write_client, backend.key_prefix + GENERATION_KEY,
                backend.serializer.dumps, _complain,
            )  # fmt: skip

        # A new start (a deploy, a new setting) draws everything afresh: nothing kept by
        # the code or settings before it is served again. A cache out of reach now is not
        # a reason not to start (bump logs it).
        bump()

        _watch_writes(db.engine)
        if not event.contains(db.engine, "begin", _note_generation):
            event.listen(db.engine, "begin", _note_generation)
    # What a request noted is its own (tests run several requests in one app context).
    app.teardown_request(lambda _exc: g.pop("cache_generation", None))


def generation() -> str:
    """The data's generation (a new one if the cache has none). In a request, the first one
    read, kept for the whole request (or, once the request's own write committed, the one
    that made: _new_generation): whatever the request reads after it is at least as new as
    it, so nothing is kept under a generation younger than what it was made of."""
    if has_request_context() and "cache_generation" in g:
        return g.cache_generation
    push = current_app.extensions.get(PUSH)
    token, taken = push.token() if push else (None, 0)
    if token is None:
        token = cache.get(GENERATION_KEY)
        if token is None:
            token = bump()
        elif push:
            push.learned(token, taken)
    if has_request_context():
        g.cache_generation = token
    return token


def _note_generation(_conn) -> None:
    """As a request's transaction begins, before its first statement, note its generation
    (unless the request already did: auth/loading.py reads it before the user). A generation
    read later could be one a writer made after the request read something a value depends
    on (SQLite: its snapshot, taken at the first statement; either database: the user,
    whose role and organization say what a value may show), and rows older than it would
    be kept under it. (A stamp is read later, so a transaction open holds nothing under
    one: stamped.)"""
    _OPEN.set(True)
    if has_request_context():
        generation()


def bump() -> str:
    """Make every entry stale: a new generation. If the cache would not take it, none: this
    process lets go of what it holds (another process may go on reading the old generation),
    and the old one is deleted if the cache still deletes (a Redis out of memory reads and
    deletes, but refuses to write), so the next reader makes one (while writes fail, each
    reader one of its own: nothing is kept, everything is read afresh). A read-only cache
    keeps the old one: the other processes hold what they hold until it expires."""
    token = secrets.token_hex(8)
    if _renew({GENERATION_KEY: token}, "the cache's generation", current_app.extensions.get(PUSH)):
        local_memory.trust_again()
    return token


def _renew(tokens: dict[str, str], what: str, push: GenerationPush | None = None) -> bool:
    """Store new tokens (key -> token: the generation, stamps) in one round trip; whether
    the cache took them all. If not, this process lets go of what it holds and the old
    tokens it did not take are deleted if the cache still deletes (bump). push: the
    generation alone, stored and pushed to every process at once (cache_push.py); if the
    cache would not take it, every process is told to ask the cache (which has none)."""
    # Not timeout=0 (kept forever): the files backend prunes the entries that expire first,
    # and a forever entry counts as expiring at 0, so a full directory would lose it first.
    try:
        if push:
            stored = (
                set(tokens) if push.store(tokens[GENERATION_KEY], GENERATION_SECONDS) else set()
            )
        else:
            stored = set(cache.set_many(tokens, timeout=GENERATION_SECONDS))
    except Exception as error:  # noqa: BLE001 (whatever the backend raises)
        _complain(f"{what} could not be renewed", error)
        stored, reachable = set(), not isinstance(error, UNREACHABLE)
    else:
        reachable = True
    if len(stored) == len(tokens):
        return True
    local_memory.let_go()
    try:
        if reachable:  # out of memory, say (an unreachable one would only wait again)
            cache.delete_many(*(key for key in tokens if key not in stored))
    except Exception as error:  # noqa: BLE001
        _complain(f"{what}: an old token could not be deleted", error)
    try:
        if push and reachable:  # the other processes ask (and find none, if it was deleted)
            push.forget()
    except Exception as error:  # noqa: BLE001
        _complain(f"{what}: the other processes could not be told", error)
    return False


# When each complaint about the cache was last logged (time.monotonic()): a cache that
# refuses every write is logged once a minute, not on every request.
_complained: dict[str, float] = {}


def _complain(what: str, error: Exception) -> None:
    """Log that the cache failed (once a minute for each kind of failure)."""
    now = time.monotonic()
    if now - _complained.get(what, -COMPLAINT_SECONDS) >= COMPLAINT_SECONDS:
        _complained[what] = now
        log.warning("%s: %s: %s (said once a minute)", what, type(error).__name__, error)


def remember(
    name: str,
    parts: tuple,
    compute: Callable[[], T],
    timeout: int | Callable[[T], int] = 300,
    *,
    local: bool = False,
) -> T:
    """compute(), or what it returned for the same name and parts in this generation, within
    timeout seconds (or as many as timeout(value) says: a value that time alone changes
    says when; 0 keeps nothing). parts must say everything the value depends on but the data
    (the viewer, the language, the filters, the date); the value must pickle (no ORM
    objects). local: held in this process's memory too (see above), for a value nobody
    changes once made (a tuple of text, bytes and numbers), since every caller gets the
    same one."""
    if _WRITTEN.get():  # this transaction wrote: what it reads is not committed (yet)
        return compute()
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    key = f"{name}:{ENTRY_FORMAT}:{generation()}:{digest}"
    if local and (held := local_memory.get(key)) is not None:
        return held[2]
    kept = cache.get(key)
    if kept is not None:
        value, expires = kept
        if local:
            local_memory.hold(key, expires, value)
        return value
    value = compute()
    seconds = timeout(value) if callable(timeout) else timeout
    if seconds > 0:
        expires = time.time() + seconds
        try:
            cache.set(key, (value, expires), timeout=seconds)
        except redis_errors.RedisError as error:  # out of memory, read-only: served unkept
            _complain("a value could not be kept in the shared cache", error)
            return value
        if local:
            local_memory.hold(key, expires, value)
    return value


def held(name: str, parts: tuple, compute: Callable[[], T | None], seconds: int) -> T | None:
    """compute(), or what it returned for the same name and parts in this generation in this
    process, within `seconds`: a value asked on every request that must not leave the
    process (the shared cache is not asked; the signed-in user's row, password hash and all:
    auth/loading.py). Held as remember(local=True) holds answers, under the generation, so a
    committed write in any process hides it here too. None is not held; what a writing
    transaction reads is not held (it may not commit). A caller copies what it gets (the
    value is the same object for every request of the process)."""
    if _WRITTEN.get():
        return compute()
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    key = f"{name}:{generation()}:{digest}"
    if (found := local_memory.get(key)) is not None:
        return found[2]
    value = compute()
    if value is not None:
        local_memory.hold(key, time.time() + seconds, value, len(repr(value)))
    return value


def stamped(name: str, subject: int, compute: Callable[[], T | None], seconds: int) -> T | None:
    """compute(), or what it returned for this subject in this process since the subject's
    stamp was last renewed (restamp_after_commit), within `seconds`: a small value asked on
    every request, of rows the generation does not follow (a user's unread notifications).
    Held only when read before this thread's transaction began (one open may have read
    the database before a writer committed and renewed the stamp read now) and when nothing
    this transaction wrote, or flushed while computing, is in it; one value per subject (a
    new stamp's replaces the old one's); a cache that does not answer holds nothing. None
    is not held. (The flag of an open transaction is this thread's: a second connection
    committing in the same thread while the session's is open would clear it. None does.)"""
    key = f"stamp:{name}:{subject}"
    if _OPEN.get() or _WRITTEN.get() or key in _RESTAMP.get():
        return compute()
    try:
        token = cache.get(key)
        if token is None:  # none yet, or evicted: a new one, before the database is read
            token = secrets.token_hex(8)
            stamp = cache.set(key, token, timeout=GENERATION_SECONDS)
        else:
            stamp = True
    except Exception as error:  # noqa: BLE001 (whatever the backend raises)
        _complain("a stamp could not be read or made", error)
        stamp = False
    if not stamp:
        return compute()
    found = local_memory.get(key)
    if found is not None and found[2][0] == token:
        return found[2][1]
    value = compute()
    if value is not None and not _WRITTEN.get() and key not in _RESTAMP.get():
        local_memory.hold(key, time.time() + seconds, (token, value), STAMPED_BYTES)
    return value


def restamp_after_commit(name: str, subject: int) -> None:
    """Renew the subject's stamp once this thread's transaction commits (never before: a
    reader could hold the old rows under the new stamp); nothing if it rolls back."""
    key = f"stamp:{name}:{subject}"
    if key not in (stamps := _RESTAMP.get()):
        _RESTAMP.set(stamps | {key})


def _watch_writes(engine: Engine) -> None:
    """Note the tables each transaction writes; a new generation once it committed."""
    if event.contains(engine, "before_cursor_execute", _note_write):
        return
    event.listen(engine, "before_cursor_execute", _note_write)
    event.listen(engine, "commit", _closed)
    event.listen(engine, "rollback", _forget_writes)


def _note_write(_conn, _cursor, statement, _params, _context, _many) -> None:
    found = _WRITE.match(statement)
    if found and found.group(1).lower() not in UNTRACKED:
        written = _WRITTEN.get()
        if found.group(1) not in written:
            _WRITTEN.set(written | {found.group(1)})


def _closed(_conn) -> None:
    _OPEN.set(False)


def _forget_writes(_conn) -> None:
    _WRITTEN.set(frozenset())
    _RESTAMP.set(frozenset())
    _OPEN.set(False)


def tracked(tables) -> bool:
    """Does a committed write to any of these tables (their names) make a new generation?"""
    return not any(name in UNTRACKED for name in tables)


@event.listens_for(Session, "after_commit")
def _new_generation(session: Session) -> None:
    """After a session's commit (never before: a reader could cache the old rows under the
    new generation), a new generation if it wrote a tracked table. A savepoint's release
    fires this too: its writes wait for the transaction's own commit. The commit stands
    whatever the cache says: a cache that fails is logged, its old generation deleted if it
    can be, and this process lets go of what it holds (bump)."""
    if session.in_nested_transaction():
        return
    if stamps := _RESTAMP.get():
        _RESTAMP.set(frozenset())
        _renew({key: secrets.token_hex(8) for key in sorted(stamps)}, "a stamp")
    if not _WRITTEN.get():
        return
    _WRITTEN.set(frozenset())
    token = bump()  # never raises: the write committed, the response must say so
    if has_request_context():  # what the request reads next includes its own write
        g.cache_generation = token
