"""Issue 13, "Safety of the people served": a notification is read on a lock screen, by
Telegram's servers and by mail servers. Every kind of notification, made by the code that
makes it in production (tests/notification_story.py), goes to a real SMTP server, to a fake
Telegram Bot API, to the inbox page and to the API; none carries a point, a delivery note, a
contact, a title, a description or a date, and the settlement only to who may see the need.

Coverage comes first: a kind added to notify/kinds.py without a path here fails this test,
which names it.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from flask_babel import force_locale
from markupsafe import escape
from sqlalchemy import select

from aidmatch.extensions import db
from aidmatch.jobs.queue import drain
from aidmatch.notify.kinds import KINDS
from aidmatch.notify.messages import render
from aidmatch.notify.models import Channel, Delivery, DeliveryStatus, Notification
from aidmatch.places.labels import oblast_label
from aidmatch.privacy.policy import Viewer
from aidmatch.telegram.channel import text_of
from tests.factories import PASSWORD
from tests.fake_telegram import FakeTelegram, telegram_app
from tests.notice_helpers import ALLOWED_PARAMS
from tests.notification_story import (
    NEED_POINT,
    OBLAST,
    OFFER_POINT,
    OUTSIDER_POINT,
    SECRET_WORDS,
    SETTLEMENT,
    SETTLEMENT_UK,
    Story,
    ask_resets,
    build,
    run,
)
from tests.smtp_server import mail_settings, smtp_fixture  # noqa: F401 (smtp)

URL = re.compile(r"https?://\S+")
# Left out of the search: its digits are a time stamp and random numbers, not words of ours.
TIME_OF_DAY = re.compile(r"T\d{2}:\d{2}:\d{2}(\.\d+)?")
MESSAGE_ID = re.compile(r"^Message-ID:.*$", re.IGNORECASE | re.MULTILINE)
# A date or a time in any form a message could write it (checked where no timestamp belongs).
DATE_LIKE = re.compile(
    r"\d{4}-\d{2}-\d{2}|\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b|\b\d{1,2}:\d{2}\b|\b(19|20)\d{2}\b"
)


@pytest.fixture
def bot_api():
    with FakeTelegram.running() as fake:
        yield fake


@pytest.fixture
def app(database_url, smtp, bot_api):
    """E-mail to the test's SMTP server, Telegram to the fake Bot API."""
    yield from telegram_app(database_url, bot_api, **mail_settings(smtp.port))


def coordinate_forms(lat: float, lon: float) -> set[str]:
    """A point as a message could write it: 2 to 6 decimals, rounded or cut, point or comma."""
    forms = set()
    for value in (lat, lon):
        for decimals in range(2, 7):
            rounded = f"{value:.{decimals}f}"
            cut = str(value)[: len(rounded)]
            forms |= {rounded, cut, rounded.replace(".", ","), cut.replace(".", ",")}
    return forms


def date_forms(moments: list[datetime]) -> set[str]:
    """These moments' days (in UTC and in Kyiv) as ISO dates and as en, uk and de write them;
    not today's, yesterday's or tomorrow's: the inbox and the API date each notification."""
    today = datetime.now(UTC).date()
    days = set()
    for moment in moments:
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        days |= {moment.astimezone(UTC).date(), moment.astimezone(ZoneInfo("Europe/Kyiv")).date()}
    forms = set()
    for day in sorted(d for d in days if abs((d - today).days) > 1):
        forms |= {day.isoformat(), f"{day.day:02d}.{day.month:02d}.{day.year}"}
        for locale in ("en", "uk", "de"):
            forms |= {format_date(day, style, locale=locale) for style in ("short", "medium")}
            forms.add(format_date(day, "long", locale=locale))
    return forms


def leaks(text: str, forbidden: set[str]) -> list[str]:
    """The forbidden forms found in text, leaving out the times of day of its ISO timestamps
    (the API's fields, the pages' <time datetime>): their seconds and microseconds
    ("10:32:49.881") can spell a coordinate's digits ("49.88") by chance. Days stay
    (date_forms)."""
    text = TIME_OF_DAY.sub("T", text)
    return sorted(s for s in forbidden if s in text)


def words_of(text: str) -> str:
    """A message's words without its links (a token may hold any characters)."""
    return URL.sub(" ", text)


