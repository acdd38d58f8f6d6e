"""Matching runs against the database: loading, storing through reserve, scopes, refusals."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from aidmatch.audit.models import AuditEvent
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.geo import haversine_km
from aidmatch.matches import operations as match_operations
from aidmatch.matches.models import Match, MatchSource, MatchStatus
from aidmatch.needs.models import Need
from aidmatch.offers.models import Offer
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from aidmatch.refusals import Refusal
from aidmatch.runs import job, storing
from aidmatch.runs.job import run_matching
from aidmatch.runs.models import MatchingRun, RunStatus
from aidmatch.runs.scope import RunScope, resolve_scope
from aidmatch.web.errors import refusal_status
from tests.factories import make_org, make_user
from tests.match_helpers import invariant_violations
from tests.posting_factories import make_need, make_offer, make_offer_between, make_place


def small_world():
    """Two verified groups and an unverified one, two verified donors and an unverified one."""
    kharkiv = make_place("Kharkiv test", lat=49.99, lon=36.23, oblast="Kharkiv Oblast")
    izium = make_place("Izium test", lat=49.21, lon=37.26, oblast="Kharkiv Oblast")
    kyiv = make_place("Kyiv test", lat=50.45, lon=30.52, oblast="Kyiv")
    dnipro = make_place("Dnipro test", lat=48.46, lon=35.05, oblast="Dnipropetrovsk Oblast")
    front = make_org("Front A")
    front_b = make_org("Front B")
    unverified = make_org("Front unverified", verified=False)
    donor = make_org("Donor D", kind=OrgKind.DONOR_COLLECTIVE)
    donor_e = make_org("Donor E", kind=OrgKind.DONOR_COLLECTIVE)
    shady = make_org("Donor unverified", kind=OrgKind.DONOR_COLLECTIVE, verified=False)
    organizer = make_user(Role.ORGANIZER, org=front)
    donor_user = make_user(Role.DONOR, org=donor)
    coordinator = make_user(Role.COORDINATOR)
    needs = [
        make_need(front, organizer, kharkiv, quantity=40, urgency="high"),
        make_need(front, organizer, izium, quantity=25, urgency="critical"),
        make_need(front_b, None, dnipro, quantity=30, urgency="normal"),
        make_need(front_b, None, kharkiv, quantity=5, category="hemostatic-gauze"),
        make_need(unverified, None, kharkiv, quantity=10),
    ]
    offers = [
        make_offer(donor, donor_user, kyiv, quantity=50),  # anywhere
        make_offer(donor, donor_user, kharkiv, quantity=20, delivery_radius_km=150),
        make_offer(donor_e, None, dnipro, quantity=15, delivery_radius_km=60),
        make_offer(donor_e, None, kharkiv, quantity=8, category="tactical-medicine"),  # parent
        make_offer(shady, None, kharkiv, quantity=100),
    ]
    db.session.commit()
    return {
        "needs": needs,
        "offers": offers,
        "coordinator": coordinator,
        "organizer": organizer,
        "donor_user": donor_user,
        "unverified_need": needs[4],
        "shady_offer": offers[4],
    }


def taken_meanwhile(run: MatchingRun) -> int:
    """Proposals a run dropped or reduced because a claim took their quantity meanwhile."""
    reasons = ("pair:already_matched", "proposal:reserved_meanwhile", "proposal:reduced_meanwhile")
    return sum(run.skipped.get(reason, 0) for reason in reasons)


def engine_matches() -> list[Match]:
    return list(db.session.scalars(select(Match).where(Match.source == MatchSource.ENGINE)))


def test_a_run_stores_valid_proposals_that_reserve_their_quantities(app):
    world = small_world()
    run = run_matching(world["coordinator"])
    assert run.status == RunStatus.FINISHED, run.error
    matches = engine_matches()
    assert run.proposals == len(matches) == 7
    assert run.needs_considered == 4 and run.offers_considered == 4
    assert run.skipped["need:unverified_group"] == 1
    assert run.skipped["offer:unverified_organization"] == 1
    assert {"load_s", "engine_candidates_s", "engine_allocation_s", "store_s"} <= set(run.timings)
    assert run.seconds > 0 and run.finished_at is not None
    for match in matches:
        need, offer = match.need, match.offer
        assert match.status == MatchStatus.PENDING and match.run_id == run.id
        assert match.donor_accepted_at is None and match.coordinator_approved_at is None
        assert match.organization_id == offer.organization_id
        assert need.organization.verified and offer.organization.verified
        assert offer.category_id in (need.category_id, need.category.parent_id)
        # between the coarse points, as either side may know them
        distance = haversine_km(
            need.public_lat, need.public_lon, offer.public_lat, offer.public_lon
        )
        assert offer.delivery_radius_km is None or distance <= offer.delivery_radius_km
        assert match.distance_km == pytest.approx(distance, abs=0.01)
        assert match.explanation["facts"]["urgency"] == need.urgency
        assert sum(match.explanation["parts"].values()) == pytest.approx(match.score, abs=1e-3)
    assert invariant_violations() == []
    db.session.expire_all()
    # Proposals hold softly (proposed) until the donor accepts: nothing is pledged yet.
    for need in world["needs"]:
        held = sum(m.quantity for m in matches if m.need_id == need.id)
        stored = db.session.get(Need, need.id)
        assert (stored.pledged, stored.proposed) == (0, held)
    for offer in world["offers"]:
        held = sum(m.quantity for m in matches if m.offer_id == offer.id)
        stored = db.session.get(Offer, offer.id)
        assert (stored.allocated, stored.proposed) == (0, held)
    assert not [m for m in matches if m.need_id == world["unverified_need"].id]
    assert not [m for m in matches if m.offer_id == world["shady_offer"].id]
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "matching.run", AuditEvent.object_id == run.id
        )
    )
    assert event is not None and event.after["proposals"] == run.proposals
    assert event.actor_id == world["coordinator"].id


@pytest.mark.parametrize("side", ["exact", "coarse"])
def test_a_run_reaches_a_need_at_its_coarse_point(app, side):
    """The donor sees proposals before any coordinator: whether its offer is proposed for a
    need must not tell it where the need's exact point is, so runs measure from the coarse
    point, as the candidate lists do."""
    front = make_org("Front R")
    donor = make_org("Donor R", kind=OrgKind.DONOR_COLLECTIVE)
    coordinator = make_user(Role.COORDINATOR)
    kharkiv = make_place("Kharkiv run test", lat=49.99, lon=36.23, oblast="Kharkiv Oblast")
    need = make_need(front, None, kharkiv, quantity=10, lat=50.0012, lon=36.2487)
    db.session.flush()
    offer = make_offer_between(need, donor, reaching=side, quantity=10)
    db.session.commit()

    run_matching(coordinator)
    proposed = [(m.need_id, m.offer_id) for m in engine_matches()]
    assert ((need.id, offer.id) in proposed) == (side == "coarse")


def test_a_second_run_straight_after_proposes_nothing_new(app):
    world = small_world()
    first = run_matching(world["coordinator"])
    before = len(engine_matches())
    second = run_matching(world["coordinator"])
    assert second.status == RunStatus.FINISHED
    assert second.proposals == 0
    assert len(engine_matches()) == before == first.proposals
    assert invariant_violations() == []


def test_pairs_with_an_active_match_are_not_proposed_again(app):
    world = small_world()
    need, offer = world["needs"][0], world["offers"][0]
    match_operations.reserve(
        need, offer, offer.organization, 5, source=MatchSource.CLAIM, donor_accepted=True
    )
    db.session.commit()
    run = run_matching(world["coordinator"])
    pairs = [(m.need_id, m.offer_id) for m in engine_matches()]
    assert (need.id, offer.id) not in pairs
    assert run.skipped["pair:already_matched"] == 1
    assert invariant_violations() == []


def test_a_pair_someone_said_no_to_is_never_proposed_again(app):
    """Declined by the donor, rejected by a coordinator, withdrawn after confirming: the next
    run does not propose that need with that offer again, nor does the offer's page."""
    from aidmatch.candidates.ranking import candidates_for_need, candidates_for_offer

    world = small_world()
    coordinator, donor_user = world["coordinator"], world["donor_user"]
    run_matching(coordinator)
    donor_org = world["offers"][0].organization_id
    mine = sorted(
        (m for m in engine_matches() if m.organization_id == donor_org), key=lambda m: m.id
    )
    assert len(mine) == 4, [(m.need_id, m.offer_id) for m in mine]
    match_operations.decline(mine[0], donor_user, "we keep these for Izium")
    match_operations.reject(mine[1], coordinator, "the road is closed")
    match_operations.accept(mine[2], donor_user)
    match_operations.approve(mine[2], coordinator)
    match_operations.withdraw(mine[2], donor_user, "the van broke down")
    db.session.commit()
    assert [m.status for m in mine[:3]] == [
        MatchStatus.DECLINED,
        MatchStatus.REJECTED,
        MatchStatus.WITHDRAWN,
    ]
    said_no = {(m.need_id, m.offer_id) for m in mine[:3]}

    second = run_matching(coordinator)
    assert second.status == RunStatus.FINISHED
    again = {(m.need_id, m.offer_id) for m in engine_matches() if m.run_id == second.id}
    assert not again & said_no
    assert second.skipped["pair:already_matched"] == 4  # the three refused pairs among them
    for need_id, offer_id in said_no:
        need, offer = db.session.get(Need, need_id), db.session.get(Offer, offer_id)
        for viewer in (coordinator, donor_user):
            shown = [i["need_id"] for i in candidates_for_offer(offer, viewer, limit=20)]
            assert need_id not in shown
            shown = [i["offer_id"] for i in candidates_for_need(need, viewer, limit=20)]
            assert offer_id not in shown
    # the donor may still change its mind and claim the need from that offer by hand
    open_pairs = [
        (need, offer)
        for need, offer in (
            (db.session.get(Need, n), db.session.get(Offer, o)) for n, o in sorted(said_no)
        )
        if min(need.quantity - need.pledged, offer.quantity - offer.allocated) > 0
    ]
    assert open_pairs, "no refused pair has quantity left on both sides"
    need, offer = open_pairs[0]
    claimed = match_operations.claim_need(need, donor_user, 1, offer=offer)
    db.session.commit()
    assert claimed.status == MatchStatus.PENDING and claimed.source == MatchSource.CLAIM
    assert invariant_violations() == []


