"""Login attempts are limited per client address and per account; only failures count."""

from __future__ import annotations

from aidmatch.extensions import db
from tests.factories import PASSWORD, make_user

LIMIT = 10  # the default LOGIN_RATE_LIMIT: "10 per 15 minutes"


def attempt(app, email: str, password: str, address: str):
    """One login POST from a fresh browser at `address`."""
    return app.test_client().post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def fail_each(app, tries) -> None:
    """Each (email, password, address) attempt fails with the form shown again (200)."""
    for i, (email, password, address) in enumerate(tries):
        assert attempt(app, email, password, address).status_code == 200, i


def assert_locked(response) -> None:
    """The login is refused for too many failed attempts."""
    assert response.status_code == 429
    assert "Too many failed login attempts" in response.get_data(as_text=True)


def test_default_limit_comes_from_config(app):
    assert app.config["LOGIN_RATE_LIMIT"] == "10 per 15 minutes"


def test_many_addresses_hammering_one_account_are_stopped(app):
    make_user(email="target@example.org")
    other = make_user(email="other@example.org")
    db.session.commit()
    fail_each(
        app, [("target@example.org", f"guess number {i}", f"10.0.0.{i + 1}") for i in range(LIMIT)]
    )
    # The account is now locked for a while, even for the right password from a new address...
    assert_locked(attempt(app, "TARGET@example.org ", PASSWORD, "10.9.9.9"))
    # ...while other accounts, from those same addresses, still log in.
    assert attempt(app, other.email, PASSWORD, "10.0.0.1").status_code == 302


def test_one_address_hammering_many_accounts_is_stopped(app):
    real = make_user(email="real@example.org")
    db.session.commit()
    fail_each(app, [(f"nobody{i}@example.org", "some password", "192.0.2.7") for i in range(LIMIT)])
    assert_locked(attempt(app, real.email, PASSWORD, "192.0.2.7"))
    # Another address is not affected.
    assert attempt(app, real.email, PASSWORD, "192.0.2.8").status_code == 302


def test_successful_logins_do_not_count(app):
    user = make_user(email="busy@example.org")
    db.session.commit()
    for _ in range(LIMIT + 2):
        assert attempt(app, user.email, PASSWORD, "198.51.100.1").status_code == 302


def test_form_errors_and_page_views_do_not_count(app):
    user = make_user(email="typo@example.org")
    db.session.commit()
    client = app.test_client()
    for _ in range(LIMIT + 2):
        assert client.get("/login").status_code == 200
        # No password at all: a form error, not a guess.
        assert client.post("/login", data={"email": user.email}).status_code == 200
    assert attempt(app, user.email, PASSWORD, "127.0.0.1").status_code == 302


def test_limit_is_configurable(database_url):
    from tests.conftest import make_test_app

    strict = make_test_app(database_url, LOGIN_RATE_LIMIT="2 per hour")
    with strict.app_context():
        for i in range(2):
            assert attempt(strict, "x@example.org", f"wrong {i}", "203.0.113.5").status_code == 200
        assert attempt(strict, "x@example.org", "wrong", "203.0.113.5").status_code == 429
        db.session.remove()
        db.engine.dispose()
