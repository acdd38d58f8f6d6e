"""Login attempts are limited per account and address, per address, and per account over a
short window (a delay, not a lock-out); only failures count."""

from __future__ import annotations

from aidmatch.extensions import db
from tests.factories import PASSWORD, make_user

LIMIT = 10  # the default LOGIN_RATE_LIMIT (one account from one address): "10 per 15 minutes"
ADDRESS_LIMIT = 30  # LOGIN_ADDRESS_RATE_LIMIT: "30 per 15 minutes"
ACCOUNT_LIMIT = 5  # LOGIN_ACCOUNT_RATE_LIMIT: "5 per minute", from anywhere


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


def test_default_limits_come_from_config(app):
    assert app.config["LOGIN_RATE_LIMIT"] == "10 per 15 minutes"
    assert app.config["LOGIN_ADDRESS_RATE_LIMIT"] == "30 per 15 minutes"
    assert app.config["LOGIN_ACCOUNT_RATE_LIMIT"] == "5 per minute"


def test_many_addresses_hammering_one_account_are_slowed_for_a_minute(app):
    make_user(email="target@example.org")
    other = make_user(email="other@example.org")
    db.session.commit()
    fail_each(
        app,
        [
            ("target@example.org", f"guess number {i}", f"10.0.0.{i + 1}")
            for i in range(ACCOUNT_LIMIT)
        ],
    )
    # The account waits out the minute, even for the right password from a new address...
    assert_locked(attempt(app, "TARGET@example.org ", PASSWORD, "10.9.9.9"))
    # ...while other accounts, from those same addresses, still log in.
    assert attempt(app, other.email, PASSWORD, "10.0.0.1").status_code == 302


def test_one_address_hammering_one_account_is_stopped_there_only(database_url):
    from tests.conftest import make_test_app

    app = make_test_app(database_url, LOGIN_ACCOUNT_RATE_LIMIT="100 per minute")
    with app.app_context():
        target = make_user(email="pair@example.org")
        other = make_user(email="bystander@example.org")
        db.session.commit()
        fail_each(app, [(target.email, f"guess {i}", "192.0.2.44") for i in range(LIMIT)])
        assert_locked(attempt(app, target.email, PASSWORD, "192.0.2.44"))
        # the owner elsewhere, and others from that address, go on
        assert attempt(app, target.email, PASSWORD, "192.0.2.45").status_code == 302
        assert attempt(app, other.email, PASSWORD, "192.0.2.44").status_code == 302
        db.session.remove()
        db.engine.dispose()


def test_one_address_hammering_many_accounts_is_stopped(app):
    real = make_user(email="real@example.org")
    db.session.commit()
    fail_each(
        app,
        [(f"nobody{i}@example.org", "some password", "192.0.2.7") for i in range(ADDRESS_LIMIT)],
    )
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

    strict = make_test_app(database_url, LOGIN_ADDRESS_RATE_LIMIT="2 per hour")
    with strict.app_context():
        for i in range(2):
            assert attempt(strict, "x@example.org", f"wrong {i}", "203.0.113.5").status_code == 200
        assert attempt(strict, "x@example.org", "wrong", "203.0.113.5").status_code == 429
        db.session.remove()
        db.engine.dispose()


def test_every_rate_limit_is_declared_for_post_alone(app):
    """Reads skip the rate limiter (web/write_hooks.py): that holds only while
    every limit of every route counts POSTs alone. A limit meant for a read would be skipped
    silently, so this names it."""
    from aidmatch.extensions import limiter

    declared = limiter.limit_manager._decorated_limits  # view name -> its limits
    assert "aidmatch.auth.views.login.login" in declared  # the limits are where this looks
    not_post = {
        name: limit.methods
        for name, limits in declared.items()
        for limit in limits
        if tuple(limit.methods or ()) != ("post",)
    }
    assert not_post == {}
    assert not limiter.limit_manager.application_limits
    assert not limiter.limit_manager.default_limits
    assert not limiter.limit_manager._blueprint_limits  # a whole blueprint's, GETs included
    assert not limiter._meta_limits  # checked before any request, reads included