def test_a_claim_arriving_during_the_run_is_never_over_allocated(app, monkeypatch):
    """Between loading and storing, a donor claims everything a proposed need still had."""
    world = small_world()
    real_propose = job.propose
    claimed = {}

    def propose_then_claim(*args, **kwargs):
        result = real_propose(*args, **kwargs)
        # the first proposal of the smallest offer proposed: claiming all it has left leaves
        # its other proposal nothing to reserve, and one on the same need less
        left_of = {
            o: db.session.get(Offer, o).quantity - db.session.get(Offer, o).allocated
            for o in {p.offer_id for p in result.proposals}
        }
        smallest = min(left_of, key=lambda o: (left_of[o], o))
        first = next(p for p in result.proposals if p.offer_id == smallest)
        need = db.session.get(Need, first.need_id)
        offer = db.session.get(Offer, first.offer_id)
        left = min(need.quantity - need.pledged, offer.quantity - offer.allocated)
        match_operations.reserve(
            need, offer, offer.organization, left, source=MatchSource.CLAIM, donor_accepted=True
        )
        db.session.commit()
        claimed.update(need=need.id, offer=offer.id, quantity=left)
        return result

    monkeypatch.setattr(job, "propose", propose_then_claim)
    run = run_matching(world["coordinator"])
    assert run.status == RunStatus.FINISHED, run.error
    assert claimed == {"need": 1, "offer": 4, "quantity": 8} and run.proposals == 5
    # the claimed pair itself, one proposal with nothing left to reserve, one cut to what was left
    assert run.skipped["pair:already_matched"] == 1
    assert run.skipped["proposal:reserved_meanwhile"] == 1
    assert run.skipped["proposal:reduced_meanwhile"] == 1
    assert taken_meanwhile(run) == 3
    assert invariant_violations() == []
    for model, column in ((Need, Need.pledged), (Offer, Offer.allocated)):
        over = db.session.scalar(
            select(func.count()).select_from(model).where(column > model.quantity)
        )
        assert over == 0


