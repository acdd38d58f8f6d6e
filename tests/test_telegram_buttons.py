"""Button presses, through the webhook and through `flask telegram poll --once`: the same verbs
and lifecycle table as the pages, for the user the button was signed for; a second press, a
forged or foreign button, or an unknown chat changes nothing and is answered."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from aidmatch.audit.models import AuditEvent
from aidmatch.extensions import db
from aidmatch.matches import operations as ops
from aidmatch.matches.models import Match, MatchSource, MatchStatus
from aidmatch.needs.models import Need, NeedStatus
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from aidmatch.telegram import signing
from tests.factories import make_org, make_user
from tests.fake_telegram import (
    HOOK,
    HOOK_HEADERS,
    WEBHOOK_SECRET,
    FakeTelegram,
    press_update,
    telegram_app,
    text_update,
)
from tests.match_helpers import assert_invariant, make_cast


@pytest.fixture
def bot_api():
    with FakeTelegram.running() as fake:
        yield fake


@pytest.fixture
def app(database_url, bot_api):
    yield from telegram_app(database_url, bot_api)


@pytest.fixture
def cast(app):
    """A pending proposal that waits for the donor and a coordinator; donor and organizer
    linked to chats 11 and 22, the coordinator to 33."""
    cast = make_cast()
    cast.donor.telegram_chat_id = 11
    cast.organizer.telegram_chat_id = 22
    cast.coordinator.telegram_chat_id = 33
    cast.match = ops.reserve(
        cast.need, cast.offer, cast.donor_org, 5, source=MatchSource.ENGINE, distance_km=1.0
    )
    db.session.commit()
    return cast


def post_update(client, bot_api, update: dict, path: str = HOOK, headers=HOOK_HEADERS):
    """Post an update to the webhook as Telegram does: with the secret header."""
    update = {"update_id": bot_api.new_update_id(), **update}
    return client.post(path, json=update, headers=headers)


def answers(bot_api) -> list[str]:
    return [call["text"] for call in bot_api.calls_of("answerCallbackQuery")]


def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def reload(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def test_a_press_through_the_webhook_accepts_the_match_once(app, client, bot_api, cast):
    data = signing.sign(cast.donor.id, "accept", cast.match.id)
    response = post_update(client, bot_api, press_update(11, data))
    assert response.status_code == 200
    match = reload(cast.match)
    assert match.donor_accepted_at is not None
    assert match.donor_accepted_by_id == cast.donor.id
    assert match.status == MatchStatus.PENDING  # the coordinator has not approved yet
    assert answers(bot_api) == ["Accepted: a coordinator reviews it next."]
    (edit,) = bot_api.calls_of("editMessageReplyMarkup")
    assert edit["chat_id"] == 11 and edit["message_id"] == 77
    assert all(
        "callback_data" not in b for row in edit["reply_markup"]["inline_keyboard"] for b in row
    )

    events = audit_count()
    response = post_update(client, bot_api, press_update(11, data))
    assert response.status_code == 200
    assert answers(bot_api)[-1] == "This was already agreed to."
    assert audit_count() == events
    assert reload(cast.match).donor_accepted_at == match.donor_accepted_at


def test_an_accept_press_says_when_less_remained(app, client, bot_api, cast):
    """Others pledged part of the need meanwhile: the donor gets what remains, and is told."""
    other = make_org(kind=OrgKind.DONOR_COLLECTIVE)
    ops.claim_need(cast.need, make_user(Role.DONOR, org=other), 37)
    db.session.commit()
    post_update(
        client, bot_api, press_update(11, signing.sign(cast.donor.id, "accept", cast.match.id))
    )
    assert reload(cast.match).quantity == 3
    assert answers(bot_api) == [
        "Accepted: a coordinator reviews it next. Others pledged part of it meanwhile: you "
        "accepted 3 of the 5 proposed."
    ]
    assert_invariant()


def test_the_coordinator_approves_and_the_match_is_confirmed(app, client, bot_api, cast):
    ops.accept(cast.match, cast.donor)
    db.session.commit()
    data = signing.sign(cast.coordinator.id, "approve", cast.match.id)
    post_update(client, bot_api, press_update(33, data))
    assert reload(cast.match).status == MatchStatus.CONFIRMED
    assert answers(bot_api) == ["Approved: the match is confirmed."]
    assert_invariant()


def test_a_press_after_the_state_changed_answers_what_happened(app, client, bot_api, cast):
    data = signing.sign(cast.donor.id, "accept", cast.match.id)
    ops.reject(cast.match, cast.coordinator, "duplicate")
    db.session.commit()
    post_update(client, bot_api, press_update(11, data))
    assert answers(bot_api) == ["This match is already rejected."]
    assert reload(cast.match).donor_accepted_at is None


def test_a_press_through_polling_declines_the_match(app, bot_api, cast):
    match_id = cast.match.id  # the command ends the session: the test's objects with it
    bot_api.push_update(press_update(11, signing.sign(cast.donor.id, "decline", match_id)))
    result = app.test_cli_runner().invoke(args=["telegram", "poll", "--once"])
    assert result.exit_code == 0, result.output
    assert "handled 1 updates" in result.output
    assert db.session.get(Match, match_id).status == MatchStatus.DECLINED
    assert answers(bot_api) == ["Declined."]
    assert_invariant()
    # The update was confirmed to Telegram: the next poll gets nothing.
    assert bot_api.updates == []
    result = app.test_cli_runner().invoke(args=["telegram", "poll", "--once"])
    assert "handled 0 updates" in result.output


@pytest.mark.parametrize(
    "who",
    ["forged signature", "another user's button", "unknown chat", "unknown verb", "group chat"],
)
def test_a_button_that_is_not_valid_changes_nothing(app, client, bot_api, cast, who, caplog):
    good = signing.sign(cast.donor.id, "accept", cast.match.id)
    chat, data = 11, good
    if who == "forged signature":
        data = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    elif who == "another user's button":
        chat = 22  # the organizer's chat presses the donor's button
    elif who == "unknown chat":
        chat = 999
    elif who == "unknown verb":
        data = good.replace(":accept:", ":ship:")
    update = press_update(chat, data)
    if who == "group chat":
        update["callback_query"]["message"]["chat"]["type"] = "group"
    events = audit_count()
    response = post_update(client, bot_api, update)
    assert response.status_code == 200
    assert answers(bot_api) == ["This button is not valid."]
    assert bot_api.calls_of("editMessageReplyMarkup") == []
    assert reload(cast.match).donor_accepted_at is None
    assert audit_count() == events
    assert "refused a Telegram button press" in caplog.text


def test_the_group_confirms_the_full_quantity_arrived(app, client, bot_api, cast):
    match = ops.claim_need(cast.need, cast.donor, 4, offer=cast.offer)
    ops.approve(match, cast.coordinator)
    ops.ship(match, cast.donor, "by courier")
    db.session.commit()
    post_update(
        client,
        bot_api,
        press_update(22, signing.sign(cast.organizer.id, "confirm_delivery", match.id)),
    )
    match = reload(match)
    assert match.status == MatchStatus.DELIVERED
    assert match.quantity_received == 4 and not match.discrepancy
    assert answers(bot_api) == ["Thank you: the full quantity is confirmed as received."]
    assert_invariant()


def test_still_needed_keep_open_changes_nothing_and_close_ends_the_need(app, client, bot_api, cast):
    need_id = cast.need.id
    events = audit_count()
    post_update(
        client, bot_api, press_update(22, signing.sign(cast.organizer.id, "keep_open", need_id))
    )
    assert answers(bot_api) == ["The need stays open."]
    assert audit_count() == events

    post_update(
        client, bot_api, press_update(22, signing.sign(cast.organizer.id, "close_need", need_id))
    )
    assert answers(bot_api)[-1] == "The need is closed as received elsewhere."
    need = db.session.get(Need, need_id)
    db.session.refresh(need)
    assert need.status == NeedStatus.CANCELLED
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "need.cancel", AuditEvent.object_id == need_id
        )
    )
    assert event.actor_id == cast.organizer.id
    assert event.after["reason"] == "Received elsewhere"
    # Its pending match ended with it.
    assert db.session.get(Match, cast.match.id).status == MatchStatus.CANCELLED

    post_update(
        client, bot_api, press_update(22, signing.sign(cast.organizer.id, "close_need", need_id))
    )
    assert answers(bot_api)[-1] == "This need is not open any more."


def test_a_donor_may_not_close_the_groups_need(app, client, bot_api, cast):
    data = signing.sign(cast.donor.id, "close_need", cast.need.id)
    post_update(client, bot_api, press_update(11, data))
    assert reload(cast.need).status == NeedStatus.OPEN
    assert answers(bot_api) == ["Only members of the group that posted the need may answer this."]


@pytest.mark.parametrize(
    "path, header, status",
    [
        (HOOK, None, 403),
        (HOOK, "", 403),
        (HOOK, "wrong-secret", 403),
        (HOOK, WEBHOOK_SECRET[:-1], 403),
        # The secret in the path alone (it would land in access logs) opens nothing.
        (f"{HOOK}/{WEBHOOK_SECRET}", None, 404),
        (f"{HOOK}/{WEBHOOK_SECRET}", WEBHOOK_SECRET, 404),
        (HOOK, WEBHOOK_SECRET, 200),
    ],
)
def test_the_webhook_wants_its_secret_header(app, client, bot_api, cast, path, header, status):
    headers = {"X-Telegram-Bot-Api-Secret-Token": header} if header is not None else {}
    data = signing.sign(cast.donor.id, "accept", cast.match.id)
    response = post_update(client, bot_api, press_update(11, data), path=path, headers=headers)
    assert response.status_code == status
    assert (reload(cast.match).donor_accepted_at is not None) == (status == 200)


def test_the_webhook_refuses_a_body_that_is_not_an_update(app, client, bot_api):
    response = client.post(
        HOOK, data="{not json", content_type="application/json", headers=HOOK_HEADERS
    )
    assert response.status_code == 400
    response = client.post(HOOK, json=[1, 2], headers=HOOK_HEADERS)
    assert response.status_code == 400


def test_the_webhook_acknowledges_what_it_ignores(app, client, bot_api):
    for update in (
        {"edited_message": {"message_id": 1, "chat": {"id": 5, "type": "private"}}},
        {"message": {"message_id": 1, "chat": {"id": 5, "type": "private"}}},  # no text
        text_update(5, "/start something", chat_type="group"),
        {"callback_query": {"id": 7}},  # malformed
    ):
        assert post_update(client, bot_api, update).status_code == 200
    assert bot_api.calls_of("sendMessage") == []


def test_set_webhook_tells_telegram_the_address_and_the_secret(app, bot_api):
    result = app.test_cli_runner().invoke(args=["telegram", "set-webhook"])
    assert result.exit_code == 0, result.output
    assert WEBHOOK_SECRET not in result.output
    (call,) = bot_api.calls_of("setWebhook")
    assert call["url"] == f"https://aidmatch.example.org{HOOK}"  # no secret in the path
    assert call["secret_token"] == WEBHOOK_SECRET
    assert call["allowed_updates"] == ["message", "callback_query"]
    result = app.test_cli_runner().invoke(args=["telegram", "delete-webhook"])
    assert result.exit_code == 0 and bot_api.calls_of("deleteWebhook")
