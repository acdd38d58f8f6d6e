"""A reminder job sends each recipient at most one message per kind beyond the inbox
(notify/summary.py): one thing as before, with its buttons; several each in the inbox and one
summary with their count; the coordinators' copies of the pending reminders in the inbox only.
Against the fake Bot API: what reaches Telegram is what a person would get on their phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.jobs.queue import drain
from aidmatch.matches import operations as ops
from aidmatch.matches.reminders import remind_pending, remind_ship
from aidmatch.needs.reminders import ask_still_needed, remind_unpledged
from aidmatch.notify.kinds import KINDS
from aidmatch.notify.mail_message import compose
from aidmatch.notify.models import Channel, Delivery, Notification, Preference
from aidmatch.notify.preferences import choosable
from aidmatch.notify.unsubscribe import read_unsubscribe_token
from tests.fake_telegram import PUBLIC_URL, FakeTelegram, telegram_app
from tests.notice_helpers import make_world, mark, notes, propose
from tests.posting_factories import make_need

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


@pytest.fixture
def bot_api():
    with FakeTelegram.running() as fake:
        yield fake


@pytest.fixture
def app(database_url, bot_api):
    yield from telegram_app(database_url, bot_api)


def linked(world):
    """Everyone of the world on Telegram: chat id 1000 + user id."""
    for user in [*world.group, *world.donors, *world.reviewers]:
        user.telegram_chat_id = 1000 + user.id
    db.session.flush()


def settle(app, bot_api) -> int:
    """Commit, send what waits, and say how many messages were sent so far."""
    db.session.commit()
    drain(app)
    return len(bot_api.calls_of("sendMessage"))


def sent_to(bot_api, since: int = 0) -> dict[int, list[dict]]:
    """The messages sent after the first `since`, by user id."""
    found: dict[int, list[dict]] = {}
    for call in bot_api.calls_of("sendMessage")[since:]:
        found.setdefault(int(call["chat_id"]) - 1000, []).append(call)
    return found


def delivered(start: int) -> dict[int, list[str]]:
    """The kinds of the notifications written after start that go beyond the inbox, by user."""
    rows = db.session.execute(
        select(Notification.user_id, Notification.kind)
        .join(Delivery)
        .where(Notification.id > start)
        .order_by(Notification.id)
    )
    found: dict[int, list[str]] = {}
    for user_id, kind in rows:
        found.setdefault(user_id, []).append(kind)
    return found


def taps(call: dict) -> set[str]:
    rows = call.get("reply_markup", {}).get("inline_keyboard", [])
    return {b["text"] for row in rows for b in row if "callback_data" in b}


def test_many_pending_matches_send_each_donor_one_message_and_the_coordinators_none(app, bot_api):
    world = make_world()
    linked(world)
    donor, donor2 = world.donors
    db.session.add(
        Preference(
            user_id=donor2.id, kind="reminder_pending", channel=Channel.TELEGRAM, enabled=False
        )
    )
    matches = [propose(world, 3) for _ in range(3)]  # neither consent: donors and reviewers
    calls = settle(app, bot_api)
    now = min(m.expires_at for m in matches) - 11 * HOUR
    start = mark()
    remind_pending(now)
    db.session.commit()
    drain(app)

    # Each match is in every donor's and reviewer's inbox, told once.
    for user in [*world.donors, *world.reviewers]:
        mine = [n for n in notes(start, "reminder_pending") if n.user_id == user.id]
        assert sorted(n.match_id for n in mine) == sorted(m.id for m in matches)
        assert all(n.inbox for n in mine)
    # Beyond the inbox: one summary for each donor, nothing for the coordinators.
    assert delivered(start) == {donor.id: ["reminders_pending"]}  # donor2 turned Telegram off
    (summary,) = [n for n in notes(start, "reminders_pending") if n.user_id == donor.id]
    assert summary.params == {"count": 3} and not summary.inbox
    (message,) = sent_to(bot_api, calls)[donor.id]
    assert message["text"].startswith(
        "Matches that expire in 12 hours unless you answer: 3. Please answer them."
    )
    assert message["text"].endswith(f"{PUBLIC_URL}/matches")
    assert taps(message) == set()
    assert set(sent_to(bot_api, calls)) == {donor.id}

    # Each was told once: the next hour tells nobody.
    start = mark()
    assert remind_pending(now + HOUR) == 0

    # More time for one match: reminded once more before its new deadline, alone this time,
    # so as a match with its buttons.
    ops.request_extension(matches[0], donor)
    calls = settle(app, bot_api)
    remind_pending(matches[0].expires_at - 11 * HOUR)
    db.session.commit()
    drain(app)
    assert delivered(start) == {donor.id: ["reminder_pending"]}
    (message,) = sent_to(bot_api, calls)[donor.id]
    assert "expires in 12 hours unless you answer" in message["text"]
    assert taps(message) == {"Accept", "Decline"}
    assert set(sent_to(bot_api, calls)) == {donor.id}


def test_several_confirmed_matches_not_shipped_are_one_message(app, bot_api):
    world = make_world()
    linked(world)
    cast = world.cast
    late = [
        ops.approve(ops.claim_need(cast.need, cast.donor, 2, offer=cast.offer), world.admin)
        for _ in range(2)
    ]
    calls = settle(app, bot_api)
    begun, deadline = late[0].confirmed_at, late[0].expires_at
    start = mark()
    remind_ship(begun + (deadline - begun) * 0.75 + HOUR)
    db.session.commit()
    drain(app)
    assert {(n.user_id, n.match_id) for n in notes(start, "reminder_ship")} == {
        (user.id, match.id) for user in world.donors for match in late
    }
    assert delivered(start) == {user.id: ["reminders_ship"] for user in world.donors}
    for (message,) in sent_to(bot_api, calls).values():
        assert message["text"].startswith(
            "Confirmed matches not marked shipped, most of their time passed: 2."
        )


def test_needs_due_with_nothing_pledged_are_one_message_each_a_single_one_as_before(app, bot_api):
    due = (utcnow().date() + 2 * DAY).isoformat()
    world = make_world(needed_by=due)
    linked(world)
    cast = world.cast
    second = make_need(cast.group, cast.organizer, needed_by=due)
    other_group = make_world(needed_by=due)  # its own organizer, the same coordinators
    calls = settle(app, bot_api)
    start = mark()
    remind_unpledged()
    db.session.commit()
    drain(app)

    everyone = delivered(start)
    for user in (cast.organizer, world.organizer2):  # two needs of their own
        assert everyone[user.id] == ["reminders_unpledged"]
        assert {n.need_id for n in notes(start, "reminder_unpledged") if n.user_id == user.id} == {
            cast.need.id,
            second.id,
        }
    for user in [*world.reviewers, world.party_coordinator]:  # three needs, as staff
        assert everyone[user.id] == ["reminders_unpledged"]
    (message,) = sent_to(bot_api, calls)[cast.organizer.id]
    assert message["text"].startswith("Needs due in a few days with nothing pledged yet: 2.")
    assert message["text"].endswith(f"{PUBLIC_URL}/needs")
    lone = other_group.cast.organizer  # one need: told of it as before (not on Telegram)
    assert [(n.kind, n.need_id) for n in notes(start) if n.user_id == lone.id] == [
        ("reminder_unpledged", other_group.cast.need.id)
    ]
    assert remind_unpledged(utcnow() + HOUR) == 0


def test_still_needed_asks_once_for_several_needs_and_never_for_one_fully_pledged(app, bot_api):
    world = make_world()
    linked(world)
    cast = world.cast
    second = make_need(cast.group, cast.organizer, quantity=5)
    pledged = make_need(cast.group, cast.organizer, quantity=4)
    ops.claim_need(pledged, cast.donor, 4, offer=cast.offer)
    assert pledged.pledged == pledged.quantity
    calls = settle(app, bot_api)
    start = mark()
    ask_still_needed(utcnow() + 7 * DAY + HOUR)
    db.session.commit()
    drain(app)

    asked = {(n.user_id, n.need_id) for n in notes(start, "still_needed")}
    assert asked == {(u.id, need.id) for u in world.group for need in (cast.need, second)}
    assert delivered(start) == {u.id: ["reminders_still_needed"] for u in world.group}
    (message,) = sent_to(bot_api, calls)[cast.organizer.id]
    assert message["text"].startswith("Needs of yours posted a week or more ago: 2.")
    assert message["text"].endswith(f"{PUBLIC_URL}/needs?mine=y")


def test_a_summary_follows_the_choices_of_the_kind_it_sums_up(app):
    world = make_world()
    summaries = [spec.name for spec in KINDS.values() if spec.follows]
    assert summaries == [
        "reminders_pending",
        "reminders_ship",
        "reminders_unpledged",
        "reminders_still_needed",
    ]
    for spec in map(KINDS.get, summaries):
        assert KINDS[spec.follows].group == spec.group and not spec.inbox
    assert not set(summaries) & {spec.name for spec in choosable(world.admin)}

    # Its e-mail's one-click link turns off the kind it sums up.
    from aidmatch.notify.outbox import tell

    (note,) = tell([world.cast.donor], "reminders_pending", params={"count": 4})
    email = compose(note, world.cast.donor)
    token = email.extra_headers["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1]
    assert read_unsubscribe_token(token) == (world.cast.donor, "reminder_pending")
    assert "A match expires soon without your answer" in email.body
