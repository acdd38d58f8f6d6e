"""Reminders and the coordinators' digest: each at its time, none too early, each told once
(the job functions take the time as `now`); the periodic jobs that replace cron."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select, update

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.jobs.queue import JOBS, run_now
from aidmatch.matches import operations as ops
from aidmatch.matches.digest import queue_digest, waiting_organizations
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.matches.reminders import remind_pending, remind_ship
from aidmatch.needs.models import Need
from aidmatch.needs.operations import cancel_need
from aidmatch.needs.reminders import ask_still_needed, remind_unpledged
from aidmatch.notify.messages import render
from aidmatch.orgs.models import Organization
from tests.factories import make_org
from tests.notice_helpers import expect, make_world, mark, notes, propose, told
from tests.posting_factories import make_need

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def claimed(world, quantity: int = 10) -> Match:
    cast = world.cast
    return ops.claim_need(cast.need, cast.donor, quantity, offer=cast.offer)


def reminded(start: int, kind: str) -> set[tuple[int, int]]:
    """(match id, user id) of the reminders of this kind written after start."""
    return {(n.match_id, n.user_id) for n in notes(start, kind)}


def pairs(match, users) -> set[tuple[int, int]]:
    return {(match.id, user.id) for user in users}


def test_a_pending_match_reminds_who_must_still_agree_12_hours_before_once(app):
    world = make_world()
    unanswered = propose(world, 5)  # neither consent
    claim = claimed(world, 5)  # the donor's consent only
    approved = ops.approve(propose(world, 5), world.cast.coordinator)  # the coordinator's only
    deadline = min(m.expires_at for m in (unanswered, claim, approved))
    start = mark()
    assert remind_pending(deadline - 12 * HOUR - timedelta(minutes=5)) == 0

    now = deadline - 11 * HOUR
    remind_pending(now)
    assert reminded(start, "reminder_pending") == (
        pairs(unanswered, world.donors + world.reviewers)
        | pairs(claim, world.reviewers)
        | pairs(approved, world.donors)
    )
    # The donors have two: each in the inbox and one summary (tests/test_reminder_summaries.py)
    assert {kind for _user, kind in told(start)} == {"reminder_pending", "reminders_pending"}

    start = mark()
    assert remind_pending(now + HOUR) == 0
    assert remind_pending(deadline + HOUR) == 0  # lapsed: it expires, nobody is reminded

    # More time is a new deadline: reminded once more, 12 hours before it.
    ops.request_extension(claim, world.cast.donor)
    start = mark()
    assert remind_pending(now + HOUR) == 0
    remind_pending(claim.expires_at - 11 * HOUR)
    assert reminded(start, "reminder_pending") == pairs(claim, world.reviewers)


def test_a_confirmed_match_not_shipped_reminds_the_donor_at_three_quarters_of_its_time(app):
    world = make_world()
    match = ops.approve(claimed(world), world.cast.coordinator)
    shipped = ops.approve(claimed(world, 5), world.cast.coordinator)
    ops.ship(shipped, world.cast.donor, "Nova Poshta")
    assert match.status == MatchStatus.CONFIRMED
    begun, deadline = match.confirmed_at, match.expires_at
    three_quarters = begun + (deadline - begun) * 0.75
    start = mark()
    assert remind_ship(three_quarters - HOUR) == 0
    assert told(start) == []

    remind_ship(three_quarters + timedelta(minutes=1))
    assert reminded(start, "reminder_ship") == pairs(match, world.donors)
    assert told(start) == expect("reminder_ship", *world.donors)
    start = mark()
    assert remind_ship(three_quarters + 2 * HOUR) == 0
    assert remind_ship(deadline + DAY) == 0


def test_an_open_need_with_nothing_pledged_reminds_3_days_before_it_is_due(app):
    today = utcnow().date()
    due = (today + 5 * DAY).isoformat()
    world = make_world(needed_by=due)
    cast = world.cast
    pledged = make_need(cast.group, cast.organizer, needed_by=due)
    ops.claim_need(pledged, cast.donor, 1, offer=cast.offer)
    now = utcnow()
    start = mark()
    assert remind_unpledged(now + DAY) == 0  # 4 days before

    remind_unpledged(now + 2 * DAY)
    assert told(start) == sorted(
        expect("reminder_unpledged", *world.group) + expect("reminder_unpledged", *world.reviewers)
    )
    assert {n.need_id for n in notes(start)} == {cast.need.id}
    start = mark()
    assert remind_unpledged(now + 2 * DAY + HOUR) == 0
    assert remind_unpledged(now + 6 * DAY) == 0  # past its date: it expires


def test_the_group_is_asked_every_7_days_whether_a_need_is_still_needed(app):
    world = make_world()
    cast = world.cast
    cancelled = make_need(cast.group, cast.organizer)
    cancel_need(cancelled, cast.organizer)
    posted = cast.need.created_at
    start = mark()
    assert ask_still_needed(posted + 6 * DAY) == 0

    ask_still_needed(posted + 7 * DAY + HOUR)
    assert told(start) == expect("still_needed", *world.group)
    note = notes(start)[0]
    assert note.need_id == cast.need.id
    assert render(note, "en").path == f"/needs/{cast.need.id}"
    assert ask_still_needed(posted + 8 * DAY) == 0
    assert ask_still_needed(posted + 13 * DAY) == 0

    ask_still_needed(posted + 14 * DAY + HOUR)
    assert told(start) == sorted(expect("still_needed", *world.group) * 2)


def test_the_daily_digest_counts_what_each_coordinator_may_review(app):
    # at noon (UTC): an hour later is still the same day, whenever the suite runs
    noon = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    with time_machine.travel(noon, tick=True):
        daily_digest_counts_what_each_coordinator_may_review()


def daily_digest_counts_what_each_coordinator_may_review():
    world = make_world()
    claimed(world, 5)
    claimed(world, 6)
    make_org("Waiting group", verified=False)
    organizations = waiting_organizations()
    assert organizations >= 1
    now = utcnow()
    start = mark()
    queue_digest(now)
    assert told(start) == sorted(expect("queue_digest", *world.reviewers, world.party_coordinator))
    for note in notes(start):
        assert not note.inbox
        mine = 0 if note.user_id == world.party_coordinator.id else 2
        assert note.params == {"count": mine, "expiring": 0, "organizations": organizations}
    assert render(notes(start)[0], "en").text == (
        f"Waiting for review: matches 2 (expiring within 24 hours: 0), organizations "
        f"{organizations}."
    )
    start = mark()
    assert queue_digest(now + HOUR) == 0  # once a day
    assert queue_digest(now + DAY) == 3


def test_the_digest_counts_what_expires_before_the_next_one(app):
    world = make_world()
    first, second = claimed(world, 5), claimed(world, 6)
    ops.request_extension(second, world.cast.donor)  # now further away than a day
    assert second.expires_at > first.expires_at + DAY
    start = mark()
    queue_digest(first.expires_at - 12 * HOUR)
    params = {n.user_id: n.params for n in notes(start)}
    assert params[world.cast.coordinator.id]["count"] == 2
    assert params[world.cast.coordinator.id]["expiring"] == 1


def test_the_digest_says_nothing_to_whom_nothing_waits(app):
    db.session.execute(update(Organization).values(verified_at=utcnow(), state="verified"))
    world = make_world()
    start = mark()
    assert queue_digest(utcnow()) == 0
    assert told(start) == []

    claimed(world)  # the party coordinator may not review it: still nothing for them
    start = mark()
    queue_digest(utcnow() + DAY)
    assert told(start) == expect("queue_digest", *world.reviewers)


def test_periodic_jobs_replace_cron(app):
    schedules = {name: JOBS[name].schedule for name in JOBS}
    assert schedules["postings.expire"] == {"minute": "*/10"}
    assert schedules["matches.expire"] == {"minute": "*/10"}
    assert schedules["matches.remind"] == {"minute": "5"}
    assert schedules["needs.remind"] == {"minute": "15"}
    assert schedules["matches.digest"] == {"hour": "7", "minute": "0"}

    world = make_world()
    match = claimed(world)
    late = make_need(world.cast.group, world.cast.organizer)
    db.session.execute(update(Match).where(Match.id == match.id).values(expires_at=utcnow() - HOUR))
    db.session.execute(
        update(Need).where(Need.id == late.id).values(needed_by=utcnow().date() - DAY)
    )
    db.session.commit()
    start = mark()
    assert run_now("matches.expire")["expired"] == 1
    assert run_now("postings.expire") == (1, 0)
    assert db.session.scalar(select(Match.status).where(Match.id == match.id)) == "expired"
    assert db.session.scalar(select(Need.status).where(Need.id == late.id)) == "expired"
    assert {kind for _user, kind in told(start)} == {"match_expired"}
    run_now("matches.remind")
    run_now("needs.remind")
    run_now("matches.digest")
