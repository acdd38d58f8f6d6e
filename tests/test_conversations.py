"""Conversations on a match and on an offer: the two sides and the coordinators write to each
other (pages and API), strangers learn nothing (404), the other side is told through its
channels, a reply in Telegram lands in the thread, a message can be reported to the
coordinators, every message and report is in the audit trail, and a refused message keeps
what was typed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from aidmatch.audit.models import AuditEvent
from aidmatch.conversations import operations as conv
from aidmatch.conversations.models import BODY_MAX, Message, Thread
from aidmatch.extensions import db
from aidmatch.jobs.queue import drain
from aidmatch.matches import operations as ops
from aidmatch.matches.models import MatchSource
from aidmatch.notify.models import Notification, TelegramMessage
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from aidmatch.refusals import NotAllowed
from tests.factories import PASSWORD, make_org, make_user
from tests.fake_telegram import HOOK, HOOK_HEADERS, FakeTelegram, telegram_app, text_update
from tests.match_helpers import make_cast

HELLO = "Can you bring them on Tuesday morning?"


@pytest.fixture
def cast(app):
    """A pending proposal between a group and a donor; a coordinator; a stranger (a member of
    an unrelated verified donor collective) and an unrelated group's organizer."""
    cast = make_cast()
    cast.match = ops.reserve(
        cast.need, cast.offer, cast.donor_org, 5, source=MatchSource.ENGINE, distance_km=1.0
    )
    cast.stranger = make_user(Role.DONOR, org=make_org(kind=OrgKind.DONOR_COLLECTIVE))
    cast.other_group = make_user(Role.ORGANIZER, org=make_org(kind=OrgKind.FRONTLINE_GROUP))
    db.session.commit()
    return cast


def notes(user, kind: str) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(Notification.user_id == user.id, Notification.kind == kind)
        )
    )


def audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def bodies() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(Message.body).order_by(Message.id)))


# --- a match's conversation ------------------------------------------------------------------


def test_a_side_writes_on_the_match_page_and_the_other_side_reads_it(app, client, switch, cast):
    page = f"/matches/{cast.match.id}"
    switch(cast.organizer)
    response = client.post(f"{page}/messages", data={"body": f"  {HELLO}  "})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{page}#conversation")
    assert bodies() == [HELLO]

    switch(cast.donor)
    html = client.get(page).get_data(as_text=True)
    assert HELLO in html and 'id="conversation"' in html
    response = client.post(f"{page}/messages", data={"body": "Yes, Tuesday at 9."})
    assert response.status_code == 302

    switch(cast.coordinator)
    html = client.get(page).get_data(as_text=True)
    assert HELLO in html and "Yes, Tuesday at 9." in html
    assert client.post(f"{page}/messages", data={"body": "Noted."}).status_code == 302
    assert bodies() == [HELLO, "Yes, Tuesday at 9.", "Noted."]
    message = db.session.scalar(select(Message).where(Message.body == "Noted."))
    assert message.organization_id is None  # a coordinator writes for no side


def test_a_third_organization_can_neither_read_nor_write(app, client, switch, api_client, cast):
    conv.write_on_match(cast.match, cast.organizer, HELLO)
    db.session.commit()
    page = f"/matches/{cast.match.id}"
    for stranger in (cast.stranger, cast.other_group):
        switch(stranger)
        assert client.get(page).status_code == 404
        assert client.post(f"{page}/messages", data={"body": "hi"}).status_code == 404
        api = api_client(stranger)
        assert api.get(f"/matches/{cast.match.id}/messages").status_code == 404
        response = api.post(f"/matches/{cast.match.id}/messages", json={"body": "hi"})
        assert response.status_code == 404
        assert HELLO not in response.get_data(as_text=True)
    assert bodies() == [HELLO]


