"""The whole story told by a running worker (`flask jobs worker` in its own process), a real
SMTP server and the fake Telegram Bot API: a claim approved, shipped and received through the
pages; a proposal the donor accepts with a Telegram button after a reminder; a proposal that
expires. Who got what, on which channel, in which language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from aidmatch.auth.models import Language
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.jobs.queue import enqueue
from aidmatch.matches.holds import reserve
from aidmatch.matches.models import Match, MatchSource, MatchStatus
from aidmatch.notify.kinds import KINDS
from aidmatch.notify.messages import render
from aidmatch.notify.models import Channel, Delivery, DeliveryStatus, Notification
from tests.factories import PASSWORD
from tests.fake_telegram import (
    BOT_USERNAME,
    HOOK,
    HOOK_HEADERS,
    PUBLIC_URL,
    WEBHOOK_SECRET,
    FakeTelegram,
    press_update,
)
from tests.match_helpers import make_cast
from tests.smtp_server import app_on, mail_settings, smtp_fixture  # noqa: F401
from tests.worker_process import Worker, queue_settings, wait_until

pytestmark = pytest.mark.slow

ORGANIZER_CHAT, DONOR_CHAT = 7001, 7002


def sent_deliveries() -> list[tuple[int, str, str, str]]:
    """(user, channel, kind, status) of every delivery, read in a transaction ended at once."""
    rows = db.session.execute(
        select(Notification.user_id, Delivery.channel, Notification.kind, Delivery.status).join(
            Delivery, Delivery.notification_id == Notification.id
        )
    ).all()
    db.session.rollback()
    return sorted((u, Channel(c).value, k, DeliveryStatus(s).value) for u, c, k, s in rows)


def all_sent() -> bool:
    rows = sent_deliveries()
    return bool(rows) and all(status == "sent" for *_rest, status in rows)


def test_the_whole_story_told_by_a_running_worker(database_url, smtp, tmp_path):
    with FakeTelegram.running() as bot:
        settings = {
            **mail_settings(smtp.port),
            **queue_settings(tmp_path),
            "TELEGRAM_BOT_TOKEN": bot.token,
            "TELEGRAM_BOT_USERNAME": BOT_USERNAME,
            "TELEGRAM_API_BASE": bot.base,
            "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "PUBLIC_URL": PUBLIC_URL,
        }
        with app_on(database_url, **settings) as app:
            cast = make_cast(need_quantity=40, offer_quantity=100)
            organizer, donor, coordinator = cast.organizer, cast.donor, cast.coordinator
            organizer.language, organizer.telegram_chat_id = Language.UK, ORGANIZER_CHAT
            donor.language, donor.telegram_chat_id = Language.DE, DONOR_CHAT
            db.session.flush()
            # Ids are read before each commit: reading an attribute after it would begin a
            # transaction, and on SQLite every transaction holds the write lock the worker needs.
            ids = {"need": cast.need.id, "offer": cast.offer.id}
            db.session.commit()
            client = app.test_client()

            def as_user(user):
                client.post("/logout")
                response = client.post("/login", data={"email": user.email, "password": PASSWORD})
                assert response.status_code == 302
                db.session.rollback()  # SQLite: a transaction left open holds the write lock

            worker = Worker(app, tmp_path, **settings).start()
            try:
                # A claim, approved, shipped and received, through the pages.
                as_user(donor)
                page = client.get(f"/needs/{ids['need']}/claim").get_data(as_text=True)
                key = page.split('name="idempotency_key"')[1].split('value="')[1].split('"')[0]
                db.session.rollback()  # the page's read ends here, as at a request's end
                response = client.post(
                    f"/needs/{ids['need']}/claim",
                    data={"quantity": "10", "offer": str(ids["offer"]), "idempotency_key": key},
                )
                assert response.status_code == 302, response.get_data(as_text=True)
                claimed_id = db.session.scalars(select(Match.id)).one()
                db.session.rollback()
                as_user(coordinator)
                assert client.post(f"/matches/{claimed_id}/approve").status_code == 302
                as_user(donor)
                shipped = client.post(f"/matches/{claimed_id}/ship", data={"note": "NP 2 boxes"})
                assert shipped.status_code == 302
                as_user(organizer)
                received = client.post(
                    f"/matches/{claimed_id}/confirm-delivery", data={"quantity_received": "10"}
                )
                assert received.status_code == 302

                # A proposal near its time: the hourly reminder job, run by the worker, asks
                # the donor on Telegram, who accepts with one tap.
                soon = reserve(cast.need, cast.offer, cast.donor_org, 5, source=MatchSource.ENGINE)
                soon.expires_at = utcnow() + timedelta(hours=6)
                # A proposal past its time: the expiry job, run by the worker, ends it.
                late = reserve(cast.need, cast.offer, cast.donor_org, 3, source=MatchSource.ENGINE)
                late.expires_at = utcnow() - timedelta(minutes=1)
                db.session.flush()
                ids |= {"soon": soon.id, "late": late.id}
                db.session.commit()
                enqueue("matches.remind")
                enqueue("matches.expire")

                def asked_on_telegram():
                    return any(
                        "callback_data" in str(call.get("reply_markup"))
                        and call["chat_id"] == DONOR_CHAT
                        and f"/matches/{ids['soon']}" in call["text"]
                        for call in bot.calls_of("sendMessage")
                    )

                wait_until(asked_on_telegram, "the reminder on Telegram", worker)
                (asking,) = [
                    c
                    for c in bot.calls_of("sendMessage")
                    if c["chat_id"] == DONOR_CHAT and f"/matches/{ids['soon']}" in c["text"]
                ]
                taps = {
                    b["text"]: b["callback_data"]
                    for row in asking["reply_markup"]["inline_keyboard"]
                    for b in row
                    if "callback_data" in b
                }
                with force_locale("de"):
                    from flask_babel import gettext

                    accept = gettext("Accept")
                client.post(
                    HOOK,
                    headers=HOOK_HEADERS,
                    json={
                        "update_id": bot.new_update_id(),
                        **press_update(DONOR_CHAT, taps[accept], "de"),
                    },
                )
                db.session.expire_all()
                assert db.session.get(Match, ids["soon"]).donor_accepted_at is not None
                db.session.rollback()
                assert bot.calls_of("answerCallbackQuery")

                def expired():
                    db.session.expire_all()
                    status = db.session.get(Match, ids["late"]).status
                    db.session.rollback()
                    return status == MatchStatus.EXPIRED

                wait_until(expired, "the late proposal to expire", worker)
                wait_until(all_sent, "every delivery", worker)
            finally:
                worker.stop()

            # Who got what beyond the app: what needs action, on e-mail and Telegram.
            o, d, c = organizer.id, donor.id, coordinator.id
            beyond = {(u, ch, k) for u, ch, k, _s in sent_deliveries()}
            assert beyond == {
                (d, "email", "match_confirmed_ship"),
                (d, "telegram", "match_confirmed_ship"),
                (o, "email", "match_shipped"),
                (o, "telegram", "match_shipped"),
                (d, "email", "reminder_pending"),
                (d, "telegram", "reminder_pending"),
            }
            # And in the app: news and the coordinators' queue too.
            inbox = set(
                db.session.execute(
                    select(Notification.user_id, Notification.kind).where(Notification.inbox)
                ).all()
            )
            assert {
                (o, "match_claimed"),
                (c, "match_to_review"),
                (o, "match_confirmed"),
                (d, "match_delivered"),
                (c, "match_delivered"),
                (o, "match_accepted"),  # the donor's tap on Telegram
                (d, "match_expired"),
                (c, "reminder_pending"),  # the approval is missing too: the inbox and digest
            } <= inbox

            # Each in the recipient's language, with the words the app would show.
            language = {o: "uk", d: "de", c: "en"}
            email_of = {o: organizer.email, d: donor.email, c: coordinator.email}
            chat_of = {o: ORGANIZER_CHAT, d: DONOR_CHAT}
            for note in db.session.scalars(
                select(Notification).where(Notification.deliveries.any())
            ):
                words = render(note, language[note.user_id])
                (mail,) = [
                    m for m in smtp.to(email_of[note.user_id]) if words.text in m.part("text/plain")
                ]
                assert mail.message["Content-Language"] == language[note.user_id]
                assert mail.message["Subject"].strip() == words.subject
                if note.user_id in chat_of:
                    assert [
                        call
                        for call in bot.calls_of("sendMessage")
                        if call["chat_id"] == chat_of[note.user_id] and words.text in call["text"]
                    ]
            with force_locale("de"):
                german = str(KINDS["match_confirmed_ship"].label)
            assert german != str(KINDS["match_confirmed_ship"].label)  # translated
