"""/api/v1/needs and /api/v1/offers through the test client: rules, errors, permissions."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from aidmatch.extensions import db
from aidmatch.needs.models import Need
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_offer, make_place


def _needs() -> int:
    return db.session.scalar(select(func.count()).select_from(Need))


def test_organizer_posts_reads_edits_and_cancels_a_need(app, api_client):
    user = make_user(Role.ORGANIZER)
    place = make_place()
    api = api_client(user)
    payload = {
        "title": "Generator for the field hospital",
        "category": "generators",
        "quantity": 2,
        "urgency": "critical",
        "needed_by": (date.today() + timedelta(days=10)).isoformat(),
        "place_id": place.id,
        "delivery_note": "Back entrance",
        "sensitive": False,
    }
    created = api.post("/needs", json=payload)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["unit"] == "pcs" and body["open"] == 2 and body["pledged"] == 0
    assert body["location"]["precision_km"] == 0  # the owner sees the exact point
    assert body["delivery_note"] == "Back entrance"
    need_id = body["id"]

    assert api.get(f"/needs/{need_id}").get_json()["title"] == payload["title"]
    patched = api.patch(f"/needs/{need_id}", json={"quantity": 3})
    assert patched.status_code == 200 and patched.get_json()["quantity"] == 3
    cancelled = api.post(f"/needs/{need_id}/cancel", json={"reason": "found one"})
    assert cancelled.get_json()["status"] == "cancelled"
    again = api.post(f"/needs/{need_id}/cancel", json={})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "conflict"


def test_validation_errors_name_fields_and_write_nothing(app, api_client):
    user = make_user(Role.ORGANIZER)
    api = api_client(user)
    before = _needs()
    response = api.post(
        "/needs",
        json={"title": "x" * 100_000, "category": "nope", "quantity": -1, "place_id": 999999},
    )
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert {"title", "category", "quantity", "place_id"} <= set(fields)
    fractional = api.post("/needs", json={"title": "t", "category": "water", "quantity": 1.5})
    assert fractional.status_code == 422 and "quantity" in fractional.get_json()["error"]["fields"]
    malformed = api.post("/needs", data="{", content_type="application/json")
    assert malformed.status_code == 400
    assert _needs() == before


def test_other_organizations_cannot_edit(app, api_client):
    owner = make_user(Role.ORGANIZER)
    need = make_need(owner.organization, owner)
    other_organizer = make_user(Role.ORGANIZER)
    donor = make_user(Role.DONOR)
    db.session.commit()
    assert (
        api_client(other_organizer).patch(f"/needs/{need.id}", json={"quantity": 1}).status_code
        == 403
    )
    assert api_client(donor).post(f"/needs/{need.id}/cancel", json={}).status_code == 403
    assert api_client(donor).post("/needs", json={"title": "x"}).status_code == 403
    db.session.refresh(need)
    assert need.quantity == 40 and need.status == "open"


def test_needs_of_unverified_groups_are_hidden_as_404(app, api_client):
    org = make_org(verified=False)
    owner = make_user(Role.ORGANIZER, org=org)
    need = make_need(org, owner)
    donor = make_user(Role.DONOR)
    coordinator = make_user(Role.COORDINATOR)
    db.session.commit()
    assert api_client(donor).get(f"/needs/{need.id}").status_code == 404
    assert api_client(donor).get("/needs").get_json()["total"] == 0
    assert api_client(coordinator).get(f"/needs/{need.id}").status_code == 200
    assert api_client(owner).get(f"/needs/{need.id}").status_code == 200


def test_list_filters_sort_and_paginate(app, api_client):
    owner = make_user(Role.ORGANIZER)
    org = owner.organization
    kharkiv = make_place("Kharkiv test", lat=49.99, lon=36.23, oblast="Kharkiv Oblast")
    zap = make_place("Zaporizhzhia test", lat=47.84, lon=35.14, oblast="Zaporizhzhia Oblast")
    make_need(
        org, owner, place=kharkiv, urgency="low", title="Water filters", category="water-filters"
    )
    make_need(org, owner, place=zap, urgency="critical", title="Tourniquets")
    make_need(org, owner, place=kharkiv, urgency="high", title="Турнікети CAT")
    db.session.commit()
    api = api_client(make_user(Role.DONOR))

    items = api.get("/needs").get_json()["items"]
    assert [i["urgency"] for i in items] == ["critical", "high", "low"]
    assert api.get("/needs?oblast=Zaporizhzhia%20Oblast").get_json()["total"] == 1
    assert api.get("/needs?category=tactical-medicine").get_json()["total"] == 2
    assert api.get("/needs?category=tourniquets&urgency=high").get_json()["total"] == 1
    assert api.get("/needs?q=турнікети").get_json()["total"] == 1
    assert api.get("/needs?q=100%25").get_json()["total"] == 0
    near = api.get(f"/needs?near={kharkiv.id}&within_km=50&sort=closest").get_json()
    assert near["total"] == 2
    assert all(i["distance_km"] % 5 == 0 for i in near["items"])  # coarse, rounded to 5 km
    page = api.get("/needs?per_page=2&page=2").get_json()
    assert (page["page"], page["per_page"], page["total"], len(page["items"])) == (2, 2, 3, 1)
    assert api.get("/needs?per_page=0").status_code == 422
    assert api.get("/needs?sort=sideways").status_code == 422


def test_offers_api_round_trip(app, api_client):
    donor = make_user(Role.DONOR)
    place = make_place("Lviv test", lat=49.84, lon=24.03, oblast="Lviv Oblast")
    api = api_client(donor)
    created = api.post(
        "/offers",
        json={
            "title": "Power banks",
            "category": "power-banks",
            "quantity": 50,
            "place_id": place.id,
            "delivery_radius_km": None,
        },
    )
    assert created.status_code == 201, created.get_json()
    offer = created.get_json()
    assert offer["remaining"] == 50 and offer["delivery_radius_km"] is None
    bad = api.post(
        "/offers",
        json={
            "title": "x",
            "category": "power-banks",
            "quantity": 5,
            "place_id": place.id,
            "delivery_radius_km": 0,
        },
    )
    assert bad.status_code == 422 and "delivery_radius_km" in bad.get_json()["error"]["fields"]
    assert api.patch(f"/offers/{offer['id']}", json={"quantity": 40}).get_json()["quantity"] == 40
    assert api.post(f"/offers/{offer['id']}/withdraw", json={}).get_json()["status"] == "withdrawn"
    organizer = make_user(Role.ORGANIZER)
    db.session.commit()
    assert api_client(organizer).post("/offers", json={"title": "x"}).status_code == 403
    other_donor = make_offer(make_org(kind=OrgKind.DONOR_COLLECTIVE))
    db.session.commit()
    assert api.patch(f"/offers/{other_donor.id}", json={"quantity": 1}).status_code == 403
