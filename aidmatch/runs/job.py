"""A coordinator's matching run: queue, start, load, propose, store, finish.

A run is a job on the job queue (``runs.run``), not a request, so it manages its own
transactions:

1. *queue* (``request_run``: the /matching page and the API; ``run_matching``, which the CLI
   and the tests call, then runs it in this process): serialised (PostgreSQL: an advisory
   transaction lock; SQLite: every transaction is ``BEGIN IMMEDIATE``), runs whose worker
   died are marked failed first (``fail_lost_runs``), a run whose scope overlaps a queued or
   running one is refused (409), and the ``queued`` row is inserted; the job is enqueued once
   that commits;
2. *claim*: the worker turns ``queued`` into ``running`` (a conditional UPDATE: a job handed
   out twice runs once) and starts its heartbeat, a thread with its own connection writing
   ``heartbeat_at`` every ``progress.HEARTBEAT_EVERY`` seconds, in transactions of one UPDATE, until
   the run ends;
3. *load* (stage ``loading``) needs, offers, the category tree and the pairs not to propose
   (``NOT_AGAIN``: they have an active match, or a party declined, rejected or withdrew one),
   then commit (SQLite holds its write lock for a whole transaction);
4. *engine*: ``propose`` with no transaction open; it reports its stages (``candidates``,
   ``allocation``), each written to the run in a short commit of its own;
5. *store* (stage ``storing``, n of N) the proposals, best first, in batches of
   ``STORE_BATCH``, each reserved together and committed with the run's progress
   (:mod:`aidmatch.runs.storing`);
6. *finish*: counts, timings, status, the audit event ``matching.run``, and one notification
   per donor organization with the number of its new proposals (also when the run failed
   after some batches were stored: those proposals are real).

A worker killed mid-run leaves its run ``running`` with a heartbeat that stops: the periodic
job ``runs.sweep`` (every minute, and when a worker starts) marks it failed once the
heartbeat is older than ``RUN_HEARTBEAT_TIMEOUT_SECONDS``, and tells the organizations what
it stored, so its scope is free again; a run still queued after
``RUN_QUEUED_TIMEOUT_SECONDS`` (its job lost) likewise.

What a run covers is in :mod:`aidmatch.runs.scope`; which rows it loads, and where it places
each need, in :mod:`aidmatch.runs.loading`.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, text, update

from aidmatch.audit.operations import record
from aidmatch.auth.models import User
from aidmatch.candidates.inputs import category_catalog, engine_weights
from aidmatch.db import utcnow
from aidmatch.engine import ALLOCATORS, propose
from aidmatch.extensions import db
from aidmatch.jobs.queue import after_commit, periodic, task
from aidmatch.postings.validate import check_texts
from aidmatch.refusals import Conflict, Invalid
from aidmatch.runs.loading import load_need_records, load_offer_records, pairs_not_to_propose
from aidmatch.runs.models import MatchingRun, RunStatus
from aidmatch.runs.progress import Heartbeat, Progress, Reporter, RunLost
from aidmatch.runs.scope import RunScope, resolve_scope
from aidmatch.runs.storing import store_proposals, tell_organizations

log = logging.getLogger(__name__)

RUN_JOB = "runs.run"
# Serialises run starts on PostgreSQL (pg_advisory_xact_lock key: "aidmatch" in ASCII).
RUN_LOCK_KEY = 0x6169646D61746368 & 0x7FFFFFFFFFFFFFFF


def request_run(
    actor, category_slug: str | None = None, oblast: str | None = None, allocator: str = "flow"
) -> MatchingRun:
    """Queue a run (the /matching page and the API): the ``queued`` row, flushed, and the job
    ``runs.run`` enqueued once the caller commits. Raises as ``create_run``."""
    run = create_run(actor, category_slug, oblast, allocator)
    after_commit(RUN_JOB, run.id)
    return run


def run_matching(
    actor,
    category_slug: str | None = None,
    oblast: str | None = None,
    allocator: str = "flow",
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> MatchingRun:
    """Queue a run and run it in this process now (``flask match run``, the demo, tests): the
    finished (or failed) run. Commits as it goes: call it with no pending changes."""
    run = create_run(actor, category_slug, oblast, allocator)
    db.session.commit()
    execute_run(run.id, now=now, progress=progress)
    return db.session.get(MatchingRun, run.id)


def create_run(actor, category_slug: str | None, oblast: str | None, allocator: str):
    """Insert (flushed, not committed) the ``queued`` row of a run over a scope.

    Raises Invalid for an unknown category, oblast or allocator and Conflict (409) when a run
    for an overlapping scope is queued or running; runs whose worker died are marked failed
    first (``fail_lost_runs``).
    """
    if allocator not in ALLOCATORS:
        raise Invalid(_l("Unknown allocator: use flow or greedy."), field="allocator")
    check_texts({"category": category_slug, "oblast": oblast})
    scope = resolve_scope(category_slug, oblast)
    _lock_run_starts()
    fail_lost_runs()
    under_way = db.session.scalars(
        select(MatchingRun).where(MatchingRun.status.in_((RunStatus.QUEUED, RunStatus.RUNNING)))
    ).all()
    for other in under_way:
        if scope.overlaps(RunScope.from_parameters(other.parameters)):
            raise Conflict(
                _l(
                    "Matching run #%(id)s (%(scope)s) is still running for an overlapping "
                    "scope. Wait until it finishes, then start again.",
                    id=other.id,
                    scope=other.scope,
                ),
                code="run_in_progress",
            )
    run = MatchingRun(
        started_by_id=getattr(actor, "id", None),
        parameters={**scope.parameters(), "allocator": allocator, "verified_only": True},
        scope=scope.key,
        status=RunStatus.QUEUED,
        started_at=utcnow(),
        skipped={},
        timings={},
    )
    db.session.add(run)
    db.session.flush()
    return run


def fail_lost_runs(now: datetime | None = None) -> int:
    """Mark failed the runs whose worker died: running with a heartbeat older than
    RUN_HEARTBEAT_TIMEOUT_SECONDS, or queued for longer than RUN_QUEUED_TIMEOUT_SECONDS (the
    job lost); tell the organizations what each stored. Flushes; returns how many."""
    config = current_app.config
    now = now or utcnow()
    silent = now - timedelta(seconds=config["RUN_HEARTBEAT_TIMEOUT_SECONDS"])
    waited = now - timedelta(seconds=config["RUN_QUEUED_TIMEOUT_SECONDS"])
    stale = or_(
        and_(
            MatchingRun.status == RunStatus.RUNNING,
            func.coalesce(MatchingRun.heartbeat_at, MatchingRun.started_at) < silent,
        ),
        and_(MatchingRun.status == RunStatus.QUEUED, MatchingRun.started_at < waited),
    )
    lost = db.session.scalars(select(MatchingRun).where(stale).order_by(MatchingRun.id)).all()
    failed = 0
    for run in lost:
        before = str(run.status)
        if run.status == RunStatus.RUNNING:
            last = run.heartbeat_at or run.started_at
            error = (
                f"lost: its worker stopped (no heartbeat since {last:%Y-%m-%d %H:%M:%S} UTC); "
                "what it stored is kept"
            )
        else:
            error = f"lost: no worker took it within {config['RUN_QUEUED_TIMEOUT_SECONDS']} s"
        # One conditional UPDATE: a heartbeat written since the SELECT, or another sweep
        # that failed it first, leaves the run as it is.
        written = db.session.execute(
            update(MatchingRun)
            .where(MatchingRun.id == run.id, stale)
            .values(status=RunStatus.FAILED, error=error, finished_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.refresh(run)
        if written != 1:
            continue
        failed += 1
        record(None, "matching.run", run, before={"status": before}, after=run_summary(run))
        tell_organizations(run.id)  # what it stored is real (told once: dedupe keys)
    db.session.flush()
    return failed


@periodic("runs.sweep", at_start=True, minute="*")
def sweep_lost_runs() -> int:
    """The periodic job: free the scopes of runs whose worker died (``fail_lost_runs``)."""
    return fail_lost_runs()


@task(RUN_JOB)
def run_queued(run_id: int) -> None:
    """The job: run a queued run (its transactions are its own, see the module docstring)."""
    db.session.commit()  # the job's transaction holds nothing yet
    execute_run(run_id)


def execute_run(
    run_id: int, *, now: datetime | None = None, progress: Progress | None = None
) -> MatchingRun | None:
    """Claim a queued run and run it: load, propose, store, finish (or fail, with its error).
    None if the run was not queued (another worker took it, or it was marked failed)."""
    claimed = db.session.execute(
        update(MatchingRun)
        .where(MatchingRun.id == run_id, MatchingRun.status == RunStatus.QUEUED)
        .values(status=RunStatus.RUNNING, stage="loading", started_at=utcnow(),
                heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount  # fmt: skip
    db.session.commit()
    if claimed != 1:
        log.warning("matching run %s was not queued: not run", run_id)
        return None
    run = db.session.get(MatchingRun, run_id)
    actor = db.session.get(User, run.started_by_id) if run.started_by_id else None
    scope = RunScope.from_parameters(run.parameters)
    allocator = run.parameters.get("allocator", "flow")
    reporter = Reporter(run_id, progress)
    started = time.perf_counter()
    with Heartbeat(run_id):
        try:
            _execute(run_id, scope, allocator, actor, now or utcnow(), started, reporter)
        except Exception as exc:  # noqa: BLE001 - any failure is recorded on the run
            log.exception("matching run %s failed", run_id)
            db.session.rollback()
            _finish_failed(run_id, actor, f"{type(exc).__name__}: {exc}", started)
    return db.session.get(MatchingRun, run_id)


def _lock_run_starts() -> None:
    """Serialise run starts until the end of this transaction."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": RUN_LOCK_KEY})
    else:  # SQLite: every transaction begins IMMEDIATE (aidmatch.db); make sure one is open
        db.session.execute(select(MatchingRun.id).limit(1))


