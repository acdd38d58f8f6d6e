"""The e-mail channel against a real SMTP server (aiosmtpd, tests/smtp_server.py): what an
e-mail carries (text and HTML in the recipient's language, the link, a one-click unsubscribe
link and RFC 8058 headers, nothing private), unsubscribing, and the server's faults: down
(retried with growing pauses, then failed and listed for admins), 4xx (retried), 550 (the
address bounced: marked, said on /account, tried again on request)."""

from __future__ import annotations

import contextlib
import re
import socket
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import func, select, update

from aidmatch.auth.models import Language
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.jobs.queue import drain, run_now
from aidmatch.matches.claims import claim
from aidmatch.notify.models import Channel, Delivery, DeliveryStatus, Notification, Preference
from aidmatch.notify.outbox import MAX_ATTEMPTS, backoff, tell
from aidmatch.notify.unsubscribe import unsubscribe_token
from aidmatch.permissions import Role
from tests.factories import PASSWORD, make_user
from tests.match_helpers import make_cast
from tests.privacy_world import shows_point
from tests.smtp_server import (  # noqa: F401 (the fixtures app and smtp)
    app_on,
    free_port,
    mail_app_fixture,
    mail_settings,
    smtp_fixture,
)

TITLE = "Zebra-Quartz generator for the basement clinic"
NOTE = "Knock twice at the Kilo-42 gate after dark"
CONTACT = "Signal Foxtrot +380 99 7654321"
PUBLIC = "http://127.0.0.1:5000"


def params_of(need, quantity: int) -> dict:
    """What a notification about a match on this need says (as the lifecycle tells it)."""
    return {
        "category_id": need.category_id,
        "quantity": quantity,
        "place_id": need.place_id,
        "place_level": "settlement",
        "oblast": need.place.oblast,
    }


def email_deliveries(user=None) -> list[Delivery]:
    stmt = select(Delivery).where(Delivery.channel == Channel.EMAIL).order_by(Delivery.id)
    if user is not None:
        stmt = stmt.join(Notification).where(Notification.user_id == user.id)
    return list(db.session.scalars(stmt))


def sensitive_match():
    """A claim on a sensitive need whose title, note and group contact are easy to find."""
    cast = make_cast(sensitive=True, title=TITLE, delivery_note=NOTE)
    cast.group.contact = CONTACT
    cast.donor.language = Language.UK
    match = claim(cast.need, cast.donor, 10, offer=cast.offer).match
    db.session.commit()
    return cast, match


def test_an_email_in_the_recipients_language_with_its_links_and_nothing_private(app, smtp):
    cast, match = sensitive_match()
    tell([cast.donor], "match_confirmed_ship", params=params_of(cast.need, 10), match=match)
    tell([cast.organizer], "match_shipped", params=params_of(cast.need, 10), match=match)
    db.session.commit()
    drain(app)

    (to_donor,) = smtp.to(cast.donor.email)
    (to_group,) = smtp.to(cast.organizer.email)
    message = to_donor.message
    assert message.get_content_type() == "multipart/alternative"
    text, html = to_donor.part("text/plain"), to_donor.part("text/html")
    # The donor reads Ukrainian (the catalogue may not have these words yet: the language is
    # declared), the organizer English.
    assert message["Content-Language"] == "uk" and '<html lang="uk">' in html
    assert to_group.message["Content-Language"] == "en" and '<html lang="en">' in to_group.part(
        "text/html"
    )
    link = f"{PUBLIC}/matches/{match.id}"
    assert link in text and f'href="{link}"' in html
    unsubscribe = f"{PUBLIC}/unsubscribe/{unsubscribe_token(cast.donor, 'match_confirmed_ship')}"
    assert message["List-Unsubscribe"].strip() == f"<{unsubscribe}>"  # may be folded
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in text and unsubscribe in html
    assert "<img" not in html and "<script" not in html and "src=" not in html
    assert not re.search(r"https?://(?!127\.0\.0\.1:5000/)", html), "nothing from elsewhere"

    for received in (to_donor, to_group):
        everything = received.everything()
        for secret in (TITLE, NOTE, CONTACT, "Kilo-42", "Zebra-Quartz", "Foxtrot"):
            assert secret not in everything
        assert not shows_point(everything, cast.need.lat, cast.need.lon)
    assert [d.status for d in email_deliveries()] == [DeliveryStatus.SENT] * 2


