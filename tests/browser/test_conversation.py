"""A match's conversation in a real browser on a phone, without JavaScript: the organizer
writes to the donor (real CSRF tokens), an empty message comes back with its error, a long
word wraps instead of widening the page, and the donor reads the message and reports it."""

from __future__ import annotations

import re

import pytest

from tests.browser.live import browser, log_in, serve_test_app
from tests.browser.marks import SLOW_BROWSER

pytestmark = SLOW_BROWSER

LONG_WORD = "Tourniquets" * 40  # 440 characters without a space


@pytest.fixture
def live(database_url):
    """A pending proposal between a group and a donor."""
    from aidmatch.extensions import db
    from aidmatch.matches import operations as ops
    from aidmatch.matches.models import MatchSource
    from tests.conftest import make_test_app
    from tests.match_helpers import make_cast

    app = make_test_app(database_url, WTF_CSRF_ENABLED=True, SERVER_NAME=None)
    with app.app_context():
        cast = make_cast()
        match = ops.reserve(
            cast.need, cast.offer, cast.donor_org, 5, source=MatchSource.ENGINE, distance_km=1.0
        )
        db.session.commit()
        people = {"organizer": cast.organizer.email, "donor": cast.donor.email, "match": match.id}
        db.session.remove()
    with serve_test_app(app) as base_url:
        yield base_url, people


def phone(b, base_url: str):
    context = b.new_context(
        base_url=base_url, viewport={"width": 390, "height": 800}, java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    return context.new_page()


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_a_conversation_on_a_phone_without_javascript(live):
    from playwright.sync_api import expect

    base_url, people = live
    match_page = f"/matches/{people['match']}"
    with browser() as b:
        organizer, donor = phone(b, base_url), phone(b, base_url)
        log_in(organizer, people["organizer"])
        organizer.goto(match_page)
        write = organizer.locator("form#write")
        write.locator("button[type=submit]").click()
        expect(organizer.locator("form#write .error")).to_contain_text("Write a message first")

        organizer.locator("form#write textarea[name=body]").fill(f"Hello {LONG_WORD}")
        organizer.locator("form#write button[type=submit]").click()
        organizer.wait_for_url(re.compile(rf"{match_page}#conversation$"))
        expect(organizer.locator("#conversation")).to_contain_text("Hello")
        assert page_width(organizer) <= 390

        log_in(donor, people["donor"])
        donor.goto(match_page)
        message = donor.locator("#conversation li").first
        expect(message).to_contain_text(LONG_WORD)
        assert page_width(donor) <= 390
        message.locator("summary").click()
        message.locator("input[name=reason]").fill("not about the aid")
        message.locator("button[type=submit]").click()
        expect(donor.locator("p.flash-ok")).to_contain_text("the coordinators are told")
        expect(donor.locator("#conversation li").first).to_contain_text(
            "reported to the coordinators"
        )
