"""More than one server: two gunicorn app servers (two worker processes each) and one job
worker against one PostgreSQL and one Redis, as a network runs them when one machine is not
enough (README, Deploying). Nothing one process needs may live in another's memory:

a. a session made on one server works on the other, and a logout on the other ends it;
b. failed logins split across the servers count against one limit (Redis);
c. a claim storm split across the servers keeps the match invariant;
d. two matching runs over one scope asked of both servers at once: one queued, one refused
   (409, runs/job.py's scope rule under PostgreSQL's advisory lock); never two at a time;
e. what one server changes, the other shows at once (transparency, map): whatever it caches.

Only on PostgreSQL with Redis (TEST_DATABASE_URL and TEST_REDIS_URL, as .ci/run's second pass
sets them): a SQLite file and a memory queue cannot be shared by several machines. The
servers run once for the module, on the run's database (each test truncates it); the job
queue's name, the session key and the client addresses are this run's own, so nothing here
meets another test's keys in Redis.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import threading
import uuid

import pytest
from huey import RedisHuey
from redis import Redis
from sqlalchemy import select

from aidmatch.auth.tokens import issue
from aidmatch.cache import GENERATION_KEY
from aidmatch.cache_push import FORGET, channel
from aidmatch.extensions import db
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from aidmatch.runs.models import MatchingRun, RunStatus
from tests.conftest import ENGINE_OPTIONS, make_test_app
from tests.factories import PASSWORD, make_org, make_user
from tests.match_helpers import assert_invariant
from tests.network import AppServer, Browser, api, production_env, wait_ready
from tests.posting_factories import make_need, make_offer
from tests.test_matches_concurrency import (
    Countdown,
    _mixed_scene,
    assert_no_server_errors,
    check_claims_exist_once,
    claimer,
    donor_side,
    reviewer,
    run_together,
)
from tests.worker_process import Worker, wait_until

PG = os.environ.get("TEST_DATABASE_URL", "").startswith("postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (PG and REDIS_URL),
        reason="several servers share only PostgreSQL and Redis: set TEST_DATABASE_URL to a "
        "PostgreSQL URL and TEST_REDIS_URL (.ci/run's PostgreSQL pass does)",
    ),
]
ACCOUNT_LIMIT = 5  # LOGIN_ACCOUNT_RATE_LIMIT's default: "5 per minute", from anywhere
REFUSED = "Too many failed login attempts"


def _address() -> str:
    """A client address of this test's own, so no other run's counters apply to it."""
    return "10.{}.{}.{}".format(*(random.randint(1, 254) for _ in range(3)))  # noqa: S311


class Network:
    """Two app servers on one database, one Redis, one queue; the worker is each test's."""

    def __init__(self, database_url: str, folder):
        self.secret = f"multi-server-{uuid.uuid4().hex}"
        self.jobs_name = f"aidmatch-multi-{uuid.uuid4().hex}"
        # The cache both servers share (cache.py), under keys of this network's own.
        self.cache_prefix = f"{self.jobs_name}:cache:"
        env = production_env(
            CACHE_KEY_PREFIX=self.cache_prefix,
            DATABASE_URL=database_url,
            SECRET_KEY=self.secret,
            REDIS_URL=REDIS_URL,
            JOBS_NAME=self.jobs_name,
            PROXY_COUNT="1",  # the client address comes from X-Forwarded-For
            TRANSPARENCY_DELAY_DAYS="0",  # a delivery is public at once (test e)
            DEFAULT_LANGUAGE="en",
        )
        self.servers = [AppServer(env, folder / f"server{i}.log") for i in (1, 2)]

    def start(self) -> Network:
        for server in self.servers:
            server.start()
        wait_ready(self.servers)
        return self

    def empty_queue(self) -> None:
        """Forget the jobs left on the queue (they name rows of an earlier test's database)."""
        RedisHuey(self.jobs_name, url=REDIS_URL).storage.flush_all()

    def empty_cache(self) -> None:
        """Forget what the servers cached (it describes an earlier test's rows), and tell
        them at once (cache_push.py: else each trusts its generation a second more)."""
        redis = Redis.from_url(REDIS_URL)
        for key in redis.scan_iter(match=f"{self.cache_prefix}*"):
            redis.delete(key)
        redis.publish(channel(f"{self.cache_prefix}{GENERATION_KEY}", redis), FORGET)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        self.empty_queue()
        self.empty_cache()

    @property
    def bases(self) -> list[str]:
        return [server.base for server in self.servers]

    def logs(self) -> str:
        return "\n".join(server.output() for server in self.servers)


@pytest.fixture(scope="module")
def network(template_database, tmp_path_factory):
    """Two gunicorn servers in production mode on the run's database, started once."""
    net = Network(template_database, tmp_path_factory.mktemp("network"))
    try:
        yield net.start()
    finally:
        net.stop()
    assert "Traceback" not in net.logs(), net.logs()


