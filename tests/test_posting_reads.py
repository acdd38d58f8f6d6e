"""Reads never write: a need past its needed-by date and an offer past available-until read
as expired on every page, API answer, map feed and CSV export, while no GET stores anything;
`flask expire` stores the status."""

from __future__ import annotations

from datetime import date, timedelta

from aidmatch.extensions import db
from aidmatch.needs.models import Need, NeedStatus
from aidmatch.offers.models import Offer, OfferStatus
from aidmatch.permissions import Role
from tests.factories import make_user
from tests.posting_factories import make_need, make_offer
from tests.sql_statements import writes


def _stale_world():
    organizer, donor = make_user(Role.ORGANIZER), make_user(Role.DONOR)
    tomorrow, yesterday = date.today() + timedelta(days=1), date.today() - timedelta(days=1)
    need = make_need(organizer.organization, organizer, needed_by=tomorrow)
    fresh = make_need(organizer.organization, organizer, title="Fresh need")
    offer = make_offer(donor.organization, donor, available_until=tomorrow)
    need.needed_by, offer.available_until = yesterday, yesterday  # time passed
    db.session.commit()
    return organizer, donor, need.id, fresh.id, offer.id


def test_stale_needs_and_offers_read_as_expired_and_no_get_writes(app, client, login_as):
    organizer, donor, need_id, fresh_id, offer_id = _stale_world()
    login_as(organizer)
    with writes() as seen:
        listed = client.get("/needs").get_data(as_text=True)
        expired_list = client.get("/needs?status=expired").get_data(as_text=True)
        page = client.get(f"/needs/{need_id}")
        export = client.get("/needs/export.csv").get_data(as_text=True)
        markers = client.get("/map/data.json?kind=needs").get_json()["items"]
        edit = client.get(f"/needs/{need_id}/edit")
    assert seen == []
    assert f'/needs/{fresh_id}"' in listed and f'/needs/{need_id}"' not in listed
    assert f'/needs/{need_id}"' in expired_list and f'/needs/{fresh_id}"' not in expired_list
    assert page.status_code == 200 and "expired" in page.get_data(as_text=True)
    assert edit.status_code == 302  # only an open need can be edited
    assert str(need_id) not in [row.split(",")[0] for row in export.splitlines()[1:]]
    assert [m["id"] for m in markers] == [fresh_id]
    assert db.session.get(Need, need_id).status == NeedStatus.OPEN  # nothing was stored

    client.post("/logout")
    login_as(donor)
    with writes() as seen:
        offers = client.get("/offers").get_data(as_text=True)
        offer_page = client.get(f"/offers/{offer_id}").get_data(as_text=True)
        offer_markers = client.get("/map/data.json?kind=offers").get_json()["items"]
        offer_csv = client.get("/offers/export.csv?status=all").get_data(as_text=True)
    assert seen == []
    assert f'/offers/{offer_id}"' not in offers and "expired" in offer_page
    assert offer_markers == []
    assert ",expired," in offer_csv
    assert db.session.get(Offer, offer_id).status == OfferStatus.OPEN


def test_api_reads_expired_and_refuses_to_change_a_stale_need(app, api_client):
    organizer, donor, need_id, _fresh_id, offer_id = _stale_world()
    api = api_client(organizer)
    with writes() as seen:
        one = api.get(f"/needs/{need_id}").get_json()
        expired = api.get("/needs?status=expired").get_json()
        opened = api.get("/needs").get_json()
    assert seen == []
    assert one["status"] == "expired"
    assert [n["id"] for n in expired["items"]] == [need_id]
    assert need_id not in [n["id"] for n in opened["items"]]
    assert api.patch(f"/needs/{need_id}", json={"quantity": 3}).status_code == 409
    assert api.post(f"/needs/{need_id}/cancel", json={}).status_code == 409
    assert api_client(donor).get(f"/offers/{offer_id}").get_json()["status"] == "expired"
    assert api_client(donor).post(f"/offers/{offer_id}/withdraw", json={}).status_code == 409


def test_flask_expire_stores_what_the_reads_already_showed(app):
    _organizer, _donor, need_id, fresh_id, offer_id = _stale_world()
    result = app.test_cli_runner().invoke(args=["expire"])
    assert "Expired 1 needs and 1 offers." in result.output, result.output
    db.session.expire_all()
    assert db.session.get(Need, need_id).status == NeedStatus.EXPIRED
    assert db.session.get(Need, fresh_id).status == NeedStatus.OPEN
    assert db.session.get(Offer, offer_id).status == OfferStatus.EXPIRED


def test_permission_comes_before_the_body(app, api_client):
    organizer, donor, need_id, _fresh_id, offer_id = _stale_world()
    # A body that would fail validation still gets 403: the permission is checked first.
    assert api_client(donor).post("/needs", json={"quantity": "many"}).status_code == 403
    assert api_client(organizer).post("/offers", json={"quantity": "many"}).status_code == 403
    bad = {"quantity": "many"}
    assert api_client(donor).patch(f"/needs/{need_id}", json=bad).status_code == 403
    assert api_client(organizer).patch(f"/offers/{offer_id}", json=bad).status_code == 403
    assert api_client(donor).post(f"/needs/{need_id}/cancel", json={"reason": 5}).status_code == 403


def test_a_need_or_offer_past_its_date_takes_no_claim(app, api_client):
    _organizer, donor, need_id, fresh_id, offer_id = _stale_world()
    api = api_client(donor)
    refused = api.post(f"/needs/{need_id}/claims", json={"quantity": 1})
    assert refused.status_code == 409 and "expired" in refused.get_json()["error"]["message"]
    from_stale_offer = api.post(
        f"/needs/{fresh_id}/claims", json={"quantity": 1, "offer_id": offer_id}
    )
    assert from_stale_offer.status_code == 409, from_stale_offer.get_json()
    assert "expired" in from_stale_offer.get_json()["error"]["message"]
    assert db.session.get(Need, need_id).pledged == 0 == db.session.get(Need, fresh_id).pledged
