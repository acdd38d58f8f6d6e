"""Soft holds (issue 14): a proposal holds in `proposed` until the donor says yes, so the need
stays claimable; the donor accepts all or less (what remains, if others pledged meanwhile); a
coordinator approves less with a reason; every release gives back from the counter it held."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches import operations as ops
from aidmatch.matches.models import Match, MatchSource, MatchStatus
from aidmatch.matches.rules import remained_message
from aidmatch.needs.operations import cancel_need
from aidmatch.notify.messages import render
from aidmatch.notify.models import Notification
from aidmatch.offers.operations import withdraw_offer
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from aidmatch.runs.job import run_matching
from tests.factories import make_org, make_user
from tests.match_helpers import assert_invariant, make_cast, refused
from tests.posting_factories import make_offer

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def cast(app):
    return make_cast(need_quantity=40, offer_quantity=100)


def held(cast) -> dict:
    """The counters of the cast's need and offer, fresh."""
    db.session.refresh(cast.need)
    db.session.refresh(cast.offer)
    return {
        "pledged": cast.need.pledged,
        "need_proposed": cast.need.proposed,
        "allocated": cast.offer.allocated,
        "offer_proposed": cast.offer.proposed,
    }


def counts(pledged=0, need_proposed=0, allocated=0, offer_proposed=0) -> dict:
    return {
        "pledged": pledged,
        "need_proposed": need_proposed,
        "allocated": allocated,
        "offer_proposed": offer_proposed,
    }


def proposal(cast, quantity: int = 10, offer=None, org=None) -> Match:
    return ops.reserve(
        cast.need,
        offer or cast.offer,
        org or cast.donor_org,
        quantity,
        source=MatchSource.ENGINE,
    )


def other_donor():
    org = make_org(kind=OrgKind.DONOR_COLLECTIVE)
    return org, make_user(Role.DONOR, org=org)


# --- a run's proposal is soft ------------------------------------------------------------------


def test_a_runs_proposal_leaves_the_need_claimable_and_not_pledged(cast, client, login_as):
    db.session.commit()
    run = run_matching(cast.coordinator)
    assert run.proposals == 1, run.error
    proposal = db.session.scalar(select(Match).where(Match.run_id == run.id))
    assert proposal.quantity == 40
    assert held(cast) == counts(need_proposed=40, offer_proposed=40)
    _org, donor = other_donor()
    db.session.commit()
    login_as(donor)
    page = client.get(f"/needs/{cast.need.id}").get_data(as_text=True)
    assert f"/needs/{cast.need.id}/claim" in page  # the claim link stays
    assert "0 pledged" in page and "40 proposed" in page and "0 open" in page
    # Anyone may still claim all of it: claims see quantity - pledged.
    claim = ops.claim_need(cast.need, donor, 40)
    assert claim.quantity == 40
    assert held(cast) == counts(pledged=40, need_proposed=40, offer_proposed=40)
    assert_invariant()


def test_a_later_run_does_not_propose_what_pending_proposals_cover(cast):
    second_org, second_donor = other_donor()
    make_offer(second_org, second_donor, quantity=100)
    db.session.commit()
    first = run_matching(cast.coordinator)
    assert first.proposals == 1 and first.needs_considered == 1, first.error
    second = run_matching(cast.coordinator)
    assert second.proposals == 0 and second.needs_considered == 0, second.error
    assert db.session.get(type(cast.need), cast.need.id).proposed == 40
    assert_invariant()


def test_a_later_run_proposes_what_a_declined_proposal_gave_back(cast):
    db.session.commit()
    run_matching(cast.coordinator)
    first = db.session.scalar(select(Match))
    ops.decline(first, cast.donor, "")
    second_org, second_donor = other_donor()
    make_offer(second_org, second_donor, quantity=100)
    db.session.commit()
    again = run_matching(cast.coordinator)
    assert again.proposals == 1, again.error
    assert_invariant()