def test_a_bad_row_is_skipped_and_counted_and_the_run_goes_on(app, monkeypatch):
    world = small_world()
    real_load = job.load_need_records
    bad_id = world["needs"][0].id

    def load_with_a_unit_mismatch(scope, skipped):
        records = real_load(scope, skipped)
        return [
            r if r.id != bad_id else r.__class__(**{**_fields(r), "unit": "kg"}) for r in records
        ]

    monkeypatch.setattr(job, "load_need_records", load_with_a_unit_mismatch)
    run = run_matching(world["coordinator"])
    assert run.status == RunStatus.FINISHED
    assert run.skipped["need:unit_mismatch"] == 1
    assert run.needs_considered == 3
    assert run.proposals == 6
    assert not [m for m in engine_matches() if m.need_id == bad_id]
    assert [bad_id, "need", "unit_mismatch"] in [
        [row[1], row[0], row[2]] for row in run.parameters["skipped_rows"]
    ]


def test_the_coordinator_sees_which_rows_were_skipped_and_why(
    app, monkeypatch, login_as, api_client
):
    """Not only counts: the run's page links each skipped need or offer with its reason,
    and the API lists them, so a coordinator can go and correct them."""
    world = small_world()
    real_load = job.load_need_records
    bad_id = world["needs"][0].id

    def load_with_a_unit_mismatch(scope, skipped):
        return [
            r if r.id != bad_id else r.__class__(**{**_fields(r), "unit": "kg"})
            for r in real_load(scope, skipped)
        ]

    monkeypatch.setattr(job, "load_need_records", load_with_a_unit_mismatch)
    coordinator = world["coordinator"]
    run = run_matching(coordinator)
    coordinator.language = "en"
    db.session.commit()
    page = login_as(coordinator).get(f"/matching/runs/{run.id}").get_data(as_text=True)
    assert "Rows to look at" in page
    assert f'<a href="/needs/{bad_id}">Need #{bad_id}</a>: unit differs from the' in page
    body = api_client(coordinator).get(f"/matching/runs/{run.id}").get_json()
    assert body["skipped_rows"] == [{"kind": "need", "id": bad_id, "reason": "unit_mismatch"}]
    clean = run_matching(coordinator, "food")
    assert clean.skipped_rows == []
    assert "Rows to look at" not in login_as(coordinator).get(
        f"/matching/runs/{clean.id}"
    ).get_data(as_text=True)


