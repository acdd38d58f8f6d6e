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
instructions a request with them, 3.10 without). One thing a read got from them, and gets no
more: Flask-Login's hook looked into the session on every request, so every response but a
static file's carried `Vary: Cookie`; now a read carries it when it reads the session (every
page that shows who is signed in does), and not otherwise (/healthz, /sw.js, the favicon).

A hook is found by the extension it is bound to and by its name; `writes_only` refuses to
start when an extension did not add exactly the hooks it names (a new version that adds
others, or adds them otherwise), rather than pass a read by a hook it may need.
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


def writes_only(app: Flask, owner: object, names: tuple[str, ...]) -> None:
    """Make the app-wide request hooks `owner` (an extension) added to app pass a read by;
    they must be exactly the ones named."""
    found = []
    for hooks, wrap in (
        (app.before_request_funcs[None], _before),
        (app.after_request_funcs[None], _after),
        (app.teardown_request_funcs[None], _teardown),
    ):
        for i, hook in enumerate(hooks):
            if _bound_to(hook, owner):
                found.append(_name(hook))
                hooks[i] = wrap(hook)
    if sorted(found) != sorted(names):
        raise RuntimeError(
            f"{type(owner).__name__} added the request hooks {sorted(found)}, not {sorted(names)}"
        )


def _bound_to(hook: Callable, owner: object) -> bool:
    """Is hook owner's: its bound method, or a partial of its class's function given it first
    (Flask-Limiter's after-request hook)?"""
    if isinstance(hook, functools.partial):
        return bool(hook.args) and hook.args[0] is owner
    return getattr(hook, "__self__", None) is owner


def _name(hook: Callable) -> str:
    """The name of the hook's function (a partial's: its function's), as its class spells it
    (Flask-Limiter's "__inject_headers", not "_Limiter__inject_headers")."""
    return getattr(hook, "func", hook).__name__


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
