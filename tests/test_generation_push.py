"""The generation pushed to every process (cache_push.py): what one app commits reaches
another app's next request without that request asking Redis, and every way a push can be
lost (a broken subscription, a token Redis refused, a backlog, a fork, a cache emptied by
hand) makes the process ask Redis again rather than keep a stale token.

Each test runs a Redis server of its own (test_held_user.own_redis) and two or three apps on
it and on the test's database, as several servers would: each app has its subscription."""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from aidmatch import cache_push
from aidmatch.cache import GENERATION_KEY, PUSH, bump, generation
from aidmatch.extensions import cache, db
from aidmatch.permissions import Role
from tests import test_held_user
from tests.conftest import make_test_app, running
from tests.factories import make_user

own_redis = test_held_user.own_redis


def app_on(database_url: str, redis_url: str):
    """An app on the test's database whose cache is that Redis (its queue in memory)."""
    return make_test_app(
        database_url, CACHE_BACKEND="redis", REDIS_URL=redis_url, JOBS_BACKEND="memory"
    )


@pytest.fixture
def servers(database_url, own_redis):
    """Three apps on one Redis: the first (its context pushed: the writer) and two more."""
    apps = [app_on(database_url, own_redis.url) for _ in range(3)]
    with running(apps[0]):
        yield apps


def asked(app) -> str:
    """The generation a new request of `app` takes."""
    with app.test_request_context():
        return generation()


def stored(app) -> str | None:
    """The generation Redis holds."""
    with app.app_context():
        return cache.get(GENERATION_KEY)


def gets(own_redis) -> int:
    """How many GETs Redis has answered."""
    return own_redis.store.info("commandstats").get("cmdstat_get", {}).get("calls", 0)


def push_of(app) -> cache_push.GenerationPush:
    return app.extensions[PUSH]


def write() -> None:
    """A commit of the writer (its context is the test's) that makes a new generation."""
    make_user(Role.DONOR)
    db.session.commit()


def test_a_write_reaches_the_other_servers_next_request_without_asking_redis(servers, own_redis):
    writer, reader, _ = servers
    push_of(reader).trust_seconds = 3600  # what is measured here is the push, not the clock
    first = asked(reader)  # subscribes, then asks Redis once
    before = gets(own_redis)
    assert asked(reader) == first
    assert gets(own_redis) == before
    write()
    assert stored(writer) != first
    before = gets(own_redis)
    assert asked(reader) == stored(writer)
    assert gets(own_redis) - before == 1  # the one GET is stored()'s own


def test_a_token_is_trusted_only_for_a_while_so_a_cache_emptied_by_hand_is_noticed(
    servers, own_redis
):
    _, reader, _ = servers
    push_of(reader).trust_seconds = 0
    first = asked(reader)
    before = gets(own_redis)
    assert asked(reader) == first
    assert gets(own_redis) == before + 1
    own_redis.store.flushdb()  # no push tells anyone
    renewed = asked(reader)
    assert renewed != first
    assert stored(reader) == renewed


def test_a_token_redis_refused_makes_every_server_ask_and_keep_nothing(servers, own_redis):
    writer, reader, _ = servers
    push_of(reader).trust_seconds = 3600
    first = asked(reader)
    own_redis.refuse_writes()
    write()  # its new token refused: the old one deleted, the forgetting pushed
    assert stored(writer) is None
    before = gets(own_redis)
    mine = asked(reader)  # asks, finds none, makes one Redis refuses too
    assert gets(own_redis) == before + 1
    assert mine != first
    assert stored(writer) is None
    before = gets(own_redis)
    assert asked(reader) not in {first, mine}  # nothing trusted: each request its own
    assert gets(own_redis) == before + 1


def test_a_broken_subscription_asks_redis_then_subscribes_again(servers, own_redis):
    writer, reader, _ = servers
    push_of(reader).trust_seconds = 3600
    first = asked(reader)
    assert own_redis.store.client_kill_filter(_type="pubsub") >= 1  # Redis restarted, say
    write()  # pushed to nobody: the reader's socket is closed
    before = gets(own_redis)
    assert asked(reader) == stored(writer) != first  # found closed: asked
    assert gets(own_redis) == before + 2  # the reader's GET and stored()'s
    before = gets(own_redis)
    assert asked(reader) == stored(writer)  # subscribed again: asks once more
    assert gets(own_redis) == before + 2
    write()
    before = gets(own_redis)
    assert asked(reader) == stored(writer)  # pushed again
    assert gets(own_redis) == before + 1