def visible(markup: str) -> str:
    """The text an HTML part shows (its style attributes hold numbers of their own)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


def subject(received) -> str:
    """The Subject header as read (a long encoded one is folded onto a second line)."""
    return " ".join(str(received.message["Subject"]).split())


def notes_of(user) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)))


def sent(note: Notification, channel: Channel) -> bool:
    return any(d.channel == channel and d.status == DeliveryStatus.SENT for d in note.deliveries)


def assert_every_kind_went_everywhere_it_may(story: Story, smtp, bot_api) -> list[Notification]:
    notes = list(db.session.scalars(select(Notification).order_by(Notification.id)))
    written = {n.kind for n in notes}
    missing = sorted(set(KINDS) - written)
    assert written == set(KINDS), f"no path of this test makes these kinds: {missing}"
    unsent = [d for d in db.session.scalars(select(Delivery)) if d.status != DeliveryStatus.SENT]
    assert not unsent, [(d.notification.kind, d.channel, d.last_error) for d in unsent]
    # A reminder among several for one person goes to the inbox only (quiet): a summary of
    # them all goes to e-mail and Telegram (notify/summary.py).
    summed_up = {spec.follows for spec in KINDS.values() if spec.follows}
    for note in notes:  # everyone can be reached everywhere and switched everything on
        spec = KINDS[note.kind]
        expected = {Channel.EMAIL, Channel.TELEGRAM} if spec.optional else {Channel.EMAIL}
        channels = {d.channel for d in note.deliveries}
        quiet = not channels and note.kind in summed_up and note.inbox
        assert channels == expected or quiet, (note.kind, note.deliveries)
        assert note.inbox == spec.inbox, note.kind
        assert set(note.params) <= ALLOWED_PARAMS, (note.kind, note.params)
    for name, spec in KINDS.items():
        of_kind = [n for n in notes if n.kind == name]
        assert any(sent(n, Channel.EMAIL) for n in of_kind), name
        assert any(sent(n, Channel.TELEGRAM) for n in of_kind) == spec.optional, name

    # What the servers received is exactly what the deliveries say, in each one's language.
    people = {user.id: user for user in story.people}
    mails, chats = Counter(), Counter()
    for note in notes:
        user = people[note.user_id]
        message = render(note, str(user.language))
        if sent(note, Channel.EMAIL):
            mails[(user.email, message.subject)] += 1
        if sent(note, Channel.TELEGRAM):
            with force_locale(str(user.language)):
                text = text_of(message, KINDS[note.kind].replies)
            chats[(user.telegram_chat_id, text)] += 1
    assert Counter((r.rcpt_tos[0], subject(r)) for r in smtp.received) == mails
    assert all(len(r.rcpt_tos) == 1 for r in smtp.received)
    calls = bot_api.calls_of("sendMessage")
    assert Counter((c["chat_id"], c["text"]) for c in calls) == chats
    return notes


def sees_the_need(story: Story, user) -> bool:
    return Viewer(user).sees_row(story.need, sensitive=True)


def place_words(story: Story, user) -> tuple[set[str], str]:
    """What may not be named to this user (the settlement, if the user may not see the need),
    and the oblast as the user's language writes it."""
    with force_locale(str(user.language)):
        oblast = oblast_label(OBLAST)
    hidden = set() if sees_the_need(story, user) else {SETTLEMENT, SETTLEMENT_UK}
    return hidden, oblast


def forbidden_everywhere(story: Story) -> set[str]:
    points = [NEED_POINT, OFFER_POINT, OUTSIDER_POINT]
    points.append((story.need.public_lat, story.need.public_lon))
    forms = set(SECRET_WORDS) | date_forms(story.times)
    for lat, lon in points:
        forms |= coordinate_forms(lat, lon)
    return forms


def assert_nothing_private_by_email(story: Story, smtp, forbidden: set[str]) -> None:
    by_address = {user.email: user for user in story.people}
    settlement_told = set()
    for received in smtp.received:
        user = by_address[received.rcpt_tos[0]]
        hidden, oblast = place_words(story, user)
        everything = MESSAGE_ID.sub("", received.everything())
        assert not leaks(everything, forbidden | hidden), (
            user.email,
            leaks(everything, forbidden | hidden),
        )
        text = received.part("text/plain")
        shown = visible(received.part("text/html"))
        for body in (text, shown, subject(received)):
            assert not DATE_LIKE.search(words_of(body)), (user.email, body)
            assert "°" not in body
        if oblast in text and (SETTLEMENT in text or SETTLEMENT_UK in text):
            settlement_told.add(user.id)
    # The settlement is named where it may be: to the group (in Ukrainian) and the donor.
    assert {story.organizer.id, story.donor.id} <= settlement_told
    assert story.outsider.id not in settlement_told


