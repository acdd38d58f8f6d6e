"""Proof of delivery in a real browser: the donor makes and prints the slip; a second
browser with no account opens its receipt link on a phone-sized screen (390 px, no
JavaScript) and signs for 18 of 20 with a photo carrying GPS EXIF; the receipt arrives once,
the group sees the shortfall and the photo (without its metadata); the link then refuses a
second use."""

from __future__ import annotations

import io
import re

import pytest

from tests.browser.live import browser, log_in, serve_test_app
from tests.browser.marks import SLOW_BROWSER

pytestmark = SLOW_BROWSER


@pytest.fixture
def live(database_url):
    """A confirmed match of 20 between a group and a donor."""
    from aidmatch.extensions import db
    from aidmatch.matches import operations as ops
    from tests.conftest import make_test_app
    from tests.match_helpers import make_cast

    app = make_test_app(database_url, WTF_CSRF_ENABLED=True, SERVER_NAME=None)
    with app.app_context():
        cast = make_cast()
        match = ops.claim_need(cast.need, cast.donor, 20, offer=cast.offer)
        ops.approve(match, cast.coordinator)
        db.session.commit()
        people = {"organizer": cast.organizer.email, "donor": cast.donor.email, "match": match.id}
        db.session.remove()
    with serve_test_app(app) as base_url:
        yield app, base_url, people


def gps_jpeg() -> bytes:
    from PIL import Image
    from PIL.TiffImagePlugin import IFDRational as R

    exif = Image.Exif()
    exif[0x8825] = {
        1: "N",
        2: (R(49, 1), R(42, 1), R(4321, 100)),
        3: "E",
        4: (R(37, 1), R(36, 1), R(1234, 100)),
    }
    out = io.BytesIO()
    Image.new("RGB", (2000, 1500), (10, 120, 40)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_a_receipt_signed_on_a_phone_without_an_account(live):
    from playwright.sync_api import expect

    app, base_url, people = live
    match_id = people["match"]
    with browser() as b:
        donor_context = b.new_context(base_url=base_url, java_script_enabled=False)
        donor = donor_context.new_page()
        log_in(donor, people["donor"])
        donor.goto(f"/matches/{match_id}/slip")
        donor.locator("main form button[type=submit]").click()
        expect(donor.locator(".slip-qr svg")).to_be_visible()
        link = donor.locator("main a[href*='/r/']").get_attribute("href")
        path = re.sub(r"^https?://[^/]+", "", link)
        donor.emulate_media(media="print")
        expect(donor.locator("header").first).to_be_hidden()

        phone_context = b.new_context(
            base_url=base_url, viewport={"width": 390, "height": 800}, java_script_enabled=False
        )
        phone = phone_context.new_page()
        phone.goto(path)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        phone.check("input[name=condition][value=less]")
        phone.fill("input[name=quantity_received]", "18")
        phone.fill("textarea[name=note]", "Two boxes missing")
        phone.set_input_files(
            "input[name=photos]",
            files=[{"name": "proof.jpg", "mimeType": "image/jpeg", "buffer": gps_jpeg()}],
        )
        phone.fill("input[name=signer_name]", "Petro Kovalenko")
        phone.locator("main form button[type=submit]").click()
        expect(phone.locator("h1")).to_contain_text("the receipt is signed")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        # The link is used up: opened again, it refuses (410) and names nothing.
        response = phone.goto(path)
        assert response.status == 410
        expect(phone.locator("h1")).to_contain_text("can no longer be used")

        group = b.new_context(base_url=base_url, java_script_enabled=False).new_page()
        log_in(group, people["organizer"])
        group.goto(f"/matches/{match_id}")
        expect(group.locator("main")).to_contain_text("Petro Kovalenko")
        expect(group.locator("main")).to_contain_text("18 received")
        photo = group.locator("ul.photos img").first
        expect(photo).to_be_visible()
        photo_url = photo.get_attribute("src")
        body = group.request.get(photo_url).body()
        assert body[:2] == b"\xff\xd8" and b"Exif" not in body

    with app.app_context():
        from sqlalchemy import func, select

        from aidmatch.extensions import db
        from aidmatch.receipts.models import Receipt

        assert db.session.scalar(select(func.count()).select_from(Receipt)) == 1
        db.session.remove()
