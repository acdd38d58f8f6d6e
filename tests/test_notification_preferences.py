"""Preferences (issue 13, item 6): per user, per kind and channel, defaults by group; a row
only where a choice differs from its default; the page at /account/notifications says which
channels are off here or do not reach the user, and lets them choose all the same."""

from __future__ import annotations

from sqlalchemy import select

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.notify import preferences
from aidmatch.notify.kinds import default
from aidmatch.notify.models import Channel, Preference
from aidmatch.notify.outbox import wants
from aidmatch.permissions import Role
from tests.factories import make_user

EMAIL, TELEGRAM = Channel.EMAIL, Channel.TELEGRAM


def stored(user) -> set[tuple[str, str, bool]]:
    db.session.expire_all()
    rows = db.session.scalars(select(Preference).where(Preference.user_id == user.id))
    return {(r.kind, str(r.channel), r.enabled) for r in rows}


def checked(page: str) -> set[str]:
    """The names of the checked boxes of the preferences form."""
    found = set()
    for chunk in page.split("<input ")[1:]:
        tag = chunk.split(">", 1)[0]
        if 'type="checkbox"' in tag and " checked" in tag:
            found.add(tag.split('name="', 1)[1].split('"', 1)[0])
    return found


def boxes(page: str) -> set[str]:
    return {c.split('"', 1)[0] for c in page.split('type="checkbox" id="')[1:]}


def defaults_on(user) -> set[str]:
    return {
        f"{k.name}:{c}"
        for k in preferences.choosable(user)
        for c in (EMAIL, TELEGRAM)
        if default(k.name, c)
    }


def test_the_page_shows_the_defaults_and_only_the_kinds_one_may_choose(client, login_as):
    organizer = make_user(Role.ORGANIZER)
    coordinator = make_user(Role.COORDINATOR)
    db.session.commit()
    login_as(organizer)
    page = client.get("/account/notifications").get_data(as_text=True)
    assert checked(page) == defaults_on(organizer)
    assert "match_confirmed_ship:email" in checked(page)  # action: all channels
    assert "match_claimed:email" in boxes(page) and "match_claimed:email" not in checked(page)
    kinds = {b.split(":")[0] for b in boxes(page)}
    assert "match_to_review" not in kinds and "queue_digest" not in kinds  # staff only
    assert "password_reset" not in kinds  # always sent
    client.post("/logout")
    login_as(coordinator)
    page = client.get("/account/notifications").get_data(as_text=True)
    kinds = {b.split(":")[0] for b in boxes(page)}
    assert {"match_to_review", "queue_digest"} <= kinds and "password_reset" not in kinds
    assert "queue_digest:email" in checked(page)


def test_saving_stores_only_what_differs_from_the_default(client, login_as):
    user = make_user(Role.DONOR)
    db.session.commit()
    login_as(user)
    form = defaults_on(user) - {"match_confirmed_ship:email"} | {"match_claimed:telegram"}
    saved = client.post("/account/notifications", data=dict.fromkeys(form, "on"))
    assert saved.status_code == 302 and saved.headers["Location"] == "/account/notifications"
    assert stored(user) == {
        ("match_confirmed_ship", "email", False),
        ("match_claimed", "telegram", True),
    }
    page = client.get("/account/notifications").get_data(as_text=True)
    assert checked(page) == form
    assert not wants(user, "match_confirmed_ship", EMAIL)
    assert wants(user, "match_confirmed_ship", TELEGRAM)
    assert wants(user, "match_claimed", TELEGRAM) and not wants(user, "match_claimed", EMAIL)
    # Back to the defaults: no row is left.
    client.post("/account/notifications", data=dict.fromkeys(defaults_on(user), "on"))
    assert stored(user) == set()
    assert wants(user, "match_confirmed_ship", EMAIL)


def test_a_non_staff_form_cannot_turn_on_staff_kinds(client, login_as):
    user = make_user(Role.DONOR)
    db.session.commit()
    login_as(user)
    sent = defaults_on(user) | {"match_to_review:email", "password_reset:telegram", "bogus:x"}
    assert client.post("/account/notifications", data=dict.fromkeys(sent, "on")).status_code == 302
    assert stored(user) == set()


def test_turning_off_email_means_the_outbox_sends_none(app):
    """The choice the outbox reads (tell() makes an e-mail delivery only where wants() says
    yes): a user's "off" wins over the default, the default holds for everyone else, and a
    kind that is always sent ignores any row."""
    user, other = make_user(Role.DONOR), make_user(Role.DONOR)
    preferences.choose(user, "match_confirmed_ship", EMAIL, False)
    db.session.commit()
    assert stored(user) == {("match_confirmed_ship", "email", False)}
    assert not wants(user, "match_confirmed_ship", EMAIL)
    assert wants(other, "match_confirmed_ship", EMAIL)
    chosen = preferences.choices([user.id, other.id], "match_confirmed_ship")
    assert chosen == {(user.id, EMAIL): False}
    db.session.add(Preference(user_id=user.id, kind="password_reset", channel=EMAIL, enabled=False))
    db.session.commit()
    assert wants(user, "password_reset", EMAIL)
    preferences.choose(user, "match_confirmed_ship", EMAIL, True)  # the default again
    assert ("match_confirmed_ship", "email", False) not in stored(user)


def test_the_page_says_which_channels_are_off_or_do_not_reach_the_user(app, client, login_as):
    user = make_user(Role.ORGANIZER)
    db.session.commit()
    login_as(user)
    page = client.get("/account/notifications").get_data(as_text=True)
    assert "E-mail is off on this server" in page and "Telegram is off on this server" in page
    assert "match_confirmed_ship:email" in checked(page)  # still chosen, still choosable

    app.config.update(MAIL_SERVER="smtp.example.org", TELEGRAM_BOT_TOKEN="123:abc")
    page = client.get("/account/notifications").get_data(as_text=True)
    assert "is off on this server" not in page
    assert "Your Telegram is not linked yet" in page

    user.telegram_lost_at = utcnow()
    user.email_bounced_at = utcnow()
    db.session.commit()
    page = client.get("/account/notifications").get_data(as_text=True)
    assert "Your Telegram chat was unlinked" in page
    assert "Mail to your address came back" in page

    user.telegram_chat_id, user.telegram_lost_at, user.email_bounced_at = 4242, None, None
    db.session.commit()
    page = client.get("/account/notifications").get_data(as_text=True)
    assert "flash-warn" not in page


def test_the_account_page_links_to_the_choices_and_the_inbox(client, login_as):
    login_as(make_user(Role.DONOR))
    page = client.get("/account").get_data(as_text=True)
    assert 'href="/account/notifications"' in page and 'href="/notifications"' in page


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get("/account/notifications").status_code == 302
    assert client.post("/account/notifications", data={}).status_code == 302
