"""The outbox: a notification is written in the transaction of its change (a rollback tells
nobody), rendered in the recipient's language without a point, note, contact or title, and
the queue's jobs run each in one transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from aidmatch.extensions import db
from aidmatch.jobs.queue import JOBS, after_commit, drain
from aidmatch.notify.messages import render
from aidmatch.notify.models import Notification
from aidmatch.notify.outbox import tell
from aidmatch.permissions import Role
from tests.factories import make_user


def count_notifications() -> int:
    return db.session.scalar(select(func.count()).select_from(Notification))


def test_a_rolled_back_change_tells_nobody(app):
    user = make_user(Role.ORGANIZER)
    db.session.commit()
    tell([user], "org_verified", params={"organization": "Group A"}, organization=user.organization)
    db.session.rollback()
    assert count_notifications() == 0

    tell([user], "org_verified", params={"organization": "Group A"}, organization=user.organization)
    db.session.commit()
    assert count_notifications() == 1


def test_a_reminder_with_a_key_is_told_once(app):
    user = make_user(Role.ORGANIZER)
    for _ in range(2):
        tell([user], "still_needed", params={"category_id": 1}, dedupe_key="still:need:1:w1")
        db.session.commit()
    assert count_notifications() == 1


def test_inactive_users_and_repeats_are_told_nothing(app):
    user = make_user(Role.ORGANIZER)
    gone = make_user(Role.ORGANIZER, active=False)
    made = tell([user, user, gone, None], "org_verified", params={"organization": "G"})
    assert [n.user_id for n in made] == [user.id]


def test_the_message_is_in_the_recipients_language(app):
    user = make_user(Role.ORGANIZER, language="uk")
    (note,) = tell(
        [user],
        "org_verified",
        params={"organization": "Група Схід"},
        organization=user.organization,
    )
    db.session.commit()
    english = render(note, "en")
    assert english.text == "Група Схід is verified: what it posts is now shown to others."
    assert english.url == f"http://127.0.0.1:5000/orgs/{user.organization_id}"


@pytest.fixture
def recorded(app):
    """A task "test.record" bound to the app's queue for this test, noting what it ran."""
    from aidmatch.jobs.queue import init_jobs, task

    ran, before = [], dict(JOBS)
    task("test.record")(ran.append)
    init_jobs(app)
    yield ran
    JOBS.clear()
    JOBS.update(before)
    init_jobs(app)


def test_a_job_enqueued_after_commit_runs_only_once_committed(app, recorded):
    after_commit("test.record", "rolled back")
    db.session.rollback()
    after_commit("test.record", "committed")
    db.session.commit()
    assert drain(app) == 1
    assert recorded == ["committed"]


def test_a_savepoint_rolled_back_forgets_only_its_own_jobs(app, recorded):
    after_commit("test.record", "before the savepoint")
    savepoint = db.session.begin_nested()
    after_commit("test.record", "inside the savepoint")
    savepoint.rollback()
    after_commit("test.record", "after the savepoint")
    db.session.commit()
    drain(app)
    assert recorded == ["before the savepoint", "after the savepoint"]


@pytest.mark.parametrize("name", ["notify.deliver", "notify.sweep"])
def test_the_outbox_jobs_are_registered(app, name):
    assert name in app.extensions["jobs"]
