"""The job queue: huey on a SQLite file of its own by default, on Redis when REDIS_URL is set.

Domains register their functions here when imported (``@task``, ``@periodic``); the factory
binds them all to the app's huey (``init_jobs``), so the web processes that enqueue and the
worker that runs (``flask jobs worker``) know the same tasks by the same names. Each task runs
in an app context as one transaction (``transaction.run_in_transaction``), committed when it
returns.

A task that must see what a request writes is enqueued after that request commits
(``after_commit``): a rolled-back request enqueues nothing. What must never be lost is a row
in the database first (the notification outbox), which a periodic sweep hands to the queue
again; the queue itself is only the fast path.

Tests run a memory queue that nothing consumes until they ``drain`` it, in their own process,
one task after the other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, current_app
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import event
from sqlalchemy.orm import Session

from aidmatch.extensions import db
from aidmatch.transaction import run_in_transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """A registered function: a task (enqueued by name) or a periodic one (on a schedule)."""

    name: str
    fn: Callable
    schedule: dict | None = None  # crontab(**schedule) for a periodic task
    retries: int = 0
    retry_delay: int = 0
    at_start: bool = False  # a periodic job the worker also runs once when it starts


JOBS: dict[str, Job] = {}


def task(name: str, retries: int = 0, retry_delay: int = 0) -> Callable[[Callable], Callable]:
    """Register fn as the task called name (run in a transaction when the worker takes it)."""

    def register(fn: Callable) -> Callable:
        JOBS[name] = Job(name, fn, retries=retries, retry_delay=retry_delay)
        return fn

    return register


def periodic(name: str, at_start: bool = False, **schedule) -> Callable[[Callable], Callable]:
    """Register fn to run on a schedule (huey's crontab fields: minute, hour, day_of_week...),
    and once when a worker starts if at_start. ``flask jobs run NAME`` runs it once, now."""

    def register(fn: Callable) -> Callable:
        JOBS[name] = Job(name, fn, schedule=schedule, at_start=at_start)
        return fn

    return register


def make_huey(config) -> Huey:
    """The queue the settings name: JOBS_BACKEND memory (tests), redis (REDIS_URL), or a
    SQLite file (JOBS_SQLITE_PATH)."""
    backend, name = config["JOBS_BACKEND"], config["JOBS_NAME"]
    if backend == "memory":
        return MemoryHuey(name, results=False, utc=True)
    if backend == "redis":
        blocking = config["JOBS_BLOCKING"]
        return RedisHuey(name, url=config["REDIS_URL"], results=False, utc=True, blocking=blocking)
    path = Path(config["JOBS_SQLITE_PATH"])
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(path), results=False, utc=True)


def init_jobs(app: Flask) -> None:
    """Give the app its queue and bind every registered job to it, each run in an app context
    as one transaction."""
    huey = make_huey(app.config)
    bound = {}
    for job in JOBS.values():
        runner = _runner(app, job)
        if job.schedule is None:
            bound[job.name] = huey.task(
                retries=job.retries, retry_delay=job.retry_delay, name=job.name
            )(runner)
        else:
            bound[job.name] = huey.periodic_task(crontab(**job.schedule), name=job.name)(runner)
    app.extensions["huey"] = huey
    app.extensions["jobs"] = bound


def _runner(app: Flask, job: Job) -> Callable:
    def run(*args):
        with app.app_context():
            return run_in_transaction(lambda: job.fn(*args), what=f"job {job.name}")

    run.__name__ = job.name.replace(".", "_")
    return run


def enqueue(name: str, *args, delay: float | None = None) -> None:
    """Put the task on the queue now (delay: seconds before it may run)."""
    bound = current_app.extensions["jobs"][name]
    if delay:
        bound.schedule(args=args, delay=delay)
    else:
        bound(*args)


def after_commit(name: str, *args, delay: float | None = None) -> None:
    """Enqueue the task once the current transaction commits (never if it, or the savepoint
    it was asked in, rolls back); delay: seconds after the commit before it may run."""
    session = db.session()  # the scoped session's own Session
    session.connection()  # begin the transaction now, so that its rollback is seen
    asked_in = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault("jobs_after_commit", []).append((asked_in, name, args, delay))


@event.listens_for(Session, "after_commit")
def _enqueue_committed(session: Session) -> None:
    waiting = session.info.pop("jobs_after_commit", None)
    for _asked_in, name, args, delay in waiting or ():
        try:
            enqueue(name, *args, delay=delay)
        except Exception:  # the queue is down: the outbox sweep hands it over later
            log.exception("could not enqueue %s%r after commit", name, args)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction) -> None:
    """Forget what was asked inside the transaction or savepoint that rolled back (and the
    savepoints within it); keep what the enclosing transaction asked before."""
    waiting = session.info.get("jobs_after_commit")
    if not waiting:
        return
    kept = [item for item in waiting if not _within(item[0], previous_transaction)]
    if kept:
        session.info["jobs_after_commit"] = kept
    else:
        session.info.pop("jobs_after_commit")


def _within(transaction, ancestor) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def run_now(name: str, *args):
    """Run a registered job in this process, now, as one transaction (flask jobs run)."""
    job = JOBS[name]
    return run_in_transaction(lambda: job.fn(*args), what=f"job {name}")


def drain(app: Flask | None = None, limit: int = 100_000) -> int:
    """Run what is on the queue in this process until nothing is due (tests, and `flask jobs
    drain`): the tasks enqueued, then scheduled ones whose time has come. A retry scheduled
    for later stays scheduled (to let time pass in a test, move the delivery's
    next_attempt_at back and run the sweep). Returns how many tasks ran."""
    queue = (app or current_app).extensions["huey"]
    ran = 0
    while ran < limit:
        item = queue.dequeue()
        if item is None:
            due = queue.read_schedule(_naive_utcnow())
            if not due:
                return ran
            for scheduled in due:
                queue.enqueue(scheduled)
            continue
        ran += 1
        queue.execute(item, timestamp=_naive_utcnow())
    return ran


def _naive_utcnow() -> datetime:
    """What huey's schedule compares with (utc=True: naive UTC times)."""
    return datetime.now(UTC).replace(tzinfo=None)
