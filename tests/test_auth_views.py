"""Registration, login, logout and account pages through the test client."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select

from aidmatch.auth.links import safe_next
from aidmatch.auth.models import User
from aidmatch.auth.passwords import verify_password
from aidmatch.extensions import db
from aidmatch.orgs.models import Invite, Organization, OrgKind
from aidmatch.permissions import Role
from tests.conftest import make_test_app
from tests.factories import (
    PASSWORD,
    count,
    make_invite,
    make_org,
    make_user,
)

GOOD = "seven brave field medics"


def new_org_form(**changes) -> dict:
    data = {
        "email": "olena@example.org",
        "display_name": "Olena",
        "password": GOOD,
        "password_confirm": GOOD,
        "language": "en",  # the pages after registering read in this language
        "mode": "new",
        "org_name": "Kharkiv Field Medics",
        "org_kind": "frontline_group",
        "org_contact": "Signal +380 50 123 4567",
        "invite_code": "",
    }
    data.update(changes)
    return data


def join_form(code: str, **changes) -> dict:
    data = new_org_form(mode="join", org_name="", org_kind="", org_contact="", invite_code=code)
    data.update(changes)
    return data


def field_errors(html: str, field: str) -> str:
    """The text of the error block next to a field (empty when there is none)."""
    match = re.search(rf'<div class="error" id="{field}-error">(.*?)</div>', html, re.S)
    return match.group(1) if match else ""


def text(response) -> str:
    return response.get_data(as_text=True)


# Registration ------------------------------------------------------------------------------


def test_register_page_renders(client):
    response = client.get("/register")
    assert response.status_code == 200
    assert 'name="invite_code"' in text(response)


NEUTRAL = "If this email address was new, your account is ready"


def test_register_with_a_new_organization(client):
    response = client.post("/register", data=new_org_form(email="Olena@Example.org"))
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?email=olena@example.org"
    login_page = text(client.get(response.headers["Location"]))
    assert NEUTRAL in login_page and 'value="olena@example.org"' in login_page
    user = db.session.scalars(select(User)).one()
    assert user.email == "olena@example.org"
    assert user.role == Role.ORGANIZER
    org = user.organization
    assert org.name == "Kharkiv Field Medics"
    assert org.kind == OrgKind.FRONTLINE_GROUP
    assert not org.verified
    # Logged in with the new password, the home page says the organization waits.
    assert client.post("/login", data={"email": user.email, "password": GOOD}).status_code == 302
    home = text(client.get("/"))
    assert "Olena" in home
    assert "waits for a coordinator" in home


@pytest.mark.parametrize(
    ("kind", "role"),
    [("donor_collective", Role.DONOR), ("supply_collective", Role.DONOR), ("hub", Role.DONOR)],
)
def test_register_donor_side_organization_makes_a_donor(client, kind, role):
    assert client.post("/register", data=new_org_form(org_kind=kind)).status_code == 302
    assert db.session.scalars(select(User)).one().role == role


def test_register_with_an_invite_code(client):
    org = make_org(name="Lviv Supply", kind=OrgKind.SUPPLY_COLLECTIVE)
    invite = make_invite(org)
    users_before = count(User)
    response = client.post("/register", data=join_form(invite.code.lower().replace("-", " ")))
    assert response.status_code == 302, text(response)
    assert count(User) == users_before + 1
    user = db.session.scalars(select(User).where(User.email == "olena@example.org")).one()
    assert user.organization_id == org.id
    assert user.role == Role.DONOR
    assert invite.used_by_id == user.id
    assert count(Organization) == 1
    assert NEUTRAL in text(client.get(response.headers["Location"]))


def test_register_link_with_invite_prefills_the_code(client):
    response = client.get("/register?invite=ABCD-EFGH-JKMN-PQRS")
    html = text(response)
    assert 'value="ABCD-EFGH-JKMN-PQRS"' in html
    assert re.search(r'value="join"[^>]*checked|checked[^>]*value="join"', html)


def assert_nothing_created(users: int = 0, orgs: int = 0):
    assert count(User) == users
    assert count(Organization) == orgs


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": ""}, "email", "required"),
        ({"email": "not an email"}, "email", "not a valid email"),
        ({"display_name": ""}, "display_name", "required"),
        ({"password": "", "password_confirm": ""}, "password", "required"),
        ({"password": "short", "password_confirm": "short"}, "password", "at least 10"),
        ({"password": "password123", "password_confirm": "password123"}, "password", "common"),
        ({"password_confirm": "something else entirely"}, "password_confirm", "differ"),
        ({"org_name": ""}, "org_name", "name"),
        ({"org_kind": ""}, "org_kind", "kind"),
        ({"org_kind": "army"}, "org_kind", ""),  # WTForms' own message, translated
    ],
)
def test_bad_registration_input_shows_message_keeps_input_creates_nothing(
    client, changes, field, message
):
    data = new_org_form(**changes)
    response = client.post("/register", data=data)
    assert response.status_code == 200
    html = text(response)
    errors = field_errors(html, field)
    assert errors and message.lower() in errors.lower(), html
    assert_nothing_created()
    # What was typed is kept, except passwords.
    if data["email"]:
        assert f'value="{data["email"]}"' in html
    if data["org_name"]:
        assert 'value="Kharkiv Field Medics"' in html
    assert GOOD not in html


def test_a_taken_email_is_answered_as_a_new_one_and_creates_nothing(app, client):
    """Registration tells nobody who has an account (issue 12, finding 6): the answer to a
    taken address is the answer to a new one, and nothing is made."""
    make_user(email="olena@example.org")
    db.session.commit()  # the refused request rolls back its own work only
    orgs = count(Organization)
    taken = client.post("/register", data=new_org_form(email="OLENA@example.org"))
    taken_page = text(client.get(taken.headers["Location"]))
    assert_nothing_created(users=1, orgs=orgs)
    fresh = app.test_client().post(
        "/register", data=new_org_form(email="Olena.new@example.org", org_name="Other Medics")
    )
    assert (taken.status_code, fresh.status_code) == (302, 302)
    assert taken.headers["Location"] == "/login?email=olena@example.org"
    assert fresh.headers["Location"] == "/login?email=olena.new@example.org"
    assert NEUTRAL in taken_page and "exists already" not in taken_page
    assert count(User) == 2


def test_registrations_are_limited_per_client_address(database_url):
    from tests.conftest import make_test_app

    app = make_test_app(database_url, REGISTER_RATE_LIMIT="2 per hour")
    with app.app_context():
        for i in range(2):
            sent = app.test_client().post(
                "/register",
                data=new_org_form(email=f"r{i}@example.org", org_name=f"Group {i}"),
                environ_base={"REMOTE_ADDR": "203.0.113.9"},
            )
            assert sent.status_code == 302
        refused = app.test_client().post(
            "/register",
            data=new_org_form(email="r9@example.org", org_name="Group 9"),
            environ_base={"REMOTE_ADDR": "203.0.113.9"},
        )
        assert refused.status_code == 429
        assert "Too many registrations" in refused.get_data(as_text=True)
        other = app.test_client().post(
            "/register",
            data=new_org_form(email="r8@example.org", org_name="Group 8"),
            environ_base={"REMOTE_ADDR": "203.0.113.10"},
        )
        assert other.status_code == 302
        db.session.remove()
        db.engine.dispose()


def test_duplicate_organization_name_is_refused(client):
    make_org(name="Kharkiv Field Medics")
    db.session.commit()  # the refused request rolls back its own work only
    response = client.post("/register", data=new_org_form(org_name="  kharkiv   FIELD medics "))
    assert response.status_code == 200
    assert "already registered" in field_errors(text(response), "org_name")
    assert_nothing_created(users=0, orgs=1)


def test_missing_invite_code_is_refused(client):
    response = client.post("/register", data=join_form(""))
    assert "invite code" in field_errors(text(response), "invite_code").lower()
    assert_nothing_created()


def test_unknown_invite_code_is_refused(client):
    response = client.post("/register", data=join_form("ZZZZ-ZZZZ-ZZZZ-ZZZZ"))
    assert "not known" in field_errors(text(response), "invite_code")
    assert_nothing_created()


def test_used_invite_code_is_refused(client):
    org = make_org()
    first = make_user(org=org)
    invite = make_invite(org, used_by=first)
    db.session.commit()  # the refused request rolls back its own work only
    users = count(User)
    response = client.post("/register", data=join_form(invite.code))
    assert "already been used" in field_errors(text(response), "invite_code")
    assert_nothing_created(users=users, orgs=1)


def test_expired_invite_code_is_refused(client):
    org = make_org()
    invite = make_invite(org, expires_in=timedelta(seconds=-1))
    db.session.commit()  # the refused request rolls back its own work only
    users = count(User)
    response = client.post("/register", data=join_form(invite.code))
    assert "expired" in field_errors(text(response), "invite_code")
    assert_nothing_created(users=users, orgs=1)
    assert db.session.get(Invite, invite.id).used_at is None


def test_invite_with_a_weak_password_creates_nothing_and_keeps_the_code(client):
    org = make_org()
    invite = make_invite(org)
    db.session.commit()  # the refused request rolls back its own work only
    users = count(User)
    response = client.post(
        "/register", data=join_form(invite.code, password="short", password_confirm="short")
    )
    assert "at least" in field_errors(text(response), "password")
    assert count(User) == users
    assert db.session.get(Invite, invite.id).used_at is None
    assert f'value="{invite.code}"' in text(response)


def test_signed_in_user_is_sent_home_from_register_and_login(client, login_as):
    login_as(make_user())
    assert client.get("/register").status_code == 302
    assert client.get("/login").status_code == 302


# Login and logout -----------------------------------------------------------------------------


def test_login_and_logout(client):
    user = make_user(email="anna@example.org", display_name="Anna")
    response = client.post("/login", data={"email": " ANNA@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Hello, Anna" in text(client.get("/"))
    assert user.last_login_at is not None

    assert client.get("/logout").status_code == 405  # only POST logs out
    response = client.post("/logout")
    assert response.status_code == 302
    # the browser drops drafts of forms and cached private pages of the session
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    assert "Hello, Anna" not in text(client.get("/"))
    assert client.get("/account").status_code == 302


def test_wrong_password_is_refused_with_a_message(client):
    make_user(email="anna@example.org")
    response = client.post("/login", data={"email": "anna@example.org", "password": "wrong one"})
    assert response.status_code == 200
    html = text(response)
    assert "Wrong email or password" in html
    assert 'value="anna@example.org"' in html
    assert client.get("/account").status_code == 302


def test_unknown_email_gets_the_same_message(client):
    response = client.post("/login", data={"email": "nobody@example.org", "password": PASSWORD})
    assert "Wrong email or password" in text(response)


def test_inactive_user_cannot_log_in(client):
    make_user(email="gone@example.org", active=False)
    response = client.post("/login", data={"email": "gone@example.org", "password": PASSWORD})
    assert response.status_code == 200
    assert "Wrong email or password" in text(response)
    assert client.get("/account").status_code == 302


def test_user_disabled_while_logged_in_is_logged_out(client, login_as):
    user = make_user()
    login_as(user)
    assert client.get("/account").status_code == 200
    user.active = False
    db.session.flush()
    assert client.get("/account").status_code == 302


def test_login_follows_a_local_next(client):
    make_user(email="anna@example.org")
    response = client.post(
        "/login?next=/account%3Ftab%3D1",
        data={"email": "anna@example.org", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/account?tab=1"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "javascript:alert(1)",
        "/\\evil.example",
        "\\\\evil.example",
        "/\n/evil.example",
        "/\t/evil.example",
        "http:/evil.example",
    ],
)
def test_login_refuses_an_unsafe_next(client, target):
    make_user(email="anna@example.org")
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": "anna@example.org", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/needs?page=2", "/needs?page=2"),
        ("/", "/"),
        (None, None),
        ("", None),
        ("needs", None),
        ("https://evil.example/x", None),
        ("//evil.example", None),
        ("///evil.example", None),
        ("/\\evil.example", None),
        ("javascript:alert(1)", None),
        ("/\r\nLocation: x", None),
    ],
)
def test_safe_next(target, expected):
    assert safe_next(target) == expected


def test_pages_for_members_send_anonymous_visitors_to_login_with_next(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/account")


# Account -------------------------------------------------------------------------------------


def test_account_settings(client, login_as):
    user = make_user(display_name="Old Name")
    login_as(user)
    page = text(client.get("/account"))
    assert 'value="Old Name"' in page
    response = client.post("/account", data={"display_name": "New Name", "language": "de"})
    assert response.status_code == 302
    assert user.display_name == "New Name"
    assert user.language == "de"
    assert '<html lang="de">' in text(client.get("/account"))


def test_account_settings_bad_input(client, login_as):
    user = make_user(display_name="Old Name")
    login_as(user)
    response = client.post("/account", data={"display_name": "", "language": "xx"})
    assert response.status_code == 200
    assert field_errors(text(response), "display_name")
    assert field_errors(text(response), "language")
    assert user.display_name == "Old Name"


def test_change_password_page(client, login_as):
    user = make_user(email="anna@example.org")
    login_as(user)
    bad = client.post(
        "/account/password",
        data={"old_password": "wrong", "new_password": GOOD, "new_password_confirm": GOOD},
    )
    assert "not your current password" in field_errors(text(bad), "old_password")
    weak = client.post(
        "/account/password",
        data={"old_password": PASSWORD, "new_password": "short", "new_password_confirm": "short"},
    )
    assert "at least" in field_errors(text(weak), "new_password")
    assert verify_password(user.password_hash, PASSWORD)

    ok = client.post(
        "/account/password",
        data={"old_password": PASSWORD, "new_password": GOOD, "new_password_confirm": GOOD},
    )
    assert ok.status_code == 302
    assert verify_password(user.password_hash, GOOD)
    client.post("/logout")
    old = client.post("/login", data={"email": "anna@example.org", "password": PASSWORD})
    assert old.status_code == 200
    new = client.post("/login", data={"email": "anna@example.org", "password": GOOD})
    assert new.status_code == 302


def test_a_new_password_ends_every_other_session_and_token(app, client, login_as, api_client):
    """Someone else may know the old password: their browser session and API token stop
    working; the browser that changed it stays logged in."""
    user = make_user(email="anna@example.org")
    other = app.test_client()
    assert other.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    token = api_client(user)
    login_as(user)
    assert other.get("/account").status_code == 200
    assert token.get("/needs").status_code == 200

    ok = client.post(
        "/account/password",
        data={"old_password": PASSWORD, "new_password": GOOD, "new_password_confirm": GOOD},
        follow_redirects=True,
    )
    assert "logged out everywhere else" in text(ok)
    assert client.get("/account").status_code == 200
    stale = other.get("/account")
    assert stale.status_code == 302 and "/login" in stale.headers["Location"]
    assert token.get("/needs").status_code == 401
    # logging in again with the new password works on the other browser
    again = other.post("/login", data={"email": user.email, "password": GOOD})
    assert again.status_code == 302 and other.get("/account").status_code == 200


def test_a_session_naming_only_the_user_id_is_not_accepted(app, client):
    """Cookies from before sessions carried the password stamp name the bare id."""
    user = make_user()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    response = client.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# CSRF ---------------------------------------------------------------------------------------


def test_posts_without_a_csrf_token_are_refused(database_url):
    csrf_app = make_test_app(database_url, WTF_CSRF_ENABLED=True)
    with csrf_app.app_context():
        client = csrf_app.test_client()
        for path in ("/login", "/register", "/logout", "/account/password", "/orgs/1/verify"):
            response = client.post(path, data={"email": "a@example.org", "password": PASSWORD})
            assert response.status_code == 400, path
            assert "CSRF" in text(response)
        # With the token from the form, the same POST goes through to the login check.
        page = text(client.get("/login"))
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post(
            "/login", data={"csrf_token": token, "email": "a@example.org", "password": PASSWORD}
        )
        assert response.status_code == 200
        assert "Wrong email or password" in text(response)
        db.session.remove()
        db.engine.dispose()


# Sessions that end (issue 12, finding 3) ------------------------------------------------------


def _copy_session_cookie(app, source):
    """A second browser holding a copy of source's session cookie."""
    thief = app.test_client()
    cookie = source.get_cookie("session")
    assert cookie is not None
    thief.set_cookie("session", cookie.value, domain=cookie.domain)
    return thief


