"""Who is told about a match (matches/lifecycle.py's `tells`, written by matches/notices.py)
and about organizations (orgs' signals, notify/events.py): each move tells exactly the users
the table names, never the actor, nobody when it rolls back, and nothing private."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from aidmatch.auth.operations import register_with_new_org
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches import operations as ops
from aidmatch.matches.models import Match
from aidmatch.needs.operations import cancel_need
from aidmatch.notify.messages import render, what, where
from aidmatch.notify.models import Notification
from aidmatch.orgs.models import OrgKind
from aidmatch.orgs.operations import verify_organization
from aidmatch.permissions import Role
from tests.factories import PASSWORD, make_org, make_user
from tests.notice_helpers import (
    ALLOWED_PARAMS,
    expect,
    make_world,
    mark,
    notes,
    params_of,
    propose,
    told,
)


def claimed(world, quantity: int = 10) -> Match:
    cast = world.cast
    return ops.claim_need(cast.need, cast.donor, quantity, offer=cast.offer)


def confirmed(world, quantity: int = 10) -> Match:
    match = claimed(world, quantity)
    return ops.approve(match, world.cast.coordinator)


def test_a_claim_tells_the_group_and_the_coordinators_of_neither_side(app):
    world = make_world()
    start = mark()
    claimed(world)
    assert told(start) == sorted(
        expect("match_claimed", *world.group) + expect("match_to_review", *world.reviewers)
    )  # not the donor who claimed, nor its colleague, nor the coordinator who is gone


def test_an_engine_proposal_tells_nobody_until_the_donor_accepts(app):
    world = make_world()
    start = mark()
    match = propose(world)
    assert told(start) == []

    ops.accept(match, world.donor2)
    assert told(start) == sorted(
        expect("match_accepted", *world.group) + expect("match_to_review", *world.reviewers)
    )
    start = mark()
    ops.approve(match, world.admin)
    assert told(start) == sorted(
        expect("match_confirmed_ship", *world.donors) + expect("match_confirmed", *world.group)
    )


def test_an_approval_before_the_donor_answered_asks_the_donor_and_the_acceptance_confirms(app):
    world = make_world()
    match = propose(world)
    start = mark()
    ops.approve(match, world.cast.coordinator)
    assert told(start) == expect("match_approved_answer", *world.donors)  # they must act next
    note = notes(start)[0]
    message = render(note, "en")
    assert message.text == (
        f"A coordinator approved the proposal of {what(note.params)} for a need in "
        f"{where(note.params)}. Please accept or decline."
    )
    assert what(note.params).startswith("10 ")
    assert message.buttons == ("accept", "decline")
    assert message.path == f"/matches/{match.id}"

    start = mark()
    ops.accept(match, world.cast.donor)
    assert told(start) == sorted(
        expect("match_confirmed", *world.group) + expect("match_confirmed_ship", world.donor2)
    )


def test_a_rejection_tells_the_donor_and_the_group_the_reason(app):
    world = make_world()
    match = claimed(world)
    start = mark()
    ops.reject(match, world.cast.coordinator, "Duplicate of another claim")
    assert told(start) == sorted(
        expect("match_rejected", *world.donors) + expect("match_rejected", *world.group)
    )
    assert params_of(world.cast.donor, start)["reason"] == "Duplicate of another claim"


def test_a_proposal_nobody_agreed_to_is_no_news_for_the_group(app):
    world = make_world()
    rejected, declined = propose(world, 5), propose(world, 5)
    start = mark()
    ops.reject(rejected, world.admin, "Too far")
    assert told(start) == expect("match_rejected", *world.donors)
    start = mark()
    ops.decline(declined, world.cast.donor)
    assert told(start) == []


def test_a_declined_claim_tells_the_group(app):
    world = make_world()
    match = claimed(world)
    start = mark()
    ops.decline(match, world.donor2, "Our truck broke down")
    assert told(start) == expect("match_declined", *world.group)
    assert params_of(world.organizer2, start)["reason"] == "Our truck broke down"


def test_shipping_tells_the_group_and_a_full_delivery_the_donor_and_coordinators(app):
    world = make_world()
    match = confirmed(world)
    start = mark()
    ops.ship(match, world.cast.donor, "Nova Poshta")
    assert told(start) == expect("match_shipped", *world.group)

    start = mark()
    ops.confirm_delivery(match, world.cast.organizer, 10)
    assert told(start) == sorted(
        expect("match_delivered", *world.donors) + expect("match_delivered", *world.reviewers)
    )


def test_a_shortfall_tells_how_much_arrived(app):
    world = make_world()
    match = confirmed(world)
    ops.ship(match, world.cast.donor, "Nova Poshta")
    start = mark()
    ops.confirm_delivery(match, world.organizer2, 7, note="Three were missing")
    assert told(start) == sorted(
        expect("match_shortfall", *world.donors) + expect("match_shortfall", *world.reviewers)
    )
    params = params_of(world.cast.donor, start)
    assert (params["received"], params["quantity"]) == (7, 10)
    text = render(notes(start, "match_shortfall")[0], "en").text
    assert text.startswith("Only 7 of 10")


def test_withdrawal_extension_and_release_tell_the_other_side(app):
    world = make_world()
    match = confirmed(world)
    start = mark()
    ops.request_extension(match, world.cast.donor)
    assert told(start) == expect("match_extended", *world.group)

    start = mark()
    ops.withdraw(match, world.donor2, "Stock went to another group")
    assert told(start) == expect("match_withdrawn", *world.group)
    assert params_of(world.cast.organizer, start)["reason"] == "Stock went to another group"

    late = confirmed(world)
    db.session.execute(
        update(Match).where(Match.id == late.id).values(expires_at=utcnow() - timedelta(hours=1))
    )
    db.session.refresh(late)
    start = mark()
    ops.release(late, world.admin, "Never shipped")
    assert told(start) == sorted(
        expect("match_expired", *world.donors) + expect("match_expired", *world.group)
    )
    assert params_of(world.donor2, start)["reason"] == "Never shipped"


def test_cancelling_the_need_tells_the_donor_and_the_rest_of_the_group(app):
    world = make_world()
    claimed(world)
    start = mark()
    cancel_need(world.cast.need, world.cast.organizer, reason="Received elsewhere")
    others = [world.organizer2, world.party_coordinator]
    assert told(start) == sorted(
        expect("match_cancelled", *world.donors) + expect("match_cancelled", *others)
    )
    assert params_of(world.cast.donor, start)["reason"] == "Received elsewhere"


def test_expiry_by_the_job_tells_both_sides_without_a_made_up_reason(app):
    world = make_world()
    match = claimed(world)
    db.session.execute(
        update(Match).where(Match.id == match.id).values(expires_at=utcnow() - timedelta(hours=1))
    )
    start = mark()
    assert ops.expire_matches(utcnow())["expired"] == 1
    assert told(start) == sorted(
        expect("match_expired", *world.donors) + expect("match_expired", *world.group)
    )
    assert "reason" not in params_of(world.cast.donor, start)


def test_a_rolled_back_move_tells_nobody(app):
    world = make_world()
    match = claimed(world)
    db.session.commit()
    start = mark()
    ops.approve(match, world.cast.coordinator)
    assert told(start)
    db.session.rollback()
    assert told(start) == []

    # One move of a bulk review undone by its savepoint: only the others tell.
    other = claimed(world, 5)
    start = mark()
    with pytest.raises(RuntimeError), db.session.begin_nested():
        ops.reject(match, world.cast.coordinator, "No")
        raise RuntimeError("undone")
    ops.approve(other, world.cast.coordinator)
    db.session.commit()
    assert {n.match_id for n in notes(start)} == {other.id}


def test_no_notification_carries_a_title_note_contact_point_or_date(app):
    world = make_world(sensitive=True)
    cast = world.cast
    start = mark()
    match = claimed(world)
    ops.approve(match, cast.coordinator)
    ops.ship(match, cast.donor, "Parcel at the depot", tracking="NP 2045 1234 5678")
    ops.confirm_delivery(match, cast.organizer, 8, note="Left at the back door")
    ops.reject(claimed(world, 3), cast.coordinator, "Duplicate")
    cancel_need(cast.need, cast.organizer, reason="Done")
    made = notes(start)
    assert len({n.kind for n in made}) >= 6
    secrets = [
        cast.need.title,
        cast.need.description,
        cast.need.delivery_note,
        cast.group.contact,
        cast.donor_org.contact,
        cast.group.name,
        cast.donor_org.name,
        "Parcel at the depot",
        "2045 1234",
        "Left at the back door",
        str(cast.need.lat),
        str(cast.need.lon),
        str(cast.offer.lat),
        str(cast.offer.lon),
    ]
    date = re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}")
    for note in made:
        params = json.loads(note.params_json)
        assert set(params) <= ALLOWED_PARAMS, (note.kind, params)
        assert not any(s and s in note.params_json for s in secrets), (note.kind, params)
        assert not date.search(note.params_json), (note.kind, params)
        text = render(note, "en").text
        assert not any(s and s in text for s in secrets), (note.kind, text)


def test_a_recipient_who_may_not_see_the_need_reads_only_its_oblast(app):
    world = make_world(sensitive=True)
    cast = world.cast
    cast.donor_org.verified_at, cast.donor_org.state = (
        None,
        "unverified",
    )  # an unverified donor is shown no sensitive need
    db.session.flush()
    match = propose(world)
    ops.approve(match, cast.coordinator)
    start = mark()
    ops.accept(match, cast.donor)
    donor_side = params_of(world.donor2, start)
    assert donor_side["place_level"] == "oblast" and "place_id" not in donor_side
    assert donor_side["oblast"] == cast.need.place.oblast
    group_side = params_of(world.organizer2, start)
    assert (group_side["place_level"], group_side["place_id"]) == ("settlement", cast.need.place_id)
    (note,) = notes(start, "match_confirmed_ship")
    text = render(note, "en").text
    assert cast.need.place.name not in text and "Kharkiv" in text


def test_a_new_organization_waits_and_the_coordinators_are_told(app):
    coordinator = make_user(Role.COORDINATOR)
    admin = make_user(Role.ADMIN)
    bystander = make_user(Role.ORGANIZER)
    start = mark()
    user = register_with_new_org(
        "new@example.org", PASSWORD, "Olena", "Volunteers of Sumy", OrgKind.FRONTLINE_GROUP
    )
    assert told(start) == sorted(expect("org_waiting", coordinator, admin))
    assert bystander.id not in {n.user_id for n in notes(start)}
    assert params_of(coordinator, start) == {"organization": "Volunteers of Sumy"}

    start = mark()
    colleague = make_user(Role.ORGANIZER, org=user.organization)
    verify_organization(user.organization, coordinator, reason="Known to us")
    assert told(start) == sorted(expect("org_verified", user, colleague))
    (note, _other) = notes(start)
    assert note.organization_id == user.organization_id


def test_an_organization_made_verified_tells_nobody(app):
    make_user(Role.COORDINATOR)
    start = mark()
    make_org(verified=True)
    from aidmatch.orgs.operations import create_organization

    create_organization("Already checked", OrgKind.DONOR_COLLECTIVE, verified=True)
    assert told(start) == []
    assert db.session.query(Notification).count() == 0


def test_withdrawing_the_offer_tells_the_group_and_the_other_donors(app):
    from aidmatch.offers.operations import withdraw_offer

    world = make_world()
    claimed(world)
    start = mark()
    withdraw_offer(world.cast.offer, world.donor2, reason="Stock was damaged")
    assert told(start) == sorted(
        expect("match_cancelled", world.cast.donor) + expect("match_cancelled", *world.group)
    )
    assert params_of(world.cast.organizer, start)["reason"] == "Stock was damaged"


def test_many_tells_at_once_write_each_reminder_once(app):
    from aidmatch.notify.outbox import Telling, tell_all

    world = make_world()
    users = [world.cast.organizer, world.organizer2]
    key = "still_needed:test:w1"
    made = tell_all(
        [
            Telling(users, "still_needed", {"quantity": 1}, dedupe_key=key),
            Telling([world.cast.organizer], "still_needed", {"quantity": 1}, dedupe_key=key),
            Telling([world.cast.organizer], "org_verified", {"organization": "G"}),
        ]
    )
    assert sorted((n.user_id, n.kind) for n in made) == sorted(
        expect("still_needed", *users) + expect("org_verified", world.cast.organizer)
    )
    assert tell_all([Telling(users, "still_needed", {"quantity": 1}, dedupe_key=key)]) == []
