"""A matching run tells each organization once, however many batches stored its proposals: a
donor organization the number of its new proposals (run_proposals), a group for how many of
its needs donors were proposed (run_proposals_group); the coordinators nothing. A run that
died unfinished tells when the next run marks it failed."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches.holds import reserve
from aidmatch.matches.models import Match, MatchSource
from aidmatch.needs.models import Need
from aidmatch.notify.messages import render
from aidmatch.offers.models import Offer
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from aidmatch.runs import storing
from aidmatch.runs.job import run_matching
from aidmatch.runs.models import MatchingRun, RunStatus
from tests.factories import make_org, make_user
from tests.notice_helpers import mark, notes, told
from tests.posting_factories import make_need, make_offer, make_place


def three_donors():
    kharkiv = make_place("Kharkiv run test", lat=49.99, lon=36.23, oblast="Kharkiv Oblast")
    group = make_org("Front run")
    organizer = make_user(Role.ORGANIZER, org=group)
    for quantity in (30, 20, 25, 15, 10):
        make_need(group, organizer, kharkiv, quantity=quantity)
    donors = {}
    for name, offers in (("Donor one", 1), ("Donor two", 2), ("Donor three", 3)):
        org = make_org(name, kind=OrgKind.DONOR_COLLECTIVE)
        members = [make_user(Role.DONOR, org=org, language="en") for _ in range(2)]
        for _ in range(offers):
            make_offer(org, members[0], kharkiv, quantity=12, delivery_radius_km=50)
        donors[org.id] = members
    coordinator = make_user(Role.COORDINATOR)
    db.session.commit()
    return donors, organizer, coordinator


def test_a_run_tells_each_organization_once_with_its_count(app, monkeypatch):
    monkeypatch.setattr(storing, "STORE_BATCH", 2)  # several committed batches
    donors, organizer, coordinator = three_donors()
    start = mark()
    run = run_matching(coordinator)
    assert run.status == RunStatus.FINISHED, run.error
    proposals = Counter(
        db.session.scalars(
            select(Match.organization_id).where(
                Match.run_id == run.id, Match.source == MatchSource.ENGINE
            )
        )
    )
    assert set(proposals) == set(donors), run.skipped
    assert sum(proposals.values()) == run.proposals
    assert len(set(proposals.values())) > 1  # the counts differ from one donor to the next

    everyone = [user for members in donors.values() for user in members]
    expected = [(user.id, "run_proposals") for user in everyone]
    assert told(start) == sorted([*expected, (organizer.id, "run_proposals_group")])
    (group_note,) = [n for n in notes(start) if n.user_id == organizer.id]
    needs_proposed = len(
        set(db.session.scalars(select(Match.need_id).where(Match.run_id == run.id)))
    )
    assert group_note.params == {"count": needs_proposed}
    assert render(group_note, "en").text == (
        f"Your needs for which the matching proposed donors: {needs_proposed}. You will hear "
        "when a donor agrees."
    )
    for org_id, members in donors.items():
        for member in members:
            (note,) = [n for n in notes(start) if n.user_id == member.id]
            assert note.params == {"count": proposals[org_id]}
            assert render(note, "en").text == (
                f"New proposals for your offers: {proposals[org_id]}. Please answer them."
            )

    start = mark()
    again = run_matching(coordinator)
    assert again.status == RunStatus.FINISHED and again.proposals == 0
    assert told(start) == []


def test_a_lost_run_marked_failed_tells_what_it_stored(app):
    donors, organizer, coordinator = three_donors()
    org_id, members = next(iter(donors.items()))
    stale = MatchingRun(
        started_by_id=coordinator.id,
        parameters={"allocator": "flow", "verified_only": True},
        scope="all",
        status=RunStatus.RUNNING,
        started_at=utcnow() - timedelta(minutes=5),
        heartbeat_at=utcnow() - timedelta(seconds=app.config["RUN_HEARTBEAT_TIMEOUT_SECONDS"] + 1),
        skipped={},
        timings={},
    )
    db.session.add(stale)
    db.session.flush()
    need = db.session.scalars(
        select(Need).where(Need.organization_id == organizer.organization_id)
    ).first()
    offer = db.session.scalars(select(Offer).where(Offer.organization_id == org_id)).first()
    reserve(need, offer, offer.organization, 2, source=MatchSource.ENGINE, run=stale)
    db.session.commit()  # the worker died here: the run never finished, nobody was told
    start = mark()

    run = run_matching(coordinator)
    db.session.refresh(stale)
    assert stale.status == RunStatus.FAILED and run.status == RunStatus.FINISHED
    told_of_stale = {
        (n.user_id, n.kind, json.dumps(n.params))
        for n in notes(start)
        if n.dedupe_key.startswith(f"run:{stale.id}:")
    }
    assert told_of_stale == {
        *((member.id, "run_proposals", '{"count": 1}') for member in members),
        (organizer.id, "run_proposals_group", '{"count": 1}'),
    }