def assert_nothing_private_on_telegram(story: Story, bot_api, forbidden: set[str]) -> None:
    everything = bot_api.everything_sent()
    assert not leaks(everything, forbidden), leaks(everything, forbidden)
    by_chat = {user.telegram_chat_id: user for user in story.people}
    oblast_only = 0
    for call in bot_api.calls_of("sendMessage"):
        user = by_chat[call["chat_id"]]
        hidden, oblast = place_words(story, user)
        assert not leaks(str(call), hidden), (user.email, call["text"])
        assert not DATE_LIKE.search(words_of(call["text"])), call["text"]
        oblast_only += user is story.outsider and oblast in call["text"]
    assert oblast_only >= 2  # the outsider was told of the need twice, by its oblast alone


def assert_nothing_private_in_the_inbox(app, story: Story, api_client, forbidden) -> None:
    listed = set()
    for user in story.people:
        hidden, oblast = place_words(story, user)
        expected = {n.id: n for n in notes_of(user) if n.inbox}
        body = api_client(user).get("/notifications", query_string={"per_page": 200}).get_json()
        assert {item["id"] for item in body["items"]} == set(expected), user.email
        listed |= {item["kind"] for item in body["items"]}
        answer = str(body)
        assert not leaks(answer, forbidden | hidden), (
            user.email,
            leaks(answer, forbidden | hidden),
        )
        for item in body["items"]:
            for words in (item["text"], item["subject"]):
                assert not DATE_LIKE.search(words), (user.email, words)

        browser = app.test_client()
        login = browser.post("/login", data={"email": user.email, "password": PASSWORD})
        assert login.status_code == 302
        pages = max(1, -(-len(expected) // 20))
        shown = "".join(
            browser.get(f"/notifications?page={n}").get_data(as_text=True)
            for n in range(1, pages + 1)
        )
        assert not leaks(shown, forbidden | hidden), (user.email, leaks(shown, forbidden | hidden))
        for item in body["items"]:
            assert str(escape(item["text"])) in shown, (user.email, item["text"])
        if user is story.organizer:
            assert SETTLEMENT_UK in shown  # the group reads where its need is
        if user is story.outsider:
            assert oblast in shown
    assert listed == {name for name, spec in KINDS.items() if spec.inbox}


def test_every_kind_on_every_channel_names_no_point_note_contact_title_or_date(
    app, smtp, bot_api, api_client
):
    story = build()
    run(story)
    ask_resets(app, story)
    drain(app)

    # Who may see the sensitive need: its group, verified organizations and staff. Every
    # recipient the production paths tell about it may; only the outsider, a donor of an
    # unverified organization reached through the verb beneath the run, may not (see
    # notification_story.run): to it the settlement is never named, only the oblast.
    assert [sees_the_need(story, u) for u in story.people] == [True] * 6 + [False]
    notes = assert_every_kind_went_everywhere_it_may(story, smtp, bot_api)
    assert {n.user_id for n in notes} == {u.id for u in story.people}

    forbidden = forbidden_everywhere(story)
    assert story.need.needed_by.isoformat() in forbidden  # and every match's deadlines
    assert_nothing_private_by_email(story, smtp, forbidden)
    assert_nothing_private_on_telegram(story, bot_api, forbidden)
    assert_nothing_private_in_the_inbox(app, story, api_client, forbidden)


def test_the_checks_find_what_they_look_for():
    """The forms searched for: a point in every precision, a day in every language."""
    assert {"48.123457", "48.12346", "48,12", "37.654", "37,654321"} <= coordinate_forms(
        *NEED_POINT
    )
    day = datetime.now(UTC) + timedelta(days=20)
    forms = date_forms([day])
    assert day.date().isoformat() in forms
    assert format_date(day.date(), "long", locale="de") in forms
    assert not date_forms([datetime.now(UTC)])
    assert DATE_LIKE.search("due 17.05.2031") and DATE_LIKE.search("at 14:05")
    assert DATE_LIKE.search("bis 2031")
    assert not DATE_LIKE.search("10 pcs of Generators in Zorianivka, Donetsk Oblast")
