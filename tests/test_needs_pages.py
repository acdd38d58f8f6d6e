"""The needs pages through the test client: post, browse, read, edit, cancel."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from aidmatch.audit.models import AuditEvent
from aidmatch.cache import bump
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches.models import Match, MatchSource, MatchStatus
from aidmatch.needs.models import Need
from aidmatch.permissions import Role
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_place
from tests.sql_statements import statements


def unique(prefix: str) -> str:
    """A place name no other test (or gazetteer entry) uses: Prefix + random letters."""
    letters = "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:8])
    return f"{prefix}{letters}"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def field_error(html: str, field_id: str) -> str:
    """The text of the error block shown under one field ('' if none)."""
    found = re.search(rf'<div class="error" id="{field_id}-error">(.*?)</div>', html, re.S)
    return found.group(1) if found else ""


def organizer(**fields):
    return make_user(Role.ORGANIZER, language="en", **fields)


def form_data(place, **overrides) -> dict:
    data = {
        "title": "Tourniquets for the evacuation team",
        "description": "CAT gen 7, black",
        "category": "tourniquets",
        "quantity": "40",
        "urgency": "high",
        "needed_by": (date.today() + timedelta(days=20)).isoformat(),
        "place_name": place.name,
        "place_id": str(place.id),  # as the autocomplete fills it
        "lat": "",
        "lon": "",
        "delivery_note": "Call Oksana at the school gate",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_post_a_need_shows_it_in_the_list_and_on_its_page(app, client, login_as):
    user = organizer(display_name="Olena Koval")
    place = make_place(unique("Zorianka"), lat=49.7, lon=37.6)
    db.session.commit()
    login_as(user)

    page = client.get("/needs/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<optgroup" in html and "Tourniquets (pcs)" in html
    assert 'data-place-search="/places/search"' in html

    response = client.post("/needs/new", data=form_data(place, place_id=""))  # no JS
    assert response.status_code == 302, response.get_data(as_text=True)
    need = db.session.scalar(select(Need))
    assert response.headers["Location"].endswith(f"/needs/{need.id}")
    assert (need.place_id, need.quantity, need.urgency) == (place.id, 40, "high")
    assert (need.lat, need.lon) == (place.lat, place.lon)  # defaults to the place

    listing = client.get("/needs").get_data(as_text=True)
    assert "Tourniquets for the evacuation team" in listing
    assert f"/needs/{need.id}" in listing and place.name in listing

    detail = client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert "Call Oksana at the school gate" in detail  # the owner sees the note
    assert "posted" in detail and "Olena Koval" in detail  # history from the audit trail
    assert db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.object_type == "needs", AuditEvent.object_id == need.id)
    )


def test_the_autocomplete_finds_what_the_form_resolves(app, client, login_as):
    user = organizer()
    place = make_place(unique("Zorianka"), name_uk="Зорянка")
    db.session.commit()
    login_as(user)
    page = client.get("/needs/new").get_data(as_text=True)
    url = re.search(r'data-place-search="([^"]+)"', page).group(1)
    items = client.get(url, query_string={"q": place.name}).get_json()["items"]
    assert [(i["id"], i["name"], i["oblast"]) for i in items] == [
        (place.id, place.name, place.oblast)
    ]
    assert {"id", "name", "name_uk", "oblast"} <= set(items[0])  # what the script reads


def test_exact_point_is_kept(app, client, login_as):
    user = organizer()
    place = make_place(unique("Zorianka"), lat=49.7, lon=37.6)
    db.session.commit()
    login_as(user)
    response = client.post("/needs/new", data=form_data(place, lat="49.71234", lon="37.61234"))
    assert response.status_code == 302
    need = db.session.scalar(select(Need))
    assert (need.lat, need.lon) == (49.71234, 37.61234)
    edit = client.get(f"/needs/{need.id}/edit").get_data(as_text=True)
    assert 'value="49.71234"' in edit  # shown back to the owner for editing


def test_only_organizers_post_needs(app, client, login_as):
    donor = make_user(Role.DONOR)
    place = make_place(unique("Zorianka"))
    db.session.commit()

    anonymous = client.get("/needs/new")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert client.get("/needs").status_code == 302

    login_as(donor)
    assert client.get("/needs/new").status_code == 403
    assert client.post("/needs/new", data=form_data(place)).status_code == 403
    assert count(Need) == 0


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"quantity": "0"}, "quantity", "more than zero"),
        ({"quantity": "-5"}, "quantity", "more than zero"),
        ({"quantity": "1.5"}, "quantity", "whole numbers"),
        ({"quantity": "10000000"}, "quantity", "at most"),
        ({"quantity": ""}, "quantity", "Enter a quantity"),
        ({"title": "x" * 100_000}, "title", "At most 200 characters"),
        ({"title": "  "}, "title", "required"),
        ({"category": "no-such-category"}, "category", "Choose a category"),
        ({"needed_by": "2001-01-01"}, "needed_by", "may not be in the past"),
        ({"needed_by": "next week"}, "needed_by", "2026-12-31"),
        ({"place_name": "Qqqqxyzzyq", "place_id": ""}, "place_name", "No place called"),
        ({"place_name": "", "place_id": ""}, "place_name", "Choose a place"),
        ({"urgency": "whenever"}, "urgency", "critical, high, normal or low"),
        ({"lat": "91", "lon": "30"}, "lat", "-90 to 90"),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_nothing_is_written(
    app, client, login_as, overrides, field, message
):
    user = organizer()
    place = make_place(unique("Zorianka"))
    db.session.commit()
    login_as(user)
    needs, events = count(Need), count(AuditEvent)

    response = client.post("/needs/new", data=form_data(place, **overrides))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in field_error(html, field), html
    assert 'role="alert"' in html  # the message at the top
    assert "Call Oksana at the school gate" in html  # what was typed is kept
    assert (count(Need), count(AuditEvent)) == (needs, events)


def test_ambiguous_place_name_asks_which_one(app, client, login_as):
    user = organizer()
    name = unique("Novoselivka")
    first = make_place(name, oblast="Kharkiv Oblast", raion="Izium Raion")
    second = make_place(name, oblast="Donetsk Oblast", raion="Kramatorsk Raion", lat=48.7)
    db.session.commit()
    login_as(user)

    response = client.post("/needs/new", data=form_data(first, place_name=name, place_id=""))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Which one?" in html
    assert f'value="{first.id}"' in html and f'value="{second.id}"' in html
    assert "Izium Raion" in html and "Donetsk Oblast" in html
    assert count(Need) == 0

    chosen = client.post(
        "/needs/new", data=form_data(first, place_name=name, place_id=str(second.id))
    )
    assert chosen.status_code == 302
    assert db.session.scalar(select(Need.place_id)) == second.id


def test_place_typed_with_its_oblast_is_resolved(app, client, login_as):
    user = organizer()
    name = unique("Novoselivka")
    make_place(name, oblast="Kharkiv Oblast")
    wanted = make_place(name, oblast="Donetsk Oblast", lat=48.7)
    db.session.commit()
    login_as(user)
    response = client.post(
        "/needs/new", data=form_data(wanted, place_name=f"{name}, Donetsk", place_id="")
    )
    assert response.status_code == 302
    assert db.session.scalar(select(Need.place_id)) == wanted.id


def test_owner_edits_a_need(app, client, login_as):
    user = organizer()
    need = make_need(user.organization, user)
    db.session.commit()
    login_as(user)

    page = client.get(f"/needs/{need.id}/edit").get_data(as_text=True)
    assert 'value="40"' in page and "Tourniquets for the evacuation team" in page

    data = form_data(need.place, title="Tourniquets, CAT only", quantity="50", urgency="critical")
    data.update(place_id=str(need.place_id), needed_by="")
    response = client.post(f"/needs/{need.id}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.refresh(need)
    assert (need.title, need.quantity, need.urgency) == ("Tourniquets, CAT only", 50, "critical")

    detail = client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert "edited" in detail and "40" in detail and "50" in detail


def test_another_organization_may_not_edit(app, client, login_as):
    owner = organizer()
    need = make_need(owner.organization, owner)
    other = organizer()
    hidden_owner = organizer(org=make_org(verified=False))
    hidden = make_need(hidden_owner.organization, hidden_owner)
    db.session.commit()
    login_as(other)
    assert client.get(f"/needs/{need.id}/edit").status_code == 403
    assert client.post(f"/needs/{need.id}/edit", data=form_data(need.place)).status_code == 403
    assert client.post(f"/needs/{need.id}/cancel").status_code == 403
    # A need of an unverified group: its very existence stays hidden.
    assert client.get(f"/needs/{hidden.id}/edit").status_code == 404
    assert client.get(f"/needs/{hidden.id}").status_code == 404
    db.session.refresh(need)
    assert need.status == "open" and need.quantity == 40


def _pledge(need, quantity: int) -> Match:
    donor_org = make_user(Role.DONOR).organization
    match = Match(
        need=need,
        organization=donor_org,
        quantity=quantity,
        source=MatchSource.CLAIM,
        status=MatchStatus.PENDING,
        donor_accepted_at=utcnow(),  # a claim carries the donor's consent: it holds hard
    )
    db.session.add(match)
    need.pledged = quantity  # as the claim operation would count it
    db.session.flush()
    return match


def test_quantity_cannot_drop_below_pledged(app, client, login_as):
    user = organizer()
    need = make_need(user.organization, user)
    _pledge(need, 25)
    db.session.commit()
    login_as(user)
    data = form_data(need.place, quantity="10", needed_by="")
    data["place_id"] = str(need.place_id)
    response = client.post(f"/needs/{need.id}/edit", data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "25" in field_error(html, "quantity") and "pledged" in field_error(html, "quantity")
    db.session.refresh(need)
    assert need.quantity == 40


def test_cancel_a_need_after_confirming(app, client, login_as):
    user = organizer()
    need = make_need(user.organization, user)
    match = _pledge(need, 5)
    db.session.commit()
    login_as(user)

    detail = client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert f"/needs/{need.id}/cancel" in detail and f"/needs/{need.id}/edit" in detail
    assert "pending" in detail  # the match is listed

    confirm = client.get(f"/needs/{need.id}/cancel")
    assert confirm.status_code == 200 and "Cancel this need?" in confirm.get_data(as_text=True)
    assert db.session.get(Need, need.id).status == "open"

    response = client.post(f"/needs/{need.id}/cancel", data={"reason": "Got them locally"})
    assert response.status_code == 302
    db.session.refresh(need)
    db.session.refresh(match)
    assert need.status == "cancelled" and match.status == "cancelled" and need.pledged == 0
    detail = client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert "Got them locally" in detail and f"/needs/{need.id}/edit" not in detail

    again = client.post(f"/needs/{need.id}/cancel", data={})
    assert again.status_code == 302  # told that only an open need can be cancelled
    assert "Only an open need" in client.get(f"/needs/{need.id}").get_data(as_text=True)


def test_an_unrelated_donor_sees_no_exact_point_or_note(app, client, login_as):
    owner = organizer()
    place = make_place(unique("Zorianka"), lat=49.7, lon=37.6)
    need = make_need(owner.organization, owner, place=place, lat=49.71234, lon=37.61234)
    donor = make_user(Role.DONOR)
    db.session.commit()
    login_as(donor)
    for url in (f"/needs/{need.id}", "/needs", f"/needs?near={place.id}&within_km=50"):
        html = client.get(url).get_data(as_text=True)
        assert "Call Oksana" not in html
        assert "49.71234" not in html and "37.61234" not in html
        assert "49.7123" not in html and "37.6123" not in html
    assert client.get(f"/needs/{need.id}/edit").status_code == 403


# Browsing -----------------------------------------------------------------------------


def _titles(html: str) -> list[str]:
    return re.findall(r'<h2 class="row-title"><a href="[^"]+">([^<]+)</a>', html)


def test_list_filters(app, client, login_as):
    user = organizer()
    org = user.organization
    kharkiv = make_place(unique("Kharkivtest"), lat=49.99, lon=36.23, oblast="Kharkiv Oblast")
    sumy = make_place(unique("Sumytest"), lat=50.91, lon=34.80, oblast="Sumy Oblast")
    make_need(org, user, place=kharkiv, title="Tourniquets A", category="tourniquets")
    make_need(org, user, place=sumy, title="Generator B", category="generators", urgency="low")
    make_need(org, user, place=kharkiv, title="Gauze C", category="hemostatic-gauze")
    db.session.commit()
    login_as(user)

    def titles(query: str) -> set[str]:
        response = client.get(f"/needs?{query}")
        assert response.status_code == 200
        return set(_titles(response.get_data(as_text=True)))

    assert titles("") == {"Tourniquets A", "Generator B", "Gauze C"}
    assert titles("category=tactical-medicine") == {"Tourniquets A", "Gauze C"}
    assert titles("category=tourniquets") == {"Tourniquets A"}
    assert titles("oblast=Sumy+Oblast") == {"Generator B"}
    assert titles("urgency=low") == {"Generator B"}
    assert titles("q=gauze") == {"Gauze C"}
    assert titles("q=GENERATOR") == {"Generator B"}
    assert titles("mine=y") == {"Tourniquets A", "Generator B", "Gauze C"}
    assert titles("status=cancelled") == set()
    assert titles("status=all&q=tourniquets") == {"Tourniquets A"}


def test_within_km_of_a_place_and_closest_first(app, client, login_as):
    user = organizer()
    org = user.organization
    centre = make_place(unique("Centrtest"), lat=49.0, lon=36.0)
    near = make_place(unique("Neartest"), lat=49.2, lon=36.0)  # ~22 km
    middle = make_place(unique("Midtest"), lat=49.6, lon=36.0)  # ~67 km
    far = make_place(unique("Fartest"), lat=51.0, lon=36.0)  # ~222 km
    make_need(org, user, place=middle, title="Middle", urgency="critical")
    make_need(org, user, place=far, title="Far", urgency="critical")
    make_need(org, user, place=near, title="Near", urgency="low")
    db.session.commit()
    login_as(user)

    html = client.get(f"/needs?near_name={centre.name}&within_km=100&sort=closest")
    html = html.get_data(as_text=True)
    assert _titles(html) == ["Near", "Middle"]
    assert "km away" in html

    everything = client.get(f"/needs?near_name={centre.name}&sort=closest").get_data(as_text=True)
    assert _titles(everything) == ["Near", "Middle", "Far"]
    default = client.get("/needs").get_data(as_text=True)
    assert _titles(default)[-1] == "Near"  # most urgent first when no place is given

    unknown = client.get("/needs?near_name=Qqqqxyzzyq&within_km=10").get_data(as_text=True)
    assert "No place called" in field_error(unknown, "near_name")


def test_pagination(app, client, login_as):
    user = organizer()
    place = make_place(unique("Zorianka"))
    for n in range(7):
        make_need(user.organization, user, place=place, title=f"Need {n}")
    db.session.commit()
    login_as(user)

    first = client.get("/needs?per_page=5&sort=newest").get_data(as_text=True)
    assert len(_titles(first)) == 5
    assert "Page 1 of 2" in first and "page=2" in first
    second = client.get("/needs?per_page=5&sort=newest&page=2").get_data(as_text=True)
    assert len(_titles(second)) == 2
    assert "Page 2 of 2" in second and "page=1" in second
    assert set(_titles(first)).isdisjoint(_titles(second))
    assert client.get("/needs?page=nonsense&per_page=-3").status_code == 200


def test_list_page_statements_do_not_grow_with_rows(app, client, login_as):
    viewer = organizer()
    orgs = [make_org() for _ in range(3)]
    places = [make_place(unique("Zorianka"), lat=49 + i / 10, lon=36 + i / 10) for i in range(5)]
    categories = ["tourniquets", "generators", "drinking-water"]
    for n in range(60):
        make_need(
            orgs[n % 3],
            None,
            place=places[n % 5],
            title=f"Need {n}",
            category=categories[n % 3],
        )
    make_need(viewer.organization, viewer, place=places[0], title="Own need")  # exact for this one
    db.session.commit()
    login_as(viewer)
    client.get("/needs?per_page=5")  # warm up (search index, caches)

    def run(url: str) -> list[str]:
        bump()  # a page drawn, not one kept for the viewer (web/kept.py)
        with statements() as sent:
            assert client.get(url).status_code == 200
        return sent

    few, many = run("/needs?per_page=5"), run("/needs?per_page=50")
    assert len(_titles(client.get("/needs?per_page=50").get_data(as_text=True))) == 50
    assert len(few) == len(many), many


def test_the_oblast_list_covers_the_gazetteer():
    from aidmatch.places.gazetteer import read_places
    from aidmatch.places.labels import UA_OBLASTS

    shipped = {(p["oblast"], p["oblast_uk"]) for p in read_places() if p["country"] == "UA"}
    assert shipped <= set(UA_OBLASTS)


def test_numbers_too_big_for_an_id_are_not_found(app, client, login_as):
    user = organizer()
    place = make_place(unique("Zorianka"))
    db.session.commit()
    login_as(user)
    big = "99999999999999999999"
    for url in (f"/needs/{big}", f"/needs/{big}/edit", f"/needs/{big}/cancel", f"/offers/{big}"):
        assert client.get(url).status_code == 404, url
    for url in (f"/needs?near={big}&sort=closest", f"/needs?organization={big}"):
        assert client.get(url).status_code == 200, url
    response = client.post("/needs/new", data=form_data(place, place_id=big, place_name=""))
    assert response.status_code == 200 and count(Need) == 0
