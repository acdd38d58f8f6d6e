"""Forms that forgive a bad connection, in a real browser (Playwright driving Debian's
chromium, as tests/browser/test_scenario.py does):

(a) with JavaScript off, an organizer posts a need by typing the place's name (and picks one
    when the name fits several places);
(b) with JavaScript on, the sending of the new-need form fails on the network; opened again,
    the form holds what was typed (and the same one-time token); once sent, it opens empty;
(c) a double click on "Post the need", and the same form posted again, make one need.

Forms carry real CSRF tokens. Skipped only when /usr/bin/chromium is missing.
"""

from __future__ import annotations

import contextlib
import re

import pytest
from sqlalchemy import select

from tests.browser.live import browser, log_in, new_page, serve_test_app
from tests.browser.marks import SLOW_BROWSER

pytestmark = SLOW_BROWSER

PLACE = "Zoriane Offlinove"  # made by the fixture, so the typed name fits exactly one place
TWINS = "Dvoinia Offlinova"  # two places of this name, in two oblasts
TITLE = "Турнікети для евакуаційної групи"
NOTE = "Дзвонити Оксані біля школи"
SUBMIT = "main form[method=post] button[type=submit]"


@pytest.fixture(scope="module")
def chromium():
    with browser() as b:
        yield b


@pytest.fixture
def live(database_url):
    """The app on this test's database behind a real server, with an organizer of a verified
    frontline group and the places the tests type. Yields (base URL, app, organizer email)."""
    from aidmatch.extensions import db
    from aidmatch.permissions import Role
    from tests.conftest import make_test_app
    from tests.factories import make_user
    from tests.posting_factories import make_place

    app = make_test_app(database_url, WTF_CSRF_ENABLED=True, SERVER_NAME=None)
    with app.app_context():
        organizer = make_user(Role.ORGANIZER, language="en")
        make_place(PLACE, lat=49.61, lon=37.41)
        make_place(TWINS, oblast="Kharkiv Oblast", raion="Izium Raion", lat=49.2, lon=37.3)
        make_place(TWINS, oblast="Donetsk Oblast", raion="Kramatorsk Raion", lat=48.7, lon=37.5)
        db.session.commit()
        email = organizer.email
        db.session.remove()
    with serve_test_app(app) as base_url:
        yield base_url, app, email


def _fill_need(page, place: str = PLACE) -> None:
    page.fill("input[name=title]", TITLE)
    page.fill("textarea[name=description]", "CAT Gen 7")
    page.select_option("select[name=category]", "tourniquets")
    page.fill("input[name=quantity]", "12")
    page.select_option("select[name=urgency]", "critical")
    page.fill("input[name=place_name]", place)
    page.fill("textarea[name=delivery_note]", NOTE)


def _needs(app) -> list:
    """(id, title, place name, quantity, idempotency key) of every need, oldest first."""
    from aidmatch.extensions import db
    from aidmatch.needs.models import Need
    from aidmatch.places.models import Place

    with app.app_context():
        try:
            return db.session.execute(
                select(Need.id, Need.title, Place.name, Need.quantity, Need.idempotency_key)
                .join(Place, Place.id == Need.place_id)
                .order_by(Need.id)
            ).all()
        finally:
            db.session.remove()


def _send_cut_off(page, url_glob: str, handler) -> None:
    """Send the page's form while `handler` routes its POST (dropped, or its answer lost): the
    browser lands on its own error page, a failed navigation Playwright may also raise."""
    from playwright.sync_api import Error

    page.route(url_glob, handler)
    try:
        with contextlib.suppress(Error):  # what matters is what the tests find afterwards
            page.click(SUBMIT)
            page.wait_for_url(re.compile(r"^chrome-error://"))
    finally:
        page.unroute(url_glob)


def _drafts(page) -> list[str]:
    """The keys of the drafts static/js/drafts.js keeps on this device."""
    return page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('aidmatch:draft:'))")


def test_without_javascript_a_need_is_posted_by_typing_the_place(live, chromium):
    from playwright.sync_api import expect

    base_url, app, email = live
    page = new_page(chromium, base_url, javascript=False)
    log_in(page, email)
    page.goto("/needs/new")
    _fill_need(page)
    page.click(SUBMIT)
    page.wait_for_url(re.compile(r"/needs/\d+$"))
    expect(page.locator("p.flash-ok")).to_contain_text("posted")
    expect(page.locator("h1")).to_have_text(TITLE)
    [need] = _needs(app)
    assert (need.title, need.name, need.quantity) == (TITLE, PLACE, 12)

    # A name that fits two places: the form comes back with what was typed, asking which.
    page.goto("/needs/new")
    _fill_need(page, place=TWINS)
    page.click(SUBMIT)
    expect(page.locator("fieldset.chooser")).to_be_visible()
    expect(page.locator("input[name=title]")).to_have_value(TITLE)
    expect(page.locator("textarea[name=delivery_note]")).to_have_value(NOTE)
    page.locator("fieldset.chooser label", has_text="Donetsk Oblast").click()
    page.click(SUBMIT)
    page.wait_for_url(re.compile(r"/needs/\d+$"))
    assert [n.name for n in _needs(app)] == [PLACE, TWINS]


