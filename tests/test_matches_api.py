"""/api/v1/needs/<id>/claims and /api/v1/matches through the test client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches import operations as ops
from aidmatch.matches.models import Match, MatchSource, MatchStatus
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from tests.factories import make_org, make_user
from tests.match_helpers import assert_invariant, make_cast
from tests.posting_factories import make_need, make_offer


@pytest.fixture
def cast(app):
    cast = make_cast()
    db.session.commit()
    return cast


def matches() -> int:
    return db.session.scalar(select(func.count()).select_from(Match))


def need_counts(api, need_id) -> tuple[int, int, int]:
    body = api.get(f"/needs/{need_id}").get_json()
    return body["pledged"], body["delivered"], body["open"]


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()["error"]


def test_claim_approve_ship_deliver_end_to_end(cast, api_client):
    donor, coordinator = api_client(cast.donor), api_client(cast.coordinator)
    organizer = api_client(cast.organizer)
    created = donor.post(
        f"/needs/{cast.need.id}/claims", json={"quantity": 25, "offer_id": cast.offer.id}
    )
    assert created.status_code == 201, created.get_json()
    match = created.get_json()
    assert match["status"] == "pending" and match["source"] == "claim"
    assert match["donor_accepted"] and not match["coordinator_approved"]
    assert match["need_id"] == cast.need.id and match["offer_id"] == cast.offer.id
    assert match["organization"] == {
        "id": cast.donor_org.id,
        "name": cast.donor_org.name,
        "verified": True,
    }
    assert match["quantity"] == 25 and match["expires_at"] and match["quantity_received"] is None
    assert need_counts(organizer, cast.need.id) == (25, 0, 15)
    mid = match["id"]

    approved = coordinator.post(f"/matches/{mid}/approve")
    assert approved.status_code == 200 and approved.get_json()["status"] == "confirmed"
    shipped = donor.post(f"/matches/{mid}/ship", json={"note": "Nova Poshta", "tracking": "NP1"})
    assert shipped.get_json()["status"] == "shipped"
    delivered = organizer.post(
        f"/matches/{mid}/confirm-delivery", json={"quantity_received": 25, "note": "thanks"}
    )
    body = delivered.get_json()
    assert body["status"] == "delivered" and body["quantity_received"] == 25
    assert body["discrepancy"] is False
    assert need_counts(organizer, cast.need.id) == (25, 25, 15)
    again = organizer.post(f"/matches/{mid}/confirm-delivery", json={"quantity_received": 25})
    assert error_of(again, 409)["message"] == "This match is already delivered."
    assert_invariant()


def test_over_claim_is_409_saying_how_much_is_open(cast, api_client):
    donor = api_client(cast.donor)
    assert donor.post(f"/needs/{cast.need.id}/claims", json={"quantity": 28}).status_code == 201
    error = error_of(donor.post(f"/needs/{cast.need.id}/claims", json={"quantity": 13}), 409)
    assert error["code"] == "conflict" and error["message"] == "Only 12 are still open."
    assert error["fields"] == {"quantity": "Only 12 are still open."}
    assert matches() == 1
    assert_invariant()


@pytest.mark.parametrize("quantity", [0, -1, 2.5, "3", None])
def test_claim_of_a_bad_quantity_is_422_and_writes_nothing(cast, api_client, quantity):
    donor = api_client(cast.donor)
    error = error_of(donor.post(f"/needs/{cast.need.id}/claims", json={"quantity": quantity}), 422)
    assert "quantity" in error["fields"]
    assert matches() == 0 and need_counts(donor, cast.need.id) == (0, 0, 40)


def test_a_claim_checks_who_before_the_body(cast, api_client):
    """Not a donor: 403, whatever the body; a need it may not see: 404, whatever the body."""
    for body in ({"quantity": "many"}, {"quantity": 3}):
        error_of(api_client(cast.organizer).post(f"/needs/{cast.need.id}/claims", json=body), 403)
        error_of(api_client(cast.donor).post("/needs/999999/claims", json=body), 404)
    assert matches() == 0


def test_claim_from_someone_elses_or_an_unknown_offer(cast, api_client):
    other = make_user(Role.DONOR)
    foreign = make_offer(other.organization, other)
    db.session.commit()
    donor = api_client(cast.donor)
    url = f"/needs/{cast.need.id}/claims"
    error = error_of(donor.post(url, json={"quantity": 1, "offer_id": foreign.id}), 403)
    assert error["message"] == "You may only claim from your own offers."
    error = error_of(donor.post(url, json={"quantity": 1, "offer_id": 999999}), 422)
    assert "offer_id" in error["fields"]
    assert matches() == 0


def test_only_donors_claim_and_hidden_needs_are_404(cast, api_client):
    url = f"/needs/{cast.need.id}/claims"
    assert error_of(api_client(cast.organizer).post(url, json={"quantity": 1}), 403)
    assert error_of(api_client(cast.coordinator).post(url, json={"quantity": 1}), 403)
    hidden_group = make_org(kind=OrgKind.FRONTLINE_GROUP, verified=False)
    hidden = make_need(hidden_group)
    db.session.commit()
    donor = api_client(cast.donor)
    error_of(donor.post(f"/needs/{hidden.id}/claims", json={"quantity": 1}), 404)
    error_of(donor.post("/needs/999999/claims", json={"quantity": 1}), 404)
    assert matches() == 0
    response = api_client(cast.donor).client.post(f"/api/v1{url}", json={"quantity": 1})
    error_of(response, 401)


def test_idempotency_key_makes_a_retry_return_the_same_match(cast, api_client):
    donor = api_client(cast.donor)
    url = f"/needs/{cast.need.id}/claims"
    headers = {"Idempotency-Key": "5f1c2e6a-retry"}
    first = donor.post(url, json={"quantity": 10}, headers=headers)
    second = donor.post(url, json={"quantity": 10}, headers=headers)
    assert first.status_code == 201 and second.status_code == 200
    assert first.get_json()["id"] == second.get_json()["id"]
    assert matches() == 1 and need_counts(donor, cast.need.id)[0] == 10
    error = error_of(donor.post(url, json={"quantity": 11}, headers=headers), 409)
    assert "Idempotency-Key" in error["message"]
    error_of(donor.post(url, json={"quantity": 1}, headers={"Idempotency-Key": "k" * 200}), 422)
    assert matches() == 1
    assert_invariant()


def test_actions_by_the_wrong_party_are_403_and_wrong_state_409(cast, api_client):
    match = ops.claim_need(cast.need, cast.donor, 5, offer=cast.offer)
    db.session.commit()
    mid = match.id
    stranger = api_client(make_user(Role.DONOR))
    bodies = {"decline": {}, "withdraw": {"reason": "x"}, "ship": {"note": "x"}}
    # A stranger may not see the match: 404 for every action, as from the page and from GET,
    # and before its body is read (a malformed body changes nothing).
    for action in ("accept", "decline", "withdraw", "ship", "extend"):
        error_of(stranger.post(f"/matches/{mid}/{action}", json=bodies.get(action)), 404)
    error_of(stranger.post(f"/matches/{mid}/approve"), 404)
    error_of(stranger.post(f"/matches/{mid}/confirm-delivery", json={"quantity_received": 1}), 404)
    error_of(stranger.post(f"/matches/{mid}/withdraw", json={"reason": 5, "bogus": 1}), 404)
    error_of(stranger.get(f"/matches/{mid}"), 404)
    # A party on the wrong side sees it, may not do this: 403, also before its body is read.
    error_of(api_client(cast.donor).post(f"/matches/{mid}/approve"), 403)
    error_of(api_client(cast.organizer).post(f"/matches/{mid}/accept"), 403)
    error_of(api_client(cast.organizer).post(f"/matches/{mid}/withdraw", json={"reason": 5}), 403)

    donor = api_client(cast.donor)
    error = error_of(donor.post(f"/matches/{mid}/ship", json={"note": "sent"}), 409)
    assert "Only a confirmed match can be marked shipped" in error["message"]
    error_of(donor.post(f"/matches/{mid}/withdraw", json={"reason": "x"}), 409)
    coordinator = api_client(cast.coordinator)
    error = error_of(coordinator.post(f"/matches/{mid}/reject", json={"reason": " "}), 422)
    assert "reason" in error["fields"]
    error_of(donor.post("/matches/999999/accept"), 404)
    db.session.expire_all()
    assert db.session.get(Match, mid).status == MatchStatus.PENDING
    assert need_counts(donor, cast.need.id)[0] == 5
    assert_invariant()


def test_decline_reject_withdraw_release_and_extend(cast, api_client):
    donor, coordinator = api_client(cast.donor), api_client(cast.coordinator)
    a = ops.claim_need(cast.need, cast.donor, 5)
    b = ops.claim_need(cast.need, cast.donor, 6)
    c = ops.claim_need(cast.need, cast.donor, 7, offer=cast.offer)
    d = ops.claim_need(cast.need, cast.donor, 8, offer=cast.offer)
    db.session.commit()
    assert donor.post(f"/matches/{a.id}/decline", json={}).get_json()["status"] == "declined"
    rejected = coordinator.post(f"/matches/{b.id}/reject", json={"reason": "duplicate"})
    assert rejected.get_json()["status"] == "rejected"
    assert rejected.get_json()["reason"] == "duplicate"
    coordinator.post(f"/matches/{c.id}/approve")
    withdrawn = donor.post(f"/matches/{c.id}/withdraw", json={"reason": "stock gone"})
    assert withdrawn.get_json()["status"] == "withdrawn"
    extended = donor.post(f"/matches/{d.id}/extend")
    assert extended.status_code == 200 and extended.get_json()["extension_used"]
    error_of(donor.post(f"/matches/{d.id}/extend"), 409)
    coordinator.post(f"/matches/{d.id}/approve")
    error = error_of(coordinator.post(f"/matches/{d.id}/release", json={}), 409)
    assert "not overdue" in error["message"]
    db.session.execute(
        db.text("UPDATE matches SET expires_at = :t WHERE id = :id"),
        {"t": (utcnow() - timedelta(days=1)).replace(tzinfo=None), "id": d.id},
    )
    db.session.commit()
    read = coordinator.get(f"/matches/{d.id}").get_json()
    assert read["status"] == "confirmed" and read["overdue"] is True
    released = coordinator.post(f"/matches/{d.id}/release", json={"reason": "no shipment"})
    assert released.get_json()["status"] == "expired"
    assert need_counts(donor, cast.need.id) == (0, 0, 40)
    assert_invariant()


def test_a_stale_pending_match_reads_as_expired_without_a_write(cast, api_client):
    match = ops.claim_need(cast.need, cast.donor, 9)
    match.expires_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    donor = api_client(cast.donor)
    assert donor.get(f"/matches/{match.id}").get_json()["status"] == "expired"
    assert [m["id"] for m in donor.get("/matches?status=expired").get_json()["items"]] == [match.id]
    assert donor.get("/matches?status=pending").get_json()["items"] == []
    db.session.expire_all()
    assert db.session.get(Match, match.id).status == MatchStatus.PENDING  # nothing was stored
    error = error_of(api_client(cast.coordinator).post(f"/matches/{match.id}/approve"), 409)
    assert error["message"] == "This match has expired."
    assert need_counts(donor, cast.need.id)[0] == 9  # holds until `flask matches expire`
    assert ops.expire_matches()["expired"] == 1
    db.session.commit()
    assert need_counts(donor, cast.need.id)[0] == 0
    assert_invariant()


def test_list_filters_and_who_sees_what(cast, api_client):
    one = ops.claim_need(cast.need, cast.donor, 5, offer=cast.offer)
    two = ops.claim_need(cast.need, cast.donor, 6)
    ops.approve(two, cast.coordinator)
    other = make_cast()
    three = ops.claim_need(other.need, other.donor, 7)
    db.session.commit()

    def ids(api, query=""):
        response = api.get(f"/matches{query}")
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["page"] == 1 and body["per_page"] == 50
        assert body["total"] == len(body["items"])
        return {m["id"] for m in body["items"]}

    donor, organizer = api_client(cast.donor), api_client(cast.organizer)
    coordinator = api_client(cast.coordinator)
    assert ids(donor) == {one.id, two.id}
    assert ids(organizer) == {one.id, two.id}
    assert ids(coordinator) == {one.id, two.id, three.id}
    assert ids(api_client(make_user(Role.DONOR))) == set()
    assert ids(donor, "?status=confirmed") == {two.id}
    assert ids(donor, "?status=active") == {one.id, two.id}
    assert ids(coordinator, f"?need={other.need.id}") == {three.id}
    assert ids(coordinator, f"?offer={cast.offer.id}") == {one.id}
    assert ids(coordinator, "?mine=true") == {two.id}  # the one this coordinator approved
    assert ids(api_client(other.donor), "?mine=true") == {three.id}
    error_of(donor.get("/matches?status=bogus"), 422)
    error_of(api_client(other.donor).get(f"/matches/{one.id}"), 404)


def test_confirmed_partners_see_contact_and_exact_location_others_do_not(cast, api_client):
    match = ops.claim_need(cast.need, cast.donor, 5, offer=cast.offer)
    db.session.commit()
    donor, organizer = api_client(cast.donor), api_client(cast.organizer)
    pending = donor.get(f"/matches/{match.id}").get_json()
    assert "contact" not in pending and "contacts" not in pending
    assert pending["need"]["location"]["precision_km"] == 10
    assert "delivery_note" not in pending["need"]
    assert pending["distance_km"] % 5 == 0  # coarse until confirmed

    api_client(cast.coordinator).post(f"/matches/{match.id}/approve")
    seen_by_donor = donor.get(f"/matches/{match.id}").get_json()
    assert seen_by_donor["contact"] == cast.group.contact
    assert seen_by_donor["need"]["location"] == {
        "lat": cast.need.lat,
        "lon": cast.need.lon,
        "precision_km": 0,
        "kind": "settlement_centre",  # the group gave only its place: said so
    }
    assert seen_by_donor["need"]["delivery_note"] == "Call Oksana at the school gate"
    seen_by_group = organizer.get(f"/matches/{match.id}").get_json()
    assert seen_by_group["contact"] == cast.donor_org.contact
    assert seen_by_group["offer"]["location"]["precision_km"] == 0
    staff_view = api_client(cast.coordinator).get(f"/matches/{match.id}").get_json()
    assert staff_view["contacts"] == {"donor": cast.donor_org.contact, "group": cast.group.contact}

    stranger = api_client(make_user(Role.DONOR))
    assert stranger.get(f"/matches/{match.id}").status_code == 404
    need = stranger.get(f"/needs/{cast.need.id}").get_json()
    assert need["location"]["precision_km"] == 10 and "delivery_note" not in need


def test_engine_proposal_needs_both_consents_through_the_api(cast, api_client):
    match = ops.reserve(
        cast.need, cast.offer, cast.donor_org, 4, source=MatchSource.ENGINE, score=0.7
    )
    db.session.commit()
    approved = api_client(cast.coordinator).post(f"/matches/{match.id}/approve").get_json()
    assert approved["status"] == "pending" and approved["coordinator_approved"]
    accepted = api_client(cast.donor).post(f"/matches/{match.id}/accept").get_json()
    assert accepted["status"] == "confirmed" and accepted["donor_accepted"]
    assert accepted["source"] == "engine" and accepted["score"] == 0.7
    assert_invariant()


def test_openapi_documents_the_match_routes(app, client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/needs/{need_id}/claims" in paths
    assert "/api/v1/matches/{match_id}/confirm-delivery" in paths
    assert "/api/v1/matches" in paths


class _Deadlock(Exception):
    sqlstate = "40P01"  # what psycopg reports for PostgreSQL's deadlock victim


def test_a_deadlock_victim_is_redone_and_other_errors_are_not(app):
    from sqlalchemy.exc import IntegrityError, OperationalError

    from aidmatch.transaction import run_in_transaction as run_transaction

    calls = []

    def work():
        calls.append(len(calls))
        if len(calls) == 1:
            raise OperationalError("UPDATE needs ...", {}, _Deadlock("deadlock detected"))
        return "done"

    with app.test_request_context("/api/v1/matches/1/accept", method="POST"):
        assert run_transaction(work) == "done"
        assert calls == [0, 1]

        def broken():
            calls.append("x")
            raise IntegrityError("INSERT ...", {}, Exception("duplicate key"))

        with pytest.raises(IntegrityError):
            run_transaction(broken)
        assert calls.count("x") == 1


def test_the_partner_of_a_pending_match_sees_only_coarse_distances(cast, api_client):
    match = ops.claim_need(cast.need, cast.donor, 5, offer=cast.offer)
    db.session.commit()
    exact = match.distance_km
    group_view = api_client(cast.organizer).get(f"/matches/{match.id}").get_json()
    assert (
        group_view["distance_km"] % 5 == 0 and group_view["offer"]["location"]["precision_km"] == 10
    )
    staff_view = api_client(cast.coordinator).get(f"/matches/{match.id}").get_json()
    assert staff_view["distance_km"] == exact
