"""The JSON API's shared behaviour: OpenAPI document, docs page, error envelope, bearer auth."""

from __future__ import annotations

import threading

import pytest


def test_openapi_document_is_generated(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["info"]["title"] == "aidmatch"
    assert "/api/v1/tokens" in spec["paths"]
    assert "/api/v1/me" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_docs_page_uses_vendored_swagger_ui(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page
    assert "http" not in page.split("<body>")[1].replace("/api/v1/openapi.json", "")
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_malformed_json_is_a_400_in_the_error_envelope(client):
    response = client.post("/api/v1/tokens", data="{not json", content_type="application/json")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_request"
    assert error["message"]


def test_missing_fields_are_a_422_naming_each_field(client):
    response = client.post("/api/v1/tokens", json={"email": "a@example.org"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"password"}


def test_me_without_token_is_401(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_me_with_garbage_token_is_401(client):
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 401


def test_places_and_categories_are_public_api(client):
    places = client.get("/api/v1/places?q=Kharkov").get_json()["items"]
    assert places[0]["name"] == "Kharkiv" and places[0]["oblast"]
    assert client.get("/api/v1/places").status_code == 422
    assert client.get("/api/v1/places?q=" + "x" * 500).status_code == 422
    categories = client.get("/api/v1/categories").get_json()["items"]
    tourniquets = next(c for c in categories if c["slug"] == "tourniquets")
    assert tourniquets["parent"] == "tactical-medicine" and tourniquets["unit"] == "pcs"


def test_the_document_is_made_when_first_read(app, client):
    """Making an app documents no operation (half its cost, for apps that never serve the
    document); the first read has every one."""
    from aidmatch.web.api import api

    assert api._spec.to_dict()["paths"] == {}
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/needs", "/api/v1/matches", "/api/v1/transparency/summary"} <= set(paths)


def test_a_document_read_while_it_is_being_made_waits_for_all_of_it(app):
    """Two threads of a worker asking at once: the second gets the whole document, after the
    first has made it, never a part of it."""
    from aidmatch.web.api import api

    started, go_on = threading.Event(), threading.Event()

    def last_step():  # the last blueprint's operations, slow to document
        started.set()
        assert go_on.wait(30)
        api._spec.tag({"name": "Last"})

    api.document_later(last_step)
    seen = {}

    def read(who):
        seen[who] = {tag["name"] for tag in api.spec.to_dict()["tags"]}

    first = threading.Thread(target=read, args=("first",))
    first.start()
    assert started.wait(30)
    second = threading.Thread(target=read, args=("second",))
    second.start()
    second.join(timeout=1)
    assert second.is_alive()  # waiting for the first, not reading half a document
    go_on.set()
    first.join(30)
    second.join(30)
    assert "Last" in seen["first"] and "Last" in seen["second"]
    assert {"Needs", "Matches"} <= seen["second"]


def test_a_step_of_the_document_that_fails_fails_every_read(app):
    from aidmatch.web.api import api

    def broken():
        raise ValueError("a schema apispec cannot read")

    api.document_later(broken)
    try:
        for _ in range(2):
            with pytest.raises(ValueError, match="apispec cannot read"):
                api.spec  # noqa: B018
    finally:
        api._undocumented.remove(broken)
