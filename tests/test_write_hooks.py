"""web/write_hooks.py: the extensions' hooks that act on writes alone pass a read by (the
rate limits still count writes: tests/test_auth_ratelimit.py)."""

from __future__ import annotations

import pytest
from flask import session

from aidmatch.extensions import limiter, login_manager
from aidmatch.web.write_hooks import _bound_to, writes_only


def hooks_of(app, owner) -> list:
    """The app-wide request hooks wrapped for owner's hooks."""
    every = [
        *app.before_request_funcs[None],
        *app.after_request_funcs[None],
        *app.teardown_request_funcs[None],
    ]
    assert not any(_bound_to(hook, owner) for hook in every)  # none left as it was
    return [hook for hook in every if _bound_to(getattr(hook, "__wrapped__", None), owner)]


def test_the_limiters_three_hooks_and_the_login_managers_one_are_wrapped(app):
    assert len(hooks_of(app, limiter)) == 3
    assert len(hooks_of(app, login_manager)) == 1


def test_a_read_passes_the_remember_cookie_update_by_and_a_write_runs_it(app):
    """The login manager's hook sets the "remember me" cookie a session asks for: on a POST;
    on a GET the hook is not run, so the cookie is not set and the request stays in it."""
    (update,) = hooks_of(app, login_manager)
    for method, runs in (("GET", False), ("POST", True)):
        with app.test_request_context("/", method=method):
            session["_user_id"] = "1:stamp"
            session["_remember"] = "set"
            response = update(app.response_class("ok"))
            cookie = app.config.get("REMEMBER_COOKIE_NAME", "remember_token") + "="
            assert response.get_data(as_text=True) == "ok"
            assert (cookie in response.headers.get("Set-Cookie", "")) is runs, method
            assert ("_remember" in session) is not runs, method


def test_writes_only_refuses_an_extension_whose_hooks_it_does_not_find(app):
    """A version that adds its hooks otherwise stops the start, rather than wrap nothing:
    here the limiter's own hooks are already wrapped, so none is bound to it."""
    with pytest.raises(RuntimeError, match="Limiter added 0 request hooks, not 3"):
        writes_only(app, limiter, expected=3)