# --- accept hardens ------------------------------------------------------------------------------


def test_accept_for_less_releases_the_rest_at_once(cast):
    match = proposal(cast, 10)
    assert held(cast) == counts(need_proposed=10, offer_proposed=10)
    ops.accept(match, cast.donor, 4)
    assert match.quantity == 4 and match.quantity_asked == 10
    assert match.quantity_note is None  # the donor's choice, not a shortage
    assert match.donor_accepted_at is not None and match.status == MatchStatus.PENDING
    assert held(cast) == counts(pledged=4, allocated=4)
    assert_invariant()


def test_accept_refuses_more_than_proposed_and_zero(cast):
    match = proposal(cast, 10)
    assert "At most 10" in refused(422, ops.accept, match, cast.donor, 11).message
    refused(422, ops.accept, match, cast.donor, 0)
    assert held(cast) == counts(need_proposed=10, offer_proposed=10)
    assert match.donor_accepted_at is None


def test_accept_when_others_took_part_gives_what_remains(cast):
    match = proposal(cast, 30)
    _org, donor = other_donor()
    ops.claim_need(cast.need, donor, 25)  # the need stays claimable: 40 - 0 pledged
    assert held(cast) == counts(pledged=25, need_proposed=30, offer_proposed=30)
    ops.accept(match, cast.donor)
    assert match.quantity == 15 and match.quantity_asked == 30
    assert match.quantity_note == "remained"
    assert held(cast) == counts(pledged=40, allocated=15)
    assert remained_message(match) == (
        "Others pledged part of it meanwhile: you accepted 15 of the 30 proposed."
    )
    assert_invariant()


def test_accept_when_the_offer_was_taken_meanwhile_gives_what_remains(app):
    cast = make_cast(need_quantity=40, offer_quantity=20)
    match = proposal(cast, 20)
    other = make_cast(need_quantity=40)
    # The donor itself claims another need from the same offer: hard, beyond the soft hold.
    ops.claim_need(other.need, cast.donor, 12, offer=cast.offer)
    ops.accept(match, cast.donor)
    assert match.quantity == 8 and match.quantity_note == "remained"
    assert_invariant()


def test_accept_when_nothing_remains_is_409_and_changes_nothing(cast):
    match = proposal(cast, 30)
    _org, donor = other_donor()
    ops.claim_need(cast.need, donor, 40)
    before = held(cast)
    error = refused(409, ops.accept, match, cast.donor)
    assert error.message == "Others pledged all of it meanwhile: nothing is left to accept."
    db.session.refresh(match)
    assert match.donor_accepted_at is None and match.quantity == 30
    assert match.status == MatchStatus.PENDING and match.quantity_asked is None
    assert held(cast) == before == counts(pledged=40, need_proposed=30, offer_proposed=30)
    assert_invariant()


def test_accept_over_the_api_for_less_and_without_a_body(cast, api_client):
    first, second = proposal(cast, 10), proposal(cast, 5)
    db.session.commit()
    donor = api_client(cast.donor)
    answer = donor.post(f"/matches/{first.id}/accept", json={"quantity": 3})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["quantity"], body["quantity_asked"], body["quantity_note"]) == (3, 10, None)
    answer = donor.post(f"/matches/{second.id}/accept")
    assert answer.status_code == 200 and answer.get_json()["quantity"] == 5
    assert held(cast) == counts(pledged=8, allocated=8)
    assert_invariant()


def test_accept_over_the_api_says_when_less_remained(cast, api_client):
    match, other = proposal(cast, 30), proposal(cast, 5)
    _org, donor = other_donor()
    ops.claim_need(cast.need, donor, 30)
    db.session.commit()
    body = api_client(cast.donor).post(f"/matches/{match.id}/accept").get_json()
    assert (body["quantity"], body["quantity_asked"]) == (10, 30)
    assert body["quantity_note"] == (
        "Others pledged part of it meanwhile: the donor got what remained."
    )
    # nothing is left for a hard hold now
    answer = api_client(cast.donor).post(f"/matches/{other.id}/accept", json={"quantity": 2})
    assert answer.status_code == 409
    assert "nothing is left to accept" in answer.get_json()["error"]["message"]


