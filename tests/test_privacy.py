"""Location privacy: an unrelated user never sees exact coordinates, notes or contacts.

Every route that lists or shows needs or offers is loaded as an unrelated donor, and the
responses are searched for the digits of the exact points, the delivery note and the
organizations' contacts.
"""

from __future__ import annotations

import pytest

from aidmatch.extensions import db
from aidmatch.geo import haversine_km, round_distance_km
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_offer, make_place

EXACT_NEED = (49.718273, 37.629184)
EXACT_OFFER = (50.461937, 30.527318)
SECRETS = (
    "718273",
    "629184",
    "461937",
    "527318",
    "NOTE-behind-the-blue-gate",
    "CONTACT-frontline-+380501112233",
    "CONTACT-donor-+4915112345678",
)


@pytest.fixture
def world(app):
    """A frontline group's needs (one sensitive), a donor's offer, and an unrelated donor."""
    front = make_org(contact="CONTACT-frontline-+380501112233")
    organizer = make_user(Role.ORGANIZER, org=front)
    place = make_place("Balakliia test", lat=49.46, lon=36.86)
    exact = {
        "lat": EXACT_NEED[0],
        "lon": EXACT_NEED[1],
        "delivery_note": "NOTE-behind-the-blue-gate",
    }
    need = make_need(front, organizer, place=place, **exact)
    sensitive = make_need(
        front, organizer, place=place, **exact, sensitive=True, title="Sensitive need"
    )
    donor_org = make_org(kind=OrgKind.DONOR_COLLECTIVE, contact="CONTACT-donor-+4915112345678")
    donor = make_user(Role.DONOR, org=donor_org)
    kyiv = make_place("Kyiv privacy", lat=50.45, lon=30.52, oblast="Kyiv")
    offer = make_offer(donor_org, donor, place=kyiv, lat=EXACT_OFFER[0], lon=EXACT_OFFER[1])
    stranger = make_user(Role.DONOR, org=make_org(kind=OrgKind.DONOR_COLLECTIVE))
    unverified = make_user(Role.DONOR, org=make_org(kind=OrgKind.DONOR_COLLECTIVE, verified=False))
    coordinator = make_user(Role.COORDINATOR)
    db.session.commit()
    return {
        "need": need, "sensitive": sensitive, "offer": offer, "place": place,
        "organizer": organizer, "donor": donor, "stranger": stranger,
        "unverified": unverified, "coordinator": coordinator, "front": front,
    }  # fmt: skip