def test_a_form_that_failed_to_send_keeps_what_was_typed(live, chromium):
    from playwright.sync_api import expect

    base_url, app, email = live
    page = new_page(chromium, base_url)
    log_in(page, email)
    page.goto("/needs/new")
    token = page.locator("input[name=idempotency_key]").input_value()
    _fill_need(page)
    page.locator("input[name=place_name]").press("Escape")  # no suggestion chosen

    # The connection drops as the form is sent: the browser shows its own error page.
    def drop_posts(route):
        if route.request.method == "POST":
            route.abort("internetdisconnected")
        else:
            route.continue_()

    _send_cut_off(page, "**/needs/new", drop_posts)
    assert _needs(app) == []

    # Opened again: filled in with what was typed, and the first sending's token.
    page.goto("/needs/new")
    expect(page.locator("[data-draft-note=restored]")).to_be_visible()
    expect(page.locator("input[name=title]")).to_have_value(TITLE)
    expect(page.locator("select[name=category]")).to_have_value("tourniquets")
    expect(page.locator("input[name=quantity]")).to_have_value("12")
    expect(page.locator("select[name=urgency]")).to_have_value("critical")
    expect(page.locator("input[name=place_name]")).to_have_value(PLACE)
    expect(page.locator("textarea[name=delivery_note]")).to_have_value(NOTE)
    expect(page.locator("input[name=idempotency_key]")).to_have_value(token)
    expect(page.locator("#quantity-unit")).not_to_have_text(re.compile("unit shown"))

    page.click(SUBMIT)
    page.wait_for_url(re.compile(r"/needs/\d+$"))
    [need] = _needs(app)
    assert (need.title, need.name, need.idempotency_key) == (TITLE, PLACE, token)
    need_path = re.search(r"/needs/\d+$", page.url).group(0)

    # Sent: the page it led to deleted the draft (the note, the place), and the form is empty.
    expect(page.locator("body")).to_have_attribute("data-drafts-sent", re.compile("need:new"))
    assert _drafts(page) == []
    page.goto("/needs/new")
    expect(page.locator("input[name=title]")).to_have_value("")
    expect(page.locator("textarea[name=delivery_note]")).to_have_value("")
    expect(page.locator("[data-draft-note=restored]")).to_be_hidden()
    expect(page.locator("[data-draft-note=posted]")).to_be_hidden()

    # The next one reaches the server but its answer is lost on the way back: opened again,
    # the form is empty and says where what was typed went (once).
    _fill_need(page)
    page.locator("input[name=place_name]").press("Escape")

    def lose_answers(route):
        if route.request.method == "POST":
            route.fetch()  # the server takes it ...
            route.abort("internetdisconnected")  # ... and the browser never hears back
        else:
            route.continue_()

    _send_cut_off(page, "**/needs/new", lose_answers)
    _first, second = _needs(app)
    page.goto("/needs/new")
    expect(page.locator("input[name=title]")).to_have_value("")
    expect(page.locator("[data-draft-note=posted] a")).to_have_attribute(
        "href", f"/needs/{second.id}"
    )
    assert _drafts(page) == []
    page.reload()
    expect(page.locator("[data-draft-note=posted]")).to_be_hidden()

    # An edit that failed to send is kept the same way, and dropped once saved.
    page.goto(need_path + "/edit")
    page.fill("input[name=quantity]", "15")
    _send_cut_off(page, "**/edit", drop_posts)
    page.goto(need_path + "/edit")
    expect(page.locator("input[name=quantity]")).to_have_value("15")
    page.click(SUBMIT)
    page.wait_for_url(re.compile(re.escape(need_path) + "$"))
    assert _needs(app)[0].quantity == 15
    assert _drafts(page) == []
    page.goto(need_path + "/edit")
    expect(page.locator("[data-draft-note=restored]")).to_be_hidden()
    expect(page.locator("input[name=quantity]")).to_have_value("15")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_double_click_and_a_second_post_make_one_need(live, chromium, javascript):
    from playwright.sync_api import expect

    base_url, app, email = live
    page = new_page(chromium, base_url, javascript=javascript)
    log_in(page, email)
    page.goto("/needs/new")
    _fill_need(page)
    form = {
        name: page.locator(f"main form[method=post] input[name={name}]").input_value()
        for name in ("csrf_token", "idempotency_key", "title", "quantity", "place_name")
    }
    page.dblclick(SUBMIT)
    # Without JavaScript the second click may send the form again and abort the first
    # navigation: wait for where the page ends up, not for one navigation.
    expect(page).to_have_url(re.compile(r"/needs/\d+$"))
    expect(page.locator("h1")).to_have_text(TITLE)
    assert len(_needs(app)) == 1

    # The same form sent once more (a retry after no answer came): it leads to the same need.
    again = page.context.request.post(
        "/needs/new",
        form={**form, "category": "tourniquets", "urgency": "critical", "delivery_note": NOTE},
    )
    assert again.ok and again.url == page.url
    assert "already sent" in again.text()
    [need] = _needs(app)
    assert need.idempotency_key == form["idempotency_key"]
