"""The gazetteer: its data, the loader, search and resolve, the autocomplete endpoint."""

from __future__ import annotations

import random
import socket

import pytest
from geopy.distance import geodesic
from sqlalchemy import func, select, update

from aidmatch.extensions import db
from aidmatch.geo import haversine_km
from aidmatch.places import search as places_search
from aidmatch.places.gazetteer import read_places, sync_places
from aidmatch.places.models import Place
from aidmatch.places.search import resolve, search
from aidmatch.places.text import fold, transliterate

UA_BBOX = (44.0, 52.6, 22.0, 40.5)  # lat min, lat max, lon min, lon max


def count(*where) -> int:
    return db.session.scalar(select(func.count(Place.id)).where(*where))


# --- the data -----------------------------------------------------------------------------


def test_every_settlement_of_ukraine_is_there(app):
    # The figures the README gives for the shipped file (scripts/build_gazetteer.py).
    assert count(Place.country == "UA") == 29_703
    assert count(Place.country == "UA", Place.approximate.is_(False)) == 5_102
    assert count(Place.country != "UA") == 659
    assert count(Place.code.like("UA%"), Place.name_uk.is_(None)) == 0


def test_every_ukrainian_point_lies_in_ukraine(app):
    lat_min, lat_max, lon_min, lon_max = UA_BBOX
    outside = count(
        Place.country == "UA",
        ~Place.lat.between(lat_min, lat_max) | ~Place.lon.between(lon_min, lon_max),
    )
    assert outside == 0
    assert count(Place.lat.is_(None) | Place.lon.is_(None)) == 0


def test_the_data_file_has_unique_codes_and_a_hierarchy():
    rows = read_places()
    assert len({r["code"] for r in rows}) == len(rows)
    ukrainian = [r for r in rows if r["country"] == "UA"]
    assert all(r["oblast"] and r["oblast_uk"] for r in ukrainian)
    # All but Kyiv, Sevastopol and the two towns of the exclusion zone sit in a hromada.
    outside = {r["name"] for r in ukrainian if not r["hromada_code"]}
    assert outside == {"Kyiv", "Sevastopol", "Prypiat", "Chornobyl"}
    assert all(r["population"] == 0 for r in ukrainian if r["approximate"])


def test_kharkiv_is_described_fully(app):
    kharkiv = resolve("Харків")
    assert kharkiv.name == "Kharkiv"
    assert kharkiv.kind == "city"
    assert kharkiv.oblast == "Kharkiv Oblast"
    assert kharkiv.oblast_uk == "Харківська область"
    assert kharkiv.raion == "Kharkivskyi raion"
    assert kharkiv.hromada_code and kharkiv.hromada == "Kharkivska hromada"
    assert kharkiv.population > 1_000_000
    assert not kharkiv.approximate
    assert haversine_km(kharkiv.lat, kharkiv.lon, 49.99, 36.23) < 5
    assert "Kharkov" in kharkiv.alt_names.split("|")


def test_a_village_without_a_point_of_its_own_takes_its_hromada_centre(app):
    village, bakhmut = resolve("Кліщіївка", oblast="Донецька"), resolve("Бахмут")
    assert village.approximate and village.population == 0
    assert village.hromada_code == bakhmut.hromada_code and not bakhmut.approximate
    assert (village.lat, village.lon) == (bakhmut.lat, bakhmut.lon)


# --- search ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["Харків", "Kharkiv", "Kharkov", "Харьков", "харк", "Khark", "KHARKIV", "kharkiv "]
)
def test_kharkiv_comes_first_in_any_script(app, query):
    hits = search(query)
    assert hits[0].name_uk == "Харків" and hits[0].kind == "city"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Kharkiw", "Харків"),
        ("Kharkv", "Харків"),
        ("Zaporizhia", "Запоріжжя"),
        ("Zaporizhzhya", "Запоріжжя"),
        ("Dnipropetrovsk", "Дніпро"),
        ("Lwiw", "Львів"),
        ("Mykolayiv", "Миколаїв"),
        ("Kropiwnyzkyj", "Кропивницький"),
    ],
)
def test_one_typo_or_another_spelling_still_finds_the_city(app, query, expected):
    assert search(query)[0].name_uk == expected


