"""A coordinator's matching run: start, load, propose, store, finish.

``run_matching`` is a job, not a request, so it manages its own transactions:

1. *start*: in one short transaction, serialised (PostgreSQL: an advisory transaction
   lock; SQLite: every transaction is ``BEGIN IMMEDIATE``), runs left ``running`` for more
   than ``RUN_STALE_AFTER`` are marked failed (a crashed run cannot block forever; the
   organizations are told what it stored, as when a run fails), a run
   whose scope overlaps a running one is refused (409), and the ``running`` row is
   committed, so a second start sees it;
2. *load* needs, offers, the category tree and the pairs not to propose (``NOT_AGAIN``:
   they have an active match, or a party declined, rejected or withdrew one), then
   commit (SQLite holds its write lock for a whole transaction);
3. *engine*: ``propose`` with no transaction open;
4. *store* each proposal, best first, in batches of ``STORE_BATCH`` committed one by one,
   through ``reserve(..., allow_partial=True)``: a claim that arrived meanwhile reduces or
   skips it, never over-allocates; a pair that got such a match meanwhile is skipped
   (:mod:`aidmatch.runs.storing`);
5. *finish*: counts, timings, status, the audit event ``matching.run``, and one notification
   per donor organization with the number of its new proposals (also when the run failed
   after some batches were stored: those proposals are real).

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
from sqlalchemy import select, text

from aidmatch.audit.operations import record
from aidmatch.candidates.inputs import category_catalog, engine_weights
from aidmatch.db import utcnow
from aidmatch.engine import ALLOCATORS, propose
from aidmatch.extensions import db
from aidmatch.postings.validate import check_texts
from aidmatch.refusals import Conflict, Invalid
from aidmatch.runs.loading import load_need_records, load_offer_records, pairs_not_to_propose
from aidmatch.runs.models import MatchingRun, RunStatus
from aidmatch.runs.scope import RunScope, resolve_scope
from aidmatch.runs.storing import store_proposals, tell_organizations

log = logging.getLogger(__name__)

RUN_STALE_AFTER = timedelta(minutes=30)
# Serialises run starts on PostgreSQL (pg_advisory_xact_lock key: "aidmatch" in ASCII).
RUN_LOCK_KEY = 0x6169646D61746368 & 0x7FFFFFFFFFFFFFFF


def run_matching(
    actor,
    category_slug: str | None = None,
    oblast: str | None = None,
    allocator: str = "flow",
    *,
    now: datetime | None = None,
) -> MatchingRun:
    """Run the engine over a scope and store its proposals; the finished (or failed) run.

    Commits as it goes (see the module docstring): call it with no pending changes.
    Raises Invalid for an unknown category, oblast or allocator and Conflict when a run
    for an overlapping scope is already running.
    """
    if allocator not in ALLOCATORS:
        raise Invalid(_l("Unknown allocator: use flow or greedy."), field="allocator")
    check_texts({"category": category_slug, "oblast": oblast})
    scope = resolve_scope(category_slug, oblast)
    run = start_run(actor, scope, allocator)
    run_id = run.id
    started = time.perf_counter()
    try:
        _execute(run_id, scope, allocator, actor, now or utcnow(), started)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the run
        log.exception("matching run %s failed", run_id)
        db.session.rollback()
        _finish_failed(run_id, actor, f"{type(exc).__name__}: {exc}", started)
    return db.session.get(MatchingRun, run_id)


def start_run(actor, scope: RunScope, allocator: str) -> MatchingRun:
    """Insert and commit the ``running`` row, or refuse (409) if an overlapping run runs."""
    _lock_run_starts()
    now = utcnow()
    stale = db.session.scalars(
        select(MatchingRun).where(
            MatchingRun.status == RunStatus.RUNNING,
            MatchingRun.started_at < now - RUN_STALE_AFTER,
        )
    ).all()
    for old in stale:
        old.status = RunStatus.FAILED
        old.finished_at = now
        old.error = f"stale: no end recorded within {RUN_STALE_AFTER} (h:mm:ss)"
        record(None, "matching.run", old, before={"status": "running"}, after={"status": "failed"})
        tell_organizations(old.id)  # what it stored is real (told once: dedupe keys)
    running = db.session.scalars(
        select(MatchingRun).where(MatchingRun.status == RunStatus.RUNNING)
    ).all()
    for other in running:
        if scope.overlaps(RunScope.from_parameters(other.parameters)):
            db.session.commit()  # keep the stale runs marked
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
        status=RunStatus.RUNNING,
        started_at=now,
        skipped={},
        timings={},
    )
    db.session.add(run)
    db.session.commit()
    return run


def _lock_run_starts() -> None:
    """Serialise run starts until the end of this transaction."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": RUN_LOCK_KEY})
    else:  # SQLite: every transaction begins IMMEDIATE (aidmatch.db); make sure one is open
        db.session.execute(select(MatchingRun.id).limit(1))


def _execute(
    run_id: int, scope: RunScope, allocator: str, actor, now: datetime, started: float
) -> None:
    """Load, propose, store and finish one run (see the module docstring)."""
    from aidmatch.needs.operations import expire_needs
    from aidmatch.offers.operations import expire_offers

    timings: dict[str, float] = {}
    lap = time.perf_counter()
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
    )
    report = result.report
    timings.update({f"engine_{k}": v for k, v in report.timings.items()})
    skipped.update(report.skipped_counts)
    if report.excluded_pairs:
        skipped["pair:already_matched"] += report.excluded_pairs

    lap = time.perf_counter()
    stored = store_proposals(run_id, result.proposals, actor, skipped)
    timings["store_s"] = time.perf_counter() - lap

    run = db.session.get(MatchingRun, run_id)
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
    """Mark a run failed with its error text (in a transaction of its own)."""
    run = db.session.get(MatchingRun, run_id)
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
