"""Review findings on money (aidmatch/money): the group's payment details stop showing once
its need is cancelled (as a match's contacts do), a pledge on a need that is no longer open is
not confirmed, and a typed amount too large for its digits is refused, not a 500."""

from __future__ import annotations

import pytest

from aidmatch.extensions import db
from aidmatch.money.amounts import parse_major
from aidmatch.orgs.models import OrgKind, OrgRole
from aidmatch.orgs.operations import decide
from aidmatch.orgs.vouches import vouch
from aidmatch.permissions import Role
from aidmatch.refusals import Invalid
from tests.factories import make_org, make_user
from tests.posting_factories import make_need
from tests.test_money import LINK, world  # noqa: F401 (the fixture)


def _priced_and_pledged(w, api_client):
    api_client(w.organizer).put(
        f"/needs/{w.need.id}/cost", json={"amount_minor": 90000, "currency": "EUR"}
    )
    api_client(w.organizer).put(f"/orgs/{w.group.id}/payment-details", json={"link": LINK})
    body = {"amount_minor": 40000, "currency": "EUR", "cadence": "monthly", "months": 3}
    return api_client(w.donor).post(f"/needs/{w.need.id}/money-pledges", json=body).get_json()


def test_a_cancelled_need_hides_the_group_s_payment_details(world, api_client):  # noqa: F811
    w = world
    made = _priced_and_pledged(w, api_client)
    confirmed = api_client(w.coordinator).post(f"/money-pledges/{made['id']}/confirm", json={})
    assert confirmed.status_code == 200
    donor = api_client(w.donor)
    assert donor.get(f"/money-pledges/{made['id']}").get_json()["payment_details"]["link"] == LINK
    assert api_client(w.organizer).post(f"/needs/{w.need.id}/cancel", json={}).status_code == 200
    assert donor.get(f"/money-pledges/{made['id']}").get_json()["payment_details"] is None
    page = donor.get(f"/needs/{w.need.id}/money").get_json()
    assert all(p["payment_details"] is None for p in page["pledges"])


def test_a_pledge_on_a_cancelled_need_is_not_confirmed(world, api_client):  # noqa: F811
    w = world
    made = _priced_and_pledged(w, api_client)
    assert api_client(w.organizer).post(f"/needs/{w.need.id}/cancel", json={}).status_code == 200
    response = api_client(w.coordinator).post(f"/money-pledges/{made['id']}/confirm", json={})
    assert response.status_code == 409
    after = api_client(w.donor).get(f"/money-pledges/{made['id']}").get_json()
    assert after["status"] == "pending" and after["payment_details"] is None


@pytest.mark.parametrize("typed", ["1e30", "1e400", "123456789012345678901234567890"])
def test_an_amount_too_large_for_its_digits_is_refused(app, typed):
    with pytest.raises(Invalid):
        parse_major(typed)


def test_a_huge_typed_pledge_gets_a_message_not_a_500(world, api_client, client, switch):  # noqa: F811
    w = world
    api_client(w.organizer).put(
        f"/needs/{w.need.id}/cost", json={"amount_minor": 90000, "currency": "EUR"}
    )
    switch(w.donor)
    response = client.post(
        f"/needs/{w.need.id}/money/pledges",
        data={"amount": "1e30", "currency": "EUR", "cadence": "once"},
    )
    assert response.status_code == 422
    assert "1e30" in response.get_data(as_text=True)


