"""Money for priced needs (aidmatch/money, issue 18 part 2 and 3): a monthly pledge through
three months, payment details hidden until a coordinator confirms the pledge, each month's
amount confirmed by the group (one of them late, flagged to both sides by the job), what the
money bought with a receipt photo stripped of its metadata, and the collective's public
fundraiser page showing it only after the transparency delay and without the group's name."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select, update

from aidmatch.auth.models import Language
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.jobs.queue import run_now
from aidmatch.money.amounts import add_months, parse_major
from aidmatch.money.models import Installment, SpendingReport
from aidmatch.notify.models import Notification
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from aidmatch.refusals import Invalid
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_place

IBAN = "UA213223130000026007233566001"
CARD = "4111111111111111"
LINK = "https://send.monobank.ua/jar/Quillfeather"
GROUP_NAME = "Snowbarrow medics"


class World:
    def __init__(self):
        self.group = make_org(GROUP_NAME, contact="Signal +380 67 555 0101")
        self.organizer = make_user(
            Role.ORGANIZER, org=self.group, language=Language.EN, org_role="owner"
        )
        place = make_place("Marrowgate", oblast="Kyiv Oblast")
        self.need = make_need(self.group, self.organizer, place, title="Diesel for the evac van")
        self.collective = make_org("Leipzig solidarity", kind=OrgKind.DONOR_COLLECTIVE)
        self.donor = make_user(Role.DONOR, org=self.collective, language=Language.EN)
        self.other = make_user(Role.DONOR, language=Language.EN)  # another collective
        self.coordinator = make_user(Role.COORDINATOR, language=Language.EN)
        db.session.commit()


@pytest.fixture
def world(app):
    return World()


def jpeg_with_gps() -> bytes:
    """A small JPEG whose EXIF names a GPS position."""
    image = Image.new("RGB", (40, 30), (200, 30, 30))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (48.0, 27.0, 41.0), 3: "E", 4: (35.0, 2.0, 28.0)}
    exif[0x010F] = "Quillcam"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_a_monthly_pledge_through_three_months(world, api_client, client, switch):
    w = world
    group, donor, coordinator, other = (
        api_client(w.organizer),
        api_client(w.donor),
        api_client(w.coordinator),
        api_client(w.other),
    )
    # The group's payment details: each checked, every problem named at once.
    response = group.put(
        f"/orgs/{w.group.id}/payment-details",
        json={"iban": IBAN[:-1] + "2", "card": "4111111111111112", "link": "http://x.example"},
    )
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"iban", "card", "link"} and "check digits" in fields["iban"]
    response = group.put(
        f"/orgs/{w.group.id}/payment-details",
        json={"iban": "UA21 3223 1300 0002 6007 2335 6600 1", "card": CARD, "link": LINK},
    )
    assert response.status_code == 200 and response.get_json()["iban"] == IBAN
    assert donor.put(f"/orgs/{w.group.id}/payment-details", json={"iban": IBAN}).status_code == 403

    # No pledge before the group prices the need; then the group does.
    body = {"amount_minor": 500000, "currency": "UAH", "cadence": "monthly", "months": 3}
    response = donor.post(f"/needs/{w.need.id}/money-pledges", json=body)
    assert response.status_code == 409 and "priced" in response.get_json()["error"]["message"]
    cost = {"amount_minor": 1500000, "currency": "UAH"}
    assert donor.put(f"/needs/{w.need.id}/cost", json=cost).status_code == 403
    assert group.put(f"/needs/{w.need.id}/cost", json=cost).status_code == 200

    # Bad pledges are refused, each field named; a float is no amount.
    bad = {**body, "months": 30, "currency": "GBP"}
    response = donor.post(f"/needs/{w.need.id}/money-pledges", json=bad)
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"currency", "months"}
    response = donor.post(f"/needs/{w.need.id}/money-pledges", json={**body, "amount_minor": 5.5})
    assert response.status_code == 422

    # The monthly pledge: three installments, a month apart; no payment details yet.
    response = donor.post(f"/needs/{w.need.id}/money-pledges", json=body)
    assert response.status_code == 201, response.get_json()
    pledge = response.get_json()
    assert pledge["status"] == "pending" and pledge["payment_details"] is None
    first = utcnow().date()
    assert [i["due_on"] for i in pledge["installments"]] == [
        add_months(first, n).isoformat() for n in range(3)
    ]
    switch(w.donor)
    page = client.get(f"/needs/{w.need.id}/money").get_data(as_text=True)
    assert IBAN not in page and CARD not in page and LINK not in page
    assert "aidmatch never holds, moves or processes money" in page
    # Another collective sees neither the pledge nor the details: totals only.
    assert other.get(f"/money-pledges/{pledge['id']}").status_code == 404
    seen = other.get(f"/needs/{w.need.id}/money").get_json()
    assert seen["pledges"] == [] and seen["totals"]["UAH"]["pledged"] == 1500000
    # The group may not confirm money on a pledge not confirmed yet.
    month = pledge["installments"]
    response = group.post(
        f"/money-installments/{month[0]['id']}/received", json={"amount_minor": 1}
    )
    assert response.status_code == 409

    # The coordinators are told, one confirms: now the collective sees how to pay.
    assert db.session.scalar(
        select(Notification.id).where(
            Notification.kind == "money_pledge_to_review",
            Notification.user_id == w.coordinator.id,
        )
    )
    assert donor.post(f"/money-pledges/{pledge['id']}/confirm", json={}).status_code == 403
    response = coordinator.post(f"/money-pledges/{pledge['id']}/confirm", json={})
    assert response.status_code == 200
    assert coordinator.post(f"/money-pledges/{pledge['id']}/confirm", json={}).status_code == 409
    details = donor.get(f"/money-pledges/{pledge['id']}").get_json()["payment_details"]
    assert details == {"iban": IBAN, "card": CARD, "link": LINK, "holder": ""}
    page = client.get(f"/needs/{w.need.id}/money").get_data(as_text=True)
    assert IBAN in page and CARD in page and LINK in page
    assert other.get(f"/needs/{w.need.id}/money").get_json()["pledges"] == []

    # Month 1: received on time, as pledged. Errors are clear and change nothing.
    response = group.post(
        f"/money-installments/{month[0]['id']}/received", json={"amount_minor": 0}
    )
    assert (
        response.status_code == 422 and "more than zero" in response.get_json()["error"]["message"]
    )
    tomorrow = (first + timedelta(days=1)).isoformat()
    response = group.post(
        f"/money-installments/{month[0]['id']}/received",
        json={"amount_minor": 500000, "received_on": tomorrow},
    )
    assert response.status_code == 422 and "future" in response.get_json()["error"]["message"]
    assert (
        donor.post(
            f"/money-installments/{month[0]['id']}/received", json={"amount_minor": 500000}
        ).status_code
        == 403
    )
    response = group.post(
        f"/money-installments/{month[0]['id']}/received", json={"amount_minor": 500000}
    )
    assert response.status_code == 200
    again = group.post(
        f"/money-installments/{month[0]['id']}/received", json={"amount_minor": 500000}
    )
    assert again.status_code == 409

    # Month 2: not confirmed 7 days after it was due: the job flags it once, to both sides.
    due2 = add_months(first, 1)
    now = utcnow() + (due2 - first) + timedelta(days=6)
    assert run_now("money.late", now) == 0  # within MONEY_LATE_DAYS
    now += timedelta(days=2)
    assert run_now("money.late", now) == 1
    assert run_now("money.late", now + timedelta(days=1)) == 0  # once
    db.session.commit()
    told = set(
        db.session.scalars(select(Notification.user_id).where(Notification.kind == "money_late"))
    )
    assert told == {w.organizer.id, w.donor.id}
    switch(w.organizer)
    home = client.get("/").get_data(as_text=True)
    assert "1 month of pledged money is not confirmed received in time" in home
    switch(w.donor)
    home = client.get("/").get_data(as_text=True)
    assert "1 month of pledged money is not confirmed received in time" in home
    inst2 = db.session.get(Installment, month[1]["id"])
    assert inst2.late_flagged_at is not None and inst2.received_at is None
    # Then the group confirms it, with less than pledged: it stays marked as late.
    response = group.post(
        f"/money-installments/{month[1]['id']}/received", json={"amount_minor": 450000}
    )
    assert response.status_code == 200
    shown = response.get_json()["installments"][1]
    assert shown["amount_received_minor"] == 450000 and shown["received_late"] is True
    # Month 3: on time.
    response = group.post(
        f"/money-installments/{month[2]['id']}/received", json={"amount_minor": 500000}
    )
    assert [i["received_late"] for i in response.get_json()["installments"]] == [False, True, False]
    page = client.get(f"/needs/{w.need.id}/money").get_data(as_text=True)
    assert "received late" in page

    # What it bought: items, the amount and a receipt photo, stripped of its GPS.
    response = group.post(
        f"/needs/{w.need.id}/spending",
        data={
            "amount_minor": "800000",
            "currency": "UAH",
            "items": "400 l of diesel, two tyres",
            "photo": (io.BytesIO(jpeg_with_gps()), "receipt.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    money = response.get_json()
    assert money["totals"] == {"UAH": {"pledged": 1500000, "received": 1450000, "spent": 800000}}
    photo_url = money["spending"][0]["photo_url"]
    photo = client.get(photo_url)
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert b"Exif" not in photo.data and b"Quillcam" not in photo.data
    assert Image.open(io.BytesIO(photo.data)).getexif() == {}
    assert db.session.scalar(
        select(Notification.id).where(
            Notification.kind == "money_spent", Notification.user_id == w.donor.id
        )
    )
    switch(w.other)
    assert client.get(photo_url).status_code == 404
    assert (
        api_client(w.other).get(f"/needs/{w.need.id}/money").get_json()["spending"][0]["photo_url"]
        is None
    )

    # The collective's fundraiser: read without an account.
    response = donor.post(
        "/fundraisers",
        json={
            "title": "Winter drive Leipzig",
            "description": "Soli-Party",
            "need_ids": [w.need.id],
        },
    )
    assert response.status_code == 201, response.get_json()
    slug = response.get_json()["slug"]
    client.get("/logout")
    anonymous = client.get(f"/f/{slug}")
    assert anonymous.status_code == 200
    page = anonymous.get_data(as_text=True)
    assert "Winter drive Leipzig" in page and "14,500.00" in page  # received so far
    assert "400 l of diesel" not in page  # the report is younger than the delay
    public = client.get(f"/api/v1/fundraisers/{slug}").get_json()
    assert public["progress"] == {"UAH": {"goal": 1500000, "pledged": 1500000, "received": 1450000}}
    assert public["bought"] == []

    # Weeks later, the purchase is published, dated by its week; the group is not named
    # (it did not allow it), nor the need's title, settlement, contact or payment details.
    db.session.execute(
        update(SpendingReport).values(
            created_at=utcnow() - timedelta(days=40), spent_on=first - timedelta(days=40)
        )
    )
    db.session.commit()
    page = client.get(f"/f/{slug}").get_data(as_text=True)
    assert "400 l of diesel, two tyres" in page and "8,000.00" in page
    for secret in (GROUP_NAME, "Diesel for the evac van", "Marrowgate", IBAN, CARD, LINK, "+380"):
        assert secret not in page, secret
    bought = client.get(f"/api/v1/fundraisers/{slug}").get_json()["bought"]
    spent_on = first - timedelta(days=40)
    assert [b["week"] for b in bought] == [
        (spent_on - timedelta(days=spent_on.weekday())).isoformat()
    ]
    assert bought[0]["group"] is None
    # A group that allows being named (outside the front oblasts) is named.
    w.group.public_name = True
    db.session.commit()
    assert client.get(f"/api/v1/fundraisers/{slug}").get_json()["bought"][0]["group"] == GROUP_NAME


def test_amounts_are_typed_without_floats(app):
    assert parse_major("1 234,50") == 123450
    assert parse_major("1234.5") == 123450
    assert parse_major("200") == 20000
    for bad in ("12.345", "abc", "-5", "0", "nan"):
        with pytest.raises(Invalid):
            parse_major(bad)


def test_pledge_page_form_keeps_what_was_typed(world, client, switch, api_client):
    w = world
    api_client(w.organizer).put(
        f"/needs/{w.need.id}/cost", json={"amount_minor": 90000, "currency": "EUR"}
    )
    switch(w.donor)
    response = client.post(
        f"/needs/{w.need.id}/money/pledges",
        data={
            "amount": "12.345",
            "currency": "EUR",
            "cadence": "monthly",
            "months": "3",
            "note": "Soli",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "at most two digits after the point" in page and "12.345" in page
    response = client.post(
        f"/needs/{w.need.id}/money/pledges",
        data={"amount": "300", "currency": "EUR", "cadence": "monthly", "months": "3"},
    )
    assert response.status_code == 302
    page = client.get(f"/needs/{w.need.id}/money").get_data(as_text=True)
    assert "€300.00 every month for 3 months" in page
    need_page = client.get(f"/needs/{w.need.id}").get_data(as_text=True)
    assert f"/needs/{w.need.id}/money" in need_page


def test_a_coordinator_confirms_on_the_page_and_a_rejection_needs_a_reason(
    world, client, switch, api_client
):
    w = world
    api_client(w.organizer).put(
        f"/needs/{w.need.id}/cost", json={"amount_minor": 90000, "currency": "PLN"}
    )
    body = {"amount_minor": 40000, "currency": "PLN"}
    first = api_client(w.donor).post(f"/needs/{w.need.id}/money-pledges", json=body).get_json()
    second = api_client(w.other).post(f"/needs/{w.need.id}/money-pledges", json=body).get_json()
    switch(w.coordinator)
    assert "2 money pledges wait for a coordinator" in client.get("/").get_data(as_text=True)
    page = client.get(f"/needs/{w.need.id}/money").get_data(as_text=True)
    assert f"/money-pledges/{first['id']}/confirm" in page and "Waiting for a coordinator" in page
    response = client.post(f"/money-pledges/{first['id']}/confirm")
    assert response.status_code == 302
    response = api_client(w.coordinator).post(f"/money-pledges/{second['id']}/reject", json={})
    assert response.status_code == 422 and response.get_json()["error"]["fields"] == {
        "reason": "Please give a reason."
    }
    response = api_client(w.coordinator).post(
        f"/money-pledges/{second['id']}/reject", json={"reason": "Unknown to us"}
    )
    assert response.get_json()["status"] == "rejected"
    assert response.get_json()["payment_details"] is None
    money = api_client(w.coordinator).get(f"/needs/{w.need.id}/money").get_json()
    assert money["totals"]["PLN"]["pledged"] == 40000  # the rejected one counts nothing
    # The collective stops its pledge: its payment details are hidden again.
    api_client(w.organizer).put(
        f"/orgs/{w.group.id}/payment-details", json={"link": "https://pay.example.org/x"}
    )
    donor = api_client(w.donor)
    assert donor.get(f"/money-pledges/{first['id']}").get_json()["payment_details"]["link"]
    assert (
        donor.post(f"/money-pledges/{first['id']}/cancel", json={}).get_json()["status"]
        == "cancelled"
    )
    assert donor.get(f"/money-pledges/{first['id']}").get_json()["payment_details"] is None
    # What it sent before it stopped is still confirmed by the group; a rejected one's is not.
    month = donor.get(f"/money-pledges/{first['id']}").get_json()["installments"][0]["id"]
    group = api_client(w.organizer)
    received = group.post(f"/money-installments/{month}/received", json={"amount_minor": 40000})
    assert received.status_code == 200
    month = response.get_json()["installments"][0]["id"]
    refused = group.post(f"/money-installments/{month}/received", json={"amount_minor": 40000})
    assert refused.status_code == 409


def test_a_fundraiser_takes_no_sensitive_or_unpriced_need(world, api_client):
    w = world
    donor = api_client(w.donor)
    response = donor.post("/fundraisers", json={"title": "Drive", "need_ids": [w.need.id]})
    assert response.status_code == 422
    assert "priced" in response.get_json()["error"]["fields"]["need_ids"]
    response = api_client(w.organizer).post(
        "/fundraisers", json={"title": "Drive", "need_ids": [w.need.id]}
    )
    assert response.status_code == 403
    assert api_client(w.donor).get("/fundraisers/no-such-page").status_code == 404


def test_the_group_s_pages_name_each_problem_and_keep_what_was_typed(world, client, switch):
    w = world
    switch(w.organizer)
    path = f"/orgs/{w.group.id}/payment-details"
    response = client.post(
        path, data={"iban": "UA21 3223 1300 0002 6007 2335 6600 2", "holder": "Olena K."}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "check digits do not match" in page and "Olena K." in page
    response = client.post(path, data={"iban": IBAN, "holder": "Olena K."})
    assert response.status_code == 302
    response = client.post(
        f"/needs/{w.need.id}/money/cost", data={"amount": "1,5,0", "currency": "UAH"}
    )
    assert response.status_code == 422 and "1,5,0" in response.get_data(as_text=True)
    response = client.post(
        f"/needs/{w.need.id}/money/cost", data={"amount": "15000", "currency": "UAH"}
    )
    assert response.status_code == 302
    response = client.post(
        f"/needs/{w.need.id}/money/spending",
        data={"amount": "900", "currency": "UAH", "items": "Brake pads for the van",
              "photo": (io.BytesIO(b"not a photo at all"), "r.jpg")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "This file is not a photo" in page and "Brake pads for the van" in page
    assert db.session.scalar(select(SpendingReport.id)) is None
    switch(w.other)
    assert client.get(path).status_code == 404  # another organization's payment details