def test_accept_on_the_page_for_less_and_when_less_remained(cast, client, login_as):
    match, small = proposal(cast, 30), proposal(cast, 1)
    _org, donor = other_donor()
    ops.claim_need(cast.need, donor, 30)
    db.session.commit()
    login_as(cast.donor)
    page = client.get(f"/matches/{match.id}").get_data(as_text=True)
    assert 'name="quantity"' in page and 'value="30"' in page
    answer = client.post(
        f"/matches/{match.id}/accept", data={"quantity": "20"}, follow_redirects=True
    )
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "you accepted 10 of the 30 proposed" in text
    assert "First asked: 30." in text
    db.session.refresh(match)
    assert match.quantity == 10
    bad = client.post(f"/matches/{small.id}/accept", data={"quantity": "x"})
    assert bad.status_code == 422


# --- approve for less -----------------------------------------------------------------------------


def test_approve_for_less_needs_a_reason_and_releases_the_rest(cast):
    claim = ops.claim_need(cast.need, cast.donor, 20, offer=cast.offer)
    error = refused(422, ops.approve, claim, cast.coordinator, 12)
    assert error.message == "Please give a reason."
    assert claim.coordinator_approved_at is None
    ops.approve(claim, cast.coordinator, 12, "The route takes only 12")
    assert claim.status == MatchStatus.CONFIRMED and claim.quantity == 12
    assert (claim.quantity_asked, claim.quantity_note) == (20, "The route takes only 12")
    assert held(cast) == counts(pledged=12, allocated=12)
    # A soft proposal approved for less gives back from proposed; the donor then accepts it.
    soft = proposal(cast, 10)
    ops.approve(soft, cast.coordinator, 6, "Half is enough")
    assert held(cast) == counts(pledged=12, need_proposed=6, allocated=12, offer_proposed=6)
    ops.accept(soft, cast.donor)
    assert soft.status == MatchStatus.CONFIRMED and soft.quantity == 6
    assert soft.quantity_note == "Half is enough"
    assert held(cast) == counts(pledged=18, allocated=18)
    assert_invariant()


def test_approve_for_less_is_told_with_the_reason(cast):
    claim = ops.claim_need(cast.need, cast.donor, 20, offer=cast.offer)
    since = db.session.scalar(select(Notification.id).order_by(Notification.id.desc())) or 0
    ops.approve(claim, cast.coordinator, 12, "The route takes only 12")
    told = db.session.scalars(
        select(Notification).where(
            Notification.id > since, Notification.kind == "match_confirmed_ship"
        )
    ).all()
    assert told and told[0].params["asked"] == 20
    text = render(told[0], "en").text
    assert "12 pcs" in text and "Less than the 20 asked: The route takes only 12" in text


