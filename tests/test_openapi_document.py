"""The OpenAPI document tells the truth (issue 12, finding 5): errors in the envelope the API
sends, reasons required where the API requires them, public endpoints without security, and
every operation's success and error responses matching it (tests/openapi_check.py checks each
response of tests.conftest.ApiClient; the walk below reaches every operation)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from flask import Flask
from PIL import Image

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches import operations as ops
from aidmatch.matches.models import MatchSource
from aidmatch.orgs.models import OrgKind, OrgRole
from aidmatch.permissions import Role
from tests.factories import make_org, make_user
from tests.match_helpers import make_cast
from tests.notify_helpers import tell_one
from tests.openapi_check import api_document
from tests.posting_factories import make_offer

PUBLIC = {
    ("POST", "/api/v1/tokens"),
    ("GET", "/api/v1/categories"),
    ("GET", "/api/v1/places"),
    ("GET", "/api/v1/transparency/summary"),
    ("GET", "/api/v1/fundraisers/{slug}"),  # a collective's supporters read it, no account
}


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").get_json()


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield method.upper(), path, operation


def follow(spec, node: dict) -> dict:
    """The object a $ref points to (followed until there is none)."""
    while "$ref" in node:
        target = spec
        for part in node["$ref"].split("/")[1:]:
            target = target[part]
        node = target
    return node


def test_every_error_is_described_in_the_envelope(spec):
    checked = 0
    for method, path, operation in operations(spec):
        assert "default" in operation["responses"], (method, path)  # any other error status
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                continue
            body = follow(spec, follow(spec, response)["content"]["application/json"]["schema"])
            assert body["required"] == ["error"], (method, path, status)
            error = follow(spec, body["properties"]["error"])
            assert set(error["properties"]) == {"code", "message", "fields"}, (method, path)
            assert set(error["required"]) == {"code", "message", "fields"}
            checked += 1
    assert checked >= 50


def test_public_endpoints_ask_for_no_token_and_the_others_do(spec, client):
    assert "security" not in spec  # no document-wide rule: each operation says its own
    for method, path, operation in operations(spec):
        if (method, path) in PUBLIC:
            assert not operation.get("security"), (method, path)
        else:
            assert operation.get("security") == [{"bearerAuth": []}], (method, path)
    assert client.get("/api/v1/openapi.json").status_code == 200  # itself public
    assert client.get("/api/v1/categories").status_code == 200
    assert client.get("/api/v1/places?q=Kharkiv").status_code == 200


@pytest.mark.parametrize("action", ["reject", "withdraw"])
def test_reject_and_withdraw_require_a_reason_as_documented(spec, app, api_client, action):
    """DESIGN: reject and withdraw take {reason}, which both sides read; so the reason is
    required, in the document and by the API (a clear 422 naming it)."""
    body = spec["paths"][f"/api/v1/matches/{{match_id}}/{action}"]["post"]["requestBody"]
    assert body["required"] is True
    schema = follow(spec, body["content"]["application/json"]["schema"])
    assert schema["required"] == ["reason"]
    assert schema["properties"]["reason"]["minLength"] == 1
    cast = make_cast()
    match = ops.claim_need(cast.need, cast.donor, 5)
    if action == "withdraw":
        ops.approve(match, cast.coordinator)
    db.session.commit()
    api = api_client(cast.coordinator if action == "reject" else cast.donor)
    for sent in ({}, {"reason": ""}, {"reason": "   "}):
        refused = api.post(f"/matches/{match.id}/{action}", json=sent)
        assert refused.status_code == 422, sent
        assert "reason" in refused.get_json()["error"]["fields"]
    done = api.post(f"/matches/{match.id}/{action}", json={"reason": "duplicate"})
    assert done.status_code == 200 and done.get_json()["reason"] == "duplicate"


OPTIONAL_BODIES = (
    "/api/v1/matches/{match_id}/decline",
    "/api/v1/matches/{match_id}/release",
    "/api/v1/needs/{need_id}/cancel",
    "/api/v1/offers/{offer_id}/withdraw",
)


def test_optional_bodies_are_documented_as_optional_and_may_be_left_out(spec, app, api_client):
    for path in OPTIONAL_BODIES:
        body = spec["paths"][path]["post"]["requestBody"]
        assert body.get("required", False) is False, path
    cast = make_cast()
    match = ops.claim_need(cast.need, cast.donor, 5)
    db.session.commit()
    donor = api_client(cast.donor)
    assert donor.post(f"/matches/{match.id}/decline").get_json()["status"] == "declined"
    assert donor.post(f"/offers/{cast.offer.id}/withdraw").get_json()["status"] == "withdrawn"
    organizer = api_client(cast.organizer)
    assert organizer.post(f"/needs/{cast.need.id}/cancel").get_json()["status"] == "cancelled"


def walk_money(walk, cast, anonymous, organizer, donor, coordinator) -> None:
    """Money for the need (aidmatch/money): each operation once well and once refused."""
    import io

    from PIL import Image

    need, group = cast.need.id, cast.group.id
    details = {"link": "https://pay.example.org/jar/7"}
    walk.call(donor, "PUT", f"/orgs/{group}/payment-details", 403, json=details)
    walk.call(coordinator, "PUT", f"/orgs/{group}/payment-details", 403, json=details)
    cast.organizer.org_role = OrgRole.OWNER  # where a group's money goes: its owners say
    db.session.commit()
    walk.call(organizer, "PUT", f"/orgs/{group}/payment-details", 200, json=details)
    cost = {"amount_minor": 100000, "currency": "EUR"}
    walk.call(donor, "PUT", f"/needs/{need}/cost", 403, json=cost)
    walk.call(organizer, "PUT", f"/needs/{need}/cost", 200, json=cost)
    walk.call(donor, "GET", f"/needs/{need}/money", 200)
    walk.call(donor, "GET", "/needs/99999999/money", 404)
    body = {"amount_minor": 20000, "currency": "EUR", "cadence": "monthly", "months": 2}
    walk.call(organizer, "POST", f"/needs/{need}/money-pledges", 403, json=body)
    pledge = walk.call(donor, "POST", f"/needs/{need}/money-pledges", 201, json=body)
    walk.call(donor, "GET", f"/money-pledges/{pledge['id']}", 200)
    walk.call(donor, "GET", "/money-pledges/99999999", 404)
    walk.call(coordinator, "POST", f"/money-pledges/{pledge['id']}/confirm", 200, json={})
    walk.call(coordinator, "POST", f"/money-pledges/{pledge['id']}/confirm", 409, json={})
    month = f"/money-installments/{pledge['installments'][0]['id']}/received"
    walk.call(organizer, "POST", month, 200, json={"amount_minor": 20000})
    walk.call(organizer, "POST", month, 409, json={"amount_minor": 20000})
    jpeg = io.BytesIO()
    Image.new("RGB", (40, 30)).save(jpeg, "JPEG")
    form = {"amount_minor": "15000", "currency": "EUR", "items": "Tyres"}
    walk.call(donor, "POST", f"/needs/{need}/spending", 403, data=form)
    walk.call(organizer, "POST", f"/needs/{need}/spending", 201,
              data={**form, "photo": (io.BytesIO(jpeg.getvalue()), "r.jpg")},
              content_type="multipart/form-data")  # fmt: skip
    drive = {"title": "Winter drive", "need_ids": [need]}
    walk.call(organizer, "POST", "/fundraisers", 403, json=drive)
    slug = walk.call(donor, "POST", "/fundraisers", 201, json=drive)["slug"]
    walk.call(anonymous, "GET", f"/fundraisers/{slug}", 200)
    walk.call(anonymous, "GET", "/fundraisers/no-such-drive", 404)


class Walk:
    """Calls through ApiClients (each response checked against the document), noting which
    operations answered with a success and which with an error."""

    def __init__(self, app: Flask):
        self.app = app
        self.schema = api_document(app.test_client())
        self.seen: dict[str, set[str]] = {}

    def call(self, api, method: str, path: str, expect: int, **kwargs):
        response = getattr(api, method.lower())(path, **kwargs)
        assert response.status_code == expect, (method, path, response.get_json(silent=True))
        operation = self.schema.find_operation_by_path(method, f"/api/v1{path}")
        kind = "success" if response.status_code < 400 else "error"
        self.seen.setdefault(operation.label, set()).add(kind)
        return response.get_json(silent=True)


def test_every_operation_answers_success_and_errors_as_documented(app, client, api_client):
    from tests.conftest import ApiClient
    from tests.factories import PASSWORD

    cast = make_cast()
    db.session.commit()
    walk = Walk(app)
    anonymous = ApiClient(client, "not-a-token")
    donor, coordinator = api_client(cast.donor), api_client(cast.coordinator)
    organizer = api_client(cast.organizer)
    need, offer = cast.need.id, cast.offer.id

    token = walk.call(
        anonymous, "POST", "/tokens", 201, json={"email": cast.donor.email, "password": PASSWORD}
    )["token"]
    walk.call(anonymous, "POST", "/tokens", 422, json={"email": "x"})
    own = ApiClient(app.test_client(), token)
    walk.call(own, "GET", "/me", 200)
    walk.call(anonymous, "GET", "/me", 401)
    walk.call(own, "DELETE", "/tokens/current", 204)
    walk.call(own, "DELETE", "/tokens/current", 401)
    walk.call(anonymous, "GET", "/categories", 200)
    walk.call(anonymous, "GET", "/places", 200, query_string={"q": "Kharkiv"})
    walk.call(anonymous, "GET", "/places", 422)
    walk.call(anonymous, "GET", "/transparency/summary", 200)

    for kind, own_api, item, other_api in (
        ("needs", organizer, need, donor),
        ("offers", donor, offer, organizer),
    ):
        walk.call(own_api, "GET", f"/{kind}", 200)
        walk.call(own_api, "GET", f"/{kind}", 422, query_string={"status": "bogus"})
        walk.call(own_api, "GET", f"/{kind}/{item}", 200)
        walk.call(own_api, "GET", f"/{kind}/99999999", 404)
        walk.call(own_api, "PATCH", f"/{kind}/{item}", 200, json={"quantity": 60})
        walk.call(own_api, "PATCH", f"/{kind}/{item}", 422, json={"title": "a\x00"})
        walk.call(other_api, "POST", f"/{kind}", 403, json={})
        walk.call(own_api, "POST", f"/{kind}", 422, json={"title": "t"})
        posted = walk.call(
            own_api,
            "POST",
            f"/{kind}",
            201,
            json={
                "title": "Water filters",
                "category": "water",
                "quantity": 3,
                "place_id": cast.need.place_id,
            },
        )
        end = "cancel" if kind == "needs" else "withdraw"
        walk.call(own_api, "POST", f"/{kind}/{posted['id']}/{end}", 200, json={})
        walk.call(own_api, "POST", f"/{kind}/{posted['id']}/{end}", 409, json={})
    walk.call(organizer, "GET", f"/needs/{need}/candidates", 200)
    walk.call(organizer, "GET", f"/needs/{need}/candidates", 422, query_string={"limit": 0})
    walk.call(donor, "GET", f"/offers/{offer}/candidates", 200)
    walk.call(donor, "GET", "/offers/99999999/candidates", 404)

    claim = f"/needs/{need}/claims"
    walk.call(donor, "POST", claim, 422, json={})
    walk.call(organizer, "POST", claim, 403, json={"quantity": 1})
    first = walk.call(donor, "POST", claim, 201, json={"quantity": 5, "offer_id": offer})["id"]
    second = walk.call(donor, "POST", claim, 201, json={"quantity": 5})["id"]
    third = walk.call(donor, "POST", claim, 201, json={"quantity": 5})["id"]
    walk.call(coordinator, "GET", "/matches", 200, query_string={"need": need})
    walk.call(coordinator, "GET", "/matches", 422, query_string={"need": "99999999999999999999"})
    walk.call(donor, "GET", f"/matches/{first}", 200)
    walk.call(donor, "GET", "/matches/99999999", 404)

    walk.call(donor, "POST", f"/matches/{first}/approve", 403)
    walk.call(coordinator, "POST", f"/matches/{first}/approve", 200)
    walk.call(donor, "POST", f"/matches/{first}/ship", 422, json={})
    walk.call(donor, "POST", f"/matches/{first}/ship", 200, json={"note": "Nova Poshta"})
    delivery = f"/matches/{first}/confirm-delivery"
    walk.call(organizer, "POST", delivery, 422, json={})
    walk.call(organizer, "POST", delivery, 200, json={"quantity_received": 5})
    walk.call(coordinator, "POST", f"/matches/{second}/reject", 422, json={})
    walk.call(coordinator, "POST", f"/matches/{second}/reject", 200, json={"reason": "twice"})
    walk.call(donor, "POST", f"/matches/{second}/decline", 409, json={})
    walk.call(donor, "POST", f"/matches/{third}/decline", 200, json={})
    walk.call(donor, "POST", f"/matches/{third}/extend", 409)
    messages = f"/matches/{first}/messages"
    walk.call(organizer, "POST", messages, 201, json={"body": "When does it leave?"})
    walk.call(organizer, "POST", messages, 422, json={"body": "  "})
    walk.call(donor, "GET", messages, 200)
    walk.call(donor, "GET", "/matches/99999999/messages", 404)
    walk.call(organizer, "GET", f"/matches/{first}/receipt", 200)
    walk.call(donor, "GET", "/matches/99999999/receipt", 404)
    photos = f"/matches/{first}/photos"
    jpeg = io.BytesIO()
    Image.new("RGB", (30, 20)).save(jpeg, "JPEG")
    jpeg.seek(0)
    upload = {"data": {"photo": (jpeg, "p.jpg")}, "content_type": "multipart/form-data"}
    walk.call(donor, "POST", photos, 201, **upload)
    not_a_photo = {"photo": (io.BytesIO(b"plain text"), "p.txt")}
    walk.call(donor, "POST", photos, 422, data=not_a_photo, content_type="multipart/form-data")
    walk.call(organizer, "GET", photos, 200)
    walk.call(organizer, "GET", "/matches/99999999/photos", 404)
    shipped = ops.claim_need(cast.need, cast.donor, 3)
    ops.approve(shipped, cast.coordinator)
    ops.ship(shipped, cast.donor, "Van")
    hub_org = make_org(kind=OrgKind.HUB)
    hub = api_client(make_user(Role.DONOR, org=hub_org))
    legs = f"/matches/{shipped.id}/legs"
    walk.call(donor, "POST", legs, 422, json={})
    walk.call(hub, "POST", legs, 404, json={"to_org_id": hub_org.id, "quantity_sent": 3})
    leg = walk.call(donor, "POST", legs, 201, json={"to_org_id": hub_org.id, "quantity_sent": 3})
    walk.call(donor, "POST", legs, 409, json={"to_org_id": hub_org.id, "quantity_sent": 3})
    walk.call(hub, "GET", legs, 200)
    walk.call(hub, "GET", "/matches/99999999/legs", 404)
    walk.call(donor, "POST", f"/legs/{leg['id']}/confirm", 403, json={"quantity_received": 3})
    walk.call(hub, "POST", f"/legs/{leg['id']}/confirm", 422, json={})
    walk.call(hub, "POST", f"/legs/{leg['id']}/confirm", 200, json={"quantity_received": 3})
    walk.call(hub, "POST", f"/legs/{leg['id']}/confirm", 409, json={"quantity_received": 3})
    walk.call(hub, "POST", "/legs/99999999/confirm", 404, json={"quantity_received": 3})
    waiting = make_org(verified=False)
    voucher_org = make_org(kind=OrgKind.DONOR_COLLECTIVE)
    voucher = api_client(make_user(Role.DONOR, org=voucher_org, org_role="owner"))
    member = api_client(make_user(Role.DONOR, org=voucher_org))
    vouches = f"/orgs/{waiting.id}/vouches"
    walk.call(member, "POST", vouches, 403, json={"reason": "We know them"})
    walk.call(voucher, "POST", vouches, 422, json={"reason": " "})
    made = walk.call(voucher, "POST", vouches, 201, json={"reason": "We know them"})
    walk.call(voucher, "POST", vouches, 409, json={"reason": "We know them"})
    walk.call(voucher, "POST", f"/vouches/{made['id']}/withdraw", 200)
    walk.call(voucher, "POST", f"/vouches/{made['id']}/withdraw", 409)
    walk.call(coordinator, "GET", vouches, 200)
    walk.call(donor, "GET", vouches, 403)
    walk.call(coordinator, "GET", "/vouches", 200, query_string={"active": "false"})
    walk.call(coordinator, "GET", "/vouches", 422, query_string={"active": "maybe"})
    requests = f"/offers/{offer}/requests"
    walk.call(organizer, "POST", requests, 422, json={})
    walk.call(donor, "POST", requests, 403, json={"need_id": need, "quantity": 1})
    asked = walk.call(organizer, "POST", requests, 201, json={"need_id": need, "quantity": 2})
    walk.call(donor, "POST", f"/matches/{asked['id']}/accept", 200, json={"quantity": 1})
    walk.call(coordinator, "POST", f"/matches/{asked['id']}/approve", 422, json={"quantity": 0})

    proposal = ops.reserve(
        cast.need, cast.offer, cast.donor_org, 4, source=MatchSource.ENGINE, score=0.7
    )
    db.session.commit()
    walk.call(organizer, "POST", f"/matches/{proposal.id}/accept", 403)
    walk.call(donor, "POST", f"/matches/{proposal.id}/accept", 200)
    walk.call(donor, "POST", f"/matches/{proposal.id}/extend", 200)
    walk.call(coordinator, "POST", f"/matches/{proposal.id}/approve", 200)
    walk.call(coordinator, "POST", f"/matches/{proposal.id}/release", 409, json={})
    walk.call(donor, "POST", f"/matches/{proposal.id}/withdraw", 422, json={})
    later = ops.claim_need(cast.need, cast.donor, 2)
    ops.approve(later, cast.coordinator)
    later.expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    walk.call(coordinator, "POST", f"/matches/{later.id}/release", 200, json={})
    walk.call(donor, "POST", f"/matches/{proposal.id}/withdraw", 200, json={"reason": "gone"})

    repeating = make_offer(cast.donor_org, cast.donor, quantity=10).id
    db.session.commit()
    series = f"/offers/{repeating}/recurrence"
    walk.call(donor, "GET", series, 404)
    walk.call(donor, "POST", series, 422, json={"every": "day", "quantity": 5})
    walk.call(donor, "POST", series, 201, json={"every": "month", "quantity": 5})
    walk.call(organizer, "GET", series, 200)
    walk.call(donor, "PATCH", series, 200, json={"quantity": 6})
    walk.call(organizer, "PATCH", series, 403, json={"quantity": 6})
    walk.call(donor, "POST", f"{series}/pause", 200)
    walk.call(donor, "POST", f"{series}/pause", 409)
    walk.call(donor, "POST", f"{series}/resume", 200)
    walk.call(donor, "POST", f"{series}/resume", 409)
    walk.call(organizer, "POST", f"{series}/stop", 403)
    walk.call(donor, "POST", f"{series}/stop", 200)
    walk_money(walk, cast, anonymous, organizer, donor, coordinator)

    note = tell_one(cast.donor)
    db.session.commit()
    walk.call(donor, "GET", "/notifications", 200, query_string={"unread": "true"})
    walk.call(donor, "GET", "/notifications", 422, query_string={"unread": "maybe"})
    walk.call(donor, "POST", f"/notifications/{note.id}/read", 200)
    walk.call(organizer, "POST", f"/notifications/{note.id}/read", 404)
    walk.call(donor, "POST", "/notifications/read-all", 200)
    walk.call(anonymous, "POST", "/notifications/read-all", 401)
    walk.call(donor, "GET", "/notifications/preferences", 200)
    walk.call(anonymous, "GET", "/notifications/preferences", 401)
    choice = {"kind": "match_claimed", "channel": "telegram", "enabled": True}
    walk.call(donor, "PUT", "/notifications/preferences", 200, json={"preferences": [choice]})
    choice = {**choice, "kind": "match_to_review"}
    walk.call(donor, "PUT", "/notifications/preferences", 422, json={"preferences": [choice]})

    walk.call(coordinator, "POST", "/matching/runs", 202, json={})  # queued: a job runs it
    run = walk.call(coordinator, "GET", "/matching/runs", 200)["items"][0]
    walk.call(donor, "GET", "/matching/runs", 403)
    walk.call(donor, "POST", "/matching/runs", 403, json={})
    walk.call(coordinator, "GET", f"/matching/runs/{run['id']}", 200)
    walk.call(coordinator, "GET", "/matching/runs/99999999", 404)

    documented = {result.ok().label for result in walk.schema.get_all_operations()}
    assert set(walk.seen) == documented, documented ^ set(walk.seen)
    # Public, without parameters or body: no error is theirs to give.
    walk.seen["GET /api/v1/categories"].add("error")
    walk.seen["GET /api/v1/transparency/summary"].add("error")
    missing = {label: kinds for label, kinds in walk.seen.items() if kinds != {"success", "error"}}
    assert not missing, missing
