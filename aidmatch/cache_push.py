"""The data's generation (cache.py) as Redis pushes it to each process: a request takes the
token from this process's memory instead of asking the shared cache for it every time.

A writer stores a new token and publishes it in one MULTI/EXEC (GenerationPush.store), so
the pushes reach every process in the order the tokens were stored: the last one a process
received is the one stored last. The channel is named after the generation's key and the
database number (pub/sub ignores database numbers: two instances on one Redis, each on a
database of its own, do not hear each other). Each process subscribes on its first request,
on a connection of its own; at each request's start it reads whatever waits on that socket
without waiting for anything (no round trip) and keeps the last token pushed.

A process asks the shared cache as before (cache.get), and keeps the answer, when it holds
no token it may trust:
- it has just subscribed (what was stored before it subscribed was never pushed to it);
- its subscription broke (Redis restarted, the connection dropped: pushes were lost while
  it was away; it subscribes again at the next request, never silently);
- its subscription went silent: a process that heard nothing for TRUST_SECONDS pings it, and
  one that gets no answer within TRUST_SECONDS more subscribes again (a connection a
  firewall or a failed-over host dropped without a word);
- a writer could not store its token (Redis full) and pushed the forgetting of the old one
  (FORGET: cache._renew deleted it, so the next reader makes a new one);
- more than MAX_DRAIN pushes waited (a process idle through many writes: it subscribes
  again rather than read them all);
- more than TRUSTED_DRAIN pushes waited: Redis may still hold later ones (a socket takes
  only so many small messages before Redis waits to send the rest), so the last one read
  may not be the last one stored;
- nothing confirmed the token for TRUST_SECONDS (no push, no read): a generation lost from
  the cache (evicted, the cache emptied by hand) is noticed within that time, as the shared
  cache's own reads would have noticed it.
A Redis whose user may not use the channel (an ACL without it) refuses the first push or
subscription: from then on the process stores tokens alone and asks on every request, as
before, and says so once a minute.

Freshness: Redis writes a push to every subscriber's socket in the same pass in which it
answers the writer, so a request that follows the writer's answer (a browser redirected
from one server to another) finds the push waiting; a request under way while the push
travels takes the older token, as it would have if its read had come a moment earlier.
(A push delayed on its way, by a lost packet, can still arrive after this process read a
newer token from the cache: it holds the older one until the newer one's push, sent after
it on the same connection, arrives.)
Safety, as before: a token is pushed after it is stored and taken before the request reads
the database, so nothing is kept under a generation younger than what it was made of; a
token read from the cache by one thread never replaces one pushed, nor one read after a new
subscription, since it asked.

Only for the Redis backend; the files and memory backends are asked on every request.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

from redis import Redis
from redis.exceptions import NoPermissionError

TRUST_SECONDS = 1.0
MAX_DRAIN = 1000
TRUSTED_DRAIN = 32
# Pushed when a writer could not store its token: ask the cache.
FORGET = b""
# After a subscription could not be made, the next try waits this long (each request asks
# the cache meanwhile).
RETRY_SECONDS = 5.0
# How long the subscription may take to connect or to send what it began to send: a Redis
# that does not answer delays a request this long, not the cache client's timeouts.
SOCKET_SECONDS = 1.0


def channel(key: str, client: Redis) -> str:
    """The channel of the generation stored under `key` in the client's database."""
    return f"{key}:db{client.connection_pool.connection_kwargs.get('db', 0)}"