@pytest.mark.parametrize(
    ("query", "oblast"),
    [
        ("Кругляківка", "Kharkiv Oblast"),
        ("Kruhliakivka", "Kharkiv Oblast"),
        ("Кліщіївка", "Donetsk Oblast"),
        ("Klishchiivka", "Donetsk Oblast"),
        ("Кринки", "Kherson Oblast"),
    ],
)
def test_small_villages_near_the_front_are_found(app, query, oblast):
    hits = search(query, limit=5)
    assert any(h.oblast == oblast and fold(query) in {fold(h.name), fold(h.name_uk)} for h in hits)


def test_apostrophes_and_diacritics_do_not_matter(app):
    for query in ("Мар’янівка", "Мар'янівка", "Марʼянівка", "Марянівка", "Marianivka"):
        assert search(query, limit=3)[0].name_uk == "Мар’янівка", query
    assert search("Krakow")[0].name == "Kraków"
    assert search("Łódź")[0] == search("Lodz")[0]


@pytest.mark.parametrize(
    ("query", "country"),
    [
        ("Berlin", "DE"),
        ("Берлін", "DE"),
        ("Warsaw", "PL"),
        ("Warszawa", "PL"),
        ("Варшава", "PL"),
        ("Kraków", "PL"),
        ("Prague", "CZ"),
        ("Praha", "CZ"),
        ("Vienna", "AT"),
        ("Wien", "AT"),
    ],
)
def test_cities_abroad_where_donors_sit(app, query, country):
    hit = search(query)[0]
    assert hit.country == country and hit.population > 500_000


def test_exact_names_come_before_bigger_places_known_by_that_name_too(app):
    # Donetsk was once Олександрівка, but the villages called so today come first.
    hits = search("Олександрівка", limit=10)
    assert all(h.name_uk == "Олександрівка" for h in hits)


def test_region_after_a_comma_narrows_the_search(app):
    for query in ("Олександрівка, Харківська", "Oleksandrivka, Kharkiv"):
        hits = search(query, limit=20)
        assert hits and all(h.oblast == "Kharkiv Oblast" for h in hits)


def test_country_filter_and_limit(app):
    assert all(h.country == "UA" for h in search("Berl", limit=20, country="UA"))
    assert all(h.country == "PL" for h in search("K", limit=20, country="pl"))
    assert len(search("К", limit=7)) == 7
    assert search("", limit=5) == [] and search("   ") == [] and search(",") == []
    assert search("Kharkiv", limit=0) == []


def test_nothing_found_for_nonsense(app):
    assert search("Qqqqxzzy") == []
    assert resolve("Qqqqxzzy") is None
    assert resolve("") is None


def test_resolve_by_exact_name_and_oblast(app):
    assert resolve("Kyiv").kind == "city" and resolve("Kyiv").oblast == "Kyiv"
    assert resolve("Kiev") == resolve("Київ")
    village = resolve("Oleksandrivka", oblast="Kharkiv Oblast")
    assert village.oblast == "Kharkiv Oblast" and village.name_uk == "Олександрівка"
    assert resolve("Олександрівка", oblast="Харківська область") in search(
        "Олександрівка, Харківська", limit=50
    )
    assert resolve("Oleksandrivka", oblast="Kharkiv") is not None
    assert resolve("Харків", oblast="Львівська") is None
    assert resolve("Khark") is None  # a prefix is not a name


def test_places_added_later_are_found_without_a_rebuild(app):
    places_search.get_indexes()
    base = places_search._cache.base
    place = Place(
        code="TEST-LATER", name="Zzyzxville", name_uk="Зизиксівка", country="UA", lat=50, lon=30
    )
    db.session.add(place)
    db.session.flush()
    assert search("Zzyzx") == [place]
    assert resolve("Зизиксівка") == place
    assert places_search._cache.base is base


def test_load_places_refreshes_the_index(app):
    kharkiv = resolve("Kharkiv")
    places_search.get_indexes()
    db.session.execute(update(Place).where(Place.id == kharkiv.id).values(name="Renamed"))
    result = sync_places()
    assert result.updated == 1 and result.inserted == 0
    db.session.expire_all()
    assert search("Kharkiv")[0].id == kharkiv.id
    assert db.session.get(Place, kharkiv.id).name == "Kharkiv"


# --- the loader -----------------------------------------------------------------------------


def test_loading_again_changes_nothing(app):
    before = count()
    top = db.session.scalar(select(func.max(Place.id)))
    result = sync_places()
    assert (result.inserted, result.updated, result.deleted) == (0, 0, 0)
    assert result.total == before
    assert count() == before
    assert db.session.scalar(select(func.max(Place.id))) == top


