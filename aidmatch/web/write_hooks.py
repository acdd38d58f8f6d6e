"""Per-request hooks that only a write needs, passed by on a read.

Two extensions add hooks to every request that act on writes alone:

- Flask-Limiter's three (a check before the view, the deductions after it, the release of
  its state): every rate limit counts a way of writing (logging in, registering, a password
  reset, a receipt, a message) and is declared for POST alone (tests/test_auth_ratelimit.py
  checks each). Its request filter, below, makes a decorated view's own check pass a read by
  too (a GET of the login page).
- Flask-Login's update of a "remember me" cookie, which logging in or out (POSTs) asks for;
  aidmatch never sets one.

A read (transaction.SAFE_METHODS: most requests) finds nothing to do in them; run anyway,
they cost it about 30 µs (bench/instructions.py: the map's kept markers took 3.37 million
instructions a request with them, 3.10 without). A hook is found by the extension it is
bound to; `writes_only` refuses to start when an extension did not add as many as it expects
(a new version that registers them otherwise), rather than wrap nothing or something else.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Flask, request

from aidmatch.extensions import limiter
from aidmatch.transaction import SAFE_METHODS


@limiter.request_filter
def _reads_are_never_limited() -> bool:
    """A read skips the limiter's lookup of its route's limits."""
    return request.method in SAFE_METHODS


def writes_only(app: Flask, owner: object, expected: int) -> None:
    """Make the app-wide hooks `owner` (an extension) added to app pass a read by; there must
    be `expected` of them."""
    found = 0
    for hooks, wrap in (
        (app.before_request_funcs[None], _before),
        (app.after_request_funcs[None], _after),
        (app.teardown_request_funcs[None], _teardown),
    ):
        for i, hook in enumerate(hooks):
            if _bound_to(hook, owner):
                hooks[i] = wrap(hook)
                found += 1
    if found != expected:
        raise RuntimeError(f"{type(owner).__name__} added {found} request hooks, not {expected}")


def _bound_to(hook: Callable, owner: object) -> bool:
    """Is hook owner's: its bound method, or a partial of its class's function given it first
    (Flask-Limiter's after-request hook)?"""
    if isinstance(hook, functools.partial):
        return bool(hook.args) and hook.args[0] is owner
    return getattr(hook, "__self__", None) is owner


def _before(hook: Callable) -> Callable:
    @functools.wraps(hook)
    def for_writes():
        return None if request.method in SAFE_METHODS else hook()

    return for_writes


def _after(hook: Callable) -> Callable:
    @functools.wraps(hook)
    def for_writes(response):
        return response if request.method in SAFE_METHODS else hook(response)

    return for_writes


def _teardown(hook: Callable) -> Callable:
    @functools.wraps(hook)
    def for_writes(exc):
        if request.method not in SAFE_METHODS:
            hook(exc)

    return for_writes