def test_the_api_reads_and_writes_as_the_page_does(app, api_client, cast):
    path = f"/matches/{cast.match.id}/messages"
    donor = api_client(cast.donor)
    assert donor.get(path).get_json() == {"items": [], "page": 1, "per_page": 50, "total": 0}
    response = donor.post(path, json={"body": HELLO})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["body"] == HELLO and body["mine"] is True and body["by_coordinator"] is False
    assert body["organization"]["id"] == cast.donor_org.id

    page = api_client(cast.organizer).get(path).get_json()
    assert [m["body"] for m in page["items"]] == [HELLO]
    assert page["items"][0]["mine"] is False
    coordinator = api_client(cast.coordinator)
    assert coordinator.get(path).get_json()["total"] == 1
    assert coordinator.post(path, json={"body": "Noted."}).status_code == 201

    for bad, words in (("   ", "empty message"), ("x" * (BODY_MAX + 1), "at most")):
        response = donor.post(path, json={"body": bad})
        assert response.status_code == 422
        error = response.get_json()["error"]
        assert words in error["fields"]["body"]
    assert donor.post(path, json={}).status_code == 422
    assert bodies() == [HELLO, "Noted."]


@pytest.mark.parametrize(
    "body, words",
    [
        ("   \n ", "Write a message first: an empty message is not sent."),
        ("y" * (BODY_MAX + 5), f"at most {BODY_MAX} characters long; this one has {BODY_MAX + 5}"),
    ],
)
def test_an_empty_or_too_long_message_is_refused_and_the_form_keeps_it(
    app, client, login_as, cast, body, words
):
    login_as(cast.organizer)
    response = client.post(f"/matches/{cast.match.id}/messages", data={"body": body})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert words in html
    if body.strip():
        assert body in html  # the textarea holds what was typed
    assert bodies() == []
    assert db.session.scalar(select(Thread)) is None  # nothing half-made


def test_the_other_side_is_told_and_coordinators_once_they_take_part(app, english, cast):
    conv.write_on_match(cast.match, cast.organizer, HELLO)
    db.session.commit()
    (note,) = notes(cast.donor, "message_on_match")
    assert note.match_id == cast.match.id
    assert note.params["body"] == HELLO
    assert note.params["organization"] == cast.group.name
    assert notes(cast.organizer, "message_on_match") == []  # never the author
    assert notes(cast.coordinator, "message_on_match") == []  # no coordinator takes part yet

    conv.write_on_match(cast.match, cast.coordinator, "Please agree on the time here.")
    db.session.commit()
    assert len(notes(cast.donor, "message_on_match")) == 2
    (told,) = notes(cast.organizer, "message_on_match")
    assert "organization" not in told.params  # a coordinator: each reads it in their language

    conv.write_on_match(cast.match, cast.donor, "Tuesday at 9.")
    db.session.commit()
    assert len(notes(cast.coordinator, "message_on_match")) == 1  # now part of it
    assert len(notes(cast.organizer, "message_on_match")) == 2
    assert [e.after["body"] for e in audit("message.write")] == [
        HELLO,
        "Please agree on the time here.",
        "Tuesday at 9.",
    ]


