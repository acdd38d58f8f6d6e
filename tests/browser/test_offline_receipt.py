"""Proof of delivery without connection, the issue's whole story in a real browser (Playwright
driving Debian's chromium, the service worker of static/js/sw.js and the outbox of
static/js/offline.js):

a donor prints the slip; a phone with no account (390 px wide) opens the link its QR code
encodes, loses the connection, signs for 18 of 20 with a photo carrying GPS EXIF, finds the
receipt in "Waiting to send", reloads (the worker's copy: nothing lost), comes back online;
the receipt arrives exactly once (the same sending again changes nothing); the group's member
sees the shortfall of 2 and the photo, whose bytes carry no EXIF; the link refuses a second
use. Every wait is for a fact of the page, never for time.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.browser.live import TIMEOUT_MS, browser, log_in, new_page
from tests.browser.marks import SLOW_BROWSER
from tests.browser.test_offline_outbox import KEPT
from tests.browser.test_receipt import gps_jpeg, live  # noqa: F401 (live: the fixture)

pytestmark = SLOW_BROWSER

NOTE = "Two boxes missing"
SIGNER = "Petro Kovalenko"

# The fields the outbox keeps of its items, files as what they are (a Blob, and its size).
STORED = """async () => (await window.aidmatchOutbox.items()).map((item) => item.fields.map(
  ([name, value]) => [name, value instanceof Blob ? ["blob", value.size, value.name] : value]))"""


def _count(app, statement) -> int:
    from aidmatch.extensions import db

    with app.app_context():
        try:
            return db.session.scalar(statement)
        finally:
            db.session.remove()


def _qr_of(app, url: str) -> str:
    """The QR code the server draws for this URL (receipts/slip.qr_svg)."""
    from aidmatch.receipts.slip import qr_svg

    with app.app_context():
        return str(qr_svg(url))


def test_a_receipt_signed_offline_on_a_phone_arrives_once(live):  # noqa: F811
    from playwright.sync_api import expect

    from aidmatch.audit.models import AuditEvent
    from aidmatch.photos.models import Photo
    from aidmatch.receipts.models import Receipt

    app, base_url, people = live
    match_id = people["match"]
    with browser() as b:
        # The donor makes and prints the slip; the link is the one its QR code encodes.
        donor = new_page(b, base_url)
        log_in(donor, people["donor"])
        donor.goto(f"/matches/{match_id}/slip")
        donor.locator("main form button[type=submit]").click()
        expect(donor.locator(".slip-qr svg")).to_be_visible()
        link = donor.locator("main a[href*='/r/']").get_attribute("href")
        assert _qr_of(app, link) in donor.request.get(f"/matches/{match_id}/slip").text()
        donor.emulate_media(media="print")
        expect(donor.locator("header").first).to_be_hidden()
        path = re.sub(r"^https?://[^/]+", "", link)

        # A phone with no account opens it once online: the worker keeps the page.
        phone_context = b.new_context(base_url=base_url, viewport={"width": 390, "height": 800})
        phone_context.set_default_timeout(TIMEOUT_MS)
        phone = phone_context.new_page()
        posts = []
        phone.on(
            "request",
            lambda r: posts.append(r) if r.method == "POST" and r.url.endswith(path) else None,
        )
        phone.goto(path)
        assert phone.evaluate(KEPT, path)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390

        # Offline: signed for 18 of 20 with a photo, kept on the phone, photo included.
        phone_context.set_offline(True)
        phone.check("input[name=condition][value=less]")
        phone.fill("input[name=quantity_received]", "18")
        phone.fill("textarea[name=note]", NOTE)
        photo_bytes = gps_jpeg()
        phone.set_input_files(
            "input[name=photos]",
            files=[{"name": "proof.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes}],
        )
        phone.fill("input[name=signer_name]", SIGNER)
        phone.locator("main form[data-offline] button[type=submit]").click()
        item = phone.locator("[data-outbox-id]")
        expect(item).to_have_count(1)
        expect(item).to_contain_text(f"#{match_id}")
        expect(item).to_contain_text("18")
        expect(phone.locator("#outbox h2")).to_have_text("Waiting to send")
        expect(phone.locator("input[name=signer_name]")).to_have_value("")
        assert ["photos", ["blob", len(photo_bytes), "proof.jpg"]] in phone.evaluate(STORED)[0]
        assert posts == [] and _count(app, select(func.count()).select_from(Receipt)) == 0

        # Reloaded without connection: the worker's copy of the page, and nothing is lost.
        phone.reload()
        expect(phone.locator("[data-outbox-id]")).to_have_count(1)
        expect(phone.locator("[data-outbox-id]")).to_contain_text(f"#{match_id}")
        [kept] = phone.evaluate(STORED)
        assert ["photos", ["blob", len(photo_bytes), "proof.jpg"]] in kept
        assert posts == []

        # Back online: sent once, even when the sending is started twice.
        phone_context.set_offline(False)
        phone.evaluate("() => Promise.all([aidmatchOutbox.send(), aidmatchOutbox.send()])")
        expect(phone.locator("[data-outbox-sent]")).to_have_count(1)
        expect(phone.locator("[data-outbox-id]")).to_have_count(0)
        expect(phone.locator("[data-outbox-sent] a")).to_have_attribute(
            "href", re.compile(re.escape(path) + "/signed$")
        )
        assert len(posts) == 1 and "multipart/form-data" in posts[0].headers["content-type"]

        # The very same sending once more (its answer lost on the way, the phone sends what it
        # kept again): where the first led, no error, nothing stored twice.
        fields = {name: value for name, value in kept if name != "photos"}
        # the token as offline.js takes it: from the item's page (the used link's, a 410)
        gone = phone.request.get(base_url + path).text()
        fields["csrf_token"] = re.search(r'name="csrf_token" value="([^"]+)"', gone).group(1)
        fields["photos"] = {"name": "proof.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes}
        again = phone.request.post(base_url + path, multipart=fields)
        assert again.ok and again.url.endswith(path + "/signed")
        assert "Thank you: the receipt is signed." in again.text()
        assert _count(app, select(func.count()).select_from(Receipt)) == 1
        assert _count(app, select(func.count()).select_from(Photo)) == 1
        for action in ("receipt.sign", "match.confirm_by_receipt"):
            assert _count(app, select(func.count()).where(AuditEvent.action == action)) == 1

        # The link now refuses a second use: opened again, and a new receipt sent through it.
        response = phone.goto(path)
        assert response.status == 410
        expect(phone.locator("h1")).to_contain_text("can no longer be used")
        second = phone.request.post(
            base_url + path,
            multipart={
                "csrf_token": fields["csrf_token"],
                "idempotency_key": "a-second-use",
                "condition": "full",
                "quantity_received": "20",
                "signer_name": "Somebody else",
            },
        )
        assert second.status == 410

        # The group's member sees the shortfall and the photo, which carries no metadata.
        group = new_page(b, base_url)
        log_in(group, people["organizer"])
        group.goto(f"/matches/{match_id}")
        main = group.locator("main")
        expect(main).to_contain_text(SIGNER)
        expect(main).to_contain_text("18 received")
        expect(group.locator("[data-shortfall]")).to_have_text("2 short")
        expect(main).to_contain_text(NOTE)
        photo = group.locator("ul.photos img")
        expect(photo).to_have_count(1)
        expect(photo).to_be_visible()
        body = group.request.get(photo.get_attribute("src")).body()
        assert body[:2] == b"\xff\xd8" and b"Exif" not in body
        for part in (b"\x00\x00\x10\xe1\x00\x00\x00\x64", b"\x00\x00\x04\xd2\x00\x00\x00\x64"):
            assert part not in body  # 4321/100 and 1234/100, the GPS seconds as rationals
        assert photo_bytes.find(b"\x00\x00\x10\xe1\x00\x00\x00\x64") > 0  # the source had them
