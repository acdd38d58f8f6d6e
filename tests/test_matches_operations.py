"""The match lifecycle's verbs, called directly: every transition, every refusal, the invariant."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from aidmatch.audit.models import AuditEvent
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches import operations as ops
from aidmatch.matches.models import Match, MatchSource, MatchStatus
from aidmatch.needs.models import NeedStatus
from aidmatch.needs.operations import cancel_need
from aidmatch.offers.operations import withdraw_offer
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from tests.factories import make_org, make_user
from tests.match_helpers import assert_invariant, invariant_violations, make_cast, refused
from tests.posting_factories import make_need, make_offer

pytestmark = pytest.mark.usefixtures("english")  # these tests read English words


@pytest.fixture
def cast(app):
    return make_cast()


def counters(cast) -> tuple:
    db.session.refresh(cast.need)
    db.session.refresh(cast.offer)
    return cast.need.pledged, cast.need.delivered, cast.need.status, cast.offer.allocated


def proposed(cast) -> tuple[int, int]:
    """What the need and the offer hold softly (pending proposals and requests)."""
    db.session.refresh(cast.need)
    db.session.refresh(cast.offer)
    return cast.need.proposed, cast.offer.proposed


def audit_actions(match) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "matches", AuditEvent.object_id == match.id)
            .order_by(AuditEvent.id)
        )
    )


def confirmed_match(cast, quantity: int = 10) -> Match:
    match = ops.claim_need(cast.need, cast.donor, quantity, offer=cast.offer)
    ops.approve(match, cast.coordinator)
    assert match.status == MatchStatus.CONFIRMED
    return match


def shipped_match(cast, quantity: int = 10) -> Match:
    match = confirmed_match(cast, quantity)
    ops.ship(match, cast.donor, "Sent with Nova Poshta", tracking="NP 2045")
    return match


def proposal(cast, quantity: int = 10) -> Match:
    return ops.reserve(
        cast.need,
        cast.offer,
        cast.donor_org,
        quantity,
        source=MatchSource.ENGINE,
        distance_km=412.3,
        score=0.8,
        explanation={"score": 0.8, "parts": {}, "facts": {"distance_km": 412.3}},
    )


# --- claims --------------------------------------------------------------------------------


def test_claim_holds_quantity_on_need_and_offer(cast):
    before = utcnow()
    match = ops.claim_need(cast.need, cast.donor, 15, offer=cast.offer)
    assert match.status == MatchStatus.PENDING and match.source == MatchSource.CLAIM
    assert match.donor_accepted_at is not None and match.donor_accepted_by_id == cast.donor.id
    assert match.coordinator_approved_at is None
    assert match.organization_id == cast.donor_org.id and match.quantity == 15
    assert match.distance_km is not None and match.distance_km > 100  # Kyiv to Kharkiv
    assert before + timedelta(hours=71) < match.expires_at <= utcnow() + timedelta(hours=72)
    assert counters(cast) == (15, 0, NeedStatus.OPEN, 15)
    assert audit_actions(match) == ["match.claim"]
    assert_invariant()


def test_claim_without_offer_holds_only_the_need(cast):
    match = ops.claim_need(cast.need, cast.donor, 40)
    assert match.offer_id is None
    assert counters(cast) == (40, 0, NeedStatus.OPEN, 0)
    assert_invariant()


@pytest.mark.parametrize("quantity", [0, -3, 1.5, "7", None, True])
def test_claim_of_no_whole_positive_quantity_is_422(cast, quantity):
    error = refused(422, ops.claim_need, cast.need, cast.donor, quantity)
    assert "quantity" in error.fields
    assert counters(cast) == (0, 0, NeedStatus.OPEN, 0)
    assert db.session.scalar(select(func.count()).select_from(Match)) == 0
    assert_invariant()


def test_over_claim_is_409_saying_how_much_is_open(cast):
    ops.claim_need(cast.need, cast.donor, 28)
    error = refused(409, ops.claim_need, cast.need, cast.donor, 13)
    assert error.message == "Only 12 are still open."
    error = refused(409, ops.claim_need, cast.need, cast.donor, 13, offer=cast.offer)
    assert error.message == "Only 12 are still open."
    assert counters(cast) == (28, 0, NeedStatus.OPEN, 0)
    assert_invariant()


def test_refusals_name_quantities_and_statuses_in_the_language(cast):
    from aidmatch.needs.operations import cancel_need

    big = make_need(cast.group, cast.organizer, quantity=12_600)
    ops.claim_need(big, cast.donor, 100)
    with force_locale("de"):
        error = refused(409, ops.claim_need, big, cast.donor, 20_000)
        assert error.message == "Nur noch 12.500 sind offen."
        cancel_need(big, cast.organizer)
        error = refused(409, ops.claim_need, big, cast.donor, 1)
    assert error.message == (
        "Dieser Bedarf hat den Status „storniert“: weitere Zusagen sind nicht möglich."
    )


def test_claim_beyond_the_offer_undoes_the_need_part(cast):
    small = make_offer(cast.donor_org, cast.donor, quantity=5)
    error = refused(409, ops.claim_need, cast.need, cast.donor, 6, offer=small)
    assert error.message == "Only 5 are left in this offer."
    db.session.refresh(small)
    assert counters(cast)[0] == 0 and small.allocated == 0
    assert_invariant()


def test_claim_refusals_by_role_and_party(cast):
    refused(403, ops.claim_need, cast.need, cast.organizer, 1)
    refused(403, ops.claim_need, cast.need, cast.coordinator, 1)
    other = make_user(Role.DONOR)
    error = refused(403, ops.claim_need, cast.need, other, 1, offer=cast.offer)
    assert "your own offers" in error.message
    assert counters(cast) == (0, 0, NeedStatus.OPEN, 0)
    assert_invariant()


def test_claim_refuses_misfitting_offer_and_closed_need(cast):
    generators = make_offer(cast.donor_org, cast.donor, category="generators", quantity=5)
    error = refused(422, ops.claim_need, cast.need, cast.donor, 1, offer=generators)
    assert "offer_id" in error.fields
    cancel_need(cast.need, cast.organizer)
    error = refused(409, ops.claim_need, cast.need, cast.donor, 1)
    assert "cancelled" in error.message
    assert counters(cast) == (0, 0, NeedStatus.CANCELLED, 0)
    assert_invariant()


def test_claim_refuses_withdrawn_offer(cast):
    withdraw_offer(cast.offer, cast.donor)
    error = refused(409, ops.claim_need, cast.need, cast.donor, 1, offer=cast.offer)
    assert "withdrawn" in error.message
    assert counters(cast)[0] == 0
    assert_invariant()


def test_unverified_group_and_sensitive_need_cannot_be_claimed_by_whom_may_not_see_them(app):
    hidden_group = make_org(kind=OrgKind.FRONTLINE_GROUP, verified=False)
    hidden = make_need(hidden_group)
    donor = make_user(Role.DONOR, org=make_org(kind=OrgKind.DONOR_COLLECTIVE, verified=False))
    refused(403, ops.claim_need, hidden, donor, 1)
    sensitive = make_need(make_org(kind=OrgKind.FRONTLINE_GROUP), sensitive=True)
    refused(403, ops.claim_need, sensitive, donor, 1)
    # An unverified donor may claim an ordinary need: a coordinator reviews it anyway.
    ordinary = make_need(make_org(kind=OrgKind.FRONTLINE_GROUP))
    assert ops.claim_need(ordinary, donor, 1).organization.verified is False
    assert_invariant()


def test_idempotency_key_returns_the_first_claims_match(cast):
    first = ops.claim(cast.need, cast.donor, 5, cast.offer, idempotency_key="k-1")
    again = ops.claim(cast.need, cast.donor, 5, cast.offer, idempotency_key="k-1")
    assert first.created and not again.created and again.match.id == first.match.id
    # Another member of the same organization retrying with the key gets it too.
    colleague = make_user(Role.DONOR, org=cast.donor_org)
    assert ops.claim_need(cast.need, colleague, 5, cast.offer, "k-1").id == first.match.id
    # Another organization's identical key is its own.
    other = make_user(Role.DONOR)
    assert ops.claim_need(cast.need, other, 5, idempotency_key="k-1").id != first.match.id
    error = refused(409, ops.claim_need, cast.need, cast.donor, 6, cast.offer, "k-1")
    assert "different claim" in error.message
    refused(422, ops.claim_need, cast.need, cast.donor, 1, idempotency_key="x" * 129)
    assert counters(cast) == (10, 0, NeedStatus.OPEN, 5)
    assert_invariant()


def test_idempotent_replay_survives_a_fully_claimed_need(cast):
    first = ops.claim_need(cast.need, cast.donor, 40, idempotency_key="all")
    assert ops.claim_need(cast.need, cast.donor, 40, idempotency_key="all").id == first.id
    assert_invariant()


# --- reserve for the engine ----------------------------------------------------------------


def test_reserve_partial_reduces_to_what_remains(cast):
    ops.claim_need(cast.need, cast.donor, 30)
    match = ops.reserve(
        cast.need, cast.offer, cast.donor_org, 25, source=MatchSource.ENGINE, allow_partial=True
    )
    assert match.quantity == 10 and match.donor_accepted_at is None
    assert audit_actions(match) == ["match.propose"]
    none_left = ops.reserve(
        cast.need, cast.offer, cast.donor_org, 5, source=MatchSource.ENGINE, allow_partial=True
    )
    assert none_left is None
    # the claim holds hard, the proposal softly
    assert counters(cast) == (30, 0, NeedStatus.OPEN, 0) and proposed(cast) == (10, 10)
    assert_invariant()


def test_reserve_partial_is_bounded_by_the_offer(app):
    cast = make_cast(need_quantity=40, offer_quantity=7)
    match = ops.reserve(
        cast.need, cast.offer, cast.donor_org, 25, source=MatchSource.ENGINE, allow_partial=True
    )
    assert match.quantity == 7
    refused(409, ops.reserve, cast.need, cast.offer, cast.donor_org, 1, source=MatchSource.ENGINE)
    assert_invariant()


def test_reserve_refuses_an_offer_of_another_organization(cast):
    other = make_org(kind=OrgKind.DONOR_COLLECTIVE)
    with pytest.raises(ValueError):
        ops.reserve(cast.need, cast.offer, other, 1, source=MatchSource.ENGINE)
    assert counters(cast) == (0, 0, NeedStatus.OPEN, 0)
    assert_invariant()


# --- both consents -------------------------------------------------------------------------


def test_engine_proposal_accept_then_approve_confirms(cast):
    match = proposal(cast)
    ops.accept(match, cast.donor)
    assert match.status == MatchStatus.PENDING and match.donor_accepted_at is not None
    ops.approve(match, cast.coordinator)
    assert match.status == MatchStatus.CONFIRMED and match.confirmed_at is not None
    assert match.coordinator_approved_by_id == cast.coordinator.id
    assert match.expires_at > utcnow() + timedelta(days=13)
    assert audit_actions(match) == ["match.propose", "match.accept", "match.approve"]
    assert_invariant()


def test_engine_proposal_approve_then_accept_confirms(cast):
    match = proposal(cast)
    ops.approve(match, cast.coordinator)
    assert match.status == MatchStatus.PENDING and match.confirmed_at is None
    ops.accept(match, cast.donor)
    assert match.status == MatchStatus.CONFIRMED and match.confirmed_at is not None
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.object_id == match.id, AuditEvent.action == "match.accept"
        )
    )
    assert event.before["status"] == "pending" and event.after["status"] == "confirmed"
    assert_invariant()


def test_claim_needs_only_the_coordinator(cast):
    match = ops.claim_need(cast.need, cast.donor, 5)
    refused(409, ops.accept, match, cast.donor)  # the claim already carries the donor's yes
    ops.approve(match, cast.coordinator)
    assert match.status == MatchStatus.CONFIRMED
    error = refused(409, ops.approve, match, cast.coordinator)
    assert error.message == "This match is already confirmed."
    assert_invariant()


def test_consents_from_the_wrong_people_are_403(cast):
    match = proposal(cast)
    for who in (cast.organizer, cast.coordinator, make_user(Role.DONOR)):
        refused(403, ops.accept, match, who)
    for who in (cast.organizer, cast.donor):
        refused(403, ops.approve, match, who)
    # A coordinator who belongs to one of the sides does not review its own match.
    insider = make_user(Role.COORDINATOR, org=cast.donor_org)
    refused(403, ops.approve, match, insider)
    db.session.refresh(match)
    assert match.donor_accepted_at is None and match.coordinator_approved_at is None
    assert_invariant()


def test_a_lapsed_pending_match_cannot_be_agreed_to(cast):
    match = proposal(cast)
    match.expires_at = utcnow() - timedelta(minutes=1)
    db.session.flush()
    refused(409, ops.accept, match, cast.donor)
    refused(409, ops.approve, match, cast.coordinator)
    assert match.status == MatchStatus.PENDING
    assert_invariant()


# --- no ---------------------------------------------------------------------------------------


def test_decline_releases_and_is_donor_only(cast):
    match = proposal(cast, 12)
    refused(403, ops.decline, match, cast.coordinator)
    assert counters(cast) == (0, 0, NeedStatus.OPEN, 0) and proposed(cast) == (12, 12)
    ops.decline(match, cast.donor, "no stock after all")
    assert match.status == MatchStatus.DECLINED and match.closed_at is not None
    assert match.reason == "no stock after all"
    assert counters(cast) == (0, 0, NeedStatus.OPEN, 0) and proposed(cast) == (0, 0)
    error = refused(409, ops.decline, match, cast.donor)
    assert error.message == "This match is already declined."
    assert counters(cast) == (0, 0, NeedStatus.OPEN, 0)
    assert_invariant()


def test_decline_of_a_confirmed_match_is_409(cast):
    match = confirmed_match(cast)
    error = refused(409, ops.decline, match, cast.donor)
    assert "Only a pending match can be declined" in error.message
    assert counters(cast) == (10, 0, NeedStatus.OPEN, 10)
    assert_invariant()


def test_reject_needs_a_reason_and_a_coordinator(cast):
    match = ops.claim_need(cast.need, cast.donor, 8, offer=cast.offer)
    refused(403, ops.reject, match, cast.donor, "no")
    error = refused(422, ops.reject, match, cast.coordinator, "   ")
    assert "reason" in error.fields
    assert match.status == MatchStatus.PENDING and counters(cast)[0] == 8
    ops.reject(match, cast.coordinator, "The group asked for a different model")
    assert match.status == MatchStatus.REJECTED
    assert counters(cast) == (0, 0, NeedStatus.OPEN, 0)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "match.reject"))
    assert event.actor_id == cast.coordinator.id
    assert event.after["reason"] == "The group asked for a different model"
    assert_invariant()


def test_withdraw_only_a_confirmed_match_with_a_reason(cast):
    pending = ops.claim_need(cast.need, cast.donor, 5, offer=cast.offer)
    refused(409, ops.withdraw, pending, cast.donor, "changed plans")
    match = confirmed_match(cast, 10)
    refused(422, ops.withdraw, match, cast.donor, "")
    refused(403, ops.withdraw, match, cast.organizer, "not mine")
    assert counters(cast) == (15, 0, NeedStatus.OPEN, 15)
    ops.withdraw(match, cast.donor, "the van broke down")
    assert match.status == MatchStatus.WITHDRAWN
    assert counters(cast) == (5, 0, NeedStatus.OPEN, 5)
    assert_invariant()


# --- shipping and delivery ---------------------------------------------------------------------


def test_ship_only_confirmed_by_the_donor_with_a_note(cast):
    pending = ops.claim_need(cast.need, cast.donor, 5, offer=cast.offer)
    error = refused(409, ops.ship, pending, cast.donor, "sent")
    assert "Only a confirmed match can be marked shipped" in error.message
    match = confirmed_match(cast)
    refused(403, ops.ship, match, cast.organizer, "sent")
    refused(422, ops.ship, match, cast.donor, "")
    refused(422, ops.ship, match, cast.donor, "sent", tracking="x" * 201)
    ops.ship(match, cast.donor, "Nova Poshta", tracking="NP 1")
    assert match.status == MatchStatus.SHIPPED and match.shipped_at is not None
    assert match.shipped_note == "Nova Poshta" and match.tracking == "NP 1"
    assert match.expires_at is None
    refused(409, ops.ship, match, cast.donor, "again")
    # Goods on the way are no longer withdrawn or cancelled.
    refused(409, ops.withdraw, match, cast.donor, "oops")
    assert counters(cast) == (15, 0, NeedStatus.OPEN, 15)
    assert_invariant()


def test_full_delivery_fulfils_the_need(cast):
    first = shipped_match(cast, 30)
    ops.confirm_delivery(first, cast.organizer, 30, "all fine")
    assert first.status == MatchStatus.DELIVERED and not first.discrepancy
    assert counters(cast) == (30, 30, NeedStatus.OPEN, 30)
    second = shipped_match(cast, 10)
    ops.confirm_delivery(second, cast.organizer, 10)
    assert counters(cast) == (40, 40, NeedStatus.FULFILLED, 40)
    need_events = db.session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.object_type == "needs", AuditEvent.object_id == cast.need.id
        )
    ).all()
    assert "need.fulfil" in need_events
    assert_invariant()


def test_shortfall_is_flagged_and_released_to_the_need_not_the_offer(cast):
    match = shipped_match(cast, 20)
    ops.confirm_delivery(match, cast.organizer, 17, "three were missing")
    assert match.discrepancy and match.quantity_received == 17
    assert match.delivery_note == "three were missing"
    # The need can be covered again for the 3 lost; the offer stays charged the 20 sent.
    assert counters(cast) == (17, 17, NeedStatus.OPEN, 20)
    assert_invariant()
    assert ops.claim_need(cast.need, cast.donor, 23).quantity == 23
    assert_invariant()


def test_confirm_delivery_refusals_change_nothing(cast):
    match = confirmed_match(cast, 10)
    error = refused(409, ops.confirm_delivery, match, cast.organizer, 10)
    assert "Only a shipped match" in error.message
    ops.ship(match, cast.donor, "sent")
    refused(403, ops.confirm_delivery, match, cast.donor, 10)
    refused(403, ops.confirm_delivery, match, cast.coordinator, 10)
    refused(422, ops.confirm_delivery, match, cast.organizer, 11)
    refused(422, ops.confirm_delivery, match, cast.organizer, -1)
    refused(422, ops.confirm_delivery, match, cast.organizer, "ten")
    assert match.status == MatchStatus.SHIPPED
    assert counters(cast) == (10, 0, NeedStatus.OPEN, 10)
    ops.confirm_delivery(match, cast.organizer, 0, "nothing arrived")
    assert match.discrepancy and counters(cast) == (0, 0, NeedStatus.OPEN, 10)
    error = refused(409, ops.confirm_delivery, match, cast.organizer, 0)
    assert error.message == "This match is already delivered."
    assert counters(cast) == (0, 0, NeedStatus.OPEN, 10)
    assert_invariant()


# --- time ----------------------------------------------------------------------------------------


def test_expire_matches_expires_pending_and_flags_overdue_once(cast):
    lapsed = proposal(cast, 5)
    fresh = proposal(cast, 6)
    overdue = confirmed_match(cast, 7)
    lapsed.expires_at = utcnow() - timedelta(hours=1)
    overdue.expires_at = utcnow() - timedelta(hours=1)
    db.session.flush()
    assert counters(cast)[0] == 7 and proposed(cast) == (11, 11)
    counts = ops.expire_matches()
    assert counts == {"expired": 1, "overdue": 1, "flagged": 1}
    assert lapsed.status == MatchStatus.EXPIRED and fresh.status == MatchStatus.PENDING
    assert overdue.status == MatchStatus.CONFIRMED and ops.is_overdue(overdue)
    assert counters(cast) == (7, 0, NeedStatus.OPEN, 7) and proposed(cast) == (6, 6)
    assert ops.expire_matches() == {"expired": 0, "overdue": 1, "flagged": 0}
    assert audit_actions(lapsed)[-1] == "match.expire"
    assert audit_actions(overdue).count("match.overdue") == 1
    assert_invariant()


def test_a_lapsed_pending_match_reads_as_expired_and_refuses_every_action(cast):
    match = proposal(cast, 5)
    assert match.effective_status == MatchStatus.PENDING
    match.expires_at = utcnow() - timedelta(seconds=1)
    db.session.flush()
    assert match.effective_status == MatchStatus.EXPIRED
    assert match.status == MatchStatus.PENDING  # stored by `flask matches expire` only
    for call, actor in ((ops.accept, cast.donor), (ops.approve, cast.coordinator)):
        assert refused(409, call, match, actor).message == "This match has expired."
    assert refused(409, ops.decline, match, cast.donor, "").message == "This match has expired."
    assert match.status == MatchStatus.PENDING and proposed(cast) == (5, 5)
    assert ops.expire_matches()["expired"] == 1
    assert match.status == MatchStatus.EXPIRED and proposed(cast) == (0, 0)
    assert_invariant()


def test_release_an_overdue_confirmed_match(cast):
    match = confirmed_match(cast, 9)
    error = refused(409, ops.release, match, cast.coordinator, "")
    assert "not overdue yet" in error.message
    match.expires_at = utcnow() - timedelta(days=1)
    db.session.flush()
    refused(403, ops.release, match, cast.donor, "")
    ops.release(match, cast.coordinator, "no word from the donor")
    assert match.status == MatchStatus.EXPIRED and match.reason == "no word from the donor"
    assert counters(cast) == (0, 0, NeedStatus.OPEN, 0)
    refused(409, ops.release, match, cast.coordinator, "")
    assert_invariant()


def test_one_extension_per_match(cast):
    match = proposal(cast, 5)
    old = match.expires_at
    refused(403, ops.request_extension, match, cast.organizer)
    ops.request_extension(match, cast.donor)
    assert match.extension_used and match.expires_at == old + timedelta(hours=72)
    error = refused(409, ops.request_extension, match, cast.donor)
    assert "already given once" in error.message
    assert match.expires_at == old + timedelta(hours=72)
    assert_invariant()


def test_extension_of_an_overdue_confirmed_match_restarts_from_now(cast):
    match = confirmed_match(cast, 5)
    match.expires_at = utcnow() - timedelta(days=2)
    db.session.flush()
    ops.request_extension(match, cast.donor)
    assert match.expires_at > utcnow() + timedelta(hours=71) and not ops.is_overdue(match)
    shipped = shipped_match(cast, 3)
    refused(409, ops.request_extension, shipped, cast.donor)
    assert_invariant()


# --- cancellation -----------------------------------------------------------------------------


def test_cancelling_the_need_ends_unshipped_matches_and_keeps_shipped(cast):
    pending = ops.claim_need(cast.need, cast.donor, 5, offer=cast.offer)
    confirmed = confirmed_match(cast, 6)
    shipped = shipped_match(cast, 7)
    cancel_need(cast.need, cast.organizer, "the unit moved")
    for match in (pending, confirmed):
        db.session.refresh(match)
        assert match.status == MatchStatus.CANCELLED and match.reason == "the unit moved"
    db.session.refresh(shipped)
    assert shipped.status == MatchStatus.SHIPPED
    assert counters(cast) == (7, 0, NeedStatus.CANCELLED, 7)
    assert_invariant()
    # The goods on the way still arrive and are counted.
    ops.confirm_delivery(shipped, cast.organizer, 7)
    assert counters(cast) == (7, 7, NeedStatus.CANCELLED, 7)
    assert_invariant()


def test_withdrawing_the_offer_cancels_its_matches(cast):
    a = ops.claim_need(cast.need, cast.donor, 5, offer=cast.offer)
    b = ops.claim_need(cast.need, cast.donor, 6)  # not from the offer: stays
    withdraw_offer(cast.offer, cast.donor, "stock gone")
    db.session.refresh(a)
    db.session.refresh(b)
    assert a.status == MatchStatus.CANCELLED and b.status == MatchStatus.PENDING
    assert counters(cast) == (6, 0, NeedStatus.OPEN, 0)
    assert_invariant()


def test_invariant_checker_sees_a_broken_counter(cast):
    ops.claim_need(cast.need, cast.donor, 5, offer=cast.offer)
    assert invariant_violations() == []
    db.session.execute(
        db.text("UPDATE needs SET pledged = pledged + 1 WHERE id = :id"), {"id": cast.need.id}
    )
    assert any("pledged" in p for p in invariant_violations())


def test_flask_matches_expire_command(app, cast):
    match = proposal(cast, 5)
    match.expires_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["matches", "expire"])
    assert result.exit_code == 0, result.output
    assert "Expired 1 pending matches" in result.output
    db.session.expire_all()
    assert db.session.get(Match, match.id).status == MatchStatus.EXPIRED
    assert_invariant()


def test_match_times_come_from_the_settings(app, cast):
    app.config.update(MATCH_PENDING_TTL_HOURS=2, MATCH_CONFIRMED_TTL_DAYS=1)
    app.config["MATCH_EXTENSION_HOURS"] = 5
    match = ops.claim_need(cast.need, cast.donor, 5)
    assert timedelta(hours=1) < match.expires_at - utcnow() <= timedelta(hours=2)
    ops.request_extension(match, cast.donor)
    assert timedelta(hours=6) < match.expires_at - utcnow() <= timedelta(hours=7)
    ops.approve(match, cast.coordinator)
    assert timedelta(hours=23) < match.expires_at - utcnow() <= timedelta(days=1)
    assert_invariant()


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_match_time_settings_must_be_positive_whole_numbers(tmp_path, value):
    from aidmatch.config import ConfigError, load_config

    assert load_config(tmp_path, env={})["MATCH_PENDING_TTL_HOURS"] == 72
    with pytest.raises(ConfigError, match="MATCH_CONFIRMED_TTL_DAYS"):
        load_config(tmp_path, env={"MATCH_CONFIRMED_TTL_DAYS": value})


def test_a_claim_stores_the_expiry_of_lapsed_holds_first(cast):
    """A lapsed pending match only reads as expired, but a claim (a write) must not be refused
    for quantity that it no longer holds: the claim stores the expiry, then takes its share."""
    lapsed = ops.claim_need(cast.need, cast.donor, cast.need.quantity, offer=cast.offer)
    lapsed.expires_at = utcnow() - timedelta(minutes=1)
    db.session.flush()
    match = ops.claim_need(cast.need, cast.donor, 4)
    assert match.status == MatchStatus.PENDING
    db.session.refresh(lapsed)
    assert lapsed.status == MatchStatus.EXPIRED
    assert audit_actions(lapsed)[-1] == "match.expire"
    assert counters(cast)[0] == 4
    assert_invariant()
