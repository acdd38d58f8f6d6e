"""What this process holds in its own memory beside the shared cache (cache.py): kept answers
(cache.remember(local=True)), the signed-in user's row (cache.held), a user's unread count
(cache.stamped), each under a key that names its generation or stamp, until it expires;
the least recently used dropped beyond LOCAL_BYTES. When the generation cannot be renewed
the process lets go of all of it, and holds nothing for LET_GO_SECONDS or until one is
stored again (trust_again)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

# key -> (expires at, size, value), least recently used first, LOCAL_BYTES of text in all (a
# page is about 50 KB, a map's markers up to a megabyte); a larger value than LOCAL_LARGEST
# is not held.
LOCAL_BYTES = 16 * 1024 * 1024
LOCAL_LARGEST = 2 * 1024 * 1024
_local: OrderedDict[str, tuple[float, int, object]] = OrderedDict()
_local_size = 0
_local_lock = threading.Lock()
# After a generation could not be renewed, nothing is held here until this moment
# (time.monotonic()): LET_GO_SECONDS, the longest anything is held (web/kept.MAX_SECONDS).
LET_GO_SECONDS = 120
_trusted_from = 0.0


def let_go() -> None:
    """Forget everything this process holds, and hold nothing for LET_GO_SECONDS or until a
    new generation is stored (a generation could not be renewed: a request under way may
    still be under the old one)."""
    global _local_size, _trusted_from
    with _local_lock:
        _local.clear()
        _local_size = 0
        _trusted_from = time.monotonic() + LET_GO_SECONDS


def trust_again() -> None:
    """Hold again (a new generation is in the cache: what a request under way still holds
    under the old one, nobody asks for again)."""
    global _trusted_from
    if _trusted_from:
        with _local_lock:
            _trusted_from = 0.0


def get(key: str) -> tuple[float, int, object] | None:
    """(expires at, size, value) of a kept answer this process holds, unless it expired."""
    global _local_size
    with _local_lock:
        if time.monotonic() < _trusted_from:
            return None
        held = _local.get(key)
        if held is None:
            return None
        if held[0] <= time.time():
            del _local[key]
            _local_size -= held[1]
            return None
        _local.move_to_end(key)
        return held


def hold(key: str, expires: float, value: object, size: int | None = None) -> None:
    """Hold a kept answer (a tuple of text, bytes and numbers: its size is their length) or
    another value of `size` until it expires, dropping the least recently used beyond
    LOCAL_BYTES."""
    global _local_size
    if size is None:
        size = sum(len(part) for part in value if isinstance(part, str | bytes))
    if size > LOCAL_LARGEST:
        return
    with _local_lock:
        if time.monotonic() < _trusted_from:
            return
        if key in _local:
            _local_size -= _local.pop(key)[1]
        _local[key] = (expires, size, value)
        _local_size += size
        while _local_size > LOCAL_BYTES:
            _local_size -= _local.popitem(last=False)[1][1]