def test_a_fundraiser_shows_no_need_of_a_group_not_verified(world, api_client, client):  # noqa: F811
    """A public page raises money only for verified groups' needs (vetting against scams is
    what a coordinator's verification is for): a group suspended since leaves the page, and a
    group waiting for verification (seen by donors when vouched for) cannot be put on it."""

    w = world
    api_client(w.organizer).put(
        f"/needs/{w.need.id}/cost", json={"amount_minor": 90000, "currency": "EUR"}
    )
    made = api_client(w.donor).post(
        "/fundraisers", json={"title": "Drive", "need_ids": [w.need.id]}
    )
    assert made.status_code == 201
    slug = made.get_json()["slug"]
    assert client.get(f"/api/v1/fundraisers/{slug}").get_json()["progress"]["EUR"]["goal"] == 90000
    decide(w.group, "suspend", w.coordinator, reason="Reported as a scam")
    db.session.commit()
    public = client.get(f"/api/v1/fundraisers/{slug}").get_json()
    assert public["needs"] == [] and public["progress"] == {}

    # A group waiting for verification, vouched for: donors see its need, the public not.
    place = w.need.place
    waiting = make_org("Waiting group", verified=False, place=place)
    organizer = make_user(org=waiting)
    need = make_need(waiting, organizer, place, title="Boots")
    for n in range(2):
        voucher = make_org(f"Voucher {n}", kind=OrgKind.DONOR_COLLECTIVE, place=place)
        owner = make_user(Role.DONOR, org=voucher, org_role=OrgRole.OWNER)
        vouch(voucher, waiting, owner, "We drove with them.")
    db.session.commit()
    assert api_client(w.donor).get(f"/needs/{need.id}").status_code == 200  # vouched: seen
    group = api_client(organizer)
    assert group.put(f"/needs/{need.id}/cost", json={"amount_minor": 500, "currency": "EUR"})
    refused = api_client(w.donor).post("/fundraisers", json={"title": "D2", "need_ids": [need.id]})
    assert refused.status_code == 422
    assert "need_ids" in refused.get_json()["error"]["fields"]


def test_money_waits_for_a_group_s_verification_as_claims_do(world, api_client, client, switch):  # noqa: F811
    """A vouched group waiting for verification is shown to donors, not given to: no pledge
    (as no claim: matches/claims.py), and no payment details leave for it."""
    w = world
    place = w.need.place
    waiting = make_org("Waiting group", verified=False, place=place)
    organizer = make_user(org=waiting, org_role=OrgRole.OWNER)
    need = make_need(waiting, organizer, place, title="Boots")
    for n in range(2):
        voucher = make_org(f"Voucher {n}", kind=OrgKind.DONOR_COLLECTIVE, place=place)
        owner = make_user(Role.DONOR, org=voucher, org_role=OrgRole.OWNER)
        vouch(voucher, waiting, owner, "We drove with them.")
    db.session.commit()
    group = api_client(organizer)
    assert group.put(f"/needs/{need.id}/cost", json={"amount_minor": 500, "currency": "EUR"})
    assert group.put(f"/orgs/{waiting.id}/payment-details", json={"link": LINK}).status_code == 200
    donor = api_client(w.donor)
    assert donor.get(f"/needs/{need.id}/money").status_code == 200  # vouched: seen
    refused = donor.post(
        f"/needs/{need.id}/money-pledges", json={"amount_minor": 500, "currency": "EUR"}
    )
    assert refused.status_code == 409
    assert "not verified" in refused.get_json()["error"]["message"]
    switch(w.donor)  # the page offers no pledge form for it
    page = client.get(f"/needs/{need.id}/money").get_data(as_text=True)
    assert f"/needs/{need.id}/money/pledges" not in page


def test_a_fundraiser_tells_a_need_fulfilled_only_after_the_delay(world, api_client, client):  # noqa: F811
    """Timing is location too: a need's status on the public page (and its API) turns
    "fulfilled" only once its deliveries are published (the transparency delay), not on the
    day the goods arrive."""
    from datetime import timedelta

    from aidmatch.db import utcnow
    from tests.test_hxl import deliver

    w = world
    api_client(w.organizer).put(
        f"/needs/{w.need.id}/cost", json={"amount_minor": 90000, "currency": "EUR"}
    )
    slug = (
        api_client(w.donor)
        .post("/fundraisers", json={"title": "Drive", "need_ids": [w.need.id]})
        .get_json()["slug"]
    )
    match = deliver(w.need, w.need.quantity, utcnow(), donor_org=w.collective)
    w.need.status = "fulfilled"
    db.session.commit()
    assert client.get(f"/api/v1/fundraisers/{slug}").get_json()["needs"][0]["status"] == "open"
    match.delivered_at = utcnow() - timedelta(days=40)
    db.session.commit()
    public = client.get(f"/api/v1/fundraisers/{slug}").get_json()
    assert public["needs"][0]["status"] == "fulfilled"


