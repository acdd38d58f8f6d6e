"""Group requests (issue 14): an organizer asks for a quantity of an offer she may see, for one
of her verified group's fitting open needs; the donor answers (all, less, or no), a coordinator
reviews; every refusal says why."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from aidmatch.extensions import db
from aidmatch.matches import operations as ops
from aidmatch.matches.models import Match, MatchSource, MatchStatus
from aidmatch.needs.operations import cancel_need
from aidmatch.notify.models import Notification
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from tests.factories import make_org, make_user
from tests.match_helpers import assert_invariant, make_cast, refused
from tests.posting_factories import make_need, make_offer

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def cast(app):
    return make_cast(need_quantity=40, offer_quantity=100)


def matches() -> int:
    return db.session.scalar(select(func.count()).select_from(Match))


def test_a_request_holds_softly_and_the_donor_accepts_it_for_less(cast):
    result = ops.request_offer(cast.offer, cast.organizer, cast.need, 12, "key-1")
    match = result.match
    assert result.created and match.source == MatchSource.REQUEST
    assert match.status == MatchStatus.PENDING and match.donor_accepted_at is None
    assert match.created_by_id == cast.organizer.id
    assert match.organization_id == cast.donor_org.id and match.offer_id == cast.offer.id
    db.session.refresh(cast.need)
    assert (cast.need.pledged, cast.need.proposed) == (0, 12)
    told = dict(
        db.session.execute(
            select(Notification.user_id, Notification.kind).where(Notification.match_id == match.id)
        ).all()
    )
    assert told == {cast.donor.id: "match_requested", cast.coordinator.id: "match_to_review"}
    again = ops.request_offer(cast.offer, cast.organizer, cast.need, 12, "key-1")
    assert not again.created and again.match.id == match.id and matches() == 1
    error = refused(409, ops.request_offer, cast.offer, cast.organizer, cast.need, 3, "key-1")
    assert "different request" in error.message
    ops.accept(match, cast.donor, 10)
    ops.approve(match, cast.coordinator)
    assert match.status == MatchStatus.CONFIRMED and match.quantity == 10
    db.session.refresh(cast.need)
    assert (cast.need.pledged, cast.need.proposed) == (10, 0)
    assert_invariant()


def test_a_declined_request_is_told_to_the_group(cast):
    match = ops.request_offer(cast.offer, cast.organizer, cast.need, 5).match
    ops.decline(match, cast.donor, "not now")
    kinds = db.session.scalars(
        select(Notification.kind).where(
            Notification.match_id == match.id, Notification.user_id == cast.organizer.id
        )
    ).all()
    assert kinds == ["match_declined"]
    assert_invariant()


def test_every_refusal_says_why(cast):
    org, organizer = cast.group, cast.organizer
    other_group = make_org(kind=OrgKind.FRONTLINE_GROUP)
    theirs = make_need(other_group, quantity=10)
    assert "your group's open needs" in (
        refused(422, ops.request_offer, cast.offer, organizer, theirs, 1).message
    )
    refused(422, ops.request_offer, cast.offer, organizer, None, 1)
    closed = make_need(org, organizer, quantity=5)
    cancel_need(closed, organizer, reason="done")
    assert "not open" in refused(422, ops.request_offer, cast.offer, organizer, closed, 1).message
    food = make_offer(cast.donor_org, cast.donor, category="food", quantity=50)
    error = refused(422, ops.request_offer, food, organizer, cast.need, 1)
    assert error.message == "This offer's category does not fit the need."
    water = make_offer(cast.donor_org, cast.donor, category="water", quantity=50)
    filters = make_need(org, organizer, category="water-filters", quantity=5)
    error = refused(422, ops.request_offer, water, organizer, filters, 1)
    assert error.message == "This offer is counted in another unit."
    error = refused(409, ops.request_offer, cast.offer, organizer, cast.need, 41)
    assert "Only 40 are still open (neither pledged nor proposed" in error.message
    ops.request_offer(cast.offer, organizer, cast.need, 40)
    error = refused(409, ops.request_offer, cast.offer, organizer, cast.need, 1)
    assert "Only 0 are still open" in error.message
    refused(422, ops.request_offer, cast.offer, organizer, make_need(org, quantity=3), 0)
    assert "group" in refused(403, ops.request_offer, cast.offer, cast.donor, cast.need, 1).message
    refused(403, ops.request_offer, cast.offer, cast.coordinator, cast.need, 1)
    unverified = make_org(kind=OrgKind.FRONTLINE_GROUP, verified=False)
    newcomer = make_user(Role.ORGANIZER, org=unverified)
    own = make_need(unverified, newcomer, quantity=5)
    error = refused(403, ops.request_offer, cast.offer, newcomer, own, 1)
    assert error.message == "Your group is not verified yet: its requests wait."
    shady = make_org(kind=OrgKind.DONOR_COLLECTIVE, verified=False)
    shady_offer = make_offer(shady, make_user(Role.DONOR, org=shady), quantity=10)
    secret = make_need(org, organizer, quantity=5, sensitive=True)
    error = refused(422, ops.request_offer, shady_offer, organizer, secret, 1)
    assert "sensitive" in error.message
    assert_invariant()


def test_the_api_request_and_its_refusals(cast, api_client):
    shady = make_org(kind=OrgKind.DONOR_COLLECTIVE, verified=False)
    hidden = make_offer(shady, make_user(Role.DONOR, org=shady), quantity=10)
    db.session.commit()
    organizer = api_client(cast.organizer)
    path = f"/offers/{cast.offer.id}/requests"
    body = {"need_id": cast.need.id, "quantity": 6}
    created = organizer.post(path, json=body, headers={"Idempotency-Key": "k1"})
    assert created.status_code == 201, created.get_json()
    answer = created.get_json()
    assert answer["source"] == "request" and answer["quantity"] == 6
    assert not answer["donor_accepted"]
    again = organizer.post(path, json=body, headers={"Idempotency-Key": "k1"})
    assert again.status_code == 200 and again.get_json()["id"] == answer["id"]
    assert organizer.post(f"/offers/{hidden.id}/requests", json=body).status_code == 404
    assert organizer.post("/offers/99999999/requests", json=body).status_code == 404
    donor = api_client(cast.donor)
    assert donor.post(path, json=body).status_code == 403
    missing = organizer.post(path, json={"need_id": 99999999, "quantity": 1})
    assert missing.status_code == 422
    assert missing.get_json()["error"]["fields"] == {
        "need_id": "Choose one of your group's open needs."
    }
    assert organizer.post(path, json={"need_id": cast.need.id}).status_code == 422
    too_much = organizer.post(path, json={"need_id": cast.need.id, "quantity": 100})
    assert too_much.status_code == 409
    assert_invariant()


def test_the_request_form_on_the_offer_page(cast, client, login_as):
    other = make_need(cast.group, cast.organizer, quantity=8, title="Second need")
    db.session.commit()
    login_as(cast.organizer)
    page = client.get(f"/offers/{cast.offer.id}").get_data(as_text=True)
    assert "Request this" in page and "Second need" in page
    assert 'name="quantity"' in page and 'value="40"' in page  # min(40 open, 100 remaining)
    form = client.get(f"/offers/{cast.offer.id}/request").get_data(as_text=True)
    assert "Second need (8 pcs open)" in form
    sent = client.post(
        f"/offers/{cast.offer.id}/request",
        data={"need": str(other.id), "quantity": "9"},
    )
    assert sent.status_code == 409
    assert "Only 8 are still open" in sent.get_data(as_text=True)
    sent = client.post(
        f"/offers/{cast.offer.id}/request",
        data={"need": str(other.id), "quantity": "8", "idempotency_key": "f"},
    )
    assert sent.status_code == 302
    match = db.session.scalar(select(Match).where(Match.need_id == other.id))
    assert sent.headers["Location"].endswith(f"/matches/{match.id}")
    assert match.source == MatchSource.REQUEST and match.quantity == 8
    client.post("/logout")
    login_as(cast.donor)
    assert "Request this" not in client.get(f"/offers/{cast.offer.id}").get_data(as_text=True)
    assert client.get(f"/offers/{cast.offer.id}/request").status_code == 403
    detail = client.get(f"/matches/{match.id}").get_data(as_text=True)
    assert "requested by the group" in detail and "/accept" in detail


def test_idempotency_keys_of_requests_and_claims_never_meet(cast):
    """A request is the donor's match: two groups, or a group and the donor's own claim,
    using the same Idempotency-Key are three different things (it was a 500, and a donor's
    claim answered with the group's request)."""
    other_group = make_org("Another group")
    other = make_user(Role.ORGANIZER, org=other_group)
    other_need = make_need(other_group, other, place=cast.need.place)
    first = ops.request_offer(cast.offer, cast.organizer, cast.need, 5, "same-key")
    second = ops.request_offer(cast.offer, other, other_need, 5, "same-key")
    assert first.created and second.created and first.match.id != second.match.id
    claim = ops.claim(cast.need, cast.donor, 5, offer=cast.offer, idempotency_key="same-key")
    assert claim.created and claim.match.source == MatchSource.CLAIM
    assert claim.match.donor_accepted_at is not None
    assert len({first.match.id, second.match.id, claim.match.id}) == 3
    again = ops.request_offer(cast.offer, other, other_need, 5, "same-key")
    assert not again.created and again.match.id == second.match.id
    assert_invariant()
