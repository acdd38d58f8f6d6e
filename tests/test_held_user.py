"""The signed-in user's row, and a bearer token's, held in the process under the data's
generation (auth/loading.py, cache.held): a page or an API list asked again with nothing
written costs no statement for its user, and any committed write (a disabled account, a
logout elsewhere, a new language, a revoked token) is seen on the very next request, as is
a token's expiry; the user's row, password hash and all, never goes to the shared cache."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import redis
import time_machine
from sqlalchemy import create_engine, update

from aidmatch.auth.models import ApiToken, User
from aidmatch.cache import bump, held
from aidmatch.db import utcnow
from aidmatch.extensions import cache, db
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from tests.conftest import make_test_app, running
from tests.factories import PASSWORD, make_org, make_user
from tests.network import free_port
from tests.posting_factories import make_need
from tests.sql_statements import statements

pytestmark = pytest.mark.usefixtures("english")

USER_QUERY = re.compile(r"^\s*SELECT .*\bFROM users\b", re.IGNORECASE | re.DOTALL)


@pytest.fixture
def donor(app):
    make_need(make_org("Group of Held", verified=True), title="Held tourniquets")
    user = make_user(Role.DONOR, org=make_org("Donors Held", kind=OrgKind.DONOR_COLLECTIVE))
    db.session.commit()
    return user


def as_a_new_request() -> None:
    """What a request of a server begins with: a session that holds no row yet (the test's
    own session is the requests' too, and a user it holds is used as it is)."""
    db.session.close()


def signed_in(login_as, user) -> int:
    """Log the user in; their id."""
    login_as(user)
    user_id = user.id
    as_a_new_request()
    return user_id


def test_a_kept_answer_asked_again_costs_no_statement_at_all(client, login_as, donor):
    signed_in(login_as, donor)
    first = client.get("/map/data.json")
    assert first.status_code == 200
    as_a_new_request()
    with statements() as sent:
        again = client.get("/map/data.json")
    assert sent == []  # neither the user nor the markers: both held here
    assert again.get_json() == first.get_json()
    assert [item["title"] for item in again.get_json()["items"]] == ["Held tourniquets"]


def test_a_page_asked_again_reads_no_user(client, login_as, donor):
    signed_in(login_as, donor)
    assert client.get("/needs").status_code == 200
    as_a_new_request()
    with statements(USER_QUERY) as sent:
        page = client.get("/needs")
    assert page.status_code == 200
    assert sent == []
    assert "Held tourniquets" in page.get_data(as_text=True)


def test_a_user_disabled_after_the_row_was_held_is_logged_out_on_the_next_request(
    client, login_as, donor
):
    user_id = signed_in(login_as, donor)
    assert client.get("/needs").status_code == 200
    db.session.get(User, user_id).active = False
    db.session.commit()  # a new generation: the held row is no longer the one read
    as_a_new_request()
    answer = client.get("/needs")
    assert answer.status_code == 302
    assert "/login" in answer.headers["Location"]
    assert client.get("/map/data.json").status_code == 302


def test_a_write_in_another_process_is_seen_once_it_renews_the_generation(client, login_as, donor):
    """Another process's commit (an engine this process does not watch) is seen as soon as it
    renews the shared generation, as every writer does after its commit."""
    user_id = signed_in(login_as, donor)
    assert client.get("/needs").status_code == 200
    as_a_new_request()
    other = create_engine(db.engine.url.render_as_string(hide_password=False))
    with other.begin() as conn:
        conn.execute(update(User).where(User.id == user_id).values(session_version=7))
    other.dispose()
    assert client.get("/needs").status_code == 200  # the held row: the generation is the same
    as_a_new_request()
    bump()
    answer = client.get("/needs")  # the session's stamp names the old version: ended
    assert answer.status_code == 302
    assert "/login" in answer.headers["Location"]


def test_a_new_language_is_seen_on_the_next_request(client, login_as, donor):
    user_id = signed_in(login_as, donor)
    assert 'lang="en"' in client.get("/needs").get_data(as_text=True)
    db.session.get(User, user_id).language = "uk"
    db.session.commit()
    as_a_new_request()
    assert 'lang="uk"' in client.get("/needs").get_data(as_text=True)


def test_the_users_row_never_goes_to_the_shared_cache(client, login_as, donor):
    user_id = signed_in(login_as, donor)
    for path in ("/needs", "/offers", "/map/data.json", "/matches"):
        as_a_new_request()
        assert client.get(path).status_code == 200
    password_hash = db.session.get(User, user_id).password_hash
    kept = cache.cache._cache  # the memory backend of the tests
    assert kept  # the pages themselves are kept there
    assert not [key for key in kept if key.startswith("user")]
    assert not [key for key, value in kept.items() if password_hash in repr(value)]


def test_each_request_gets_its_own_user_from_the_held_row(client, login_as, donor):
    """A request that changes its user and does not commit (a form refused) changes nothing
    another request reads."""
    user_id = signed_in(login_as, donor)
    assert client.get("/needs").status_code == 200
    as_a_new_request()
    assert client.get("/needs").status_code == 200
    mine = db.session.get(User, user_id)  # the instance the request was given
    name = mine.display_name
    mine.display_name = "Changed and never committed"
    as_a_new_request()  # the change is dropped with the session
    with statements(USER_QUERY) as sent:
        assert client.get("/needs").status_code == 200
    assert sent == []  # built from the held row again
    assert db.session.get(User, user_id).display_name == name


def test_held_keeps_nothing_a_writing_transaction_reads_and_no_none(app):
    calls = []

    def compute():
        calls.append(1)
        return {"n": len(calls)}

    make_org("Group of Held Writes")
    db.session.flush()  # written, not committed
    assert held("probe", (), compute, 60) == {"n": 1}
    db.session.rollback()
    assert held("probe", (), compute, 60) == {"n": 2}  # the uncommitted read was not held
    assert held("probe", (), compute, 60) == {"n": 2}
    bump()
    assert held("probe", (), compute, 60) == {"n": 3}  # a new generation: read again
    assert held("nothing", (), lambda: None, 60) is None
    assert held("nothing", (), lambda: "made", 60) == "made"  # None was not held


def test_an_api_list_asked_again_with_the_same_token_costs_no_statement(api_client, donor):
    api = api_client(donor)
    as_a_new_request()
    first = api.get("/needs")
    assert first.status_code == 200
    as_a_new_request()
    with statements() as sent:
        again = api.get("/needs")
    assert sent == []  # the token, its user and the list: all held
    assert again.get_json() == first.get_json()
    assert [need["title"] for need in again.get_json()["items"]] == ["Held tourniquets"]


def test_a_revoked_token_is_refused_on_the_next_request(app, api_client, donor):
    api = api_client(donor)
    as_a_new_request()
    assert api.get("/needs").status_code == 200
    as_a_new_request()
    assert api.delete("/tokens/current").status_code == 204
    as_a_new_request()
    assert api.get("/needs").status_code == 401
    assert api.get("/me").status_code == 401


def test_a_token_held_past_its_expiry_is_refused(api_client, donor):
    """Its expiry is checked on every request, not only when its row is read."""
    api = api_client(donor)
    db.session.execute(update(ApiToken).values(expires_at=utcnow() + timedelta(seconds=10)))
    db.session.commit()
    as_a_new_request()
    assert api.get("/needs").status_code == 200
    as_a_new_request()
    with statements() as sent, time_machine.travel(utcnow() + timedelta(seconds=11)):
        assert api.get("/needs").status_code == 401
    assert sent == []  # still held (USER_SECONDS): refused by the held row's expiry


def test_a_request_that_may_write_reads_its_user_from_the_database(client, login_as, donor):
    """A write the generation missed (another process's, before it renews it) can leave a
    read stale for a moment; never a write: it is authorised by the database."""
    user_id = signed_in(login_as, donor)
    assert client.get("/account").status_code == 200
    as_a_new_request()
    other = create_engine(db.engine.url.render_as_string(hide_password=False))
    with other.begin() as conn:
        conn.execute(update(User).where(User.id == user_id).values(active=False))
    other.dispose()
    assert client.get("/account").status_code == 200  # the held row, same generation
    as_a_new_request()
    sent = client.post("/account", data={"display_name": "Not from a disabled account",
                                         "language": "en", "timezone": "Europe/Kyiv"})  # fmt: skip
    assert sent.status_code == 302
    assert "/login" in sent.headers["Location"]
    assert db.session.get(User, user_id).display_name != "Not from a disabled account"


def test_a_token_revoked_elsewhere_cannot_write_while_its_row_is_held(api_client, donor):
    """A revocation the generation missed (another process's, before it renews it) can leave
    a read through the token for a moment; never a write."""
    api = api_client(donor)
    as_a_new_request()
    assert api.get("/needs").status_code == 200
    other = create_engine(db.engine.url.render_as_string(hide_password=False))
    with other.begin() as conn:
        conn.execute(update(ApiToken).values(revoked_at=utcnow()))
    other.dispose()
    as_a_new_request()
    assert api.get("/needs").status_code == 200  # the held row, same generation
    as_a_new_request()
    assert api.delete("/tokens/current").status_code == 401


def test_a_logout_on_another_device_ends_this_session_on_its_next_request(
    app, client, login_as, donor
):
    user_id = signed_in(login_as, donor)
    assert client.get("/needs").status_code == 200  # held
    phone = app.test_client()
    phone.post("/login", data={"email": donor.email, "password": PASSWORD})
    as_a_new_request()
    assert phone.post("/logout").status_code == 302  # every session of the user ends
    as_a_new_request()
    answer = client.get("/needs")
    assert answer.status_code == 302
    assert "/login" in answer.headers["Location"]
    assert db.session.get(User, user_id).session_version == 1


@dataclass
class OwnRedis:
    """A Redis server of the test's own, on a Unix socket (no port another server could
    take), whose settings the test may change: its URL and a client."""

    url: str
    store: redis.Redis

    def refuse_writes(self) -> None:
        """Refuse every write, still read and delete: a Redis out of memory."""
        self.store.config_set("maxmemory", 1)  # a byte: whatever it holds is more
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            self.store.set("probe", b"x")
        self.store.delete("probe")

    def read_only(self) -> None:
        """Refuse every write and every delete, still read: a replica (after a failover, say),
        here of a master that is not there."""
        self.store.replicaof("127.0.0.1", free_port())
        with pytest.raises(redis.exceptions.ReadOnlyError):
            self.store.delete("anything")


@pytest.fixture
def own_redis():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    folder = Path(tempfile.mkdtemp(prefix="redis-", dir="/tmp"))  # a short socket path
    socket = folder / "redis.sock"
    command = [binary, "--port", "0", "--unixsocket", str(socket), "--save", "",
               "--appendonly", "no", "--dir", str(folder), "--logfile", str(folder / "log"),
               "--maxmemory-policy", "noeviction"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = redis.Redis(unix_socket_path=str(socket))
    try:
        pause, deadline = threading.Event(), time.monotonic() + 30
        while True:
            try:
                store.ping()
                break
            except redis.ConnectionError:
                log = folder / "log"
                said = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                assert process.poll() is None, f"redis-server exited: {said}"
                assert time.monotonic() < deadline, f"redis-server did not answer: {said}"
                pause.wait(0.05)
        yield OwnRedis(f"unix://{socket}?db=0", store)
    finally:
        store.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def app_on(database_url: str, own: OwnRedis) -> Iterator:
    """An app on the test's database whose cache is that Redis (its queue in memory)."""
    app = make_test_app(database_url, CACHE_BACKEND="redis", REDIS_URL=own.url,
                        JOBS_BACKEND="memory")  # fmt: skip
    with running(app):
        yield app


def two_donors_signed_in(app) -> tuple[dict, int, int]:
    """A need, two donors each signed in on a client of their own and held (their second
    page reads no user): the clients by user id, the ids."""
    make_need(make_org("Group of Full", verified=True), title="Full tourniquets")
    collective = make_org("Donors Full", kind=OrgKind.DONOR_COLLECTIVE)
    first, second = (make_user(Role.DONOR, org=collective) for _ in range(2))
    db.session.commit()
    clients = {}
    for user in (first, second):
        clients[user.id] = app.test_client()
        clients[user.id].post("/login", data={"email": user.email, "password": PASSWORD})
    ids = first.id, second.id
    for client in clients.values():
        as_a_new_request()
        assert client.get("/needs").status_code == 200
        as_a_new_request()
        with statements(USER_QUERY) as sent:
            assert client.get("/needs").status_code == 200
        assert sent == []  # held
    return clients, *ids


def test_a_commit_whose_generation_cannot_be_renewed_leaves_nothing_stale(database_url, own_redis):
    """Redis full: a user disabled then is logged out on the next request all the same (the
    old generation is deleted), and every other page is served, read afresh, since nothing
    can be kept."""
    with app_on(database_url, own_redis) as app:
        clients, user_id, other_id = two_donors_signed_in(app)
        own_redis.refuse_writes()
        db.session.get(User, user_id).active = False
        db.session.commit()  # the new generation is refused
        assert own_redis.store.keys("*generation") == []  # the old one deleted
        as_a_new_request()
        answer = clients[user_id].get("/needs")
        assert answer.status_code == 302
        assert "/login" in answer.headers["Location"]
        make_need(make_org("Group of Fuller", verified=True), title="Fresh stretchers")
        db.session.commit()
        as_a_new_request()
        page = clients[other_id].get("/needs").get_data(as_text=True)
        assert "Full tourniquets" in page
        assert "Fresh stretchers" in page  # read afresh: nothing kept is served


def test_a_process_whose_commit_could_not_renew_the_generation_holds_nothing(
    database_url, own_redis
):
    """Redis read-only (the old generation can be neither renewed nor deleted): the process
    that committed lets go of what it holds, so its next request reads the user again."""
    with app_on(database_url, own_redis) as app:
        clients, user_id, _other_id = two_donors_signed_in(app)
        own_redis.read_only()
        db.session.get(User, user_id).active = False
        db.session.commit()
        assert own_redis.store.keys("*generation") != []  # still the old one
        as_a_new_request()
        answer = clients[user_id].get("/needs")
        assert answer.status_code == 302
        assert "/login" in answer.headers["Location"]
