"""The offers pages through the test client: post, browse, read, edit, withdraw (in brief;
the parts shared with needs are tested in test_needs_pages.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from aidmatch.cache import bump
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches.models import Match, MatchSource, MatchStatus
from aidmatch.offers.models import Offer
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_offer, make_place
from tests.sql_statements import statements
from tests.test_needs_pages import _titles, field_error, unique


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Offer))


def donor(**fields):
    return make_user(Role.DONOR, language="en", **fields)


def form_data(place, **overrides) -> dict:
    data = {
        "title": "CAT tourniquets from our stock",
        "description": "Sealed, 2025 batch",
        "category": "tourniquets",
        "quantity": "100",
        "place_name": place.name,
        "place_id": str(place.id),  # as the autocomplete fills it
        "lat": "",
        "lon": "",
        "delivery_radius_km": "",
        "available_until": (date.today() + timedelta(days=60)).isoformat(),
    }
    data.update(overrides)
    return data


def test_post_an_offer(app, client, login_as):
    user = donor(display_name="Jonas Weber")
    place = make_place(unique("Lvivtest"), lat=49.84, lon=24.03, oblast="Lviv Oblast")
    db.session.commit()
    login_as(user)
    assert "Tourniquets (pcs)" in client.get("/offers/new").get_data(as_text=True)

    response = client.post("/offers/new", data=form_data(place, delivery_radius_km="300"))
    assert response.status_code == 302, response.get_data(as_text=True)
    offer = db.session.scalar(select(Offer))
    assert (offer.place_id, offer.quantity, offer.delivery_radius_km) == (place.id, 100, 300)

    assert "CAT tourniquets from our stock" in client.get("/offers").get_data(as_text=True)
    detail = client.get(f"/offers/{offer.id}").get_data(as_text=True)
    assert "within 300 km" in detail and "posted" in detail and "Jonas Weber" in detail


def test_an_empty_radius_means_anywhere(app, client, login_as):
    user = donor()
    place = make_place(unique("Lvivtest"))
    db.session.commit()
    login_as(user)
    assert client.post("/offers/new", data=form_data(place)).status_code == 302
    offer = db.session.scalar(select(Offer))
    assert offer.delivery_radius_km is None
    assert "anywhere" in client.get(f"/offers/{offer.id}").get_data(as_text=True)


def test_only_donors_post_offers(app, client, login_as):
    organizer = make_user(Role.ORGANIZER)
    place = make_place(unique("Lvivtest"))
    db.session.commit()
    assert client.get("/offers/new").status_code == 302  # anonymous: to the login page
    login_as(organizer)
    assert client.get("/offers/new").status_code == 403
    assert client.post("/offers/new", data=form_data(place)).status_code == 403
    assert count() == 0


def test_supply_collectives_post_offers_too(app, client, login_as):
    user = donor(org=make_org(kind=OrgKind.SUPPLY_COLLECTIVE))
    place = make_place(unique("Lvivtest"))
    db.session.commit()
    login_as(user)
    assert client.post("/offers/new", data=form_data(place)).status_code == 302


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"quantity": "0"}, "quantity", "more than zero"),
        ({"quantity": "2.5"}, "quantity", "whole numbers"),
        ({"title": "y" * 100_000}, "title", "At most 200 characters"),
        ({"category": "nope"}, "category", "Choose a category"),
        ({"delivery_radius_km": "-4"}, "delivery_radius_km", "From 1 to"),
        ({"delivery_radius_km": "far"}, "delivery_radius_km", "whole kilometres"),
        ({"available_until": "2001-01-01"}, "available_until", "may not be in the past"),
        ({"place_name": "Qqqqxyzzyq", "place_id": ""}, "place_name", "No place called"),
    ],
)
def test_bad_input_writes_nothing(app, client, login_as, overrides, field, message):
    user = donor()
    place = make_place(unique("Lvivtest"))
    db.session.commit()
    login_as(user)
    response = client.post("/offers/new", data=form_data(place, **overrides))
    assert response.status_code == 200
    assert message in field_error(response.get_data(as_text=True), field)
    assert count() == 0


def test_edit_and_withdraw(app, client, login_as):
    user = donor()
    offer = make_offer(user.organization, user)
    need_owner = make_user(Role.ORGANIZER)
    need = make_need(need_owner.organization, need_owner)
    match = Match(
        need=need,
        offer=offer,
        organization=user.organization,
        quantity=30,
        source=MatchSource.ENGINE,
        status=MatchStatus.PENDING,
        donor_accepted_at=utcnow(),  # accepted: it holds hard (matches/holds.py)
    )
    db.session.add(match)
    offer.allocated, need.pledged = 30, 30
    db.session.commit()
    login_as(user)

    edit = client.get(f"/offers/{offer.id}/edit").get_data(as_text=True)
    assert 'value="100"' in edit
    data = form_data(offer.place, quantity="20", place_id=str(offer.place_id))
    below = client.post(f"/offers/{offer.id}/edit", data=data)
    assert below.status_code == 200
    assert "30" in field_error(below.get_data(as_text=True), "quantity")

    data.update(quantity="120", delivery_radius_km="50")
    assert client.post(f"/offers/{offer.id}/edit", data=data).status_code == 302
    db.session.refresh(offer)
    assert (offer.quantity, offer.delivery_radius_km) == (120, 50)

    detail = client.get(f"/offers/{offer.id}").get_data(as_text=True)
    assert "edited" in detail and need.title in detail  # the owner sees which need it serves

    assert "Withdraw this offer?" in client.get(f"/offers/{offer.id}/withdraw").get_data(
        as_text=True
    )
    response = client.post(f"/offers/{offer.id}/withdraw", data={"reason": "Sent elsewhere"})
    assert response.status_code == 302
    db.session.refresh(offer)
    db.session.refresh(match)
    assert offer.status == "withdrawn" and match.status == "cancelled" and offer.allocated == 0
    assert "Sent elsewhere" in client.get(f"/offers/{offer.id}").get_data(as_text=True)


def test_another_organization_may_not_edit(app, client, login_as):
    owner = donor()
    offer = make_offer(owner.organization, owner)
    other = donor()
    db.session.commit()
    login_as(other)
    assert client.get(f"/offers/{offer.id}").status_code == 200
    assert client.get(f"/offers/{offer.id}/edit").status_code == 403
    assert client.post(f"/offers/{offer.id}/withdraw").status_code == 403
    assert client.get("/offers/999999").status_code == 404


def test_list_filters_and_closest(app, client, login_as):
    user = donor()
    org = user.organization
    centre = make_place(unique("Centrtest"), lat=50.0, lon=30.0, oblast="Kyiv Oblast")
    near = make_place(unique("Neartest"), lat=50.1, lon=30.0, oblast="Kyiv Oblast")
    far = make_place(unique("Fartest"), lat=49.8, lon=24.0, oblast="Lviv Oblast")
    make_offer(org, user, place=far, title="Generators far", category="generators")
    make_offer(org, user, place=near, title="Tourniquets near", category="tourniquets")
    make_offer(org, user, place=centre, title="Water here", category="drinking-water")
    db.session.commit()
    login_as(user)

    def titles(query: str) -> list[str]:
        response = client.get(f"/offers?{query}")
        assert response.status_code == 200
        return _titles(response.get_data(as_text=True))

    assert set(titles("category=energy")) == {"Generators far"}
    assert set(titles("category=tactical-medicine")) == {"Tourniquets near"}
    assert set(titles("oblast=Lviv+Oblast")) == {"Generators far"}
    assert set(titles("q=water")) == {"Water here"}
    closest = titles(f"near_name={centre.name}&sort=closest")
    assert closest == ["Water here", "Tourniquets near", "Generators far"]
    assert titles(f"near_name={centre.name}&within_km=50&sort=closest") == [
        "Water here",
        "Tourniquets near",
    ]
    first = client.get("/offers?per_page=2").get_data(as_text=True)
    assert "Page 1 of 2" in first and len(_titles(first)) == 2


def test_list_page_statements_do_not_grow_with_rows(app, client, login_as):
    viewer = donor()
    orgs = [make_org(kind=OrgKind.DONOR_COLLECTIVE) for _ in range(3)]
    places = [make_place(unique("Lvivtest"), lat=49 + i / 10, lon=24 + i / 10) for i in range(4)]
    for n in range(30):
        make_offer(orgs[n % 3], None, place=places[n % 4], title=f"Offer {n}")
    db.session.commit()
    login_as(viewer)
    client.get("/offers?per_page=2")

    def run(url: str) -> int:
        bump()  # a page drawn, not one kept for the viewer (web/kept.py)
        with statements() as sent:
            assert client.get(url).status_code == 200
        return len(sent)

    assert run("/offers?per_page=2") == run("/offers?per_page=30")
