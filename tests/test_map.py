"""The map (issue 6 item 2): login required, public points only, filters, vendored assets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aidmatch.extensions import db
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_offer, make_place

ROOT = Path(__file__).resolve().parent.parent
EXACT_NEED = (49.718273, 37.629184)
EXACT_OFFER = (50.461937, 30.527318)
EXACT_DIGITS = ("718273", "629184", "461937", "527318")


@pytest.fixture
def world(app):
    front = make_org()
    organizer = make_user(Role.ORGANIZER, org=front)
    place = make_place("Balakliia map", lat=49.46, lon=36.86, oblast="Kharkiv Oblast")
    need = make_need(
        front, organizer, place=place, lat=EXACT_NEED[0], lon=EXACT_NEED[1],
        urgency="critical", title="Tourniquets for the map",
    )  # fmt: skip
    low = make_need(front, organizer, place=place, urgency="low", title="Low need on the map")
    donor_org = make_org(kind=OrgKind.DONOR_COLLECTIVE)
    donor = make_user(Role.DONOR, org=donor_org)
    kyiv = make_place("Kyiv map", lat=50.45, lon=30.52, oblast="Kyiv Oblast")
    offer = make_offer(donor_org, donor, place=kyiv, lat=EXACT_OFFER[0], lon=EXACT_OFFER[1])
    stranger = make_user(Role.DONOR, org=make_org(kind=OrgKind.DONOR_COLLECTIVE))
    db.session.commit()
    return {
        "need": need, "low": low, "offer": offer, "organizer": organizer,
        "donor": donor, "stranger": stranger,
    }  # fmt: skip


def _items(client, query: str = "") -> list[dict]:
    response = client.get(f"/map/data.json{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["items"]


def test_map_needs_login(client):
    response = client.get("/map")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    # Only /api/ answers 401 (permissions.require_login): the map's data, fetched by the
    # page's own script, sends an anonymous caller to the login page like the page does.
    data = client.get("/map/data.json", headers={"Accept": "application/json"})
    assert data.status_code == 302 and "/login" in data.headers["Location"]


def test_map_page_renders_with_data_attributes_and_noscript(world, login_as, client):
    login_as(world["stranger"])
    html = client.get("/map?kind=needs&urgency=critical").get_data(as_text=True)
    assert 'id="map"' in html and "data-src=" in html and "kind=needs" in html
    assert "<noscript>" in html and "/needs?" in html
    assert "vendor/leaflet/leaflet.js" in html and "js/map.js" in html
    assert "<script>" not in html  # no inline script (CSP-friendly)
    for digits in EXACT_DIGITS:
        assert digits not in html


def test_unrelated_donor_gets_only_coarse_points(world, login_as, client):
    login_as(world["stranger"])
    for query in ("", "?kind=needs", "?kind=offers", "?kind=needs&status=all"):
        response = client.get(f"/map/data.json{query}")
        text = response.get_data(as_text=True)
        for digits in EXACT_DIGITS:
            assert digits not in text, (query, digits)
        items = response.get_json()["items"]
        assert items and all(item["precision_km"] == 10 for item in items)
    need = next(i for i in _items(client, "?kind=needs") if i["id"] == world["need"].id)
    assert need["kind"] == "needs" and need["urgency"] == "critical"
    assert need["title"] == "Tourniquets for the map"
    assert need["url"] == f"/needs/{world['need'].id}"
    assert (need["lat"], need["lon"]) != EXACT_NEED
    offer = _items(client, "?kind=offers")[0]
    assert offer["url"] == f"/offers/{world['offer'].id}" and offer["urgency"] is None


def test_owner_sees_the_exact_point(world, login_as, client):
    login_as(world["organizer"])
    need = next(i for i in _items(client, "?kind=needs") if i["id"] == world["need"].id)
    assert need["precision_km"] == 0 and (need["lat"], need["lon"]) == EXACT_NEED


def test_filters_narrow_the_markers(world, login_as, client):
    login_as(world["stranger"])
    ids = {i["id"] for i in _items(client, "?kind=needs&urgency=critical")}
    assert world["need"].id in ids and world["low"].id not in ids
    assert {i["id"] for i in _items(client, "?kind=needs&oblast=Kyiv+Oblast")}.isdisjoint(
        {world["need"].id, world["low"].id}
    )
    assert [i["id"] for i in _items(client, "?kind=offers&oblast=Kyiv+Oblast")] == [
        world["offer"].id
    ]
    assert _items(client, "?kind=offers&category=no-such-category") == []
    assert world["need"].id in {
        i["id"] for i in _items(client, "?kind=needs&category=tactical-medicine")
    }
    # the form's empty fields are ignored; a bad kind or urgency is refused
    assert _items(client, "?kind=needs&category=&oblast=&urgency=")
    assert client.get("/map/data.json?kind=people").status_code == 422
    assert client.get("/map/data.json?urgency=panic").status_code == 422


def test_vendored_files_are_served(client):
    for path in (
        "vendor/leaflet/leaflet.js",
        "vendor/leaflet/leaflet.css",
        "vendor/leaflet/images/marker-icon.png",
        "vendor/leaflet.markercluster/leaflet.markercluster.js",
        "vendor/leaflet.markercluster/MarkerCluster.css",
        "vendor/leaflet.markercluster/MarkerCluster.Default.css",
        "js/map.js",
        "geo/oblasts.geojson",
    ):
        response = client.get(f"/static/{path}")
        assert response.status_code == 200, path
        response.close()
    assert (ROOT / "static/vendor/leaflet/LICENSE").is_file()
    assert (ROOT / "static/vendor/leaflet.markercluster/MIT-LICENCE.txt").is_file()


def test_oblast_outlines_geojson():
    path = ROOT / "static/geo/oblasts.geojson"
    assert path.stat().st_size < 150_000
    data = json.loads(path.read_text())
    assert data["type"] == "FeatureCollection"
    names = [feature["properties"]["name"] for feature in data["features"]]
    # The 24 oblasts and Crimea (Kyiv and Sevastopol, cities of their own, draw no outline).
    assert len(names) == len(set(names)) == 25
    assert sum(name.endswith(" Oblast") for name in names) == 24
    assert "Autonomous Republic of Crimea" in names
    for feature in data["features"]:
        ring = feature["geometry"]["coordinates"][0]
        assert feature["geometry"]["type"] == "Polygon" and ring[0] == ring[-1]
        assert all(43 < lat < 53 and 21 < lon < 41 for lon, lat in ring)
