"""web/write_hooks.py: the extensions' hooks that act on writes alone pass a read by (the
rate limits still count writes: tests/test_auth_ratelimit.py)."""

from __future__ import annotations

import pytest
from flask import Flask, session

from aidmatch.extensions import db, limiter, login_manager
from aidmatch.web.write_hooks import _bound_to, writes_only
from tests.conftest import make_test_app
from tests.factories import make_user


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
    on a GET the hook is not run, so the cookie is not set and `_remember` stays in the
    session."""
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
    """A version that adds other hooks, or adds them otherwise, stops the start rather than
    pass a read by a hook it may need: here the limiter's own hooks are already wrapped, so
    none is bound to it; and the login manager's one is not named as the limiter's are."""
    with pytest.raises(RuntimeError, match=r"Limiter added the request hooks \[\], not"):
        writes_only(app, limiter, ("_check_request_limit", "__inject_headers"))
    fresh = Flask("fresh")
    login_manager.init_app(fresh)
    with pytest.raises(RuntimeError, match=r"\['_update_remember_cookie'\], not \['x'\]"):
        writes_only(fresh, login_manager, ("x",))


def test_an_app_with_rate_limits_switched_off_starts_and_limits_nothing(database_url):
    """RATELIMIT_ENABLED off: Flask-Limiter adds no hooks, and none is looked for."""
    try:
        off = make_test_app(database_url, RATELIMIT_ENABLED=False)
        client = off.test_client()
        for i in range(12):  # beyond LOGIN_RATE_LIMIT's 10 failures from one address
            answer = client.post("/login", data={"email": "x@example.org", "password": "no"})
            assert answer.status_code == 200, i
        assert hooks_of(off, limiter) == []
        assert len(hooks_of(off, login_manager)) == 1
    finally:
        limiter.enabled = True  # Flask-Limiter's own, for every app made after this one


def test_a_read_of_the_session_still_varies_by_cookie_and_healthz_does_not(client, login_as):
    """Flask-Login's hook no longer reads the session on a read, so only a response that read
    it says `Vary: Cookie`: every page drawn for whoever is signed in (a kept one too), not
    /healthz (see web/write_hooks.py)."""
    user = make_user(role="donor")
    db.session.commit()
    login_as(user)
    for path in ("/needs", "/needs", "/map/data.json", "/"):  # the second /needs: kept
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Cookie" in response.headers["Vary"], path
    assert "Cookie" not in client.get("/healthz").headers.get("Vary", "")
