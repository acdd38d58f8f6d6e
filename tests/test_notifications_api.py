"""The notifications API (issue 13, item 8): the inbox in the caller's language, newest first,
paginated, with an unread filter; marking one or all read (one's own only); the preferences,
with a clear 422 for what cannot be chosen. Every response is checked against the OpenAPI
document by tests.conftest.ApiClient."""

from __future__ import annotations

from sqlalchemy import select

from aidmatch.auth.models import Language
from aidmatch.extensions import db
from aidmatch.notify.models import Channel, Notification, Preference
from aidmatch.notify.outbox import wants
from aidmatch.permissions import Role
from tests.factories import make_user
from tests.match_helpers import make_cast
from tests.notify_helpers import tell_one
from tests.sql_statements import writes


def test_the_list_is_newest_first_in_the_callers_words(api_client):
    cast = make_cast()
    old = tell_one(cast.organizer, minutes_ago=20, need=cast.need)
    new = tell_one(cast.organizer, "reminder_unpledged", minutes_ago=1, need=cast.need)
    tell_one(cast.organizer, "password_reset", params={})  # e-mail only
    tell_one(cast.donor)  # someone else's
    db.session.commit()
    body = api_client(cast.organizer).get("/notifications").get_json()
    assert body["total"] == 2 and [i["id"] for i in body["items"]] == [new.id, old.id]
    item = body["items"][0]
    assert item["kind"] == "reminder_unpledged" and item["unread"] is True
    assert item["path"] == f"/needs/{cast.need.id}" and item["need_id"] == cast.need.id
    assert item["read_at"] is None and item["match_id"] is None
    assert item["text"].startswith("Nothing is pledged yet for the need of 5 pcs of Tourniquets")

    cast.organizer.language = Language.UK
    db.session.commit()
    words = api_client(cast.organizer).get("/notifications").get_json()["items"][1]["text"]
    assert "Харківська область" in words


def test_pagination_and_the_unread_filter(api_client):
    user = make_user(Role.DONOR)
    notes = [tell_one(user, minutes_ago=m) for m in range(7)]
    for note in notes[:3]:
        note.read_at = note.created_at
    db.session.commit()
    api = api_client(user)
    page = api.get("/notifications", query_string={"per_page": 5, "page": 2}).get_json()
    assert (page["total"], page["page"], page["per_page"]) == (7, 2, 5)
    assert [i["id"] for i in page["items"]] == [notes[5].id, notes[6].id]
    unread = api.get("/notifications", query_string={"unread": "true"}).get_json()
    assert {i["id"] for i in unread["items"]} == {n.id for n in notes[3:]}
    read = api.get("/notifications", query_string={"unread": "false"}).get_json()
    assert {i["id"] for i in read["items"]} == {n.id for n in notes[:3]}
    bad = api.get("/notifications", query_string={"unread": "maybe"})
    assert bad.status_code == 422 and "unread" in bad.get_json()["error"]["fields"]


def test_mark_one_read_only_ones_own(api_client):
    user, other = make_user(Role.DONOR), make_user(Role.DONOR)
    mine, theirs = tell_one(user), tell_one(other)
    email_only = tell_one(user, "password_reset", params={})
    db.session.commit()
    api = api_client(user)
    done = api.post(f"/notifications/{mine.id}/read")
    assert done.status_code == 200
    first = done.get_json()["read_at"]
    assert first is not None and done.get_json()["unread"] is False
    assert api.post(f"/notifications/{mine.id}/read").get_json()["read_at"] == first
    for note_id in (theirs.id, email_only.id, 99999999):
        refused = api.post(f"/notifications/{note_id}/read")
        assert refused.status_code == 404
        assert refused.get_json()["error"]["code"] == "not_found"
    db.session.expire_all()
    assert db.session.get(Notification, theirs.id).read_at is None


def test_read_all_says_how_many_and_touches_only_ones_own(api_client):
    user, other = make_user(Role.DONOR), make_user(Role.DONOR)
    for _ in range(3):
        tell_one(user)
    theirs = tell_one(other)
    db.session.commit()
    api = api_client(user)
    assert api.post("/notifications/read-all").get_json() == {"marked": 3}
    assert api.post("/notifications/read-all").get_json() == {"marked": 0}
    assert api.get("/notifications", query_string={"unread": "true"}).get_json()["total"] == 0
    db.session.expire_all()
    assert db.session.get(Notification, theirs.id).read_at is None


def test_reads_write_nothing(api_client):
    user = make_user(Role.DONOR)
    tell_one(user)
    db.session.commit()
    api = api_client(user)
    with writes() as seen:
        api.get("/notifications")
        api.get("/notifications/preferences")
    assert seen == []


