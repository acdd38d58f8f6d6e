"""Linking a Telegram chat from /account with a one-time code (only its hash stored), by the
bot's /start <code> through the webhook; a used or expired code is refused; /stop and the
account page unlink; with no bot configured, /account says Telegram is off."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from aidmatch.auth.models import User
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.notify.models import TelegramCode
from tests.factories import make_user
from tests.fake_telegram import (
    BOT_USERNAME,
    HOOK,
    HOOK_HEADERS,
    FakeTelegram,
    telegram_app,
    text_update,
)

NOT_VALID = "This code is not valid or has expired."


@pytest.fixture
def bot_api():
    with FakeTelegram.running() as fake:
        yield fake


@pytest.fixture
def app(database_url, bot_api):
    yield from telegram_app(database_url, bot_api)


def send_text(client, bot_api, chat_id: int, text: str, language: str = "en"):
    update = {"update_id": bot_api.new_update_id(), **text_update(chat_id, text, language)}
    response = client.post(HOOK, json=update, headers=HOOK_HEADERS)
    assert response.status_code == 200
    return bot_api.calls_of("sendMessage")[-1] if bot_api.calls_of("sendMessage") else None


def get_code(client) -> str:
    """Press Link Telegram on /account; the code the page shows."""
    response = client.post("/account/telegram/link")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    (code,) = re.findall(rf"https://t\.me/{BOT_USERNAME}\?start=([A-Za-z0-9_-]+)", page)
    assert f"/start {code}" in page
    return code


def chat_of(user_id: int):
    db.session.expire_all()
    return db.session.get(User, user_id).telegram_chat_id


def test_a_code_from_the_account_page_links_the_chat(app, client, bot_api, login_as):
    user = make_user(language="en")
    db.session.commit()
    login_as(user)
    assert "Link Telegram" in client.get("/account").get_data(as_text=True)
    code = get_code(client)

    (row,) = db.session.scalars(select(TelegramCode).where(TelegramCode.user_id == user.id))
    assert row.digest == hashlib.sha256(code.encode()).hexdigest()  # only the hash is kept
    assert timedelta(minutes=14) < row.expires_at - utcnow() <= timedelta(minutes=15)

    reply = send_text(client, bot_api, 555, f"/start {code}")
    assert reply["chat_id"] == 555
    assert reply["text"].startswith("This chat is linked to your aidmatch account")
    assert chat_of(user.id) == 555
    page = client.get("/account").get_data(as_text=True)
    assert "Unlink Telegram" in page and "Link Telegram</button>" not in page

    # The same update again (Telegram repeats one whose answer it lost): still linked, said so.
    reply = send_text(client, bot_api, 555, f"/start {code}")
    assert reply["text"].startswith("This chat is linked")

    # The code is used: another chat cannot take it.
    reply = send_text(client, bot_api, 556, f"/start {code}")
    assert reply["chat_id"] == 556 and reply["text"].startswith(NOT_VALID)
    assert chat_of(user.id) == 555


def test_an_expired_or_unknown_code_is_refused(app, client, bot_api, login_as):
    user = make_user()
    db.session.commit()
    login_as(user)
    code = get_code(client)
    row = db.session.scalar(select(TelegramCode).where(TelegramCode.user_id == user.id))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert send_text(client, bot_api, 557, f"/start {code}")["text"].startswith(NOT_VALID)
    assert send_text(client, bot_api, 557, "/start nonsense")["text"].startswith(NOT_VALID)
    assert chat_of(user.id) is None


def test_a_chat_linked_to_someone_else_moves(app, client, bot_api, login_as):
    first = make_user(telegram_chat_id=600)
    second = make_user()
    db.session.commit()
    login_as(second)
    send_text(client, bot_api, 600, f"/start {get_code(client)}")
    assert chat_of(second.id) == 600
    assert chat_of(first.id) is None


def test_stop_unlinks_the_chat(app, client, bot_api):
    user = make_user(telegram_chat_id=601)
    db.session.commit()
    reply = send_text(client, bot_api, 601, "/stop")
    assert reply["text"] == "This chat is unlinked: aidmatch sends nothing here any more."
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.telegram_chat_id is None and user.telegram_lost_at is None
    reply = send_text(client, bot_api, 601, "/stop")
    assert reply["text"] == "This chat is not linked to an aidmatch account."


def test_unlink_from_the_account_page(app, client, bot_api, login_as):
    user = make_user(telegram_chat_id=602)
    db.session.commit()
    login_as(user)
    response = client.post("/account/telegram/unlink", follow_redirects=True)
    assert response.status_code == 200
    assert "Telegram is unlinked" in response.get_data(as_text=True)
    assert chat_of(user.id) is None


def test_updates_from_groups_are_ignored(app, client, bot_api, login_as):
    user = make_user()
    db.session.commit()
    login_as(user)
    code = get_code(client)
    update = {
        "update_id": bot_api.new_update_id(),
        **text_update(-100, f"/start {code}", chat_type="group"),
    }
    assert client.post(HOOK, json=update, headers=HOOK_HEADERS).status_code == 200
    assert bot_api.calls_of("sendMessage") == []
    assert chat_of(user.id) is None


def test_linking_needs_a_login_and_the_webhook_has_no_csrf(app, client, bot_api):
    response = client.post("/account/telegram/link")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.scalars(select(TelegramCode)).all() == []


def test_with_no_bot_the_account_page_says_telegram_is_off(database_url, login_as_off):
    client, user = login_as_off
    page = client.get("/account").get_data(as_text=True)
    assert "Telegram is off on this server" in page
    assert "Link Telegram" not in page
    response = client.post("/account/telegram/link")
    assert response.status_code == 302
    assert db.session.scalars(select(TelegramCode)).all() == []
    assert client.post(HOOK, json={"update_id": 1}, headers=HOOK_HEADERS).status_code == 404


@pytest.fixture
def login_as_off(database_url):
    """A logged-in user of an app whose bot is off (no TELEGRAM_BOT_TOKEN)."""
    from tests.factories import PASSWORD

    with FakeTelegram.running() as fake:
        for application in telegram_app(database_url, fake, TELEGRAM_BOT_TOKEN=None):
            user = make_user()
            db.session.commit()
            client = application.test_client()
            client.post("/login", data={"email": user.email, "password": PASSWORD})
            yield client, user


def test_a_new_code_replaces_the_earlier_one(app, client, bot_api, login_as):
    user = make_user()
    db.session.commit()
    login_as(user)
    first, second = get_code(client), get_code(client)
    assert db.session.scalar(select(func.count()).select_from(TelegramCode)) == 1
    assert send_text(client, bot_api, 610, f"/start {first}")["text"].startswith(NOT_VALID)
    assert send_text(client, bot_api, 610, f"/start {second}")["text"].startswith(
        "This chat is linked"
    )
