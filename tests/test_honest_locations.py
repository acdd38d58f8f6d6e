"""Honest locations: a need or offer placed only by its settlement is at the settlement's
centre and says so to every viewer, on its page, on the match page after approval, in the
API, on the map and in the CSV export; "exact point" only where the group set one. The
point_set flag follows what the organization gave: form, API, CSV import, edit."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from sqlalchemy import select

from aidmatch.extensions import db
from aidmatch.matches import operations as ops
from aidmatch.needs.models import Need
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_offer, make_place

pytestmark = pytest.mark.usefixtures("english")

CENTRE = "Centre of Kramatorsk (no exact point given)"


@pytest.fixture
def world(app):
    """A group in Kramatorsk with a need placed by the town only and one at a point it set;
    a donor whose offer covers both; a donor who has nothing to do with them; a coordinator."""
    town = make_place("Kramatorsk", lat=48.738, lon=37.584, oblast="Donetsk Oblast")
    group = make_org("Kramatorsk Aid")
    organizer = make_user(Role.ORGANIZER, org=group, language="en")
    by_town = make_need(group, organizer, town, title="Needs placed by the town")
    at_point = make_need(
        group, organizer, town, title="Needs at the school", lat=48.74123, lon=37.59876
    )
    donor_org = make_org("Donor", kind=OrgKind.DONOR_COLLECTIVE)
    donor = make_user(Role.DONOR, org=donor_org, language="en")
    offer = make_offer(donor_org, donor, quantity=100)
    stranger = make_user(
        Role.DONOR, org=make_org("Other", kind=OrgKind.DONOR_COLLECTIVE), language="en"
    )
    coordinator = make_user(Role.COORDINATOR, language="en")
    db.session.commit()
    return locals()


def test_point_set_follows_what_the_organization_gave(world, api_client, client, login_as):
    assert world["by_town"].point_set is False and world["at_point"].point_set is True
    api = api_client(world["organizer"])
    town = world["town"]
    need = {"title": "Water", "category": "drinking-water", "quantity": 5, "place_id": town.id}
    placed = api.post("/needs", json=need).get_json()
    pointed = api.post("/needs", json={**need, "lat": 48.75, "lon": 37.6}).get_json()
    assert placed["location"]["kind"] == "settlement_centre"
    assert pointed["location"]["kind"] == "exact"
    # an edit that gives a point sets it; one that gives only the place clears it
    edited = api.patch(f"/needs/{placed['id']}", json={"lat": 48.7, "lon": 37.5}).get_json()
    assert edited["location"] == {"lat": 48.7, "lon": 37.5, "precision_km": 0, "kind": "exact"}
    cleared = api.patch(f"/needs/{pointed['id']}", json={"place_id": town.id}).get_json()
    assert cleared["location"]["kind"] == "settlement_centre"
    assert (cleared["location"]["lat"], cleared["location"]["lon"]) == (town.lat, town.lon)
    assert db.session.get(Need, pointed["id"]).point_set is False
    # the edit form offers the point only where the group set one
    login_as(world["organizer"])
    form = client.get(f"/needs/{world['at_point'].id}/edit").get_data(as_text=True)
    assert "48.74123" in form
    form = client.get(f"/needs/{world['by_town'].id}/edit").get_data(as_text=True)
    assert f'value="{town.lat!r}"' not in form
    # spreadsheet import: a row with lat and lon sets the point, one without does not
    text = (
        "title,category,quantity,place,oblast,urgency,lat,lon\n"
        "From the town,tourniquets,3,Kramatorsk,Donetsk Oblast,high,,\n"
        "From the school,tourniquets,4,Kramatorsk,Donetsk Oblast,high,48.7412,37.5987\n"
    )
    preview = client.post(
        "/needs/spreadsheets/preview",
        data={"file": (io.BytesIO(text.encode()), "needs.csv")},
        content_type="multipart/form-data",
    )
    payload = re.search(r'name="payload" value="([^"]+)"', preview.get_data(as_text=True))
    assert payload, preview.get_data(as_text=True)
    response = client.post(
        "/needs/spreadsheets/import", data={"payload": unescape(payload.group(1)), "mode": "all"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    imported = {
        n.title: n.point_set
        for n in db.session.scalars(select(Need).where(Need.title.like("From the %")))
    }
    assert imported == {"From the town": False, "From the school": True}


def test_every_viewer_is_told_a_settlement_centre_on_the_page(world, switch):
    by_town, at_point = world["by_town"], world["at_point"]
    for who in ("organizer", "coordinator", "stranger"):
        client = switch(world[who])
        page = client.get(f"/needs/{by_town.id}").get_data(as_text=True)
        assert CENTRE in page and "Exact point" not in page, who
    page = switch(world["organizer"]).get(f"/needs/{at_point.id}").get_data(as_text=True)
    assert "Exact point: 48.74123, 37.59876" in page and CENTRE not in page
    page = switch(world["stranger"]).get(f"/needs/{at_point.id}").get_data(as_text=True)
    assert "Within about 10 km" in page and "Exact point" not in page


def test_after_approval_the_donor_sees_the_centre_or_the_exact_point(world, switch, api_client):
    shown = {}
    for key in ("by_town", "at_point"):
        match = ops.claim_need(world[key], world["donor"], 2, offer=world["offer"])
        ops.approve(match, world["coordinator"])
        shown[key] = match.id
    db.session.commit()
    client = switch(world["donor"])
    page = client.get(f"/matches/{shown['by_town']}").get_data(as_text=True)
    assert CENTRE in page and "Exact point" not in page
    page = client.get(f"/matches/{shown['at_point']}").get_data(as_text=True)
    assert "Exact point: 48.74123, 37.59876" in page
    api = api_client(world["donor"])
    by_town = api.get(f"/matches/{shown['by_town']}").get_json()["need"]["location"]
    at_point = api.get(f"/matches/{shown['at_point']}").get_json()["need"]["location"]
    assert by_town["kind"] == "settlement_centre" and by_town["precision_km"] == 0
    assert at_point == {"lat": 48.74123, "lon": 37.59876, "precision_km": 0, "kind": "exact"}


def test_the_api_map_and_csv_say_what_the_point_is(world, api_client, switch):
    ids = {world["by_town"].id: "by_town", world["at_point"].id: "at_point"}
    expected = {
        "organizer": {"by_town": "settlement_centre", "at_point": "exact"},
        "stranger": {"by_town": "settlement_centre", "at_point": "area"},
    }
    for who, kinds in expected.items():
        items = api_client(world[who]).get("/needs").get_json()["items"]
        assert {ids[i["id"]]: i["location"]["kind"] for i in items if i["id"] in ids} == kinds
        client = switch(world[who])
        markers = client.get("/map/data.json").get_json()["items"]
        seen = {ids[m["id"]]: (m["point"], m["where"]) for m in markers if m["id"] in ids}
        assert seen["by_town"] == ("settlement_centre", CENTRE)
        assert seen["at_point"][0] == kinds["at_point"]
        if who == "stranger":
            assert seen["at_point"][1].startswith("Within about 10 km")
    client = switch(world["organizer"])
    text = client.get("/needs/export.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {ids[int(r["id"])]: r["point"] for r in rows} == expected["organizer"]