def test_a_report_tells_the_coordinators_who_see_the_message(app, client, switch, cast):
    message = conv.write_on_match(cast.match, cast.donor, "Send me your phone number now!")
    db.session.commit()
    switch(cast.organizer)
    html = client.get(f"/matches/{cast.match.id}").get_data(as_text=True)
    assert f"/messages/{message.id}/report" in html
    response = client.post(f"/messages/{message.id}/report", data={"reason": "pushy"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Message, message.id).reported_by_id == cast.organizer.id
    (told,) = notes(cast.coordinator, "message_reported")
    assert "body" not in told.params  # the coordinators read it on the site
    assert notes(cast.donor, "message_reported") == []
    (event,) = audit("message.report")
    assert event.actor_id == cast.organizer.id and event.object_id == message.id

    # A second report changes nothing; the author and strangers may not report.
    client.post(f"/messages/{message.id}/report", data={"reason": "again"})
    assert len(audit("message.report")) == 1
    switch(cast.donor)
    client.post(f"/messages/{message.id}/report", data={})
    switch(cast.stranger)
    assert client.post(f"/messages/{message.id}/report", data={}).status_code == 404
    assert client.get("/conversations/reported").status_code == 403
    assert len(audit("message.report")) == 1

    switch(cast.coordinator)
    html = client.get("/conversations/reported").get_data(as_text=True)
    assert "Send me your phone number now!" in html and "pushy" in html


# --- an offer's conversation -----------------------------------------------------------------


def test_an_organizer_asks_the_donor_about_an_offer_and_the_donor_answers(
    app, client, switch, cast
):
    offer_page = f"/offers/{cast.offer.id}"
    switch(cast.organizer)
    assert "Ask the donor a question" in client.get(offer_page).get_data(as_text=True)
    response = client.post(f"{offer_page}/messages", data={"body": "Are they new?"})
    assert response.status_code == 302
    (note,) = notes(cast.donor, "message_on_offer")
    assert note.offer_id == cast.offer.id and note.params["body"] == "Are they new?"

    switch(cast.donor)
    html = client.get(offer_page).get_data(as_text=True)
    thread_url = f"{offer_page}/messages?group={cast.group.id}"
    assert thread_url.replace("&", "&amp;") in html or thread_url in html
    assert "Are they new?" in client.get(thread_url).get_data(as_text=True)
    response = client.post(
        f"{offer_page}/messages", data={"body": "Yes, sealed.", "group": str(cast.group.id)}
    )
    assert response.status_code == 302
    assert len(notes(cast.organizer, "message_on_offer")) == 1
    # The donor cannot start a conversation with a group that did not write.
    other_group = cast.other_group.organization_id
    response = client.post(
        f"{offer_page}/messages", data={"body": "Want some?", "group": str(other_group)}
    )
    assert response.status_code == 404  # there is no such conversation to write on

    for stranger in (cast.stranger, cast.other_group):
        switch(stranger)
        assert "Are they new?" not in client.get(offer_page).get_data(as_text=True)
        response = client.get(thread_url)
        assert "Are they new?" not in response.get_data(as_text=True)
    switch(cast.stranger)
    assert client.get(thread_url).status_code == 404
    switch(cast.coordinator)
    assert "Yes, sealed." in client.get(thread_url).get_data(as_text=True)
    assert bodies() == ["Are they new?", "Yes, sealed."]


def test_an_offer_conversation_keeps_a_refused_message(app, client, login_as, cast):
    login_as(cast.organizer)
    response = client.post(f"/offers/{cast.offer.id}/messages", data={"body": ""})
    assert response.status_code == 422
    assert "Write a message first" in response.get_data(as_text=True)
    assert bodies() == []


# --- a reply in Telegram ---------------------------------------------------------------------


@pytest.fixture
def bot_api():
    with FakeTelegram.running() as fake:
        yield fake


def test_a_reply_in_telegram_lands_in_the_thread(database_url, bot_api):
    for app in telegram_app(database_url, bot_api):
        cast = make_cast()
        cast.match = ops.reserve(
            cast.need, cast.offer, cast.donor_org, 5, source=MatchSource.ENGINE, distance_km=1.0
        )
        cast.donor.telegram_chat_id = 11
        cast.organizer.telegram_chat_id = 22
        db.session.commit()
        conv.write_on_match(cast.match, cast.organizer, HELLO)
        db.session.commit()
        drain(app)
        (sent,) = [c for c in bot_api.calls_of("sendMessage") if c["chat_id"] == 11]
        assert HELLO in sent["text"] and "Reply to this message" in sent["text"]
        remembered = db.session.scalar(select(TelegramMessage))
        assert remembered.chat_id == 11

        update = text_update(11, "Tuesday at 9 works.")
        update["message"]["message_id"] = 500
        update["message"]["reply_to_message"] = {
            "message_id": remembered.message_id,
            "date": 0,
            "chat": {"id": 11, "type": "private"},
        }
        update = {"update_id": bot_api.new_update_id(), **update}
        response = app.test_client().post(HOOK, json=update, headers=HOOK_HEADERS)
        assert response.status_code == 200
        assert bodies() == [HELLO, "Tuesday at 9 works."]
        message = db.session.scalar(select(Message).order_by(Message.id.desc()))
        assert message.author_id == cast.donor.id
        assert message.organization_id == cast.donor_org.id
        answer = bot_api.calls_of("sendMessage")[-1]
        assert answer["chat_id"] == 11 and answer["text"].startswith("Sent:")
        assert len(notes(cast.organizer, "message_on_match")) == 1

        # A reply from another chat to that message id is not the donor's: nothing lands.
        cast.stranger = make_user(Role.DONOR, telegram_chat_id=33)
        db.session.commit()
        update = text_update(33, "I am not part of it")
        update["message"]["reply_to_message"] = {"message_id": remembered.message_id}
        update = {"update_id": bot_api.new_update_id(), **update}
        app.test_client().post(HOOK, json=update, headers=HOOK_HEADERS)
        assert bodies() == [HELLO, "Tuesday at 9 works."]


def test_writing_is_rate_limited_per_user_and_a_refusal_is_not_counted(database_url):
    from tests.conftest import make_test_app, running  # an app of its own: its own limit

    with running(make_test_app(database_url, MESSAGE_RATE_LIMIT="2 per minute")) as app:
        cast = make_cast()
        match = ops.reserve(
            cast.need, cast.offer, cast.donor_org, 5, source=MatchSource.ENGINE, distance_km=1.0
        )
        db.session.commit()
        client = app.test_client()
        client.post("/login", data={"email": cast.organizer.email, "password": PASSWORD})
        path = f"/matches/{match.id}/messages"
        assert client.post(path, data={"body": ""}).status_code == 422  # not counted
        assert client.post(path, data={"body": "one"}).status_code == 302
        assert client.post(path, data={"body": "two"}).status_code == 302
        response = client.post(path, data={"body": "three"})
        assert response.status_code == 429
        assert "many messages in a short time" in response.get_data(as_text=True)
        assert bodies() == ["one", "two"]


def test_the_coordinators_home_page_links_the_messages_reported_this_week(
    app, client, login_as, cast
):
    message = conv.write_on_match(cast.match, cast.donor, "Rude words")
    conv.report(message, cast.organizer)
    db.session.commit()
    login_as(cast.coordinator)
    html = client.get("/").get_data(as_text=True)
    assert "1 message was reported in the last 7 days" in html
    assert "/conversations/reported" in html


def test_a_coordinator_answers_an_offer_conversation_but_starts_none(app, english, cast):
    conv.write_on_offer(cast.offer, cast.organizer, "Are they new?")
    conv.write_on_offer(cast.offer, cast.coordinator, "They are.", cast.group.id)
    db.session.commit()
    other = cast.other_group.organization_id
    with pytest.raises(NotAllowed):
        conv.write_on_offer(cast.offer, cast.coordinator, "Want some?", other)
    with pytest.raises(NotAllowed):  # a donor of another collective asks nothing
        conv.write_on_offer(cast.offer, cast.stranger, "Are they new?")
    assert bodies() == ["Are they new?", "They are."]
    assert len(notes(cast.organizer, "message_on_offer")) == 1


def test_replies_in_telegram_spend_the_same_message_budget(database_url, bot_api):
    """MESSAGE_RATE_LIMIT holds for every way of writing: replies in Telegram, each of which
    tells the other side by e-mail and Telegram, cannot flood a thread past it."""
    for app in telegram_app(database_url, bot_api, MESSAGE_RATE_LIMIT="2 per minute"):
        cast = make_cast()
        cast.match = ops.reserve(
            cast.need, cast.offer, cast.donor_org, 5, source=MatchSource.ENGINE, distance_km=1.0
        )
        cast.donor.telegram_chat_id = 11
        db.session.commit()
        conv.write_on_match(cast.match, cast.organizer, HELLO)
        db.session.commit()
        drain(app)
        remembered = db.session.scalar(select(TelegramMessage))
        for n, words in enumerate(("one", "two", "three")):
            update = text_update(11, words)
            update["message"]["message_id"] = 600 + n
            update["message"]["reply_to_message"] = {
                "message_id": remembered.message_id,
                "date": 0,
                "chat": {"id": 11, "type": "private"},
            }
            update = {"update_id": bot_api.new_update_id(), **update}
            response = app.test_client().post(HOOK, json=update, headers=HOOK_HEADERS)
            assert response.status_code == 200
        assert bodies() == [HELLO, "one", "two"]
        answer = bot_api.calls_of("sendMessage")[-1]
        assert answer["chat_id"] == 11 and "many messages" in answer["text"]
