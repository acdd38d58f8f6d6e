"""The in-app inbox (issue 13, item 3): the bell with the unread count in every page's header,
/notifications newest first and paginated, opening and marking read (one's own only), and
notifications meant for e-mail alone never shown."""

from __future__ import annotations

import re

from sqlalchemy import select

from aidmatch.extensions import db
from aidmatch.notify.models import Notification
from aidmatch.permissions import Role
from tests.factories import make_user
from tests.match_helpers import make_cast
from tests.notify_helpers import tell_one
from tests.sql_statements import statements, writes

NOTIFICATIONS_SQL = re.compile(r"^\s*SELECT\b.*\bFROM notifications\b", re.IGNORECASE | re.DOTALL)


def read_at(note_id: int):
    db.session.expire_all()
    return db.session.get(Notification, note_id).read_at


def test_the_bell_counts_unread_inbox_notifications_on_every_page(client, login_as):
    user = make_user(Role.ORGANIZER)
    other = make_user(Role.ORGANIZER)
    for minutes in (1, 2, 3):
        tell_one(user, minutes_ago=minutes)
    tell_one(user, "password_reset", params={})  # e-mail only: not in the inbox
    tell_one(other)
    read = tell_one(user, minutes_ago=9)
    read.read_at = read.created_at
    db.session.commit()
    login_as(user)
    for path in ("/", "/needs", "/account", "/transparency"):
        page = client.get(path).get_data(as_text=True)
        assert "3 unread notifications" in page, path
        assert 'href="/notifications"' in page


def test_the_bell_costs_one_query_and_says_none_unread(client, login_as):
    user = make_user(Role.DONOR)
    db.session.commit()
    login_as(user)
    with statements(NOTIFICATIONS_SQL) as seen:
        page = client.get("/needs").get_data(as_text=True)
    assert len(seen) == 1
    assert "Notifications, none unread" in page
    tell_one(user)
    db.session.commit()
    assert "1 unread notification<" in client.get("/needs").get_data(as_text=True)


def test_anonymous_visitors_get_no_bell_and_no_query(client):
    with statements(NOTIFICATIONS_SQL) as seen:
        page = client.get("/transparency").get_data(as_text=True)
        health = client.get("/healthz")
    assert health.status_code == 200
    assert seen == []
    assert 'href="/notifications"' not in page and "unread" not in page
    assert client.get("/notifications").status_code == 302  # to the login page


def test_the_inbox_lists_newest_first_in_words_with_links(client, login_as):
    cast = make_cast()
    old = tell_one(cast.organizer, "match_claimed", minutes_ago=30, need=cast.need)
    new = tell_one(cast.organizer, "reminder_unpledged", minutes_ago=5, need=cast.need)
    hidden = tell_one(cast.organizer, "queue_digest", params={"count": 2, "organizations": 1})
    db.session.commit()
    login_as(cast.organizer)
    page = client.get("/notifications").get_data(as_text=True)
    assert "A donor pledged 5 pcs of Tourniquets for your need in Kharkiv Oblast." in page
    assert page.index("Nothing is pledged yet") < page.index("A donor pledged")
    assert f'href="/needs/{cast.need.id}"' in page
    assert f'action="/notifications/{new.id}/open"' in page
    assert f'action="/notifications/{old.id}/read"' in page
    assert "wait for review" not in page and f"/notifications/{hidden.id}/" not in page
    assert "2 unread notifications" in page


def test_the_inbox_is_paginated(client, login_as):
    user = make_user(Role.DONOR)
    notes = [tell_one(user, minutes_ago=m) for m in range(25)]
    db.session.commit()
    login_as(user)
    first = client.get("/notifications").get_data(as_text=True)
    second = client.get("/notifications?page=2").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert f"/notifications/{notes[0].id}/read" in first
    assert f"/notifications/{notes[19].id}/read" in first
    assert f"/notifications/{notes[20].id}/read" not in first
    assert f"/notifications/{notes[24].id}/read" in second
    beyond = client.get("/notifications?page=9").get_data(as_text=True)
    assert "There is nothing on this page." in beyond


def test_an_empty_inbox_says_so(client, login_as):
    login_as(make_user(Role.DONOR))
    page = client.get("/notifications").get_data(as_text=True)
    assert "No notifications yet." in page and "Mark all read" not in page


def test_mark_read_goes_back_and_only_for_ones_own(client, login_as):
    user = make_user(Role.DONOR)
    other = make_user(Role.DONOR)
    mine = tell_one(user)
    theirs = tell_one(other)
    email_only = tell_one(user, "password_reset", params={})
    db.session.commit()
    login_as(user)
    done = client.post(f"/notifications/{mine.id}/read", data={"next": "/notifications?page=1"})
    assert done.status_code == 302 and done.headers["Location"] == "/notifications?page=1"
    assert read_at(mine.id) is not None
    elsewhere = client.post(f"/notifications/{mine.id}/read", data={"next": "https://evil.test/"})
    assert elsewhere.headers["Location"] == "/notifications"
    for note in (theirs, email_only):
        for action in ("read", "open"):
            assert client.post(f"/notifications/{note.id}/{action}").status_code == 404
        assert read_at(note.id) is None
    assert client.post("/notifications/99999999999/read").status_code == 404
    page = client.get("/notifications").get_data(as_text=True)
    assert "Nothing unread." in page and "Notifications, none unread" in page


def test_open_marks_read_and_goes_to_what_it_is_about(client, login_as):
    cast = make_cast()
    note = tell_one(cast.organizer, "reminder_unpledged", need=cast.need)
    about_nothing = tell_one(cast.organizer, "match_claimed")  # its match is gone
    db.session.commit()
    login_as(cast.organizer)
    opened = client.post(f"/notifications/{note.id}/open")
    assert opened.status_code == 302 and opened.headers["Location"] == f"/needs/{cast.need.id}"
    assert read_at(note.id) is not None
    back = client.post(f"/notifications/{about_nothing.id}/open")
    assert back.headers["Location"] == "/notifications"


def test_mark_all_read_touches_only_ones_own_inbox(client, login_as):
    user = make_user(Role.DONOR)
    other = make_user(Role.DONOR)
    mine = [tell_one(user) for _ in range(3)]
    theirs = tell_one(other)
    db.session.commit()
    login_as(user)
    done = client.post("/notifications/read-all", follow_redirects=True)
    assert "3 notifications marked read." in done.get_data(as_text=True)
    assert all(read_at(n.id) is not None for n in mine)
    assert read_at(theirs.id) is None


def test_reading_the_inbox_writes_nothing(client, login_as):
    user = make_user(Role.DONOR)
    tell_one(user)
    db.session.commit()
    login_as(user)
    with writes() as seen:
        assert client.get("/notifications").status_code == 200
        assert client.get("/account/notifications").status_code == 200
    assert seen == []
    unread = db.session.scalars(select(Notification.read_at)).all()
    assert unread == [None]
