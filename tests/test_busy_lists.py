"""Lists stay cheap on a busy network: reads do not queue behind writers on SQLite, the
default orders are read off an index, a long list's total is counted once per generation of
the data, and what is cached (totals, the transparency page, map markers) is fresh after
any committed write."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import event, insert, inspect, text
from sqlalchemy.engine import make_url

from aidmatch.cache import generation
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.needs.models import Need
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from aidmatch.postings.queries import Filters, kind_select
from aidmatch.web.api import EXACT_UP_TO
from tests.factories import make_org, make_user
from tests.posting_factories import make_need
from tests.test_transparency import deliver

pytestmark = pytest.mark.usefixtures("english")


def clone_needs(need: Need, n: int) -> None:
    """n more needs like need, inserted at once (a busy network's list)."""
    columns = [c.key for c in inspect(Need).column_attrs if c.key not in ("id", "idempotency_key")]
    row = {key: getattr(need, key) for key in columns}
    db.session.execute(insert(Need), [dict(row, title=f"Need {i}") for i in range(n)])
    db.session.commit()


class Statements:
    """The SQL statements the app sends while the block runs."""

    def __init__(self):
        self.sent: list[str] = []

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._note)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._note)

    def _note(self, _conn, _cursor, statement, *_args):
        self.sent.append(statement)

    def counts(self) -> int:
        """The statements that count a list's total (web/api.count_rows labels them; the
        vouched groups' ids, read once per generation of the data, count vouches, not rows)."""
        return sum(1 for s in self.sent if "as list_total" in s.lower())


@pytest.fixture
def donor():
    org = make_org("Donors of Lviv", kind=OrgKind.DONOR_COLLECTIVE)
    user = make_user(Role.DONOR, org=org)
    db.session.commit()
    return user


def test_a_long_lists_total_is_counted_once_until_a_write(api_client, donor):
    group = make_org("Group of Kramatorsk")
    need = make_need(group, title="First")
    clone_needs(need, EXACT_UP_TO + 4)
    api = api_client(donor)

    with Statements() as first:
        body = api.get("/needs?per_page=10").get_json()
    assert body["total"] == EXACT_UP_TO + 5
    assert first.counts() == 2  # the count that stops at the cap, then the whole one

    with Statements() as again:
        body = api.get("/needs?per_page=10&page=2").get_json()
    assert body["total"] == EXACT_UP_TO + 5
    assert again.counts() == 1  # the whole count came from the cache

    organizer = make_user(Role.ORGANIZER, org=group)
    db.session.commit()
    posted = api_client(organizer).post(
        "/needs",
        json={
            "title": "Generator",
            "category": "generators",
            "quantity": 1,
            "place_id": need.place_id,
        },
    )
    assert posted.status_code == 201, posted.get_json()
    with Statements() as after:
        body = api.get("/needs?per_page=10").get_json()
    assert body["total"] == EXACT_UP_TO + 6
    assert after.counts() == 2


def test_a_short_list_is_not_counted_at_all(api_client, donor):
    group = make_org("Group of Sumy")
    need = make_need(group)
    clone_needs(need, 6)
    with Statements() as sent:
        body = api_client(donor).get("/needs?per_page=10").get_json()
    assert body["total"] == 7
    assert len(body["items"]) == 7
    assert sent.counts() == 0


def test_the_default_orders_are_read_off_an_index(app, donor):
    from aidmatch.needs.kind import NEED
    from aidmatch.offers.kind import OFFER

    expected = (
        (NEED, "default", "ix_needs_open_order"),
        (NEED, "newest", "ix_needs_status_created"),
        (OFFER, "default", "ix_offers_status_created"),
    )
    for kind, sort, index in expected:
        stmt = kind_select(kind, donor, Filters(sort=sort)).limit(50)
        compiled = stmt.compile(db.engine)
        if db.engine.dialect.name == "sqlite":
            values = tuple(
                v.isoformat() if hasattr(v, "isoformat") else v
                for v in (compiled.params[k] for k in compiled.positiontup)
            )
            plan = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values)
            steps = " | ".join(row[3] for row in plan)
            assert f"USING INDEX {index}" in steps, steps
            assert "TEMP B-TREE" not in steps, steps
        else:  # a tiny table: tell the planner that scanning and sorting it costs a lot
            connection = db.session.connection()
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            connection.exec_driver_sql("SET LOCAL enable_sort = off")
            plan = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
            steps = " | ".join(row[0] for row in plan)
            assert index in steps, steps
            assert " Sort " not in f" {steps} ".replace("Sort Key", ""), steps
        db.session.rollback()


