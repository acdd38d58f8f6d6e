"""One transaction per request, committed at its edge (aidmatch/transaction.py): a request that
succeeds commits, one that fails rolls back, and one that the database aborts as a deadlock
victim is run again from fresh rows, so both sides of a deadlock succeed."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text, update

from aidmatch.extensions import db
from aidmatch.needs.models import Need
from aidmatch.orgs.models import OrgKind
from aidmatch.transaction import is_retryable, run_in_transaction
from tests.factories import make_org
from tests.posting_factories import make_need

BARRIER_SECONDS = 20


def _two_needs(app) -> tuple[int, int]:
    with app.app_context():
        group = make_org("Edge Group", OrgKind.FRONTLINE_GROUP)
        first, second = make_need(group, quantity=10), make_need(group, quantity=10)
        db.session.commit()
        ids = first.id, second.id
        db.session.remove()
    return ids


def _add_crossing_routes(app, barrier: threading.Barrier, attempts: list[str]) -> None:
    """Two routes that update the same two rows in opposite order, meeting at a barrier on their
    first attempt while each holds its first row's lock: one of them must be the victim."""

    def crossing(name: str, first: int, second: int):
        attempts.append(name)
        db.session.execute(update(Need).where(Need.id == first).values(quantity=Need.quantity + 1))
        if attempts.count(name) == 1:
            barrier.wait(BARRIER_SECONDS)
        db.session.execute(update(Need).where(Need.id == second).values(quantity=Need.quantity + 1))
        return {"ok": name}

    def forward():
        a, b = app.config["CROSSING"]
        return crossing("forward", a, b)

    def backward():
        a, b = app.config["CROSSING"]
        return crossing("backward", b, a)

    app.add_url_rule("/test/forward", "test_forward", forward, methods=["POST"])
    app.add_url_rule("/test/backward", "test_backward", backward, methods=["POST"])


def test_both_sides_of_a_deadlock_succeed(conc_app):
    if conc_app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite takes its write lock at BEGIN IMMEDIATE: two writers never deadlock")
    barrier = threading.Barrier(2)
    attempts: list[str] = []
    _add_crossing_routes(conc_app, barrier, attempts)
    conc_app.config["CROSSING"] = _two_needs(conc_app)
    codes: dict[str, int] = {}

    def send(path: str):
        codes[path] = conc_app.test_client().post(path).status_code

    threads = [
        threading.Thread(target=send, args=(p,)) for p in ("/test/forward", "/test/backward")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == {"/test/forward": 200, "/test/backward": 200}
    # PostgreSQL aborted exactly one of them, and the edge ran that one again.
    assert len(attempts) == 3
    with conc_app.app_context():
        quantities = db.session.scalars(
            select(Need.quantity).where(Need.id.in_(conc_app.config["CROSSING"]))
        ).all()
        assert quantities == [12, 12]


def test_a_failed_request_leaves_nothing_and_a_good_one_commits(conc_app):
    need_id = _two_needs(conc_app)[0]

    def bump(status: int):
        db.session.execute(
            update(Need).where(Need.id == need_id).values(quantity=Need.quantity + 5)
        )
        return {"status": status}, status

    conc_app.add_url_rule("/test/bump/<int:status>", "test_bump", bump, methods=["POST"])
    client = conc_app.test_client()
    assert client.post("/test/bump/422").status_code == 422
    assert client.post("/test/bump/200").status_code == 200
    with conc_app.app_context():
        assert db.session.get(Need, need_id).quantity == 15


def test_a_locked_database_is_retried_and_anything_else_is_not(app):
    tries = []

    def locked_once():
        tries.append(1)
        if len(tries) == 1:
            db.session.execute(text("SELECT 1"))
            raise _locked_error()
        return "done"

    assert run_in_transaction(locked_once) == "done"
    assert len(tries) == 2
    with pytest.raises(ZeroDivisionError):
        run_in_transaction(lambda: 1 / 0)


def _locked_error():
    from sqlalchemy.exc import OperationalError

    err = OperationalError("UPDATE needs", {}, Exception("database is locked"))
    assert is_retryable(err)
    return err


def test_a_retried_request_forgets_the_privacy_answers_of_the_failed_attempt(app):
    from flask import g

    from aidmatch.privacy import viewer_for

    seen = []

    def work():
        seen.append(g.get("privacy_viewer"))
        viewer_for(None)  # remembered for the request...
        if len(seen) == 1:
            raise _locked_error()
        return "done"

    with app.test_request_context("/"):
        assert run_in_transaction(work) == "done"
    assert seen == [None, None]  # ...and forgotten before the second attempt