def test_preferences_roundtrip(api_client):
    user = make_user(Role.DONOR)
    db.session.commit()
    api = api_client(user)
    body = api.get("/notifications/preferences").get_json()
    lines = {(p["kind"], p["channel"]): p for p in body["preferences"]}
    assert lines[("match_confirmed_ship", "email")]["enabled"] is True
    assert lines[("match_claimed", "email")] == {
        "kind": "match_claimed",
        "label": "A donor pledged aid for your need",
        "channel": "email",
        "enabled": False,
        "default": False,
    }
    assert not {k for k, _c in lines} & {"match_to_review", "queue_digest", "password_reset"}
    assert [c["channel"] for c in body["channels"]] == ["email", "telegram"]
    assert body["channels"][0]["on_server"] is False and body["channels"][0]["note"]

    changed = api.put(
        "/notifications/preferences",
        json={
            "preferences": [
                {"kind": "match_confirmed_ship", "channel": "email", "enabled": False},
                {"kind": "match_claimed", "channel": "telegram", "enabled": True},
                {"kind": "match_shipped", "channel": "email", "enabled": True},  # the default
            ]
        },
    )
    assert changed.status_code == 200
    now = {(p["kind"], p["channel"]): p["enabled"] for p in changed.get_json()["preferences"]}
    assert now[("match_confirmed_ship", "email")] is False
    assert now[("match_claimed", "telegram")] is True
    rows = db.session.execute(
        select(Preference.kind, Preference.channel, Preference.enabled).where(
            Preference.user_id == user.id
        )
    ).all()
    assert {(k, str(c), e) for k, c, e in rows} == {
        ("match_confirmed_ship", "email", False),
        ("match_claimed", "telegram", True),
    }
    assert not wants(user, "match_confirmed_ship", Channel.EMAIL)
    # The GET answer may be sent back as it is: nothing changes.
    again = api.put("/notifications/preferences", json=changed.get_json())
    assert again.get_json()["preferences"] == changed.get_json()["preferences"]


def test_preferences_refuse_what_cannot_be_chosen(api_client):
    user = make_user(Role.DONOR)
    coordinator = make_user(Role.COORDINATOR)
    db.session.commit()
    api = api_client(user)
    refused = api.put(
        "/notifications/preferences",
        json={
            "preferences": [
                {"kind": "match_claimed", "channel": "email", "enabled": True},
                {"kind": "bogus", "channel": "email", "enabled": True},
                {"kind": "match_claimed", "channel": "pigeon", "enabled": True},
                {"kind": "password_reset", "channel": "email", "enabled": False},
                {"kind": "match_to_review", "channel": "telegram", "enabled": True},
            ]
        },
    )
    assert refused.status_code == 422
    fields = refused.get_json()["error"]["fields"]
    assert set(fields) == {
        "preferences.1.kind",
        "preferences.2.channel",
        "preferences.3.kind",
        "preferences.4.kind",
    }
    assert "Unknown kind of notification: bogus" in fields["preferences.1.kind"]
    assert "Known channels: email, telegram" in fields["preferences.2.channel"]
    assert "always sent" in fields["preferences.3.kind"]
    assert "coordinators and admins only" in fields["preferences.4.kind"]
    assert db.session.scalars(select(Preference)).all() == []  # nothing half-saved

    for body in ({}, {"preferences": [{"kind": "match_claimed", "channel": "email"}]}):
        bad = api.put("/notifications/preferences", json=body)
        assert bad.status_code == 422 and "preferences" in bad.get_json()["error"]["fields"]
    twice = api.put(
        "/notifications/preferences",
        json={
            "preferences": [
                {"kind": "match_claimed", "channel": "email", "enabled": True},
                {"kind": "match_claimed", "channel": "email", "enabled": False},
            ]
        },
    )
    assert twice.status_code == 422 and "preferences.1" in twice.get_json()["error"]["fields"]

    staff = api_client(coordinator).put(
        "/notifications/preferences",
        json={"preferences": [{"kind": "queue_digest", "channel": "telegram", "enabled": False}]},
    )
    assert staff.status_code == 200


def test_without_a_token_401(client):
    for method, path in (
        ("get", "/api/v1/notifications"),
        ("post", "/api/v1/notifications/1/read"),
        ("post", "/api/v1/notifications/read-all"),
        ("get", "/api/v1/notifications/preferences"),
        ("put", "/api/v1/notifications/preferences"),
    ):
        assert getattr(client, method)(path).status_code == 401, path
