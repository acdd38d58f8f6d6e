"""The data's generation (cache.py) as Redis pushes it to each process: a request takes the
token from this process's memory instead of asking the shared cache for it every time.

A writer stores a new token and publishes it on a channel of the same name in one
MULTI/EXEC (GenerationPush.store), so the pushes reach every process in the order the
tokens were stored: the last one a process received is the one stored last. Each process
subscribes on its first request, on a connection of its own; at each request's start it
reads whatever waits on that socket without waiting for anything (no round trip) and keeps
the last token pushed.

A process asks the shared cache as before (cache.get), and keeps the answer, when it holds
no token it may trust:
- it has just subscribed (what was stored before it subscribed was never pushed to it);
- its subscription broke (Redis restarted, the connection dropped: pushes were lost while
  it was away; it subscribes again at the next request, never silently);
- a writer could not store its token (Redis full) and pushed the forgetting of the old one
  (FORGET: cache._renew deleted it, so the next reader makes a new one);
- more than MAX_DRAIN pushes waited (a process idle through many writes: it subscribes
  again rather than read them all);
- nothing confirmed the token for TRUST_SECONDS (no push, no read): a generation lost from
  the cache (evicted, the cache emptied by hand) or a subscription that died without a word
  is noticed within that time, as the shared cache's own reads would have noticed it.

Freshness: Redis writes a push to every subscriber's socket in the same pass in which it
answers the writer, so a request that follows the writer's answer (a browser redirected
from one server to another) finds the push waiting; a request under way while the push
travels takes the older token, as it would have if its read had come a moment earlier.
Safety, as before: a token is pushed after it is stored and taken before the request reads
the database, so nothing is kept under a generation younger than what it was made of; a
token read from the cache by one thread never replaces one pushed since it asked.

Only for the Redis backend; the files and memory backends are asked on every request.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from redis import Redis

log = logging.getLogger(__name__)

TRUST_SECONDS = 1.0
MAX_DRAIN = 1000
# Pushed when a writer could not store its token: ask the cache.
FORGET = b""
# After a subscription could not be made, the next try waits this long (the cache's reads
# meanwhile fail or succeed on their own).
RETRY_SECONDS = 1.0


class GenerationPush:
    """One process's subscription to the generation's channel and the token it last got."""

    def __init__(self, client: Redis, key: str, dump: Callable[[str], bytes]) -> None:
        """client: the cache's Redis client; key: the generation's key, prefix included
        (the channel has the same name); dump: the bytes the cache stores for a token (so
        that cache.get reads what store wrote)."""
        self.client = client
        self.key = self.channel = key
        self.trust_seconds = TRUST_SECONDS
        self._dump = dump
        self._lock = threading.Lock()
        self._connection = None
        self._pid = 0
        self._token: str | None = None
        self._trusted_until = 0.0
        self._retry_at = 0.0
        # How many pushes this process took: a token read from the cache is kept only if
        # none arrived while the read was under way.
        self.taken = 0

    def token(self) -> tuple[str | None, int]:
        """(the token pushed last, if it may be trusted, else None: ask the cache; how
        many pushes were taken so far, for `learned`)."""
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's socket is not its own
                self._connection, self._token, self._pid = None, None, os.getpid()
            if self._connection is None:
                self._subscribe()
            else:
                self._drain()
            if self._token is not None and time.monotonic() < self._trusted_until:
                return self._token, self.taken
            return None, self.taken

    def learned(self, token: str, taken: int) -> None:
        """The cache said `token`, asked when `taken` pushes had been taken: trust it for
        TRUST_SECONDS, unless a push arrived meanwhile (it may be newer) or the subscription
        is gone (a push may be lost)."""
        with self._lock:
            if self.taken == taken and self._connection is not None:
                self._token = token
                self._trusted_until = time.monotonic() + self.trust_seconds

    def store(self, token: str, seconds: int) -> bool:
        """Store a new token for `seconds` and push it, both or neither (whether Redis
        took it). Raises what Redis raises (full, read-only, out of reach)."""
        with self.client.pipeline(transaction=True) as pipe:
            pipe.set(self.key, self._dump(token), ex=seconds)
            pipe.publish(self.channel, token)
            stored, _receivers = pipe.execute()
        return bool(stored)

    def forget(self) -> None:
        """Tell every process to ask the cache (its token could not be renewed)."""
        self.client.publish(self.channel, FORGET)

    def _subscribe(self) -> None:
        if time.monotonic() < self._retry_at:
            return
        pool = self.client.connection_pool
        connection = pool.connection_class(**pool.connection_kwargs)
        try:
            connection.connect()
            connection.send_command("SUBSCRIBE", self.channel, check_health=False)
            connection.read_response(
                push_request=True
            )  # the confirmation: pushes from now on reach us
        except Exception as error:  # noqa: BLE001 (whatever the connection raises)
            self._retry_at = time.monotonic() + RETRY_SECONDS
            log.warning("the generation's pushes: no subscription: %s", error)
            connection.disconnect()
            return
        self._connection, self._token = connection, None

    def _drain(self) -> None:
        """Take every push waiting on the socket, without waiting; on any failure (or too
        many waiting) unsubscribe: the cache is asked until the next subscription."""
        connection = self._connection
        try:
            for _ in range(MAX_DRAIN):
                if not connection.can_read(timeout=0):
                    return
                kind, _channel, data = connection.read_response(push_request=True)
                if kind != b"message":
                    continue
                self.taken += 1
                if data == FORGET:
                    self._token = None
                else:
                    self._token = data.decode()
                    self._trusted_until = time.monotonic() + self.trust_seconds
            reason = f"more than {MAX_DRAIN} pushes waited"
        except Exception as error:  # noqa: BLE001 (closed, reset, garbled: start again)
            reason = f"{type(error).__name__}: {error}"
        log.info("the generation's pushes: subscribing again (%s)", reason)
        self._connection, self._token = None, None
        self.taken += 1
        connection.disconnect()