def test_a_read_on_sqlite_does_not_wait_for_a_writer(database_url, client, login_as, donor):
    """A writer holding SQLite's write lock does not hold up a page: reads begin DEFERRED
    (with BEGIN IMMEDIATE the page would wait for the lock, and fail after the timeout)."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's transaction modes")
    make_need(make_org("Group of Izium"), title="Water filters")
    db.session.commit()
    login_as(donor)
    writer = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    writer.execute("PRAGMA busy_timeout = 0")
    writer.execute("BEGIN IMMEDIATE")
    try:
        writer.execute("UPDATE needs SET title = 'Changing' WHERE title = 'Water filters'")
        response = client.get("/needs")
        assert response.status_code == 200
        assert "Water filters" in response.get_data(as_text=True)  # the committed row
    finally:
        writer.rollback()
        writer.close()


def test_a_write_makes_a_new_generation_only_after_it_commits(app):
    group = make_org("Group of Bakhmut")
    db.session.commit()
    before = generation()
    make_need(group)
    db.session.flush()
    assert generation() == before  # not yet: a reader could cache the old rows under it
    db.session.commit()
    assert generation() != before


def test_a_rolled_back_write_or_a_savepoint_makes_no_new_generation(app):
    group = make_org("Group of Huliaipole")
    db.session.commit()
    before = generation()
    make_need(group)
    db.session.flush()
    db.session.rollback()
    assert generation() == before  # nothing was written
    with db.session.begin_nested():
        make_need(group, title="In a savepoint")
    assert generation() == before  # released, but the transaction has not committed
    db.session.commit()
    assert generation() != before


def test_what_a_writing_transaction_reads_is_never_kept(app):
    from aidmatch.cache import remember

    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    make_need(make_org("Group of Vuhledar"))
    db.session.flush()  # written, not committed
    assert remember("probe", (), compute) == 1
    db.session.rollback()
    assert remember("probe", (), compute) == 2  # the uncommitted read was not kept
    assert remember("probe", (), compute) == 2


def test_the_transparency_page_is_fresh_after_a_delivery(app, client):
    app.config["TRANSPARENCY_DELAY_DAYS"] = 0
    need = make_need(make_org("Group of Kupiansk"), category="tourniquets", quantity=40)
    db.session.commit()
    assert "Tourniquets" not in client.get("/transparency").get_data(as_text=True)
    assert client.get("/api/v1/transparency/summary").get_json()["totals"]["deliveries"] == 0
    deliver(need, 40, utcnow() - timedelta(minutes=1))
    db.session.commit()
    assert "Tourniquets" in client.get("/transparency").get_data(as_text=True)
    assert client.get("/api/v1/transparency/summary").get_json()["totals"]["deliveries"] == 1


def test_the_map_feed_answers_304_for_the_same_markers(client, login_as, donor):
    make_need(make_org("Group of Lyman"), title="Tyres")
    db.session.commit()
    login_as(donor)
    first = client.get("/map/data.json")
    assert first.status_code == 200 and first.get_json()["items"]
    etag = first.headers["ETag"]
    again = client.get("/map/data.json", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    make_need(make_org("Group of Siversk"), title="Stoves")
    db.session.commit()
    changed = client.get("/map/data.json", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert {item["title"] for item in changed.get_json()["items"]} == {"Tyres", "Stoves"}


def test_the_worker_keeps_sqlites_planner_statistics(app):
    """db.statistics (hourly and at a worker's start) gives SQLite's planner the statistics
    of the tables, by which it reads an organization's matches through its own rows; and
    the lists' orders are still read off their indexes with them."""
    from aidmatch.jobs.queue import JOBS

    make_need(make_org("Group of Orikhiv"))
    db.session.commit()
    done = JOBS["db.statistics"].fn()
    db.session.commit()
    if db.engine.dialect.name != "sqlite":
        assert done is False  # autovacuum analyzes PostgreSQL's tables
        return
    assert done is True
    analyzed = set(db.session.scalars(text("SELECT DISTINCT tbl FROM sqlite_stat1")))
    assert {"needs", "organizations", "places"} <= analyzed  # (empty tables have none)
    test_the_default_orders_are_read_off_an_index(app, make_user(Role.DONOR))


def test_an_organizations_history_is_kept_until_a_match_lapses_or_a_write(app, english):
    """The review queue's history of an organization is counted once and kept; a pending
    match that lapses (it reads as expired at its time, with no write) or any write makes
    it counted again."""
    from aidmatch.matches import operations as ops
    from aidmatch.matches.lists import org_histories
    from tests.match_helpers import make_cast

    cast = make_cast()
    match = ops.claim_need(cast.need, cast.donor, 10, offer=cast.offer)
    db.session.commit()
    orgs = [cast.group.id, cast.donor_org.id]
    now = utcnow()
    with Statements() as first:
        assert org_histories(orgs, now)[cast.group.id]["expired"] == 0
    with Statements() as again:
        assert org_histories(orgs, now + timedelta(seconds=1))[cast.group.id]["expired"] == 0
    assert first.sent and again.sent == []  # kept
    after = match.expires_at + timedelta(seconds=1)
    assert org_histories(orgs, after)[cast.group.id]["expired"] == 1  # lapsed: counted again
    ops.claim_need(cast.need, cast.donor, 5, offer=cast.offer)
    db.session.commit()
    with Statements() as written:
        assert org_histories(orgs, now + timedelta(seconds=2))[cast.donor_org.id]["expired"] == 0
    assert written.sent  # a write: counted again