def test_a_first_payment_too_far_ahead_is_refused_not_a_500(world, api_client):  # noqa: F811
    w = world
    api_client(w.organizer).put(
        f"/needs/{w.need.id}/cost", json={"amount_minor": 90000, "currency": "EUR"}
    )
    body = {"amount_minor": 100, "currency": "EUR", "cadence": "monthly", "months": 24}
    response = api_client(w.donor).post(
        f"/needs/{w.need.id}/money-pledges", json={**body, "first_due": "9999-12-01"}
    )
    assert response.status_code == 422
    assert "first_due" in response.get_json()["error"]["fields"]


def test_no_month_is_late_on_a_cancelled_need(world, api_client):  # noqa: F811
    """A group that cancelled its need takes no more money: its confirmed monthly pledge's
    months are not flagged late to both sides every month after."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from aidmatch.db import utcnow
    from aidmatch.jobs.queue import run_now
    from aidmatch.notify.models import Notification

    w = world
    made = _priced_and_pledged(w, api_client)
    api_client(w.coordinator).post(f"/money-pledges/{made['id']}/confirm", json={})
    assert api_client(w.organizer).post(f"/needs/{w.need.id}/cancel", json={}).status_code == 200
    assert run_now("money.late", utcnow() + timedelta(days=100)) == 0
    db.session.commit()
    late = select(func.count()).where(Notification.kind == "money_late")
    assert db.session.scalar(late) == 0
    month = api_client(w.donor).get(f"/money-pledges/{made['id']}").get_json()["installments"][0]
    assert month["late"] is False


def test_a_collective_suspended_since_no_longer_sees_the_payment_details(world, api_client):  # noqa: F811
    """A confirmed pledger's collective, suspended afterwards, sees the group's payment details
    no more (privacy/policy.sees_payment_details); staff still do."""
    w = world
    made = _priced_and_pledged(w, api_client)
    assert api_client(w.coordinator).post(f"/money-pledges/{made['id']}/confirm", json={})
    donor = api_client(w.donor)
    assert donor.get(f"/money-pledges/{made['id']}").get_json()["payment_details"]["link"] == LINK
    decide(w.donor.organization, "suspend", w.coordinator, reason="Not who they said")
    db.session.commit()
    assert donor.get(f"/money-pledges/{made['id']}").get_json()["payment_details"] is None
    staff = api_client(w.coordinator).get(f"/money-pledges/{made['id']}").get_json()
    assert staff["payment_details"]["link"] == LINK


def test_only_the_group_s_owners_say_where_its_money_goes(world, api_client):  # noqa: F811
    """Not a coordinator (who also confirms the pledges that reveal them), not a plain member:
    the group's owners only (permissions.can_set_payment_details); the page is not theirs."""
    w = world
    path = f"/orgs/{w.group.id}/payment-details"
    refused = api_client(w.coordinator).put(path, json={"link": "https://pay.example.org/other"})
    assert refused.status_code == 403
    member = make_user(Role.ORGANIZER, org=w.group, org_role=OrgRole.MEMBER)
    db.session.commit()
    assert api_client(member).put(path, json={"link": LINK}).status_code == 403
    assert api_client(w.organizer).put(path, json={"link": LINK}).status_code == 200


def test_a_coordinator_is_not_asked_to_decide_its_own_groups_pledges(
    world,  # noqa: F811
    client,
    switch,
    api_client,
):
    """The home page's count of pledges waiting leaves out those the coordinator may not
    decide (permissions.can_review_pledge): on its own organization's need too."""
    w = world
    _priced_and_pledged(w, api_client)
    insider = make_user(Role.COORDINATOR, org=w.group)
    db.session.commit()
    switch(insider)
    assert "money pledge waits for a coordinator" not in client.get("/").get_data(as_text=True)
    switch(w.coordinator)
    assert "1 money pledge waits for a coordinator" in client.get("/").get_data(as_text=True)


def test_the_need_s_history_says_its_price_in_words(world, client, switch, api_client):  # noqa: F811
    """A need's history shows its price as a reader reads it: "priced", "Cost 900.00", not
    the audit trail's "money.cost" and "amount_minor: 90000"."""
    w = world
    api_client(w.organizer).put(
        f"/needs/{w.need.id}/cost", json={"amount_minor": 90000, "currency": "EUR"}
    )
    switch(w.donor)
    page = client.get(f"/needs/{w.need.id}").get_data(as_text=True)
    assert "priced" in page and "900.00" in page and "EUR" in page
    assert "money.cost" not in page and "amount_minor" not in page and "90000" not in page
