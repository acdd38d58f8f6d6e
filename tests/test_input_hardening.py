"""No 500 on any input (issue 12, finding 1): every query parameter and body field is checked
to its type and range before it reaches the database; an unknown status, an id beyond the
database's integer range, a NUL or a lone surrogate in text is refused with a 422 naming the
field (a NUL in search terms is dropped). Run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import pytest

from aidmatch.permissions import Role
from tests.factories import make_user
from tests.posting_factories import make_need, make_place

HUGE = "99999999999999999999"


@pytest.fixture
def coordinator_api(app, api_client):
    return api_client(make_user(Role.COORDINATOR))


def _field_error(response, field: str) -> None:
    assert response.status_code == 422, (response.status_code, response.get_data(as_text=True))
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"], error


@pytest.mark.parametrize("kind", ["needs", "offers"])
def test_api_list_refuses_an_unknown_status(coordinator_api, kind):
    _field_error(coordinator_api.get(f"/{kind}?status=bogus"), "status")


def test_api_offer_list_refuses_a_status_of_needs(coordinator_api):
    _field_error(coordinator_api.get("/offers?status=fulfilled"), "status")


@pytest.mark.parametrize("kind", ["needs", "offers"])
def test_list_pages_refuse_an_unknown_status(app, login_as, kind):
    client = login_as(make_user(Role.COORDINATOR))
    response = client.get(f"/{kind}?status=bogus")
    assert response.status_code == 422
    assert "Choose a status from the list." in response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["status=bogus", "kind=offers&status=fulfilled"])
def test_map_feed_refuses_an_unknown_status(app, login_as, query):
    client = login_as(make_user(Role.COORDINATOR))
    response = client.get(f"/map/data.json?{query}")
    _field_error(response, "status")


@pytest.mark.parametrize("kind", ["needs", "offers"])
def test_csv_exports_refuse_an_unknown_status(app, login_as, kind):
    client = login_as(make_user(Role.COORDINATOR))
    response = client.get(f"/{kind}/export.csv?status=bogus")
    assert response.status_code == 422
    assert "status" in response.get_data(as_text=True)


@pytest.mark.parametrize("param", ["need", "offer"])
def test_match_filter_refuses_an_id_beyond_the_integer_range(coordinator_api, param):
    _field_error(coordinator_api.get(f"/matches?{param}={HUGE}"), param)
    assert coordinator_api.get(f"/matches?{param}=2147483647").status_code == 200


def test_list_filters_refuse_ids_beyond_the_integer_range(coordinator_api):
    _field_error(coordinator_api.get(f"/needs?organization={HUGE}"), "organization")
    _field_error(coordinator_api.get(f"/offers?near={HUGE}"), "near")


def _need_body(title: str) -> str:
    place = make_place()
    body = '{"title": "TITLE", "category": "water", "quantity": 1, "place_id": PLACE}'
    return body.replace("TITLE", title).replace("PLACE", str(place.id))


def test_a_lone_surrogate_in_a_body_is_refused(app, api_client):
    api = api_client(make_user(Role.ORGANIZER))
    response = api.post("/needs", data=_need_body("\\ud800"), content_type="application/json")
    _field_error(response, "title")


def test_a_nul_in_a_body_is_refused(app, api_client):
    api = api_client(make_user(Role.ORGANIZER))
    response = api.post("/needs", data=_need_body("a\\u0000b"), content_type="application/json")
    _field_error(response, "title")


@pytest.mark.parametrize("body", ['[{"a": "x\\u0000"}, 1]', '"\\ud800"', '[["\\u0000"]]'])
def test_a_bad_character_in_a_body_that_is_no_object_is_refused(app, api_client, body):
    """Found by schemathesis: a list holding a NUL sent to an optional body was a 500."""
    from aidmatch.extensions import db
    from aidmatch.matches import operations as ops
    from tests.match_helpers import make_cast

    cast = make_cast()
    match = ops.claim_need(cast.need, cast.donor, 5)
    db.session.commit()
    donor = api_client(cast.donor)
    response = donor.post(
        f"/matches/{match.id}/decline", data=body, content_type="application/json"
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "validation_error"


def test_a_nul_in_a_patch_of_another_field_is_refused(app, api_client):
    user = make_user(Role.ORGANIZER)
    need = make_need(user.organization, user)
    api = api_client(user)
    response = api.patch(f"/needs/{need.id}", json={"delivery_note": "gate\x00"})
    _field_error(response, "delivery_note")


def test_a_nul_in_a_match_note_is_refused(app, api_client):
    from aidmatch.extensions import db
    from aidmatch.matches import operations as ops
    from tests.match_helpers import make_cast

    cast = make_cast()
    match = ops.claim_need(cast.need, cast.donor, 5)
    db.session.commit()
    coordinator = api_client(cast.coordinator)
    response = coordinator.post(f"/matches/{match.id}/reject", json={"reason": "no\x00"})
    _field_error(response, "reason")
    response = coordinator.post(f"/matches/{match.id}/reject", json={"reason": "\ud800"})
    _field_error(response, "reason")


def test_a_nul_in_search_terms_is_dropped(app, coordinator_api, login_as):
    user = make_user(Role.ORGANIZER)
    make_need(user.organization, user, title="Water filters")
    response = coordinator_api.get("/needs?q=water%00")
    assert response.status_code == 200
    assert [n["title"] for n in response.get_json()["items"]] == ["Water filters"]
    client = login_as(make_user(Role.COORDINATOR))
    page = client.get("/needs?q=water%00")
    assert page.status_code == 200 and "Water filters" in page.get_data(as_text=True)
    assert client.get("/map/data.json?q=water%00").status_code == 200


def test_a_nul_in_other_filters_is_refused(coordinator_api, login_as):
    _field_error(coordinator_api.get("/needs?category=water%00"), "category")
    _field_error(coordinator_api.get("/offers?oblast=x%00"), "oblast")
    client = login_as(make_user(Role.COORDINATOR))
    assert client.get("/needs?oblast=x%00").status_code == 422
    assert client.get("/offers/export.csv?category=x%00").status_code == 422


def test_a_nul_in_a_page_form_is_refused(app, login_as):
    user = make_user(Role.ORGANIZER)
    place = make_place()
    client = login_as(user)
    response = client.post(
        "/needs/new",
        data={"title": "a\x00b", "category": "water", "quantity": "1", "place_id": place.id},
    )
    assert response.status_code in (200, 422)
    assert "Text may not contain" in response.get_data(as_text=True)


# Every GET page and every form POST, as a coordinator, with bad values in the usual names:
# a NUL in text, a lone surrogate's bytes, numbers beyond every range.
BAD_QUERIES = (
    "&".join(
        f"{name}=a%00"
        for name in ("q", "status", "category", "oblast", "kind", "sort", "page", "near_name")
    )
    + "&near=99999999999999999999&organization=99999999999999999999&urgency=a%00",
    "q=%ED%A0%80&page=99999999999999999999&per_page=99999999999999999999"
    "&within_km=99999999999999999999&limit=99999999999999999999",
)
FORM_FIELDS = [
    "name",
    "display_name",
    "email",
    "title",
    "description",
    "reason",
    "note",
    "kind",
    "contact",
    "website",
    "phone",
    "oblast",
    "language",
    "password",
    "role",
    "quantity",
    "category",
    "place_name",
    "place_id",
    "lat",
    "lon",
    "q",
    "organization",
    "urgency",
]


def test_no_page_or_form_answers_500_to_bad_values(app, login_as):
    client = login_as(make_user(Role.COORDINATOR))
    failed = []
    for rule in app.url_map.iter_rules():
        if rule.arguments or rule.rule.startswith(("/static", "/api")) or "logout" in rule.rule:
            continue
        if "GET" in rule.methods:
            for query in BAD_QUERIES:
                response = client.get(f"{rule.rule}?{query}")
                if response.status_code >= 500:
                    failed.append(("GET", rule.rule, query[:20]))
        if "POST" in rule.methods:
            response = client.post(rule.rule, data=dict.fromkeys(FORM_FIELDS, "a\x00"))
            if response.status_code >= 500:
                failed.append(("POST", rule.rule))
    assert not failed


def test_review_queue_and_matching_runs_refuse_a_nul(app, login_as, api_client):
    coordinator = make_user(Role.COORDINATOR)
    client = login_as(coordinator)
    assert client.get("/review?oblast=a%00").status_code == 422
    api = api_client(coordinator)
    _field_error(api.post("/matching/runs", json={"category": "a\x00"}), "category")
