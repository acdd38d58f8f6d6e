"""A phone that keeps working offline, in a real browser (Playwright driving Debian's
chromium, the service worker of static/js/sw.js and the outbox of static/js/offline.js):

(a) an organizer opens the new-need form, loses the connection, fills it in and sends it: it is
    kept on the phone, in "Waiting to send" and in the header's badge; the page reloaded
    without connection (the worker's copy) still lists it; back online it is sent once, even
    when the sending is started twice and the same request is sent again;
(b) the same for the receipt of a shipped match: 18 of 20 confirmed once.

Forms carry real CSRF tokens (each sending fetches a fresh one). Skipped only when
/usr/bin/chromium is missing.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.browser.live import browser, log_in, new_page, serve_test_app
from tests.browser.marks import SLOW_BROWSER

pytestmark = SLOW_BROWSER

PLACE = "Zoriane Offlinove"
TITLE = "Генератор для пункту обігріву"
SUBMIT = "main form[data-offline] button[type=submit]"


@pytest.fixture(scope="module")
def chromium():
    with browser() as b:
        yield b


@pytest.fixture
def live(database_url):
    """The app behind a real server, a match of 20 shipped to a verified group, and a place to
    type. Yields (base URL, app, the group's organizer's email, the match's id)."""
    from aidmatch.extensions import db
    from tests.conftest import make_test_app
    from tests.posting_factories import make_place
    from tests.test_offline import shipped_match

    app = make_test_app(database_url, WTF_CSRF_ENABLED=True, SERVER_NAME=None)
    with app.app_context():
        make_place(PLACE, lat=49.61, lon=37.41)
        match, organizer = shipped_match(quantity=20)
        db.session.commit()
        email, match_id = organizer.email, match.id
        db.session.remove()
    with serve_test_app(app) as base_url:
        yield base_url, app, email, match_id


def _query(app, statement):
    from aidmatch.extensions import db

    with app.app_context():
        try:
            return db.session.execute(statement).all()
        finally:
            db.session.remove()


# Wait in the page (a string predicate of wait_for_function is eval'd, which the CSP forbids).
KEPT = """async (path) => {
  for (let i = 0; i < 200; i++) {
    const cache = await caches.open("aidmatch-pages");
    if (await cache.match(location.origin + path)) return true;
    await new Promise((r) => setTimeout(r, 25));  // the worker puts its copy after the answer
  }
  return false;
}"""


def _kept_by_the_worker(page, path: str) -> None:
    """Open path once the service worker controls the page, so that it keeps its copy."""
    page.goto(path)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # a page loaded once the worker is active goes through it: it is kept
    assert page.evaluate("!!navigator.serviceWorker.controller")
    assert page.evaluate(KEPT, path)


def _posts(page, path_end: str) -> list:
    """The POST requests of the page to a URL ending in path_end, as they are sent."""
    seen = []
    page.on(
        "request",
        lambda r: seen.append(r) if r.method == "POST" and r.url.endswith(path_end) else None,
    )
    return seen


def _back_online_and_sent(page) -> None:
    """Connection again: the online event sends what waits, and so does a second trigger."""
    from playwright.sync_api import expect

    page.context.set_offline(False)
    page.evaluate("() => Promise.all([window.aidmatchOutbox.send(), window.aidmatchOutbox.send()])")
    expect(page.locator("[data-outbox-sent]")).to_have_count(1)
    expect(page.locator("[data-outbox-id]")).to_have_count(0)
    expect(page.locator("[data-outbox-badge]")).to_be_hidden()


def test_a_need_typed_offline_is_kept_across_a_reload_and_sent_once(live, chromium):
    from playwright.sync_api import expect

    from aidmatch.needs.models import Need

    base_url, app, email, _match_id = live
    page = new_page(chromium, base_url)
    log_in(page, email)
    _kept_by_the_worker(page, "/needs/new")
    posts = _posts(page, "/needs/new")

    page.context.set_offline(True)
    page.fill("input[name=title]", TITLE)
    page.select_option("select[name=category]", "tourniquets")
    page.fill("input[name=quantity]", "2")
    page.fill("input[name=place_name]", PLACE)
    page.locator("input[name=place_name]").press("Escape")
    page.click(SUBMIT)
    item = page.locator("[data-outbox-id]")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(TITLE)
    expect(page.locator("[data-outbox-badge] [data-outbox-count]")).to_have_text("1")
    expect(page.locator("input[name=title]")).to_have_value("")  # ready for the next one
    mine = select(Need.id).where(Need.title == TITLE)
    assert posts == [] and _query(app, mine) == []

    # Reloaded without connection: the worker's copy of the page, and the item still waits.
    page.reload()
    expect(page.locator("[data-outbox-id]")).to_contain_text(TITLE)
    expect(page.locator("[data-outbox-badge]")).to_be_visible()
    assert posts == []

    _back_online_and_sent(page)
    expect(page.locator("[data-outbox-sent] a")).to_have_attribute(
        "href", re.compile(r"/needs/\d+$")
    )
    [(need_id, key)] = _query(app, select(Need.id, Need.idempotency_key).where(Need.title == TITLE))
    assert len(posts) == 1

    # The very same request once more (an answer lost on the way): the server takes it once.
    again = page.context.request.post(
        base_url + "/needs/new",
        data=posts[0].post_data,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert again.ok and again.url.endswith(f"/needs/{need_id}")
    assert len(_query(app, mine)) == 1

    # After a reload nothing waits, and nothing is offered again as a draft.
    page.reload()
    expect(page.locator("[data-outbox]")).to_be_hidden()
    expect(page.locator("input[name=title]")).to_have_value("")
    assert key in posts[0].post_data


def test_a_receipt_typed_offline_confirms_the_match_once(live, chromium):
    from playwright.sync_api import expect

    from aidmatch.audit.models import AuditEvent
    from aidmatch.matches.models import Match

    base_url, app, email, match_id = live
    page = new_page(chromium, base_url)
    log_in(page, email)
    path = f"/matches/{match_id}"
    _kept_by_the_worker(page, path)
    posts = _posts(page, "/confirm-delivery")

    page.context.set_offline(True)
    page.fill("input[name=quantity_received]", "18")
    page.fill("textarea[name=note]", "Два ящики пошкоджені")
    page.click(SUBMIT)
    expect(page.locator("[data-outbox-id]")).to_contain_text(f"#{match_id}")
    expect(page.locator("[data-outbox-badge] [data-outbox-count]")).to_have_text("1")

    page.reload()
    expect(page.locator("[data-outbox-id]")).to_have_count(1)
    assert posts == []

    _back_online_and_sent(page)
    [(status, received)] = _query(
        app, select(Match.status, Match.quantity_received).where(Match.id == match_id)
    )
    assert (status.value, received) == ("delivered", 18)
    assert len(posts) == 1

    again = page.context.request.post(
        base_url + f"{path}/confirm-delivery",
        data=posts[0].post_data,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert again.ok and "This receipt had already arrived." in again.text()
    confirmations = _query(
        app,
        select(func.count()).where(
            AuditEvent.action == "match.confirm_delivery", AuditEvent.object_id == match_id
        ),
    )
    assert confirmations == [(1,)]


def test_a_refused_item_stays_with_the_servers_words_and_goes_back_into_its_form(live, chromium):
    from playwright.sync_api import expect

    from aidmatch.needs.models import Need

    base_url, app, email, _match_id = live
    page = new_page(chromium, base_url)
    log_in(page, email)
    _kept_by_the_worker(page, "/needs/new")
    page.context.set_offline(True)
    page.fill("input[name=title]", TITLE)  # no quantity, no place: the server will refuse
    page.click(SUBMIT)
    expect(page.locator("[data-outbox-id]")).to_have_count(1)

    page.context.set_offline(False)
    page.evaluate("() => window.aidmatchOutbox.send()")
    item = page.locator("[data-outbox-id]")
    expect(item.locator(".error")).to_contain_text("Not taken:")
    expect(item.locator("[data-item-edit]")).to_be_visible()
    expect(page.locator("[data-outbox-badge] [data-outbox-count]")).to_have_text("1")
    assert _query(app, select(Need.id).where(Need.title == TITLE)) == []

    # Edit: back into the form, out of the list; corrected and sent as usual, it posts once.
    item.locator("[data-item-edit]").click()
    expect(page.locator("input[name=title]")).to_have_value(TITLE)
    expect(page.locator("[data-outbox-id]")).to_have_count(0)
    page.select_option("select[name=category]", "tourniquets")
    page.fill("input[name=quantity]", "3")
    page.fill("input[name=place_name]", PLACE)
    page.locator("input[name=place_name]").press("Escape")
    page.click(SUBMIT)
    page.wait_for_url(re.compile(r"/needs/\d+$"))
    assert len(_query(app, select(Need.id).where(Need.title == TITLE))) == 1