def test_logging_out_ends_a_copied_session_cookie(app, client, login_as):
    user = make_user()
    login_as(user)
    thief = _copy_session_cookie(app, client)
    assert thief.get("/account").status_code == 200
    assert client.post("/logout").status_code == 302
    stale = thief.get("/account")
    assert stale.status_code == 302 and "/login" in stale.headers["Location"]
    # and the user can log in again afterwards
    assert login_as(user).get("/account").status_code == 200


def test_a_session_idle_longer_than_the_setting_ends(app, client, login_as):
    import time

    login_as(make_user())
    assert client.get("/account").status_code == 200
    idle = app.config["SESSION_IDLE_HOURS"] * 3600
    with client.session_transaction() as session:
        session["seen"] = int(time.time()) - idle - 5
    stale = client.get("/account")
    assert stale.status_code == 302 and "/login" in stale.headers["Location"]


def test_the_pages_right_after_logging_in_leave_the_cookie_alone(database_url):
    """The login's cookie already notes the session's use and holds its CSRF secret (a new
    one): the pages after it (within a minute), forms and all, do not set it again."""
    import time

    csrf_app = make_test_app(database_url, WTF_CSRF_ENABLED=True)
    with csrf_app.app_context():
        user = make_user()
        db.session.commit()
        client = csrf_app.test_client()
        page = text(client.get("/login"))
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        with client.session_transaction() as session:
            before = session["csrf_token"]
        data = {"csrf_token": token, "email": user.email, "password": PASSWORD}
        assert client.post("/login", data=data).status_code == 302
        with client.session_transaction() as session:
            assert int(time.time()) - session["seen"] < 60
            assert session["csrf_token"] != before
        for _ in range(2):
            page = client.get("/account")  # forms with the CSRF token
            assert page.status_code == 200
            assert 'name="csrf_token"' in text(page)
            assert "Set-Cookie" not in page.headers
        db.session.remove()
        db.engine.dispose()