class GenerationPush:
    """One process's subscription to the generation's channel and the token it last got."""

    def __init__(
        self,
        client: Redis,
        key: str,
        dump: Callable[[str], bytes],
        complain: Callable[[str, Exception], None],
    ) -> None:
        """client: the cache's Redis client; key: the generation's key, prefix included;
        dump: the bytes the cache stores for a token (so that cache.get reads what store
        wrote); complain: logs a failure (once a minute for each kind)."""
        self.client = client
        self.key = key
        self.channel = channel(key, client)
        self.trust_seconds = TRUST_SECONDS
        # False once Redis refused the channel: tokens stored alone, the cache always asked.
        self.usable = True
        self._dump = dump
        self._complain = complain
        self._lock = threading.Lock()
        self._connection = None
        self._pid = 0
        self._token: str | None = None
        self._trusted_until = 0.0
        self._retry_at = 0.0
        self._heard_at = 0.0  # the subscription's last sign of life (time.monotonic())
        self._pinged_at: float | None = None  # a ping not answered yet
        # How many times the token changed hands (a push taken, a subscription made or
        # dropped): a token read from the cache is kept only if none did while it was read.
        self.taken = 0

    def token(self) -> tuple[str | None, int]:
        """(the token pushed last, if it may be trusted, else None: ask the cache; `taken`
        now, for `learned`)."""
        with self._lock:
            if not self.usable:
                return None, self.taken
            if self._pid != os.getpid():  # a forked child: the parent's socket is not its own
                self._connection, self._token, self._pid = None, None, os.getpid()
            if self._connection is None:
                self._subscribe()
            elif self._drain():
                self._heartbeat()
            if self._token is not None and time.monotonic() < self._trusted_until:
                return self._token, self.taken
            return None, self.taken

    def learned(self, token: str, taken: int) -> None:
        """The cache said `token`, asked when `taken` was as token() said: trust it for
        TRUST_SECONDS, unless the token changed hands meanwhile (a newer push, or a new
        subscription: a push may have reached nobody) or there is no subscription."""
        with self._lock:
            if self.taken == taken and self._connection is not None:
                self._token = token
                self._trusted_until = time.monotonic() + self.trust_seconds

    def store(self, token: str, seconds: int) -> bool:
        """Store a new token for `seconds` and push it, both or neither (whether Redis
        took it); stored alone where Redis refuses the channel. Raises what Redis raises
        (full, read-only, out of reach)."""
        dumped = self._dump(token)
        if self.usable:
            try:
                with self.client.pipeline(transaction=True) as pipe:
                    pipe.set(self.key, dumped, ex=seconds)
                    pipe.publish(self.channel, token)
                    stored, _receivers = pipe.execute()
                return bool(stored)
            except NoPermissionError as error:
                self._refused(error)
        return bool(self.client.set(self.key, dumped, ex=seconds))

    def forget(self) -> None:
        """Tell every process to ask the cache (its token could not be renewed)."""
        if self.usable:
            try:
                self.client.publish(self.channel, FORGET)
            except NoPermissionError as error:
                self._refused(error)

    def _refused(self, error: Exception) -> None:
        self.usable = False
        self._complain(
            "the cache's generation is not pushed (the Redis user may not use the channel "
            f"{self.channel!r}): each request asks Redis for it",
            error,
        )

    def _subscribe(self) -> None:
        now = time.monotonic()
        if now < self._retry_at:
            return
        # The cache client's settings (address, database, credentials, TLS; TCP keepalive
        # on by default), but RESP2 (every reply a list), short timeouts, and no handling
        # of a managed Redis's maintenance notices (they would go to the client's pool).
        pool = self.client.connection_pool
        settings = {
            key: value
            for key, value in pool.connection_kwargs.items()
            if not key.startswith(("maint_notifications", "orig_"))
        }
        settings.update(protocol=2, socket_timeout=SOCKET_SECONDS)
        settings.update(socket_connect_timeout=SOCKET_SECONDS)
        connection = pool.connection_class(**settings)
        try:
            connection.connect()
            connection.send_command("SUBSCRIBE", self.channel, check_health=False)
            connection.read_response()  # the confirmation: pushes from now on reach us
        except NoPermissionError as error:
            self._refused(error)
            connection.disconnect()
            return
        except Exception as error:  # noqa: BLE001 (whatever the connection raises)
            self._retry_at = now + RETRY_SECONDS
            self._complain("the cache's generation: no subscription", error)
            connection.disconnect()
            return
        self._connection, self._token, self._heard_at, self._pinged_at = connection, None, now, None
        self.taken += 1

    def _drain(self) -> bool:
        """Take every push waiting on the socket, without waiting; whether the subscription
        stands. On any failure (or too many waiting) it is dropped: the cache is asked
        until the next subscription."""
        connection = self._connection
        try:
            for taken in range(MAX_DRAIN):
                if not connection.can_read(timeout=0):
                    if taken > TRUSTED_DRAIN:  # more may be on their way: ask this time
                        self._trusted_until = 0.0
                    return True
                reply = connection.read_response()
                self._heard_at, self._pinged_at = time.monotonic(), None
                if reply[0] == b"message":
                    self.taken += 1
                    if reply[2] == FORGET:
                        self._token = None
                    else:
                        self._token = reply[2].decode()
                        self._trusted_until = self._heard_at + self.trust_seconds
            self._drop(f"more than {MAX_DRAIN} pushes waited")
        except Exception as error:  # noqa: BLE001 (closed, reset, garbled: start again)
            self._drop(f"{type(error).__name__}: {error}")
        return False

    def _heartbeat(self) -> None:
        """Ping a subscription that said nothing for a while; drop one that does not answer."""
        now = time.monotonic()
        if self._pinged_at is not None:
            if now - self._pinged_at > self.trust_seconds:
                self._drop("no answer to a ping")
        elif now - self._heard_at > self.trust_seconds:
            try:
                self._connection.send_command("PING", check_health=False)
                self._pinged_at = now
            except Exception as error:  # noqa: BLE001
                self._drop(f"{type(error).__name__}: {error}")

    def _drop(self, reason: str) -> None:
        connection, self._connection, self._token = self._connection, None, None
        self.taken += 1
        self._complain("the cache's generation: subscribing again", RuntimeError(reason))
        connection.disconnect()