def _execute(
    run_id: int,
    scope: RunScope,
    allocator: str,
    actor,
    now: datetime,
    started: float,
    reporter: Reporter,
) -> None:
    """Load, propose, store and finish one run (see the module docstring)."""
    from aidmatch.needs.operations import expire_needs
    from aidmatch.offers.operations import expire_offers

    timings: dict[str, float] = {}
    lap = time.perf_counter()
    reporter.stage("loading")
    expire_needs(now.date())
    expire_offers(now.date())
    skipped: Counter[str] = Counter()
    needs = load_need_records(scope, skipped)
    offers = load_offer_records(scope, skipped)
    ancestry, units = category_catalog()
    exclude = pairs_not_to_propose(scope)
    db.session.commit()
    timings["load_s"] = time.perf_counter() - lap

    result = propose(
        needs,
        offers,
        ancestry,
        now,
        weights=engine_weights(),
        allocator=allocator,
        units=units,
        exclude=exclude,
        workers=int(current_app.config.get("MATCH_WORKERS", 1)),
        progress=reporter.stage,
    )
    report = result.report
    timings.update({f"engine_{k}": v for k, v in report.timings.items()})
    skipped.update(report.skipped_counts)
    if report.excluded_pairs:
        skipped["pair:already_matched"] += report.excluded_pairs

    lap = time.perf_counter()
    total = len(result.proposals)
    reporter.stage("storing", total)
    stored = store_proposals(
        run_id,
        result.proposals,
        actor,
        skipped,
        progress=lambda done, _total: reporter.write("storing", done, total),
    )
    timings["store_s"] = time.perf_counter() - lap

    run = db.session.get(MatchingRun, run_id)
    if run.status != RunStatus.RUNNING:
        raise RunLost(f"run {run_id} was marked failed while it ran")
    run.status = RunStatus.FINISHED
    run.needs_considered = report.needs_considered
    run.offers_considered = report.offers_considered
    run.candidate_pairs = report.candidate_pairs
    run.proposals = stored
    run.skipped = dict(sorted(skipped.items()))
    run.seconds = round(time.perf_counter() - started, 3)
    run.timings = {k: round(v, 4) for k, v in timings.items()}
    run.parameters = {
        **run.parameters,
        "engine": report.params,
        "engine_proposals": report.proposals,
        "allocated_quantity": report.allocated_quantity,
        "total_score": round(report.total_score, 4),
        "skipped_rows": [[s.kind, s.id, s.reason] for s in report.skipped[:50]],
    }
    run.finished_at = utcnow()
    record(actor, "matching.run", run, before={"status": "running"}, after=run_summary(run))
    tell_organizations(run_id)
    db.session.commit()
    log.info("matching run %s: %s", run_id, run_summary(run))


def _finish_failed(run_id: int, actor, error: str, started: float) -> None:
    """Mark a run failed with its error text (in a transaction of its own), unless it was
    marked failed already (``fail_lost_runs`` told the organizations then)."""
    run = db.session.get(MatchingRun, run_id)
    if run.status != RunStatus.RUNNING:
        db.session.rollback()
        return
    run.status = RunStatus.FAILED
    run.error = error[:2000]
    run.seconds = round(time.perf_counter() - started, 3)
    run.finished_at = utcnow()
    record(actor, "matching.run", run, before={"status": "running"}, after=run_summary(run))
    tell_organizations(run_id)
    db.session.commit()


def run_summary(run: MatchingRun) -> dict:
    """The figures of a run, as the API returns them and the audit event records them."""
    return {
        "id": run.id,
        "status": str(run.status),
        "scope": run.scope,
        "proposals": run.proposals,
        "needs_considered": run.needs_considered,
        "offers_considered": run.offers_considered,
        "candidate_pairs": run.candidate_pairs,
        "skipped": dict(run.skipped or {}),
        "seconds": run.seconds,
        "error": run.error,
    }