def _fields(record) -> dict:
    return {name: getattr(record, name) for name in record.__slots__}


def test_a_failing_run_is_marked_failed_with_its_error(app, monkeypatch):
    world = small_world()

    def broken(*_args, **_kwargs):
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(job, "propose", broken)
    run = run_matching(world["coordinator"])
    assert run.status == RunStatus.FAILED
    assert "solver exploded" in run.error
    assert engine_matches() == []
    assert db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "matching.run", AuditEvent.object_id == run.id
        )
    )


def running_row(scope: RunScope, minutes_ago: float = 1, beat_ago: float = 0) -> MatchingRun:
    """A run under way, started minutes ago, its worker's last heartbeat seconds ago."""
    run = MatchingRun(
        parameters=scope.parameters(),
        scope=scope.key,
        status=RunStatus.RUNNING,
        started_at=utcnow() - timedelta(minutes=minutes_ago),
        heartbeat_at=utcnow() - timedelta(seconds=beat_ago),
        skipped={},
        timings={},
    )
    db.session.add(run)
    db.session.commit()
    return run


def test_a_run_is_refused_while_an_overlapping_one_runs(app):
    world = small_world()
    running_row(resolve_scope())
    with pytest.raises(Refusal) as refused:
        run_matching(world["coordinator"], "tourniquets")
    assert refusal_status(refused.value) == 409
    assert "still running" in refused.value.message
    assert engine_matches() == []


def test_scopes_overlap_by_category_branch_and_oblast(app):
    small_world()
    medicine = resolve_scope("tactical-medicine")
    tourniquets = resolve_scope("tourniquets")
    gauze = resolve_scope("hemostatic-gauze")
    kharkiv = resolve_scope(None, "Kharkiv Oblast")
    kyiv_tourniquets = resolve_scope("tourniquets", "Kyiv")
    assert medicine.overlaps(tourniquets) and tourniquets.overlaps(medicine)
    assert not tourniquets.overlaps(gauze)
    assert kharkiv.overlaps(tourniquets)
    assert not kharkiv.overlaps(kyiv_tourniquets)
    assert resolve_scope().overlaps(gauze)
    assert tourniquets.key == "category=tourniquets"
    with pytest.raises(Refusal) as unknown:
        resolve_scope("no-such-thing")
    assert refusal_status(unknown.value) == 422 and unknown.value.field == "category"
    with pytest.raises(Refusal):
        resolve_scope(None, "Atlantis Oblast")