def test_unsubscribe_get_changes_nothing_post_turns_the_kind_off(database_url, smtp):
    # CSRF on, as in production: the one-click POST comes from a mail client with no session.
    with app_on(database_url, WTF_CSRF_ENABLED=True, **mail_settings(smtp.port)) as app:
        user = make_user(Role.DONOR)
        db.session.commit()
        url = f"/unsubscribe/{unsubscribe_token(user, 'match_confirmed_ship')}"
        client = app.test_client()

        page = client.get(url)
        assert page.status_code == 200
        assert "<button" in page.get_data(as_text=True)
        assert db.session.scalar(select(func.count()).select_from(Preference)) == 0

        done = client.post(
            url,
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert done.status_code == 200, done.get_data(as_text=True)
        assert "no more e-mails" in done.get_data(as_text=True)
        (choice,) = db.session.scalars(select(Preference)).all()
        assert (choice.user_id, choice.kind, choice.channel, choice.enabled) == (
            user.id,
            "match_confirmed_ship",
            Channel.EMAIL,
            False,
        )
        assert client.post(url).status_code == 200  # twice: still off, one row
        assert db.session.scalar(select(func.count()).select_from(Preference)) == 1

        tell([user], "match_confirmed_ship", params={"quantity": 3})
        tell([user], "run_proposals", params={"count": 2})  # another kind still goes
        db.session.commit()
        drain(app)
        assert [d.notification.kind for d in email_deliveries(user)] == ["run_proposals"]
        assert len(smtp.to(user.email)) == 1


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "WzEsIm1hdGNoX2NvbmZpcm1lZF9zaGlwIl0.forged-signature",
        "x" * 1000,
        "ünïcode",
    ],
)
def test_a_forged_unsubscribe_link_is_refused(app, client, token):
    user = make_user()
    db.session.commit()
    for response in (client.get(f"/unsubscribe/{token}"), client.post(f"/unsubscribe/{token}")):
        assert response.status_code == 404
        assert "This unsubscribe link is not valid" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Preference)) == 0
    # A real token edited, and one for a kind that cannot be turned off (a password reset).
    real = unsubscribe_token(user, "match_shipped")
    for bad in (real[:-2] + ("AA" if not real.endswith("AA") else "BB"),):
        assert client.post(f"/unsubscribe/{bad}").status_code == 404
    assert client.post(f"/unsubscribe/{unsubscribe_token(user, 'password_reset')}").status_code == (
        404
    )
    assert db.session.scalar(select(func.count()).select_from(Preference)) == 0


def come_due(delivery: Delivery) -> None:
    """Time passes until the delivery's next attempt, without sleeping: its due time is moved
    back past the sweep's grace minute, the periodic sweep hands it to the queue, and the
    queue runs. (The retry the
    outbox scheduled stays in the queue's schedule, due later: `deliver` claims by the
    database's clock, so draining it early would claim nothing.)"""
    db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery.id)
        .values(next_attempt_at=utcnow() - timedelta(minutes=2))
    )
    db.session.commit()
    assert run_now("notify.sweep") == 1
    drain(current_app._get_current_object())


def test_a_server_down_is_retried_with_growing_pauses_then_failed_and_shown_to_admins(
    database_url,
):
    # Nothing listens on this port: every attempt is refused at once.
    with app_on(database_url, **mail_settings(free_port())) as app:
        user = make_user(email="far.away@example.org")
        admin = make_user(Role.ADMIN)
        coordinator = make_user(Role.COORDINATOR)
        tell([user], "run_proposals", params={"count": 4})
        db.session.commit()
        drain(app)
        (delivery,) = email_deliveries(user)
        pauses = []
        for attempt in range(1, MAX_ATTEMPTS + 1):
            db.session.refresh(delivery)
            assert delivery.attempts == attempt
            assert "mail server unreachable" in delivery.last_error
            if attempt == MAX_ATTEMPTS:
                break
            assert delivery.status == DeliveryStatus.PENDING
            pause = (delivery.next_attempt_at - utcnow()).total_seconds()
            assert backoff(attempt) - 5 < pause <= backoff(attempt)
            pauses.append(pause)
            come_due(delivery)
        assert pauses == sorted(pauses) and len(set(round(p) for p in pauses)) == len(pauses)
        assert delivery.status == DeliveryStatus.FAILED
        assert user.email_bounced_at is None  # the server was down; the address is fine

        client = app.test_client()
        client.post("/login", data={"email": coordinator.email, "password": PASSWORD})
        assert client.get("/admin/deliveries").status_code == 403
        client.post("/logout")
        client.post("/login", data={"email": admin.email, "password": PASSWORD})
        home = client.get("/").get_data(as_text=True)
        assert 'href="/admin"' in home  # Administration, which links the deliveries
        assert 'href="/admin/deliveries"' in client.get("/admin").get_data(as_text=True)
        page = client.get("/admin/deliveries")
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        assert "far.away@example.org" in body and "mail server unreachable" in body
        assert "failed" in body and f"<td>{MAX_ATTEMPTS}</td>" in body