def test_a_long_backlog_is_dropped_and_redis_asked(servers, own_redis):
    writer, reader, _ = servers
    push_of(reader).trust_seconds = 3600
    asked(reader)
    for _ in range(cache_push.MAX_DRAIN + 1):
        bump()
    assert asked(reader) == stored(writer)  # dropped, or the rest still in Redis: asked
    write()
    assert asked(reader) == stored(writer)
    write()
    before = gets(own_redis)
    assert asked(reader) == stored(writer)
    assert gets(own_redis) == before + 1


def calls(own_redis, command: str) -> int:
    return own_redis.store.info("commandstats").get(f"cmdstat_{command}", {}).get("calls", 0)


def test_a_token_is_stored_and_pushed_in_one_transaction(servers, own_redis):
    """SET and PUBLISH in one MULTI/EXEC: no other writer's pair comes between them, so the
    pushes arrive in the order the tokens were stored and the last one pushed is the one
    Redis holds (two writers' separate SETs and PUBLISHes could cross, and every process
    keep the older token). A race cannot be shown on demand: Redis's count of the commands
    can."""
    before = {command: calls(own_redis, command) for command in ("multi", "set", "publish", "exec")}
    write()
    after = {command: calls(own_redis, command) for command in before}
    assert {command: after[command] - before[command] for command in before} == {
        "multi": 1,
        "set": 1,
        "publish": 1,
        "exec": 1,
    }


def test_a_token_read_from_redis_never_replaces_one_pushed_meanwhile(servers, own_redis):
    """Two threads of one process: the first asks Redis (nothing trusted yet), the second
    takes a push that arrives meanwhile; the first's answer, older, comes last."""
    writer, reader, _ = servers
    push = push_of(reader)
    push.trust_seconds = 3600
    with reader.app_context():
        token, taken = push.token()  # subscribed now: nothing trusted
        assert token is None
        old = cache.get(GENERATION_KEY)  # the first thread's read...
    write()  # ...while a writer pushes a new token
    with reader.app_context():
        assert push.token()[0] == stored(writer) != old  # the second thread takes it
        push.learned(old, taken)  # the first thread's answer arrives
    assert asked(reader) == stored(writer)


def test_a_forked_child_subscribes_on_its_own_and_leaves_the_parents_pushes(servers, own_redis):
    writer, reader, _ = servers
    push_of(reader).trust_seconds = 3600
    asked(reader)
    write()
    child = os.fork()
    if child == 0:  # the child: its token from Redis (its own subscription), nothing pushed
        status = 1
        try:
            status = 0 if asked(reader) == stored(reader) else 2
        finally:
            os._exit(status)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    before = gets(own_redis)
    assert asked(reader) == stored(writer)  # the push still waited for the parent
    assert gets(own_redis) == before + 1


def test_a_read_from_before_a_new_subscription_is_not_trusted(servers, own_redis):
    """Threads again: the first finds the subscription broken and asks Redis; a writer's
    push reaches nobody; the second subscribes again; the first's answer comes last."""
    writer, reader, _ = servers
    push = push_of(reader)
    push.trust_seconds = 3600
    asked(reader)
    own_redis.store.client_kill_filter(_type="pubsub")
    with reader.app_context():
        token, taken = push.token()  # found closed: ask
        assert token is None
        old = cache.get(GENERATION_KEY)
    write()  # pushed to nobody
    with reader.app_context():
        assert push.token()[0] is None  # subscribed again: nothing trusted
        push.learned(old, taken)
    assert asked(reader) == stored(writer) != old


def test_instances_on_other_databases_of_one_redis_do_not_hear_each_other(
    servers, database_url, own_redis
):
    writer, reader, _ = servers
    push_of(reader).trust_seconds = 3600
    first = asked(reader)
    staging = app_on(database_url, own_redis.url.replace("db=0", "db=1"))
    with staging.app_context():
        bump()
        assert cache.get(GENERATION_KEY) != first
    before = gets(own_redis)
    assert asked(reader) == first == stored(writer)
    assert gets(own_redis) == before + 1  # stored()'s