@pytest.fixture
def net_app(network, database_url):
    """An app in this process on the test's (truncated) database and the network's (emptied)
    queue."""
    network.empty_queue()
    network.empty_cache()  # the database was emptied under it
    app = make_test_app(
        database_url,
        SECRET_KEY=network.secret,
        JOBS_BACKEND="redis",
        REDIS_URL=REDIS_URL,
        JOBS_NAME=network.jobs_name,
        # what this process writes makes the servers' cache stale, as a CLI command would
        CACHE_BACKEND="redis",
        CACHE_KEY_PREFIX=network.cache_prefix,
        SQLALCHEMY_ENGINE_OPTIONS=ENGINE_OPTIONS,
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def worker(net_app, tmp_path):
    """`flask jobs worker` on the network's queue, started by the test when it wants it."""
    process = Worker(net_app, tmp_path)
    yield process
    process.stop()


def _user(app, role=Role.DONOR, kind=OrgKind.DONOR_COLLECTIVE) -> str:
    """A new user of a new verified organization, with an address of this run's own."""
    with app.app_context():
        email = f"multi-{uuid.uuid4().hex[:12]}@example.org"
        make_user(role, org=make_org(kind=kind) if kind else None, email=email)
        db.session.commit()
    return email


# --- a. sessions --------------------------------------------------------------------------


def test_a_session_made_on_one_server_works_on_the_other_and_ends_on_both(net_app, network):
    one, two = network.bases
    email = _user(net_app)
    browser = Browser(_address())
    assert browser.login(one, email, PASSWORD).status == 302
    account = browser.get(two, "/account")
    assert account.status == 200 and email in account.text
    copied = Browser(browser.address, browser.cookies)  # the same cookie, taken elsewhere

    logout = browser.post(two, "/logout", {}, token_from="/account")
    assert logout.status == 302
    for who in (browser, copied):
        page = who.get(one, "/account")
        assert page.status == 302 and page.location.startswith("/login"), page.location
        assert who.get(two, "/account").status == 302


# --- b. the login limit -------------------------------------------------------------------


def test_b_failed_logins_on_both_servers_count_against_one_limit(net_app, network):
    one, two = network.bases
    email, other = _user(net_app), _user(net_app)
    browser = Browser(_address())
    for i in range(ACCOUNT_LIMIT):  # 5 failures, taking turns: 3 on one, 2 on two
        failed = browser.login(network.bases[i % 2], email, f"guess {i}")
        assert failed.status == 200 and "Wrong email or password." in failed.text, i
    # The sixth on either server is refused, even with the right password...
    for base, password in ((two, "guess 5"), (one, PASSWORD), (two, PASSWORD)):
        refused = browser.login(base, email, password)
        assert refused.status == 429 and REFUSED in refused.text, base
    # ...and it is this account's limit, not the address's: another logs in from there.
    assert browser.login(two, other, PASSWORD).status == 302


# --- c. the claim storm -------------------------------------------------------------------


def _alternating(bases: list[str], token: str):
    """An API caller that sends each call to the next server in turn (a replay with the same
    Idempotency-Key goes to the other one)."""
    turn = itertools.count()

    def call(method, path, body=None, headers=None):
        base = bases[next(turn) % len(bases)]
        return api(base, token, method, path, body, headers)

    return call


def test_c_a_claim_storm_split_across_the_servers_keeps_the_invariant(net_app, network):
    need_ids, donors, coordinators, _organizer = _mixed_scene(net_app, 2, 4, 4)
    bases = network.bases
    claims: dict[str, int] = {}
    lock = threading.Lock()
    countdown = Countdown(len(donors))
    jobs = []
    for i, (token, offer_id) in enumerate(donors):
        call = _alternating(bases[i % 2 :] + bases[: i % 2], token)
        jobs.append(
            countdown.wrap(
                lambda c=call, o=offer_id, s=i: claimer(c, need_ids, o, s, 5, claims, lock)
            )
        )
    for i, token in enumerate(coordinators):
        call = _alternating(bases, token)
        jobs.append(lambda c=call, s=100 + i: reviewer(c, s, countdown.done))
    for i, (token, _offer) in enumerate(donors[::4]):
        call = _alternating(bases[::-1], token)
        jobs.append(lambda c=call, s=200 + i: donor_side(c, s, countdown.done))
    answers = [a for batch in run_together(jobs) for a in batch]

    assert_no_server_errors(answers)
    assert claims
    assert any(code == 409 for code, _ in answers)  # the needs were contended
    with net_app.app_context():
        assert_invariant()
        check_claims_exist_once(claims)


# --- d. matching runs ---------------------------------------------------------------------


def test_d_runs_asked_of_both_servers_at_once_never_overlap(net_app, network, worker):
    with net_app.app_context():
        group = make_org(kind=OrgKind.FRONTLINE_GROUP)
        for _ in range(3):
            make_need(group, quantity=20)
        for _ in range(2):
            make_offer(make_org(kind=OrgKind.DONOR_COLLECTIVE), quantity=25)
        token = issue(make_user(Role.COORDINATOR), ttl_hours=1)[0]
        db.session.commit()
    bases = network.bases

    # No worker yet: the first run stays queued, so the second overlaps it whatever the timing.
    answers = run_together([lambda b=b: api(b, token, "POST", "/matching/runs", {}) for b in bases])
    codes = [code for code, _ in answers]
    assert sorted(codes) == [202, 409], answers
    refused_on = bases[codes.index(409)]
    assert answers[codes.index(409)][1]["error"]["code"] == "run_in_progress"
    first = answers[codes.index(202)][1]["id"]

    def finished(run_id: int) -> bool:
        with net_app.app_context():
            return db.session.get(MatchingRun, run_id).status == RunStatus.FINISHED

    worker.start()
    wait_until(lambda: finished(first), f"run {first} to finish", worker, timeout=45)
    code, second = api(refused_on, token, "POST", "/matching/runs", {})
    assert code == 202, second
    wait_until(lambda: finished(second["id"]), "the second run to finish", worker, timeout=45)

    with net_app.app_context():
        runs = db.session.scalars(select(MatchingRun).order_by(MatchingRun.id)).all()
        assert [(r.id, r.status) for r in runs] == [
            (first, RunStatus.FINISHED),
            (second["id"], RunStatus.FINISHED),
        ]
        assert runs[0].finished_at <= runs[1].started_at  # one after the other
        assert runs[0].proposals > 0


# --- e. what one server changes, the other shows at once ------------------------------------


DELIVERIES = re.compile(r"<dt>Deliveries</dt><dd>(\d+)</dd>")


def _public_deliveries(base: str) -> tuple[int, int]:
    """Deliveries on the transparency page and in its summary API, as the public sees them."""
    page = Browser(_address()).get(base, "/transparency")
    assert page.status == 200
    found = DELIVERIES.search(page.text)
    assert found, page.text[:2000]
    code, summary = api(base, "", "GET", "/transparency/summary")
    assert code == 200, summary
    return int(found.group(1)), summary["totals"]["deliveries"]


def _map_ids(browser: Browser, base: str) -> set[int]:
    answer = browser.get(base, "/map/data.json?kind=needs")
    assert answer.status == 200, answer.text[:500]
    return {item["id"] for item in answer.json()["items"]}


def test_e_a_change_on_one_server_is_fresh_on_the_other(net_app, network):
    """Whatever the servers cache (a shared cache may come), a read right after a change
    made on the other server sees it: read each surface on both first, so that any cache is
    warm, then change through server one and read through server two."""
    one, two = network.bases
    with net_app.app_context():
        group = make_org(kind=OrgKind.FRONTLINE_GROUP)
        organizer = make_user(Role.ORGANIZER, org=group)
        need = make_need(group, organizer, quantity=10)
        donor = make_user(Role.DONOR, org=make_org(kind=OrgKind.DONOR_COLLECTIVE))
        tokens = [issue(u, ttl_hours=1)[0] for u in (organizer, donor, make_user(Role.COORDINATOR))]
        need_id, place_id = need.id, need.place_id
        viewer = _user(net_app, Role.COORDINATOR, kind=None)
        db.session.commit()
    organizer_token, donor_token, coordinator_token = tokens

    # The transparency page and summary: a delivery confirmed on one is counted on two.
    code, match = api(two, donor_token, "POST", f"/needs/{need_id}/claims", {"quantity": 4})
    assert code == 201, match
    assert api(two, coordinator_token, "POST", f"/matches/{match['id']}/approve")[0] == 200
    assert api(two, donor_token, "POST", f"/matches/{match['id']}/ship", {"note": "x"})[0] == 200
    for _ in range(3):  # every worker of both servers has read it (and may have cached it)
        assert _public_deliveries(one) == _public_deliveries(two) == (0, 0)
    delivered = {"quantity_received": 4, "note": "ok"}
    path = f"/matches/{match['id']}/confirm-delivery"
    assert api(one, organizer_token, "POST", path, delivered)[0] == 200
    assert _public_deliveries(two) == (1, 1)
    assert _public_deliveries(two) == _public_deliveries(one) == (1, 1)

    # The map: a need posted on one is on two's map at once, and gone once cancelled.
    browser = Browser(_address())
    assert browser.login(two, viewer, PASSWORD).status == 302
    for _ in range(3):
        assert _map_ids(browser, one) == _map_ids(browser, two) == {need_id}
    body = {
        "title": "Tourniquets for the second team",
        "description": "",
        "category": "tourniquets",
        "quantity": 5,
        "urgency": "critical",
        "place_id": place_id,
    }
    code, posted = api(one, organizer_token, "POST", "/needs", body)
    assert code == 201, posted
    assert _map_ids(browser, two) == {need_id, posted["id"]}
    code, _ = api(one, organizer_token, "POST", f"/needs/{posted['id']}/cancel", {"reason": "x"})
    assert code == 200
    assert _map_ids(browser, two) == _map_ids(browser, one) == {need_id}