def test_loader_removes_places_no_longer_listed_unless_used(app):
    stale = Place(code="GN1", name="Gone", country="DE", lat=50, lon=10)
    custom = Place(code="CUSTOM-1", name="Our hamlet", country="UA", lat=50, lon=30)
    db.session.add_all([stale, custom])
    db.session.flush()
    result = sync_places()
    assert result.deleted == 1
    assert db.session.scalar(select(Place).where(Place.code == "GN1")) is None
    assert db.session.scalar(select(Place).where(Place.code == "CUSTOM-1")) is not None


# --- no network -----------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a socket fails the test (the database connection is open already)."""
    db.session.execute(select(1))

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_search_and_load_touch_no_network(app, no_network):
    places_search.invalidate_index()
    assert search("Kharkiv")[0].name == "Kharkiv"
    assert search("Kharkiw")[0].name == "Kharkiv"
    assert resolve("Кліщіївка") is not None
    assert sync_places().inserted == 0


def test_autocomplete_touches_no_network(client, no_network):
    assert client.get("/places/search?q=Khark").get_json()["items"][0]["name"] == "Kharkiv"


# --- the autocomplete endpoint ---------------------------------------------------------------


def test_autocomplete_returns_public_fields(client):
    response = client.get("/places/search", query_string={"q": "Харк"})
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert items[0]["name"] == "Kharkiv" and items[0]["name_uk"] == "Харків"
    assert set(items[0]) == {"id", "name", "name_uk", "oblast", "lat", "lon", "population"}
    assert items[0]["oblast"] == "Kharkiv Oblast"
    assert len(items) == 10


def test_autocomplete_limit_is_capped(client):
    assert len(client.get("/places/search?q=к&limit=1000").get_json()["items"]) == 20
    assert len(client.get("/places/search?q=к&limit=3").get_json()["items"]) == 3
    assert len(client.get("/places/search?q=к&limit=abc").get_json()["items"]) == 10


def test_autocomplete_empty_and_overlong_queries(client):
    assert client.get("/places/search").get_json() == {"items": []}
    assert client.get("/places/search?q=").get_json() == {"items": []}
    response = client.get("/places/search", query_string={"q": "x" * 101})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
    assert "q" in response.get_json()["error"]["fields"]


def test_autocomplete_needs_no_login_and_finds_cities_abroad(client):
    items = client.get("/places/search?q=Warszawa").get_json()["items"]
    assert items[0]["name"] == "Warsaw" and items[0]["oblast"] is None


# --- text and distances ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ukrainian", "latin"),
    [
        ("Згурівка", "Zghurivka"),
        ("Розгон", "Rozghon"),
        ("Харків", "Kharkiv"),
        ("Запоріжжя", "Zaporizhzhia"),
        ("Єнакієве", "Yenakiieve"),
        ("Їжакевич", "Yizhakevych"),
        ("Йосипівка", "Yosypivka"),
        ("Юрій", "Yurii"),
        ("Яготин", "Yahotyn"),
        ("Мар’янівка", "Marianivka"),
        ("Знам’янка", "Znamianka"),
        ("Олександрія", "Oleksandriia"),
        ("Біла Церква", "Bila Tserkva"),
        ("Щасливе", "Shchaslyve"),
        ("Гоща", "Hoshcha"),
        ("Ґалаґан", "Galagan"),
        ("Івано-Франківськ", "Ivano-Frankivsk"),
        ("Кропивницький", "Kropyvnytskyi"),
    ],
)
def test_national_transliteration(ukrainian, latin):
    assert transliterate(ukrainian) == latin


def test_fold_keeps_ukrainian_letters_apart():
    assert fold("Київ") != fold("Кииів")
    assert fold("Йосипівка") != fold("Иосипівка")
    assert fold("Kraków") == fold("KRAKOW") == "krakow"
    assert fold("Мар’янівка") == fold("Мар'янівка") == fold("Марʼянівка")
    assert fold("Ivano-Frankivsk") == "ivano frankivsk"


def test_haversine_agrees_with_geopy_within_half_a_percent():
    rng = random.Random(20240224)
    for _ in range(500):
        lat1, lat2 = rng.uniform(35, 62), rng.uniform(35, 62)
        lon1, lon2 = rng.uniform(-10, 41), rng.uniform(-10, 41)
        exact = geodesic((lat1, lon1), (lat2, lon2)).km
        if exact < 1:
            continue
        assert abs(haversine_km(lat1, lon1, lat2, lon2) - exact) / exact < 0.005
