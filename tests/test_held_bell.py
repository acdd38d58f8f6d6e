"""The header's bell held in the process under the user's inbox stamp (notify/inbox.py,
cache.stamped): a page asked again with nothing new costs no statement at all, and any
committed change to the user's notifications (one made, one marked read, all marked read, on
a page or through the API) shows on the very next page; a count read in a transaction that
was already open is not held, and a stamp the cache refuses to renew leaves nothing stale."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select

from aidmatch import local_memory
from aidmatch.auth.models import User
from aidmatch.db import reading
from aidmatch.extensions import db
from aidmatch.notify import inbox
from aidmatch.notify.models import Notification
from aidmatch.permissions import Role
from tests import test_held_user
from tests.factories import make_user
from tests.notify_helpers import tell_one
from tests.sql_statements import statements
from tests.test_held_user import app_on, as_a_new_request, signed_in

pytestmark = pytest.mark.usefixtures("english")
# The fixtures of the held user's tests: a donor with a need to see, a Redis of the test's own.
donor = test_held_user.donor
own_redis = test_held_user.own_redis

NONE_UNREAD = "Notifications, none unread"
COUNT = re.compile(r"^\s*SELECT count\(\*\).*\bFROM notifications\b", re.IGNORECASE | re.DOTALL)


def page_again(client) -> tuple[str, list[str]]:
    """/needs asked as a new request: its text and the statements it sent."""
    as_a_new_request()
    with statements() as sent:
        answer = client.get("/needs")
    assert answer.status_code == 200
    return answer.get_data(as_text=True), sent


def held(client) -> str:
    """/needs asked until its bell is held: its text. A count is held only when read before
    the request's transaction began: the first page reads its rows, the second its count."""
    for _ in range(2):
        page_again(client)
    page, sent = page_again(client)
    assert sent == []
    return page


def test_a_page_asked_again_costs_no_statement_bell_included(client, login_as, donor):
    signed_in(login_as, donor)
    tell_one(donor)
    db.session.commit()
    first, _sent = page_again(client)
    assert "1 unread notification<" in first
    page_again(client)
    again, sent = page_again(client)
    assert sent == []  # neither the user, the page nor the bell's count
    assert "1 unread notification<" in again
    assert "Held tourniquets" in again


def test_a_notification_made_shows_on_the_next_page(client, login_as, donor):
    signed_in(login_as, donor)
    assert NONE_UNREAD in held(client)
    tell_one(donor)
    db.session.commit()
    assert "1 unread notification<" in page_again(client)[0]


def test_a_notification_of_someone_else_leaves_the_count_held(client, login_as, donor):
    other_id = make_user(Role.DONOR, org=donor.organization).id
    db.session.commit()
    signed_in(login_as, donor)
    held(client)
    tell_one(db.session.get(User, other_id))  # no tracked write: only their stamp renewed
    db.session.commit()
    page, sent = page_again(client)
    assert sent == []
    assert NONE_UNREAD in page


def test_one_marked_read_on_a_page_shows_on_the_next_page(client, login_as, donor):
    signed_in(login_as, donor)
    notes = [tell_one(donor).id, tell_one(donor).id]
    db.session.commit()
    assert "2 unread notifications" in held(client)
    as_a_new_request()
    client.post(f"/notifications/{notes[0]}/read", data={"next": "/needs"})
    assert "1 unread notification<" in page_again(client)[0]


def test_all_marked_read_on_a_page_shows_on_the_next_page(client, login_as, donor):
    """Marked read in one UPDATE, which no mapper event sees: mark_all_read renews the stamp."""
    signed_in(login_as, donor)
    tell_one(donor)
    tell_one(donor)
    db.session.commit()
    assert "2 unread notifications" in held(client)
    as_a_new_request()
    assert client.post("/notifications/read-all", data={"next": "/needs"}).status_code == 302
    assert NONE_UNREAD in page_again(client)[0]  # with its flash: counted afresh
    assert NONE_UNREAD in held(client)


def test_all_marked_read_through_the_api_shows_on_the_next_page(
    client, login_as, api_client, donor
):
    api = api_client(donor)
    signed_in(login_as, donor)
    tell_one(donor)
    db.session.commit()
    assert "1 unread notification<" in held(client)
    as_a_new_request()
    marked = api.post("/notifications/read-all")
    assert marked.get_json() == {"marked": 1}
    assert NONE_UNREAD in held(client)


