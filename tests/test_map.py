"""The map (issue 6 item 2, issue 16 item 6): login required, public points only, filters
(near a place within N km among them), quantity and progress in the feed, the shipped base
layer (oblast borders and settlement labels), tiles when MAP_TILE_URL says so."""

from __future__ import annotations

import json
import re
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


def test_markers_carry_quantity_and_progress(world, login_as, client):
    login_as(world["stranger"])
    need = next(i for i in _items(client, "?kind=needs") if i["id"] == world["need"].id)
    assert need["quantity"] == world["need"].quantity == 40 and need["unit"] == "pcs"
    assert need["progress"] == {"held": 0, "proposed": 0, "delivered": 0, "open": 40}
    offer = _items(client, "?kind=offers")[0]
    assert offer["quantity"] == 100
    assert offer["progress"] == {"held": 0, "proposed": 0, "open": 100}
    # the popup's words come with the page, in the reader's language
    html = client.get("/map?kind=offers").get_data(as_text=True)
    assert "data-words=" in html and "remaining" in html and "allocated" in html


def test_near_a_place_narrows_the_markers(world, login_as, client):
    login_as(world["stranger"])
    kyiv = world["offer"].place
    balakliia = world["need"].place
    near_kyiv = f"&near={kyiv.id}&within_km=50"
    assert [i["id"] for i in _items(client, "?kind=offers" + near_kyiv)] == [world["offer"].id]
    assert _items(client, "?kind=needs" + near_kyiv) == []
    # the critical need's own point is ~60 km from Balakliia: 50 km leave it out, 150 take it
    near_need = f"&near={balakliia.id}&within_km=50"
    assert {i["id"] for i in _items(client, "?kind=needs" + near_need)} == {world["low"].id}
    near_need = f"&near={balakliia.id}&within_km=150"
    assert {i["id"] for i in _items(client, "?kind=needs" + near_need)} == {
        world["need"].id, world["low"].id
    }  # fmt: skip
    assert _items(client, "?kind=offers" + near_need) == []
    # out of range or not a number: refused, as on the lists' API
    assert client.get(f"/map/data.json?near={kyiv.id}&within_km=0").status_code == 422
    assert client.get("/map/data.json?near=x").status_code == 422


def test_map_page_reads_near_as_the_lists_do(world, login_as, client):
    login_as(world["stranger"])
    kyiv = world["offer"].place
    html = client.get("/map?kind=offers&near_name=Kyiv+map&within_km=50").get_data(as_text=True)
    assert f"near={kyiv.id}" in html and "within_km=50" in html  # data-src and the list link
    assert "Within 50 km of Kyiv map" in html
    # a place nobody knows, or km that are no number: said next to the field; the map then
    # shows the markers unfiltered by distance
    html = client.get("/map?near_name=Nowhereville&within_km=abc").get_data(as_text=True)
    assert "No place called" in html and "Nowhereville" in html
    assert "A whole number of km" in html
    assert "near=" not in html.split('data-src="')[1].split('"')[0]


def test_map_tile_url_still_switches_to_tiles(world, app, login_as, client):
    login_as(world["stranger"])
    html = client.get("/map").get_data(as_text=True)
    assert 'data-tiles=""' in html and "geo/ukraine.geojson" in html
    assert "geo/raions.geojson" in html and "Raion borders (from zoom 7) are approximate" in html
    app.config["MAP_TILE_URL"] = "https://tiles.example.org/{z}/{x}/{y}.png"
    html = client.get("/map").get_data(as_text=True)
    assert 'data-tiles="https://tiles.example.org/{z}/{x}/{y}.png"' in html
    assert "Raion borders" not in html  # the tiles draw their own


def test_the_feed_is_kept_per_viewer_and_filter(world, login_as, client):
    """The cache (cache.remember) keys the feed by the filters too: a narrower feed read after
    a wider one is not the wider one again."""
    login_as(world["stranger"])
    wide = _items(client, "?kind=needs")
    kyiv = world["offer"].place
    assert wide and _items(client, f"?kind=needs&near={kyiv.id}&within_km=50") == []
    assert _items(client, "?kind=needs") == wide


