"""Matching runs as jobs (issue 14, item 7): stages and progress, the heartbeat, runs whose
worker died failed by the periodic job, storing a batch at a time as soft holds."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from aidmatch.audit.models import AuditEvent
from aidmatch.candidates.inputs import NOT_AGAIN
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.jobs.queue import drain, run_now
from aidmatch.matches import operations as match_operations
from aidmatch.matches.batch_holds import Proposed, reserve_proposals
from aidmatch.matches.models import Match, MatchSource, MatchStatus
from aidmatch.needs.models import Need
from aidmatch.notify.models import Notification
from aidmatch.offers.models import Offer
from aidmatch.runs import job, progress, storing
from aidmatch.runs.job import run_matching
from aidmatch.runs.models import MatchingRun, RunStatus
from aidmatch.runs.scope import resolve_scope
from tests.test_matching_service import small_world


def under_way(status: RunStatus, **times) -> MatchingRun:
    scope = resolve_scope()
    run = MatchingRun(
        parameters={**scope.parameters(), "allocator": "flow"},
        scope=scope.key,
        status=status,
        skipped={},
        timings={},
        **times,
    )
    db.session.add(run)
    db.session.commit()
    return run


def test_a_run_reports_its_stages_and_storing_n_of_n(app, monkeypatch):
    world = small_world()
    monkeypatch.setattr(storing, "STORE_BATCH", 2)
    seen: list[tuple[str, int, int]] = []
    run = run_matching(world["coordinator"], progress=lambda *step: seen.append(step))
    assert run.status == RunStatus.FINISHED and run.proposals == 7
    stages = list(dict.fromkeys(stage for stage, _done, _total in seen))
    assert stages == ["loading", "candidates", "allocation", "storing"]
    assert [step for step in seen if step[0] == "storing"] == [
        ("storing", 0, 7),
        ("storing", 2, 7),
        ("storing", 4, 7),
        ("storing", 6, 7),
        ("storing", 7, 7),
    ]
    assert (run.stage, run.progress_done, run.progress_total) == ("storing", 7, 7)
    assert run.heartbeat_at is not None


def test_the_run_stores_soft_holds_with_the_audit_reserve_writes(app):
    world = small_world()
    run = run_matching(world["coordinator"])
    matches = list(db.session.scalars(select(Match).where(Match.run_id == run.id)))
    assert len(matches) == run.proposals == 7
    for need in world["needs"]:
        db.session.refresh(need)
        held = sum(m.quantity for m in matches if m.need_id == need.id)
        assert (need.pledged, need.proposed) == (0, held)  # soft: nothing pledged yet
    for offer in world["offers"]:
        db.session.refresh(offer)
        held = sum(m.quantity for m in matches if m.offer_id == offer.id)
        assert (offer.allocated, offer.proposed) == (0, held)
    assert all(
        m.status == MatchStatus.PENDING and m.source == MatchSource.ENGINE and m.explanation
        for m in matches
    )
    stored = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.object_type == "matches", AuditEvent.object_id == matches[0].id
        )
    )
    # the same event reserve writes for one engine proposal
    need, offer = world["needs"][2], world["offers"][2]
    need.quantity += 1  # room for one more soft hold on both sides
    offer.quantity += 1
    db.session.flush()
    one = match_operations.reserve(
        need, offer, offer.organization, 1, source=MatchSource.ENGINE,
        actor=world["coordinator"], run=run,
    )  # fmt: skip
    single = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.object_type == "matches", AuditEvent.object_id == one.id
        )
    )
    assert (stored.action, stored.object_type, stored.actor_id, stored.before) == (
        single.action,
        single.object_type,
        single.actor_id,
        single.before,
    )
    assert set(stored.after) == set(single.after)
    assert stored.after["run_id"] == run.id and stored.after["quantity"] == matches[0].quantity
    assert stored.after["status"] == "pending" and stored.after["source"] == "engine"
    assert stored.after["expires_at"] == matches[0].expires_at.isoformat()


def test_a_second_run_sees_what_the_first_proposed(app):
    world = small_world()
    first = run_matching(world["coordinator"])
    second = run_matching(world["coordinator"])
    assert first.proposals == 7 and second.proposals == 0


def test_a_claim_committed_between_two_batches_is_respected(app, monkeypatch):
    """While the run stores its proposals a batch at a time, a donor's claim commits in
    another connection and takes all that the next batch's need has open: the run stores
    that proposal reduced or not at all, never over what remains."""
    world = small_world()
    monkeypatch.setattr(storing, "STORE_BATCH", 1)
    real_store = storing._store_batch
    claimed: dict = {}

    def claim_elsewhere(need_id: int, offer_id: int) -> None:
        with app.app_context():
            try:
                need, offer = db.session.get(Need, need_id), db.session.get(Offer, offer_id)
                left = min(need.quantity - need.pledged - need.proposed,
                           offer.quantity - offer.allocated - offer.proposed)  # fmt: skip
                match_operations.reserve(
                    need, offer, offer.organization, left,
                    source=MatchSource.CLAIM, donor_accepted=True,
                )  # fmt: skip
                db.session.commit()
                claimed.update(need=need_id, offer=offer_id, quantity=left)
            finally:
                db.session.remove()

    batches: list[int] = []

    def open_for_both(proposal) -> bool:
        with db.engine.connect() as conn:  # a short read of its own, as committed now
            need_open = conn.scalar(
                select(Need.quantity - Need.pledged - Need.proposed).where(
                    Need.id == proposal.need_id
                )
            )
            offer_open = conn.scalar(
                select(Offer.quantity - Offer.allocated - Offer.proposed).where(
                    Offer.id == proposal.offer_id
                )
            )
        return need_open > 0 and offer_open > 0

    def store_with_a_claim_in_between(run_id, batch, actor, skipped):
        # once a batch is stored and committed, claim the next open pair elsewhere
        if batches and not claimed and open_for_both(batch[0]):
            thread = threading.Thread(
                target=claim_elsewhere, args=(batch[0].need_id, batch[0].offer_id)
            )
            thread.start()
            thread.join(30)
            assert "need" in claimed, "the claim in the other connection did not commit"
        batches.append(len(batch))
        return real_store(run_id, batch, actor, skipped)

    monkeypatch.setattr(storing, "_store_batch", store_with_a_claim_in_between)
    run = run_matching(world["coordinator"])
    assert run.status == RunStatus.FINISHED, run.error
    pair = (claimed["need"], claimed["offer"])
    engine = db.session.scalars(
        select(Match).where(
            Match.run_id == run.id, Match.need_id == pair[0], Match.offer_id == pair[1]
        )
    ).all()
    assert engine == []  # the claim took the pair: the run did not propose it as well
    assert run.skipped["pair:already_matched"] >= 1
    for model, hard in ((Need, Need.pledged), (Offer, Offer.allocated)):
        over = db.session.scalar(
            select(func.count()).select_from(model).where(hard + model.proposed > model.quantity)
        )
        assert over == 0


def test_the_periodic_job_fails_a_run_whose_worker_died_and_its_scope_is_free(app, api_client):
    world = small_world()
    silent = app.config["RUN_HEARTBEAT_TIMEOUT_SECONDS"] + 5
    alive = under_way(RunStatus.RUNNING, started_at=utcnow(), heartbeat_at=utcnow())
    api = api_client(world["coordinator"])
    assert api.post("/matching/runs", json={}).status_code == 409  # a live run holds it
    alive.heartbeat_at = utcnow() - timedelta(seconds=silent)  # its worker was killed
    db.session.commit()

    assert run_now("runs.sweep") == 1
    db.session.refresh(alive)
    assert alive.status == RunStatus.FAILED and alive.finished_at is not None
    assert "no heartbeat since" in alive.error
    assert db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "matching.run", AuditEvent.object_id == alive.id
        )
    )
    started = api.post("/matching/runs", json={})
    assert started.status_code == 202, started.get_json()
    db.session.rollback()
    drain(app)
    assert db.session.get(MatchingRun, started.get_json()["id"]).status == RunStatus.FINISHED
    assert run_now("runs.sweep") == 0  # finished runs are left alone


def test_a_queued_run_whose_job_was_lost_is_failed_later(app):
    small_world()
    waited = app.config["RUN_QUEUED_TIMEOUT_SECONDS"]
    fresh = under_way(RunStatus.QUEUED, started_at=utcnow())
    lost = under_way(RunStatus.QUEUED, started_at=utcnow() - timedelta(seconds=waited + 1))
    assert run_now("runs.sweep") == 1
    db.session.refresh(fresh)
    db.session.refresh(lost)
    assert fresh.status == RunStatus.QUEUED
    assert lost.status == RunStatus.FAILED and "no worker took it" in lost.error


def test_a_lost_run_is_failed_once_and_a_beating_one_never(app):
    """Two sweeps (two workers starting) fail a dead run once: one audit event; a run that
    beat in time is left running."""
    small_world()
    silent = app.config["RUN_HEARTBEAT_TIMEOUT_SECONDS"]
    dead = under_way(
        RunStatus.RUNNING,
        started_at=utcnow() - timedelta(hours=1),
        heartbeat_at=utcnow() - timedelta(seconds=silent + 1),
    )
    alive = under_way(
        RunStatus.RUNNING,
        started_at=utcnow() - timedelta(hours=1),
        heartbeat_at=utcnow() - timedelta(seconds=silent - 5),
    )
    assert job.fail_lost_runs() == 1
    assert job.fail_lost_runs() == 0
    db.session.commit()
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "matching.run", AuditEvent.object_id == dead.id
        )
    ).all()
    assert len(events) == 1
    db.session.refresh(alive)
    assert alive.status == RunStatus.RUNNING


def test_a_run_failed_meanwhile_stops_and_tells_once(app, monkeypatch):
    """The sweep took a slow run for dead: the run stops at its next progress write and
    leaves the failure as the sweep recorded it."""
    world = small_world()
    real_propose = job.propose

    def propose_while_taken_for_dead(*args, **kwargs):
        result = real_propose(*args, **kwargs)
        run = db.session.scalar(select(MatchingRun))
        run.heartbeat_at = utcnow() - timedelta(hours=1)
        db.session.commit()
        assert job.fail_lost_runs() == 1
        db.session.commit()
        return result

    monkeypatch.setattr(job, "propose", propose_while_taken_for_dead)
    run = run_matching(world["coordinator"])
    assert run.status == RunStatus.FAILED and "no heartbeat since" in run.error
    assert db.session.scalar(select(func.count()).select_from(Match)) == 0
    kinds = db.session.scalars(select(Notification.kind)).all()
    assert "run_proposals" not in kinds  # nothing stored, nothing to tell


def test_the_heartbeat_beats_while_the_engine_computes(app, monkeypatch):
    world = small_world()
    monkeypatch.setattr(progress, "HEARTBEAT_EVERY", 0.01)
    real_propose = job.propose
    beats: list = []

    def slow_propose(*args, **kwargs):
        with db.engine.connect() as conn:
            first = conn.scalar(select(MatchingRun.heartbeat_at))
        done = threading.Event()
        for _attempt in range(500):  # until the thread has written a newer heartbeat
            with db.engine.connect() as conn:
                now = conn.scalar(select(MatchingRun.heartbeat_at))
            if now != first:
                beats.append(now)
                done.set()
                break
            done.wait(0.01)
        return real_propose(*args, **kwargs)

    monkeypatch.setattr(job, "propose", slow_propose)
    run = run_matching(world["coordinator"])
    assert run.status == RunStatus.FINISHED and beats
    assert threading.active_count() == 1 or all(
        not t.name.startswith("run-") for t in threading.enumerate()
    )  # the heartbeat thread stopped with the run


def test_the_cli_shows_the_stages_and_keeps_json_on_stdout(app):
    small_world()
    result = app.test_cli_runner().invoke(args=["match", "run", "--json"])
    assert result.exit_code == 0, result.output
    assert "loading…" in result.stderr and "storing 7 proposals" in result.stderr
    assert "storing: 7 of 7 proposals" in result.stderr
    assert result.stdout.strip().startswith("{") and '"proposals": 7' in result.stdout


def test_reserve_proposals_stores_each_value_as_given_and_reduces_to_what_remains(app):
    """The batch writes (one statement over arrays on PostgreSQL, executemany on SQLite) keep
    every value: a missing distance, the explanation's text; the second proposal for a need
    gets what the first left, the third nothing."""
    world = small_world()
    need, offer, other = world["needs"][3], world["offers"][0], world["offers"][1]  # need: 5
    run = under_way(RunStatus.RUNNING, started_at=utcnow())
    why = {"reasons": ['category "exact"', "Харків ≤ 150 km"], "weights": {"distance": 0.25}}
    stored, skipped = reserve_proposals(
        [
            Proposed(need.id, offer.id, 3, None, 0.5, why),
            Proposed(need.id, other.id, 4, 12.5, None, {}),
            Proposed(need.id, world["offers"][2].id, 1, 1.0, 0.1, {}),
        ],
        actor=world["coordinator"],
        run_id=run.id,
        not_again=NOT_AGAIN,
    )
    db.session.commit()
    assert stored == 2
    assert skipped == {"proposal:reduced_meanwhile": 1, "proposal:reserved_meanwhile": 1}
    rows = db.session.execute(
        select(Match.offer_id, Match.quantity, Match.distance_km, Match.score, Match.explanation)
        .where(Match.run_id == run.id)
        .order_by(Match.id)
    ).all()
    assert [tuple(r) for r in rows] == [
        (offer.id, 3, None, 0.5, why),
        (other.id, 2, 12.5, None, {}),
    ]
    db.session.refresh(need)
    assert (need.pledged, need.proposed) == (0, 5)
    afters = db.session.scalars(
        select(AuditEvent.after).where(AuditEvent.action == "match.propose").order_by(AuditEvent.id)
    ).all()
    assert [(a["offer_id"], a["quantity"], a["run_id"]) for a in afters] == [
        (offer.id, 3, run.id),
        (other.id, 2, run.id),
    ]