def test_a_session_used_within_the_idle_time_goes_on(app, client, login_as):
    import time

    login_as(make_user())
    idle = app.config["SESSION_IDLE_HOURS"] * 3600
    with client.session_transaction() as session:
        session["seen"] = int(time.time()) - idle + 120
    assert client.get("/account").status_code == 200
    with client.session_transaction() as session:
        assert int(time.time()) - session["seen"] < 60  # noted again


def test_a_session_cookie_is_signed_as_flask_signs_it(app, client, login_as):
    """The session's signer (web/static_assets.StaticlessSessionInterface: OpenSSL's HMAC,
    one signer per key) reads and makes the cookies Flask's own does: a deploy of it logs
    nobody out, and a deploy back neither."""
    donor = make_user(Role.DONOR)
    db.session.commit()
    login_as(donor)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    flasks = SecureCookieSessionInterface().get_signing_serializer(app)
    ours = app.session_interface.get_signing_serializer(app)
    assert ours is app.session_interface.get_signing_serializer(app)  # made once
    assert flasks.loads(cookie) == ours.loads(cookie)
    assert flasks.loads(cookie)["_user_id"] == donor.get_id()
    signature = ours.make_signer(ours.salt).get_signature(b"a value")
    assert signature == flasks.make_signer(flasks.salt).get_signature(b"a value")