def test_a_count_read_in_a_transaction_already_open_is_not_held(app, donor):
    """The race the stamp's order closes: a reader's snapshot taken (SQLite: at its first
    statement), then a writer commits a notification and renews the stamp, then the reader
    counts. It counts what its snapshot holds, which must not be held under the new stamp."""
    user_id = donor.id
    db.session.close()  # no transaction open
    assert inbox.unread_count(user_id) == 0  # held under the stamp of now
    db.session.close()  # as a request ends (its write lock let go: SQLite)
    written = []

    def write_elsewhere():
        with app.app_context():
            tell_one(db.session.get(User, user_id))
            db.session.commit()  # the stamp renewed after the commit
            written.append(True)

    with reading():  # as a GET: a snapshot, no write lock (SQLite)
        db.session.scalar(select(func.count()).select_from(Notification))  # open
        writer = threading.Thread(target=write_elsewhere)
        writer.start()
        writer.join()
        assert written == [True]
        inbox.unread_count(user_id)  # in the open transaction: 0 on SQLite, 1 on PostgreSQL
        db.session.rollback()
    assert inbox.unread_count(user_id) == 1


def test_a_rolled_back_notification_renews_no_stamp(donor):
    user_id = donor.id
    db.session.close()
    assert inbox.unread_count(user_id) == 0
    tell_one(db.session.get(User, user_id))
    db.session.rollback()
    with statements() as sent:
        assert inbox.unread_count(user_id) == 0
    assert sent == []  # still held: the stamp was not renewed


def test_a_count_that_flushed_a_notification_not_committed_is_not_held(donor):
    """A notification still pending in the session when the count is asked: the count's
    query flushes it (autoflush), so it counts it, and must not hold what may roll back."""
    user_id = donor.id
    db.session.close()
    db.session.add(Notification(user_id=user_id, kind="match_claimed", params_json="{}"))
    assert inbox.unread_count(user_id) == 1  # its own pending row, flushed
    db.session.rollback()
    assert inbox.unread_count(user_id) == 0


def test_a_renewed_stamp_replaces_what_the_process_held(donor):
    """One count held per user, whatever the number of changes: the old stamp's goes."""
    user_id = donor.id
    for count in range(1, 4):
        db.session.close()
        assert inbox.unread_count(user_id) == count - 1
        tell_one(db.session.get(User, user_id))
        db.session.commit()
    held_here = [key for key in local_memory._local if key.startswith(f"stamp:inbox:{user_id}")]
    assert held_here == [f"stamp:inbox:{user_id}"]


def test_a_stamp_the_cache_refuses_to_renew_leaves_nothing_stale(database_url, own_redis):
    """Redis full: the stamp renewed after a notification's commit is refused, so the old
    one is deleted (another process holds nothing under it) and this process lets go: the
    next page counts afresh, and so does every one after it while nothing can be kept."""
    with app_on(database_url, own_redis) as app:
        user = make_user(Role.DONOR)
        db.session.commit()
        user_id = user.id
        db.session.close()
        assert inbox.unread_count(user_id) == 0
        assert own_redis.store.keys("*stamp:inbox*") != []
        own_redis.refuse_writes()
        tell_one(db.session.get(User, user_id))
        db.session.commit()
        assert own_redis.store.keys("*stamp:inbox*") == []  # the old stamp deleted
        for _ in range(2):
            with statements(COUNT) as sent:
                assert inbox.unread_count(user_id) == 1
            assert len(sent) == 1
        assert app.config["CACHE_BACKEND"] == "redis"


def test_a_read_only_cache_lets_the_process_that_wrote_count_afresh(database_url, own_redis):
    """Redis read-only (a replica after a failover): the stamp can be neither renewed nor
    deleted, so the process that committed lets go of what it holds and counts afresh."""
    with app_on(database_url, own_redis):
        user = make_user(Role.DONOR)
        db.session.commit()
        user_id = user.id
        db.session.close()
        assert inbox.unread_count(user_id) == 0
        own_redis.read_only()
        tell_one(db.session.get(User, user_id))
        db.session.commit()
        assert own_redis.store.keys("*stamp:inbox*") != []  # the old one still there
        db.session.close()
        with statements(COUNT) as sent:
            assert inbox.unread_count(user_id) == 1
        assert len(sent) == 1