def _assert_no_secrets(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{where} leaks {secret!r}"


def api_paths(w) -> dict[str, int]:
    """Each API resource an unrelated (verified) donor may read, with the status it must answer."""
    n, s, o, p = w["need"].id, w["sensitive"].id, w["offer"].id, w["place"].id
    return {
        "/needs": 200,
        "/needs?status=all&per_page=200": 200,
        f"/needs?near={p}&within_km=30&sort=closest": 200,
        f"/needs?near={p}&within_km=5": 200,
        f"/needs/{n}": 200,
        f"/needs/{s}": 200,
        "/offers": 200,
        f"/offers?near={p}&sort=closest": 200,
        f"/offers/{o}": 200,
        "/me": 200,
    }


def page_paths(w) -> dict[str, int]:
    """Each page an unrelated donor may load, with the status it must answer."""
    n, s, o, p = w["need"].id, w["sensitive"].id, w["offer"].id, w["place"].id
    return {
        "/": 200,
        f"/orgs/{w['front'].id}": 200,
        f"/orgs/{w['donor'].organization_id}": 200,
        "/needs/export.csv": 403,
        "/offers/export.csv": 200,
        f"/needs/{n}": 200,
        f"/needs/{s}": 200,
        f"/offers/{o}": 200,
        "/needs": 200,
        "/needs?status=all&per_page=100": 200,
        f"/needs?near={p}&within_km=30&sort=closest": 200,
        "/needs?near_name=Balakliia+test&within_km=30&sort=closest": 200,
        "/offers": 200,
        f"/offers?near={p}&sort=closest": 200,
        "/map?kind=needs": 200,
        "/map/data.json?kind=needs&status=all": 200,
        "/map/data.json?kind=offers": 200,
    }


def test_unrelated_donor_never_sees_exact_points_notes_or_contacts(
    world, api_client, login_as, client
):
    api = api_client(world["stranger"])
    for path, status in api_paths(world).items():
        response = api.get(path)
        assert response.status_code == status, (path, response.status_code)
        _assert_no_secrets(response.get_data(as_text=True), f"API {path}")
    login_as(world["stranger"])
    for path, status in page_paths(world).items():
        response = client.get(path)
        assert response.status_code == status, (path, response.status_code)
        _assert_no_secrets(response.get_data(as_text=True), f"page {path}")


def test_unrelated_donor_gets_the_coarse_point_and_rounded_distances(world, api_client):
    api = api_client(world["stranger"])
    body = api.get(f"/needs/{world['need'].id}").get_json()
    assert body["location"]["precision_km"] == 10
    assert "delivery_note" not in body
    listed = api.get(f"/needs?near={world['place'].id}&sort=closest").get_json()["items"]
    assert listed and all(item["distance_km"] % 5 == 0 for item in listed)


def test_sensitive_needs_only_for_verified_organizations(world, api_client):
    sensitive_id = world["sensitive"].id
    stranger_ids = {
        i["id"] for i in api_client(world["stranger"]).get("/needs").get_json()["items"]
    }
    assert sensitive_id in stranger_ids  # verified donor
    unverified = api_client(world["unverified"])
    assert sensitive_id not in {i["id"] for i in unverified.get("/needs").get_json()["items"]}
    assert unverified.get(f"/needs/{sensitive_id}").status_code == 404


def test_owner_and_coordinator_see_the_exact_point_and_note(world, api_client):
    for user in (world["organizer"], world["coordinator"]):
        body = api_client(user).get(f"/needs/{world['need'].id}").get_json()
        assert (body["location"]["lat"], body["location"]["lon"]) == EXACT_NEED
        assert body["location"]["precision_km"] == 0
        assert body["delivery_note"] == "NOTE-behind-the-blue-gate"


def test_coordinator_csv_export_has_exact_points(world, login_as, client):
    login_as(world["coordinator"])
    text = client.get("/needs/export.csv").get_data(as_text=True)
    assert "718273" in text and "NOTE-behind-the-blue-gate" in text


def test_anonymous_visitors_see_no_needs(world, client):
    assert client.get("/api/v1/needs").status_code == 401
    response = client.get("/needs")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.get("/needs/export.csv")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_pending_match_shows_no_exact_distance_or_closeness(world, api_client):
    """Before confirmation the donor gets a rounded distance and neither the closeness part
    nor the score, from which with the offer's radius the exact distance could be worked back."""
    from aidmatch.matches.models import MatchSource
    from aidmatch.matches.operations import reserve

    match = reserve(
        world["need"], world["offer"], world["donor"].organization, 5,
        source=MatchSource.ENGINE, distance_km=433.27, score=0.6123,
        explanation={"score": 0.6123, "parts": {"urgency": 0.3, "closeness": 0.3123},
                     "facts": {"distance_km": 433.27, "radius_km": None}},
    )  # fmt: skip
    db.session.commit()
    body = api_client(world["donor"]).get(f"/matches/{match.id}").get_json()
    # from the need's coarse point, rounded: even a rounded exact distance would help
    # triangulate the group from several offers
    need, offer = world["need"], world["offer"]
    coarse = round_distance_km(haversine_km(offer.lat, offer.lon, need.public_lat, need.public_lon))
    assert round_distance_km(haversine_km(offer.lat, offer.lon, need.lat, need.lon)) != coarse
    assert body["distance_km"] == coarse and body["score"] is None
    assert "closeness" not in body["explanation"]["parts"]
    assert body["explanation"]["facts"]["distance_km"] == coarse
    assert "433.27" not in str(body) and "0.3123" not in str(body)
    staff = api_client(world["coordinator"]).get(f"/matches/{match.id}").get_json()
    assert staff["score"] == 0.6123 and staff["explanation"]["parts"]["closeness"] == 0.3123