def test_approve_over_the_api_and_the_page(cast, api_client, client, login_as):
    first = ops.claim_need(cast.need, cast.donor, 20, offer=cast.offer)
    second = ops.claim_need(cast.need, cast.donor, 10, offer=cast.offer)
    db.session.commit()
    coordinator = api_client(cast.coordinator)
    answer = coordinator.post(f"/matches/{first.id}/approve", json={"quantity": 5})
    assert answer.status_code == 422
    assert answer.get_json()["error"]["fields"] == {"reason": "Please give a reason."}
    answer = coordinator.post(
        f"/matches/{first.id}/approve", json={"quantity": 5, "reason": "Only 5 fit"}
    )
    body = answer.get_json()
    assert answer.status_code == 200, body
    assert (body["quantity"], body["quantity_asked"], body["quantity_note"]) == (
        5,
        20,
        "Only 5 fit",
    )
    login_as(cast.coordinator)
    page = client.post(
        f"/matches/{second.id}/approve",
        data={"quantity": "4", "reason": "Four are enough"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "First asked: 10. Four are enough" in page
    assert held(cast) == counts(pledged=9, allocated=9)
    assert_invariant()


# --- every release gives back the counter it held --------------------------------------------


def test_decline_reject_and_expiry_give_back_the_soft_hold(cast):
    declined, rejected, lapsing = proposal(cast, 3), proposal(cast, 4), proposal(cast, 5)
    accepted = proposal(cast, 6)
    ops.accept(accepted, cast.donor)
    assert held(cast) == counts(pledged=6, need_proposed=12, allocated=6, offer_proposed=12)
    ops.decline(declined, cast.donor, "")
    assert held(cast) == counts(pledged=6, need_proposed=9, allocated=6, offer_proposed=9)
    ops.reject(rejected, cast.coordinator, "too far")
    assert held(cast) == counts(pledged=6, need_proposed=5, allocated=6, offer_proposed=5)
    lapsing.expires_at = accepted.expires_at = utcnow() - timedelta(minutes=1)
    db.session.flush()
    assert ops.expire_matches()["expired"] == 2
    assert held(cast) == counts()
    assert_invariant()


def test_cancelling_the_need_gives_back_each_counter(cast):
    soft, hard = proposal(cast, 7), ops.claim_need(cast.need, cast.donor, 8, offer=cast.offer)
    assert held(cast) == counts(pledged=8, need_proposed=7, allocated=8, offer_proposed=7)
    cancel_need(cast.need, cast.organizer, reason="moved")
    assert {soft.status, hard.status} == {MatchStatus.CANCELLED}
    assert held(cast) == counts()
    assert_invariant()


def test_withdrawing_the_offer_gives_back_each_counter(cast):
    proposal(cast, 7)
    confirmed = ops.claim_need(cast.need, cast.donor, 8, offer=cast.offer)
    ops.approve(confirmed, cast.coordinator)
    withdraw_offer(cast.offer, cast.donor, reason="sold")
    assert held(cast) == counts()
    assert_invariant()


def test_withdraw_and_release_of_an_accepted_proposal_give_back_the_hard_hold(cast):
    first, second = proposal(cast, 5), proposal(cast, 6)
    for match in (first, second):
        ops.accept(match, cast.donor)
        ops.approve(match, cast.coordinator)
    assert held(cast) == counts(pledged=11, allocated=11)
    ops.withdraw(first, cast.donor, "stock gone")
    second.expires_at = utcnow() - timedelta(minutes=1)
    db.session.flush()
    ops.release(second, cast.coordinator, "")
    assert held(cast) == counts()
    assert_invariant()


def test_the_api_and_the_csv_show_pledged_proposed_and_open_apart(
    cast, api_client, client, login_as
):
    proposal(cast, 15)
    ops.claim_need(cast.need, cast.donor, 10, offer=cast.offer)
    db.session.commit()
    organizer = api_client(cast.organizer)
    need = organizer.get(f"/needs/{cast.need.id}").get_json()
    assert (need["pledged"], need["proposed"], need["open"]) == (10, 15, 15)
    offer = api_client(cast.donor).get(f"/offers/{cast.offer.id}").get_json()
    assert (offer["allocated"], offer["proposed"], offer["remaining"]) == (10, 15, 75)
    login_as(cast.organizer)
    rows = client.get("/needs/export.csv?status=all").get_data(as_text=True).splitlines()
    header = rows[0].split(",")
    values = dict(zip(header, rows[1].split(","), strict=False))
    assert (values["pledged"], values["proposed"], values["open"]) == ("10", "15", "15")
    page = client.get("/needs").get_data(as_text=True)
    assert "10 pledged" in page and "15 proposed" in page and "15 open" in page
