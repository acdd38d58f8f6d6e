"""Every API response the test suite receives is checked against /api/v1/openapi.json
(issue 12, finding 5): its status must be documented and its body must match the schema the
document gives for it. tests.conftest.ApiClient calls check_response() on each call."""

from __future__ import annotations

from urllib.parse import urlsplit

import schemathesis

_SCHEMAS: dict = {}


def api_document(client):
    """The OpenAPI document as schemathesis reads it (built once per run: it never changes)."""
    if "schema" not in _SCHEMAS:
        spec = client.get("/api/v1/openapi.json").get_json()
        _SCHEMAS["schema"] = schemathesis.openapi.from_dict(spec)
    return _SCHEMAS["schema"]


def check_response(client, method: str, url: str, response) -> None:
    """Fail unless the document describes this response (status and body)."""
    path = urlsplit(url).path
    if path.endswith(("/openapi.json", "/docs")):
        return
    schema = api_document(client)
    operation = schema.find_operation_by_path(method.upper(), path)
    if operation is None:  # a route the API has not (405, 404 of an unknown path)
        assert response.status_code in (404, 405), (method, path, response.status_code)
        return
    documented = operation.definition.raw.get("responses", {})
    assert str(response.status_code) in documented or "default" in documented, (
        f"{method.upper()} {path}: status {response.status_code} is not documented"
    )
    operation.validate_response(response)