def _footer_form(page: str) -> str:
    """The footer's language form."""
    return re.search(r'<form method="post" action="/language".*?</form>', page, re.S).group(0)


def test_reading_the_public_pages_sets_no_cookie_and_the_language_switches_without_one(
    database_url,
):
    """A visitor without an account reads the public pages without a cookie (their only form,
    the language switch, needs no CSRF token), and switching the language from our own page
    works without one; from another site's page it is refused and sets no cookie (it would
    replace a signed-in user's session, whose cookie a cross-site POST does not carry)."""
    csrf_app = make_test_app(database_url, WTF_CSRF_ENABLED=True)
    with csrf_app.app_context():
        client = csrf_app.test_client()
        for path in ("/", "/transparency"):
            page = client.get(path)
            assert page.status_code == 200, path
            assert "Set-Cookie" not in page.headers, path
            assert 'name="csrf_token"' not in _footer_form(text(page)), path
        data = {"language": "de", "next": "/transparency"}
        for elsewhere in ({"Origin": "https://elsewhere.example"}, {}):
            refused = client.post("/language", data=data, headers=elsewhere)
            assert refused.status_code == 400
            assert "Set-Cookie" not in refused.headers
        ours = {"Origin": "http://localhost"}
        referred = client.post(
            "/language", data={"language": "en"}, headers={"Referer": "http://localhost/"}
        )
        assert referred.status_code == 302  # no Origin (an older browser): its Referer
        answer = client.post("/language", data=data, headers=ours)
        assert answer.status_code == 302
        assert answer.headers["Location"].endswith("/transparency")
        assert '<html lang="de">' in text(client.get("/transparency"))
        db.session.remove()
        db.engine.dispose()


def test_a_signed_in_users_language_switch_needs_its_csrf_token(database_url):
    """It changes their account's language: a form from another site (no token) is refused
    and changes nothing; the footer's own form carries the token and switches."""
    csrf_app = make_test_app(database_url, WTF_CSRF_ENABLED=True)
    with csrf_app.app_context():
        user = make_user()
        db.session.commit()
        client = csrf_app.test_client()
        token = re.search(
            r'name="csrf_token" type="hidden" value="([^"]+)"', text(client.get("/login"))
        )
        data = {"csrf_token": token.group(1), "email": user.email, "password": PASSWORD}
        assert client.post("/login", data=data).status_code == 302
        assert client.post("/language", data={"language": "de"}).status_code == 400
        db.session.expire_all()
        assert db.session.get(User, user.id).language != "de"
        form = _footer_form(text(client.get("/account")))
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        answer = client.post("/language", data={"language": "de", "csrf_token": token})
        assert answer.status_code == 302
        db.session.expire_all()
        assert db.session.get(User, user.id).language == "de"
        db.session.remove()
        db.engine.dispose()
