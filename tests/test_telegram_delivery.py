"""The TELEGRAM channel against a fake Bot API server: a delivery is a plain-text message with
its link and the buttons its recipient may press now; nothing private goes to Telegram; a
blocked bot unlinks the chat (and /account says so); 429 waits Telegram's retry_after."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.jobs.queue import drain
from aidmatch.matches import operations as ops
from aidmatch.matches.models import MatchSource
from aidmatch.notify.kinds import KINDS
from aidmatch.notify.models import Channel, Delivery, DeliveryStatus, Preference
from aidmatch.notify.outbox import tell
from aidmatch.telegram import signing
from tests.factories import make_user
from tests.fake_telegram import PUBLIC_URL, FakeTelegram, telegram_app
from tests.match_helpers import make_cast
from tests.posting_factories import make_place


@pytest.fixture
def bot_api():
    with FakeTelegram.running() as fake:
        yield fake


@pytest.fixture
def app(database_url, bot_api):
    yield from telegram_app(database_url, bot_api)


def params_of(match) -> dict:
    """What a caller of tell() names about a match: category, quantity, the oblast only."""
    need = match.need
    return {
        "category_id": need.category_id,
        "quantity": match.quantity,
        "place_id": need.place_id,
        "place_level": "oblast",
        "oblast": need.place.oblast,
    }


def proposal(cast, quantity: int = 5):
    return ops.reserve(
        cast.need, cast.offer, cast.donor_org, quantity, source=MatchSource.ENGINE, distance_km=1.0
    )


def deliveries(user) -> list[Delivery]:
    from aidmatch.notify.models import Notification

    return list(
        db.session.scalars(
            select(Delivery)
            .join(Notification)
            .where(Notification.user_id == user.id, Delivery.channel == Channel.TELEGRAM)
        )
    )


def keyboard_of(sent: dict) -> list[dict]:
    return [button for row in sent["reply_markup"]["inline_keyboard"] for button in row]


def test_a_delivery_sends_the_text_the_link_and_the_buttons_the_user_may_press(app, bot_api):
    cast = make_cast()
    cast.donor.telegram_chat_id = 1001
    cast.coordinator.telegram_chat_id = 1002
    match = proposal(cast)
    tell([cast.donor, cast.coordinator], "reminder_pending", params=params_of(match), match=match)
    db.session.commit()
    drain(app)

    sent = {call["chat_id"]: call for call in bot_api.calls_of("sendMessage")}
    assert set(sent) == {1001, 1002}
    page = f"{PUBLIC_URL}/matches/{match.id}"
    donor = sent[1001]
    assert "expires in 12 hours unless you answer" in donor["text"]
    assert donor["text"].endswith(page)
    assert "parse_mode" not in donor  # plain text: nothing typed is read as markup
    assert donor["link_preview_options"] == {"is_disabled": True}
    buttons = keyboard_of(donor)
    taps = {b["text"]: b["callback_data"] for b in buttons if "callback_data" in b}
    assert set(taps) == {"Accept", "Decline"}  # a donor neither approves nor rejects
    assert signing.read(taps["Accept"], cast.donor.id) == signing.Press("accept", match.id)
    assert signing.read(taps["Accept"], cast.coordinator.id) is None  # bound to the donor
    assert all(len(data.encode()) <= 64 for data in taps.values())
    assert {"text": "Open in aidmatch", "url": page} in buttons

    reviewer = keyboard_of(sent[1002])
    taps = {b["text"] for b in reviewer if "callback_data" in b}
    assert taps == {"Approve"}  # rejecting needs a reason: a link to the page
    assert {"text": "Reject (give a reason)", "url": page} in reviewer
    assert all(d.status == DeliveryStatus.SENT for d in deliveries(cast.donor))


def test_an_approved_proposal_asks_the_donor_to_accept_or_decline(app, bot_api):
    cast = make_cast()
    cast.donor.telegram_chat_id = 1501
    match = proposal(cast)
    ops.approve(match, cast.coordinator)  # the donor has not answered: it must act next
    db.session.commit()
    drain(app)
    (sent,) = bot_api.calls_of("sendMessage")
    assert sent["chat_id"] == 1501
    assert sent["text"].startswith("A coordinator approved the proposal of 5 ")
    taps = {b["text"]: b["callback_data"] for b in keyboard_of(sent) if "callback_data" in b}
    assert set(taps) == {"Accept", "Decline"}
    assert signing.read(taps["Accept"], cast.donor.id) == signing.Press("accept", match.id)


def test_a_shipped_match_offers_the_full_receipt_and_links_a_partial_one(app, bot_api):
    cast = make_cast()
    cast.organizer.telegram_chat_id = 2001
    match = ops.claim_need(cast.need, cast.donor, 4, offer=cast.offer)
    ops.approve(match, cast.coordinator)
    ops.ship(match, cast.donor, "by courier")  # tells the group (matches/notices.py)
    db.session.commit()
    drain(app)
    (sent,) = bot_api.calls_of("sendMessage")
    assert sent["chat_id"] == 2001
    buttons = keyboard_of(sent)
    assert [b["text"] for b in buttons if "callback_data" in b] == ["All of it arrived"]
    assert {"text": "Less arrived", "url": f"{PUBLIC_URL}/matches/{match.id}"} in buttons


def test_no_title_note_contact_or_point_of_a_sensitive_need_reaches_telegram(app, bot_api):
    place = make_place("Zorianivka", lat=48.123457, lon=37.654321, oblast="Donetsk Oblast")
    cast = make_cast(
        place_id=place.id,
        sensitive=True,
        title="Qwyzzle thermal scopes for unit",
        description="Plover description text",
        delivery_note="Xanthic gate behind the bakery",
    )
    cast.group.contact = "Signal +380 99 765 4321 Quokka"
    user = cast.organizer
    user.telegram_chat_id = 3001
    # A kind for staff goes to staff only (notify/audience.py): a coordinator gets those.
    cast.coordinator.telegram_chat_id = 3002
    match = proposal(cast)
    for name in KINDS:
        for someone in (user, cast.coordinator):
            db.session.add(
                Preference(user_id=someone.id, kind=name, channel=Channel.TELEGRAM, enabled=True)
            )
    db.session.flush()
    for name in KINDS:
        params = {
            **params_of(match),
            "reason": "too far",
            "count": 3,
            "organization": cast.group.name,
        }
        someone = cast.coordinator if KINDS[name].staff else user
        tell([someone], name, params=params, match=match, need=cast.need, organization=cast.group)
    db.session.commit()
    drain(app)

    # Every kind a user may choose for Telegram went there (a password reset never does).
    sent = bot_api.calls_of("sendMessage")
    assert len(sent) == len([kind for kind in KINDS.values() if kind.optional]) > 10
    everything = bot_api.everything_sent()
    for secret in ("Qwyzzle", "Plover", "Xanthic", "Quokka", "765 4321", "Zorianivka"):
        assert secret not in everything
    for digits in ("48.12", "37.65", "48,12", "37,65"):
        assert digits not in everything


def test_a_blocked_bot_unlinks_the_chat_and_the_account_page_says_so(app, bot_api, login_as):
    cast = make_cast()
    cast.donor.telegram_chat_id = 4001
    match = proposal(cast)
    bot_api.block()
    tell([cast.donor], "reminder_pending", params=params_of(match), match=match)
    db.session.commit()
    drain(app)

    (delivery,) = deliveries(cast.donor)
    assert delivery.status == DeliveryStatus.FAILED
    assert "blocked" in delivery.last_error
    db.session.refresh(cast.donor)
    assert cast.donor.telegram_chat_id is None
    assert cast.donor.telegram_lost_at is not None
    page = login_as(cast.donor).get("/account").get_data(as_text=True)
    assert "could no longer reach your Telegram chat" in page
    assert "Link Telegram" in page

    # Nothing more is written for Telegram to a user without a chat.
    tell([cast.donor], "reminder_pending", params=params_of(match), match=match)
    db.session.commit()
    assert len(deliveries(cast.donor)) == 1


def test_a_chat_telegram_does_not_know_is_unlinked(app, bot_api):
    user = make_user(telegram_chat_id=4002)
    bot_api.chat_not_found()
    tell([user], "org_verified", params={"organization": "Group"}, organization=user.organization)
    db.session.commit()
    drain(app)
    (delivery,) = deliveries(user)
    assert delivery.status == DeliveryStatus.FAILED
    db.session.refresh(user)
    assert user.telegram_chat_id is None and user.telegram_lost_at is not None


def test_the_bots_token_is_never_logged(app, bot_api, caplog):
    caplog.set_level(logging.DEBUG)
    user = make_user(telegram_chat_id=5004)
    tell([user], "org_verified", params={"organization": "G"}, organization=user.organization)
    db.session.commit()
    drain(app)
    assert len(bot_api.calls_of("sendMessage")) == 1
    assert caplog.records  # the worker's logging was on
    assert bot_api.token not in caplog.text
    assert bot_api.token.split(":")[1] not in caplog.text


def test_flood_control_waits_telegrams_retry_after(app, bot_api):
    user = make_user(telegram_chat_id=5001)
    other = make_user(telegram_chat_id=5003)
    bot_api.flood(retry_after=120)
    # One batch: the second waits without being tried.
    tell(
        [user, other], "org_verified", params={"organization": "G"}, organization=user.organization
    )
    db.session.commit()
    attempted = utcnow()
    drain(app)

    assert len(bot_api.calls_of("sendMessage")) == 1
    for someone in (user, other):
        (delivery,) = deliveries(someone)
        assert delivery.status == DeliveryStatus.PENDING
        assert delivery.attempts == 0  # flood control is not the message's fault
        assert delivery.next_attempt_at >= attempted + timedelta(seconds=120)
        assert delivery.next_attempt_at <= utcnow() + timedelta(seconds=125)
        assert "flood control" in delivery.last_error.lower()
    db.session.refresh(user)
    assert user.telegram_chat_id == 5001  # still linked


def test_a_server_error_is_tried_again_later(app, bot_api):
    user = make_user(telegram_chat_id=5002)
    bot_api.fail_next("sendMessage", 502, "Bad Gateway")
    tell([user], "org_verified", params={"organization": "Group"}, organization=user.organization)
    db.session.commit()
    drain(app)
    (delivery,) = deliveries(user)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at > utcnow()

    # Once due again, it goes.
    delivery.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    from aidmatch.jobs.queue import run_now

    run_now("notify.deliver", [delivery.id])
    db.session.refresh(delivery)
    assert delivery.status == DeliveryStatus.SENT
    assert len(bot_api.calls_of("sendMessage")) == 2


def test_no_telegram_delivery_without_a_linked_chat(app, bot_api):
    user = make_user()
    tell([user], "org_verified", params={"organization": "Group"}, organization=user.organization)
    db.session.commit()
    drain(app)
    assert deliveries(user) == []
    assert bot_api.calls_of("sendMessage") == []


def test_the_buttons_are_in_the_recipients_language(app, bot_api):
    cast = make_cast()
    cast.donor.language = "de"
    cast.donor.telegram_chat_id = 6001
    match = proposal(cast)
    tell([cast.donor], "reminder_pending", params=params_of(match), match=match)
    db.session.commit()
    drain(app)
    (sent,) = bot_api.calls_of("sendMessage")
    taps = {b["text"] for b in keyboard_of(sent) if "callback_data" in b}
    assert taps == {"Annehmen", "Ablehnen"}


def test_a_development_address_gets_no_link_buttons_but_the_text_has_the_link(database_url):
    """Telegram refuses link buttons to localhost or a private address."""
    with FakeTelegram.running() as fake:
        for application in telegram_app(database_url, fake, PUBLIC_URL="http://127.0.0.1:5000"):
            cast = make_cast()
            cast.donor.telegram_chat_id = 7001
            match = proposal(cast)
            tell([cast.donor], "reminder_pending", params=params_of(match), match=match)
            db.session.commit()
            drain(application)
            (sent,) = fake.calls_of("sendMessage")
            assert sent["text"].endswith(f"http://127.0.0.1:5000/matches/{match.id}")
            buttons = keyboard_of(sent)
            assert {b["text"] for b in buttons} == {"Accept", "Decline"}
            assert all("url" not in b for b in buttons)
