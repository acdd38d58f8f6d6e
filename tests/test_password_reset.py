"""Password reset by e-mail, through a real SMTP server (tests/smtp_server.py): ask, follow the
link, set a new password; every session ends, every API token is revoked and a linked
Telegram chat is unlinked; a link works once and for PASSWORD_RESET_TTL_MINUTES; an unknown
address gets the same answer, the same work (no lookup, no write, one job) and no e-mail; a
bounced address stays bounced; asking is limited per address and per client."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from aidmatch.audit.models import AuditEvent
from aidmatch.auth.reset import SALT, make_reset_token, user_for_reset_token
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.jobs.queue import drain
from aidmatch.notify.models import Delivery, Notification
from aidmatch.refusals import Invalid
from tests.factories import PASSWORD, make_user
from tests.smtp_server import mail_app_fixture, smtp_fixture  # noqa: F401 (app, smtp)
from tests.sql_statements import statements

NEW_PASSWORD = "a fresh river of stones"
CSRF = re.compile(r'name="csrf_token" value="[^"]+"')
DATA = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|MERGE)\b", re.IGNORECASE)
LINK = re.compile(r"http://127\.0\.0\.1:5000(/password/reset/[A-Za-z0-9_.\-]+)")


def ask(app, email: str, address: str = "192.0.2.10"):
    return app.test_client().post(
        "/password/forgot", data={"email": email}, environ_base={"REMOTE_ADDR": address}
    )


def logged_in(app, email: str, password: str = PASSWORD):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def reset_link(smtp, email: str) -> str:
    """The path of the reset link in the last e-mail to this address."""
    received = smtp.to(email)[-1]
    text, html = received.part("text/plain"), received.part("text/html")
    (path,) = set(LINK.findall(text))
    assert path in html
    return path


def test_the_whole_reset(app, smtp, api_client):
    user = make_user(email="forgetful@example.org", language="uk")
    db.session.commit()
    old_session = logged_in(app, user.email)
    api = api_client(user)
    assert api.get("/needs").status_code == 200

    asked = ask(app, "Forgetful@Example.org ")
    assert asked.status_code == 302 and asked.headers["Location"] == "/login"
    drain(app)
    (received,) = smtp.to(user.email)
    message = received.message
    assert message["Content-Language"] == "uk"
    assert message["List-Unsubscribe"] is None  # a reset cannot be turned off
    path = reset_link(smtp, user.email)
    token = path.rsplit("/", 1)[1]
    # The token lives in the e-mail only: no row holds it.
    stored = [n.params_json for n in db.session.scalars(select(Notification))]
    stored += [d.last_error or "" for d in db.session.scalars(select(Delivery))]
    stored += [str(e.after) + str(e.before) for e in db.session.scalars(select(AuditEvent))]
    assert stored and not any(token in row for row in stored)

    browser = app.test_client()
    form = browser.get(path)
    assert form.status_code == 200 and "Choose a new password" in form.get_data(as_text=True)
    mismatch = browser.post(
        path, data={"new_password": NEW_PASSWORD, "new_password_confirm": "something else"}
    )
    assert "The two passwords differ." in mismatch.get_data(as_text=True)
    weak = browser.post(
        path, data={"new_password": "password1234", "new_password_confirm": "password1234"}
    )
    assert "most common" in weak.get_data(as_text=True)
    done = browser.post(
        path, data={"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}
    )
    # The address waits in the session for the login form, not in the URL (access logs).
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    login_page = browser.get("/login").get_data(as_text=True)
    assert "Your password is changed" in login_page
    assert f'value="{user.email}"' in login_page
    assert "Telegram" not in login_page  # no chat was linked
    assert user.email not in browser.get("/login").get_data(as_text=True)  # once

    # Every session ended, every API token revoked; the new password logs in, the old not.
    assert old_session.get("/account").status_code == 302
    assert api.get("/needs").status_code == 401
    logged_in(app, user.email, NEW_PASSWORD)
    assert (
        app.test_client()
        .post("/login", data={"email": user.email, "password": PASSWORD})
        .status_code
        == 200
    )
    assert db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "user.reset_password", AuditEvent.object_id == user.id
        )
    )

    # The link works once.
    for again in (
        browser.get(path),
        browser.post(
            path,
            data={"new_password": "another long one", "new_password_confirm": "another long one"},
        ),
    ):
        assert again.status_code == 400
        body = again.get_data(as_text=True)
        assert "was used already" in body and 'href="/password/forgot"' in body
    logged_in(app, user.email, NEW_PASSWORD)


def dated_token(user, seconds_ago: int) -> str:
    """A reset token signed as the app signs them, but made seconds_ago."""

    class Earlier(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - seconds_ago

    from flask import current_app

    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT, signer=Earlier)
    return serializer.dumps([user.id, user.session_stamp])


def test_an_expired_link_is_refused_with_a_way_to_ask_again(app, client):
    user = make_user()
    db.session.commit()
    ttl = app.config["PASSWORD_RESET_TTL_MINUTES"]
    fresh = make_reset_token(user)
    assert user_for_reset_token(fresh) == user
    assert user_for_reset_token(fresh, now=utcnow() + timedelta(minutes=ttl - 1)) == user
    with pytest.raises(Invalid) as refused:
        user_for_reset_token(fresh, now=utcnow() + timedelta(minutes=ttl, seconds=5))
    assert refused.value.code == "reset_link_expired"

    old = dated_token(user, seconds_ago=ttl * 60 + 60)
    for response in (client.get(f"/password/reset/{old}"), client.post(f"/password/reset/{old}")):
        assert response.status_code == 400
        body = response.get_data(as_text=True)
        assert "has expired" in body and 'href="/password/forgot"' in body
    assert client.get(f"/password/reset/{dated_token(user, 60)}").status_code == 200


@pytest.mark.parametrize("token", ["nonsense", "WzEsImFiYyJd.forged.sig", "x" * 900, "ключ"])
def test_a_forged_link_is_refused(app, client, token):
    response = client.get(f"/password/reset/{token}")
    assert response.status_code == 400
    assert "This password reset link is not valid" in response.get_data(as_text=True)


def test_an_unknown_address_gets_the_same_answer_the_same_work_and_no_email(app, smtp):
    make_user(email="known@example.org")
    gone = make_user(email="disabled@example.org", active=False)
    db.session.commit()
    queue = app.extensions["huey"]
    answers, work = [], []
    for email in ("known@example.org", "nobody@example.org", gone.email):
        waiting = queue.pending_count()
        with statements(DATA) as sent:
            response = ask(app, email)
        # Nothing looked up, nothing written: one job, whose lookup no answer waits for.
        work.append((sent, queue.pending_count() - waiting))
        page = app.test_client().get(response.headers["Location"])
        answers.append((response.status_code, response.headers["Location"], page.status_code))
    assert answers[0] == answers[1] == answers[2]
    assert work == [([], 1)] * 3
    drain(app)
    assert [r.rcpt_tos for r in smtp.received] == [["known@example.org"]]
    (told,) = db.session.scalars(select(Notification)).all()
    assert told.user.email == "known@example.org"


def test_the_answer_after_asking_is_the_same_page(app):
    make_user(email="someone@example.org")
    db.session.commit()
    pages = []
    for email in ("someone@example.org", "noone@example.org"):
        client = app.test_client()
        client.post("/password/forgot", data={"email": email})
        page = client.get("/login").get_data(as_text=True)
        pages.append(CSRF.sub("csrf", page))  # the footer's form has a token per session
    assert pages[0] == pages[1]
    assert "If an account has this address" in pages[0]


def test_asking_is_limited_per_address_and_per_client(app):
    make_user(email="target@example.org")
    db.session.commit()
    limit = int(app.config["PASSWORD_RESET_RATE_LIMIT"].split()[0])
    # One address, from many clients...
    for i in range(limit):
        assert ask(app, "target@example.org", f"198.51.100.{i + 1}").status_code == 302
    refused = ask(app, "TARGET@example.org", "198.51.100.200")
    assert refused.status_code == 429
    assert "Too many password reset requests" in refused.get_data(as_text=True)
    # ...and one client, for many addresses.
    for i in range(limit):
        assert ask(app, f"someone{i}@example.org", "203.0.113.5").status_code == 302
    assert ask(app, "someone-else@example.org", "203.0.113.5").status_code == 429
    assert ask(app, "someone-else@example.org", "203.0.113.6").status_code == 302
    assert app.test_client().get("/password/forgot").status_code == 200  # reading is free


def test_asking_leaves_a_bounced_address_bounced(app, smtp):
    """Anyone may ask for a reset: it must not turn e-mail to an address back on (only its
    owner may, from /account). The answer is the same; no link can go out."""
    user = make_user(email="was-full@example.org")
    bounced_at = utcnow()
    user.email_bounced_at = bounced_at
    db.session.commit()
    for _ in range(3):
        response = ask(app, user.email)
        assert response.status_code == 302 and response.headers["Location"] == "/login"
    drain(app)
    assert smtp.to(user.email) == []
    db.session.refresh(user)
    assert user.email_bounced_at == bounced_at
    assert db.session.scalars(select(Notification)).all() == []


def test_a_reset_unlinks_the_telegram_chat_and_says_so(app, smtp):
    user = make_user(email="chatty@example.org")
    user.telegram_chat_id = 4242
    db.session.commit()
    ask(app, user.email)
    drain(app)
    path = reset_link(smtp, user.email)
    browser = app.test_client()
    done = browser.post(
        path, data={"new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}
    )
    assert done.status_code == 302
    page = browser.get(done.headers["Location"]).get_data(as_text=True)
    assert "Your Telegram chat was unlinked; link it again from your account." in page
    db.session.refresh(user)
    assert user.telegram_chat_id is None and user.telegram_lost_at is None
    (unlinked,) = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "user.telegram_unlink", AuditEvent.object_id == user.id
        )
    )
    assert unlinked.actor_id == user.id
    assert unlinked.after == {"why": "reset"}  # the chat's id is not kept


def test_the_login_page_offers_a_reset(app, client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in page and "Forgot your password?" in page