def test_a_run_for_another_oblast_may_run_meanwhile(app):
    world = small_world()
    running_row(resolve_scope(None, "Kyiv"))
    run = run_matching(world["coordinator"], oblast="Kharkiv Oblast")
    assert run.status == RunStatus.FINISHED
    needs = {m.need_id for m in engine_matches()}
    assert needs and all(db.session.get(Need, n).place.oblast == "Kharkiv Oblast" for n in needs)


def test_a_run_whose_worker_died_is_marked_failed_and_does_not_block(app):
    world = small_world()
    silent = app.config["RUN_HEARTBEAT_TIMEOUT_SECONDS"] + 1
    lost = running_row(resolve_scope(), minutes_ago=45, beat_ago=silent)
    run = run_matching(world["coordinator"])
    assert run.status == RunStatus.FINISHED
    db.session.refresh(lost)
    assert lost.status == RunStatus.FAILED and "no heartbeat since" in lost.error


def test_a_claim_from_another_connection_between_two_stored_batches(app, monkeypatch):
    """While the run stores its proposals (one per batch here), a donor's claim commits in
    another connection and takes all that the next proposal's need still has open: the run
    stores that proposal reduced or not at all, reading the need afresh, never over it."""
    world = small_world()
    monkeypatch.setattr(storing, "STORE_BATCH", 1)
    real_store = storing._store_batch
    claimed: dict = {}

    def claim_elsewhere(need_id: int, offer_id: int) -> None:
        with app.app_context():
            try:
                need = db.session.get(Need, need_id)
                offer = db.session.get(Offer, offer_id)
                left = min(need.quantity - need.pledged, offer.quantity - offer.allocated)
                match_operations.reserve(
                    need,
                    offer,
                    offer.organization,
                    left,
                    source=MatchSource.CLAIM,
                    donor_accepted=True,
                )
                db.session.commit()
                claimed.update(need=need_id, quantity=left)
            finally:
                db.session.remove()

    batches: list[int] = []

    def covers_its_need(proposal) -> bool:
        with db.engine.connect() as conn:  # a short read of its own, as committed now
            need_open = conn.scalar(
                select(Need.quantity - Need.pledged).where(Need.id == proposal.need_id)
            )
            offer_left = conn.scalar(
                select(Offer.quantity - Offer.allocated).where(Offer.id == proposal.offer_id)
            )
        return 0 < need_open <= offer_left

    def store_with_a_claim_in_between(run_id, batch, actor, skipped):
        # once a batch is stored, claim before the first later one whose offer can cover
        # all its need still has open
        if batches and not claimed and covers_its_need(batch[0]):
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
    assert claimed == {"need": 4, "quantity": 5} and run.proposals == 6
    engine = [m for m in engine_matches() if m.need_id == claimed["need"]]
    need = db.session.get(Need, claimed["need"])
    assert need.pledged == need.quantity == 5
    assert engine == []  # the claim took all of it: the run proposed nothing more
    assert taken_meanwhile(run) == run.skipped["pair:already_matched"] == 1
    assert invariant_violations() == []


def test_concurrent_starts_for_the_same_scope_let_exactly_one_run(app, monkeypatch):
    small_world()
    gate = threading.Event()
    real_propose = job.propose

    def held_propose(*args, **kwargs):
        gate.wait(20)
        return real_propose(*args, **kwargs)

    monkeypatch.setattr(job, "propose", held_propose)
    barrier = threading.Barrier(3)
    outcomes: list[str] = []

    def start():
        with app.app_context():
            try:
                barrier.wait(10)
                run = run_matching(None, "tactical-medicine")
                outcomes.append(str(run.status))
            except Refusal as err:
                outcomes.append(str(refusal_status(err)))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while outcomes.count("409") < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    gate.set()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["409", "409", "finished"]
    assert db.session.scalar(select(func.count()).select_from(MatchingRun)) == 1