def test_a_redis_user_without_the_channel_still_has_a_fresh_cache(database_url, own_redis):
    """An ACL user who may use every key but no channel (Redis 7's default for a new
    user): the generation is stored alone and asked on every request, as before the push."""
    own_redis.store.acl_setuser(
        "keys-only", enabled=True, nopass=True, keys=["*"], commands=["+@all"],
        reset_channels=True,
    )  # fmt: skip
    url = own_redis.url.replace("unix://", "unix://keys-only@")
    writer, reader = app_on(database_url, url), app_on(database_url, url)
    with running(writer):
        first = asked(reader)
        assert first == stored(reader)
        write()
        renewed = stored(writer)  # stored alone
        assert renewed not in {None, first}
        before = gets(own_redis)
        assert asked(reader) == renewed
        assert gets(own_redis) == before + 1  # the reader's own
        assert not push_of(reader).usable
        assert not push_of(writer).usable
        assert calls(own_redis, "subscribe") == 0


class SilentProxy:
    """A Unix socket in front of a Redis server's that forwards every byte, until told to
    drop what Redis sends to its subscribers: a connection a firewall dropped without a
    word (no end of file, nothing more ever read)."""

    def __init__(self, target: str) -> None:
        self.path = str(Path(tempfile.mkdtemp(prefix="proxy-", dir="/tmp")) / "p.sock")
        self.target = target
        self.silent = threading.Event()
        self.pinged = threading.Event()  # a subscriber sent a PING through it
        self.listener = socket.socket(socket.AF_UNIX)
        self.listener.bind(self.path)
        self.listener.listen()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(self.target)
            subscriber = threading.Event()
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(
                    target=self._pump, args=(source, sink, subscriber, source is client),
                    daemon=True,
                ).start()  # fmt: skip

    def _pump(self, source, sink, subscriber, asking: bool) -> None:
        """Forward source to sink until either closes (then both are closed)."""
        with source, sink, contextlib.suppress(OSError):
            while data := source.recv(65536):
                if asking and b"SUBSCRIBE" in data.upper():
                    subscriber.set()
                if asking and subscriber.is_set() and b"PING" in data.upper():
                    self.pinged.set()
                if not asking and subscriber.is_set() and self.silent.is_set():
                    continue
                sink.sendall(data)


@contextmanager
def silent_proxy(own_redis):
    proxy = SilentProxy(own_redis.store.connection_pool.connection_kwargs["path"])
    try:
        yield proxy
    finally:
        proxy.listener.close()


def test_a_subscription_gone_silent_is_pinged_then_made_again(database_url, own_redis):
    with silent_proxy(own_redis) as proxy:
        reader = app_on(database_url, f"unix://{proxy.path}?db=0")
        with running(reader):
            push_of(reader).trust_seconds = 0  # ping at once, wait for no answer
            asked(reader)
            assert calls(own_redis, "subscribe") == 1
            proxy.silent.set()
            assert not proxy.pinged.is_set()
            asked(reader)  # heard nothing since: pings
            assert proxy.pinged.wait(30)  # the proxy's thread saw it (not a timing: a bound)
            asked(reader)  # no answer: dropped
            proxy.silent.clear()
            asked(reader)  # subscribed again
            assert calls(own_redis, "subscribe") == 2
            write()
            assert asked(reader) == stored(reader)


def test_after_many_pushes_at_once_redis_is_asked(servers, own_redis):
    """Redis sends a subscriber's socket only so many small messages before it waits to
    send the rest: a process that read more than TRUSTED_DRAIN at once asks Redis (the last
    one it read may not be the last one stored), then goes by pushes again."""
    writer, reader, _ = servers
    push_of(reader).trust_seconds = 3600
    asked(reader)
    for _ in range(cache_push.TRUSTED_DRAIN + 1):
        bump()
    before = gets(own_redis)
    assert asked(reader) == stored(writer)
    assert gets(own_redis) == before + 2  # the reader's and stored()'s
    bump()
    before = gets(own_redis)
    assert asked(reader) == stored(writer)  # one push: trusted
    assert gets(own_redis) == before + 1