def login(app, user):
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def test_an_address_refused_with_550_bounces_is_marked_and_tried_again_on_request(app, smtp):
    user = make_user(email="gone@example.org")
    other = make_user(email="here@example.org")
    db.session.commit()
    smtp.refuse("gone@example.org")
    tell([user, other], "run_proposals", params={"count": 1})
    db.session.commit()
    drain(app)

    (bounced,) = email_deliveries(user)
    assert bounced.status == DeliveryStatus.FAILED and bounced.attempts == 1
    assert "550" in bounced.last_error
    assert user.email_bounced_at is not None
    assert [d.status for d in email_deliveries(other)] == [DeliveryStatus.SENT]
    assert smtp.to("gone@example.org") == []

    client = login(app, user)
    account = client.get("/account").get_data(as_text=True)
    assert "gone@example.org bounced at the mail server" in account
    assert "Try e-mail again" in account
    # No more e-mail is written for the address (the inbox still has it).
    tell([user], "run_proposals", params={"count": 2})
    db.session.commit()
    assert len(email_deliveries(user)) == 1

    smtp.handler.refused.clear()  # the owner fixed their mailbox
    assert client.post("/account/email/retry").status_code == 302
    db.session.refresh(user)
    assert user.email_bounced_at is None
    assert "bounced" not in client.get("/account").get_data(as_text=True)
    tell([user], "run_proposals", params={"count": 3})
    db.session.commit()
    drain(app)
    assert len(smtp.to("gone@example.org")) == 1


@pytest.mark.parametrize(
    "reply", ["451 4.3.0 Mailbox busy, try again later", "421 4.3.2 Service shutting down"]
)
def test_a_temporary_refusal_is_retried_and_marks_nothing(app, smtp, reply):
    user = make_user()
    db.session.commit()
    smtp.answer_every_rcpt(reply)
    tell([user], "run_proposals", params={"count": 1})
    db.session.commit()
    drain(app)
    (delivery,) = email_deliveries(user)
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert reply[:3] in delivery.last_error
    assert user.email_bounced_at is None

    smtp.answer_every_rcpt(None)
    come_due(delivery)
    db.session.refresh(delivery)
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2
    assert delivery.last_error is None
    assert len(smtp.to(user.email)) == 1


def test_several_emails_of_one_batch_share_one_connection(app, smtp):
    users = [make_user() for _ in range(3)]
    db.session.commit()
    tell(users, "run_proposals", params={"count": 1})
    db.session.commit()
    drain(app)
    assert {r.rcpt_tos[0] for r in smtp.received} == {u.email for u in users}
    assert len(smtp.handler.sessions) == 1


def test_without_mail_server_email_is_off_and_account_says_so(database_url):
    with app_on(database_url) as app:
        user = make_user()
        db.session.commit()
        tell([user], "run_proposals", params={"count": 1})
        db.session.commit()
        assert email_deliveries() == []
        account = login(app, user).get("/account").get_data(as_text=True)
        assert "E-mail notifications are off on this server." in account


def test_a_server_that_never_answers_is_waited_for_once_per_batch(database_url):
    # A socket that takes connections and says nothing: smtplib waits MAIL_TIMEOUT for the
    # greeting. The batch's other e-mails are put off at once instead of waiting again each.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        settings = {**mail_settings(port), "MAIL_TIMEOUT": 1}
        with app_on(database_url, **settings) as app:
            users = [make_user() for _ in range(3)]
            db.session.commit()
            tell(users, "run_proposals", params={"count": 1})
            db.session.commit()
            drain(app)
            deliveries = email_deliveries()
            assert [(d.status, d.attempts) for d in deliveries] == [(DeliveryStatus.PENDING, 1)] * 3
            assert all("timed out" in d.last_error for d in deliveries)
        silent.setblocking(False)
        tried = 0
        with contextlib.suppress(BlockingIOError):
            while True:
                silent.accept()[0].close()
                tried += 1
        assert tried == 1


def test_nothing_queued_leaves_for_an_account_disabled_since(app, smtp):
    """An admin disables an account while a message to it waits in the outbox (a message in
    a conversation, say): it is not sent, by e-mail or any channel, and shows as failed."""
    from aidmatch.auth.admin import disable_user

    user = make_user(email="gone.soon@example.org")
    tell([user], "run_proposals", params={"count": 4})
    db.session.commit()
    disable_user(make_user(Role.ADMIN), user)
    db.session.commit()
    drain(app)
    assert smtp.to(user.email) == []
    (delivery,) = email_deliveries(user)
    assert delivery.status == DeliveryStatus.FAILED and "disabled" in delivery.last_error