def test_unknown_allocator_is_refused_and_greedy_works(app):
    world = small_world()
    with pytest.raises(Refusal) as refused:
        run_matching(world["coordinator"], allocator="magic")
    assert refusal_status(refused.value) == 422
    run = run_matching(world["coordinator"], allocator="greedy")
    assert run.status == RunStatus.FINISHED and run.proposals == 6
    assert run.parameters["allocator"] == "greedy"
    assert invariant_violations() == []


def test_the_cli_runs_matching_and_prints_the_report(app):
    world = small_world()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["match", "run", "--category", "tactical-medicine"])
    assert result.exit_code == 0, result.output
    assert "proposals:" in result.output and "skipped need:unverified_group: 1" in result.output
    run = db.session.scalar(select(MatchingRun))
    assert run.scope == "category=tactical-medicine" and run.started_by_id is None
    assert run.proposals == len(engine_matches()) == 7
    again = runner.invoke(args=["match", "run", "--json"])
    assert again.exit_code == 0, again.output
    assert '"proposals": 0' in again.output
    bad = runner.invoke(args=["match", "run", "--category", "nope"])
    assert bad.exit_code != 0 and "no such category" in bad.output
    del world


def test_the_demo_data_gives_sensible_proposals(app, monkeypatch):
    from aidmatch.auth import operations as auth_operations
    from aidmatch.demo.seeding import seed_demo

    hashed = auth_operations.hash_password("x")
    monkeypatch.setattr(auth_operations, "hash_password", lambda _password: hashed)
    seed_demo()
    db.session.commit()
    run = run_matching(None)
    assert run.status == RunStatus.FINISHED, run.error
    matches = engine_matches()
    assert run.proposals == len(matches) > 10
    assert run.needs_considered > 100 and run.offers_considered > 50
    for match in matches:
        need, offer = match.need, match.offer
        assert str(need.category.unit) == str(offer.category.unit)
        radius = offer.delivery_radius_km
        assert radius is None or match.distance_km <= radius + 0.01
        assert match.explanation["facts"]["distance_km"] == pytest.approx(
            match.distance_km, abs=0.1
        )
    assert invariant_violations() == []
    again = run_matching(None)
    assert again.proposals == 0


def test_the_engine_drops_excluded_pairs_before_allocating():
    from datetime import UTC, datetime

    from aidmatch.engine import NeedRecord, OfferRecord, propose

    now = datetime(2025, 3, 1, tzinfo=UTC)
    needs = [NeedRecord(1, 2, "pcs", 10, 50.0, 36.2, "high", None, now, True)]
    offers = [
        OfferRecord(1, 2, "pcs", 10, 50.0, 36.2, 50.0, 7),
        OfferRecord(2, 2, "pcs", 10, 50.1, 36.3, 50.0, 8),
    ]
    ancestry = {2: ()}
    plain = propose(needs, offers, ancestry, now)
    assert [(p.need_id, p.offer_id) for p in plain.proposals] == [(1, 1)]
    result = propose(needs, offers, ancestry, now, exclude={(1, 1)})
    assert [(p.need_id, p.offer_id, p.quantity) for p in result.proposals] == [(1, 2, 10)]
    assert result.report.excluded_pairs == 1 and result.report.candidate_pairs == 1
    assert propose(needs, offers, ancestry, now, exclude=set()).proposals == plain.proposals


def test_an_over_reserved_need_from_old_data_is_skipped_and_counted(app):
    """Old data can hold more pledged than the quantity (SQLite can be made to store it)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL always enforces the CHECK constraint")
    world = small_world()
    bad = world["needs"][1]
    db.session.execute(text("PRAGMA ignore_check_constraints = ON"))
    db.session.execute(
        text("UPDATE needs SET pledged = quantity + 5 WHERE id = :id"), {"id": bad.id}
    )
    db.session.execute(text("PRAGMA ignore_check_constraints = OFF"))
    db.session.commit()
    run = run_matching(world["coordinator"])
    assert run.status == RunStatus.FINISHED
    assert run.skipped["need:over_reserved"] == 1
    assert not [m for m in engine_matches() if m.need_id == bad.id]