def test_vendored_files_are_served(client):
    for path in (
        "vendor/leaflet/leaflet.js",
        "vendor/leaflet/leaflet.css",
        "vendor/leaflet/images/marker-icon.png",
        "vendor/leaflet.markercluster/leaflet.markercluster.js",
        "vendor/leaflet.markercluster/MarkerCluster.css",
        "js/map.js",
        "geo/ukraine.geojson",
        "geo/raions.geojson",
    ):
        response = client.get(f"/static/{path}")
        assert response.status_code == 200, path
        response.close()
    assert (ROOT / "static/vendor/leaflet/LICENSE").is_file()
    assert (ROOT / "static/vendor/leaflet.markercluster/MIT-LICENCE.txt").is_file()


def test_base_map_has_every_oblast_and_settlement_labels():
    """static/geo/ukraine.geojson (scripts/build_base_map.py): a polygon for each of the 24
    oblasts, Crimea, Kyiv and Sevastopol, named as our places table names them, and labels of
    the larger settlements of our gazetteer, by rank."""
    from aidmatch.places.gazetteer import read_places

    path = ROOT / "static/geo/ukraine.geojson"
    assert path.stat().st_size < 250_000
    data = json.loads(path.read_text())
    assert data["type"] == "FeatureCollection"
    areas = [f for f in data["features"] if f["geometry"]["type"] in ("Polygon", "MultiPolygon")]
    points = [f for f in data["features"] if f["geometry"]["type"] == "Point"]
    assert len(areas) + len(points) == len(data["features"])
    names = [f["properties"]["name"] for f in areas]
    ours = {(p["oblast"], p["oblast_uk"]) for p in read_places() if p["country"] == "UA"}
    assert len(names) == len(set(names)) == 27
    assert {(f["properties"]["name"], f["properties"]["name_uk"]) for f in areas} == ours
    for feature in areas:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"]
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        for polygon in polygons:
            for ring in polygon:
                assert len(ring) >= 4 and ring[0] == ring[-1]
                assert all(44 < lat < 53 and 22 < lon < 41 for lon, lat in ring)
    labels = {f["properties"]["place"]: f["properties"] for f in points}
    assert {"Kyiv", "Kharkiv", "Odesa", "Lviv"} <= {n for n, p in labels.items() if p["rank"] == 1}
    assert labels["Kyiv"]["place_uk"] == "Київ"
    assert {p["rank"] for p in labels.values()} == {1, 2, 3, 4}
    for feature in points:
        lon, lat = feature["geometry"]["coordinates"]
        assert 44 < lat < 53 and 22 < lon < 41


def test_raion_lines_are_named_and_lie_within_their_oblasts():
    """static/geo/raions.geojson (scripts/build_raion_lines.py): the 136 raions' approximate
    inner borders, each raion a feature with its KATOTTG code and its Ukrainian and Latin
    names, inside its oblast's shape in the base layer (bounding boxes), small enough."""
    path = ROOT / "static/geo/raions.geojson"
    assert path.stat().st_size < 150_000
    raions = json.loads(path.read_text())["features"]
    base = json.loads((ROOT / "static/geo/ukraine.geojson").read_text())["features"]

    def box(coordinates):
        flat = coordinates
        while isinstance(flat[0][0], list):
            flat = [c for part in flat for c in part]
        lons, lats = [c[0] for c in flat], [c[1] for c in flat]
        return min(lons), min(lats), max(lons), max(lats)

    oblasts = {
        f["properties"]["name"]: box(f["geometry"]["coordinates"])
        for f in base
        if f["geometry"]["type"] != "Point"
    }
    assert 130 <= len(raions) <= 140
    codes = [f["properties"]["code"] for f in raions]
    assert len(set(codes)) == len(codes)
    for feature in raions:
        props = feature["properties"]
        assert re.fullmatch(r"UA\d{17}", props["code"]) and props["code"][6:12] == "000000"
        assert props["name"].endswith(" raion") and props["name_uk"].endswith(" район")
        assert feature["geometry"]["type"] == "MultiLineString"
        assert feature["geometry"]["coordinates"], props["name"]
        west, south, east, north = oblasts[props["oblast"]]
        lon0, lat0, lon1, lat1 = box(feature["geometry"]["coordinates"])
        slack = 0.002  # the lines' rounding
        assert west - slack <= lon0 and lon1 <= east + slack, props["name"]
        assert south - slack <= lat0 and lat1 <= north + slack, props["name"]
    names = {f["properties"]["name_uk"]: f["properties"]["name"] for f in raions}
    assert names["Бахмутський район"] == "Bakhmutskyi raion"
    assert not {"Kyiv", "Sevastopol"} & {f["properties"]["oblast"] for f in raions}
