"""Forms that forgive a bad connection, in a real browser (Playwright driving Debian's
chromium, as tests/browser/test_scenario.py does):

(a) with JavaScript off, an organizer posts a need by typing the place's name (and picks one
    when the name fits several places);
(b) with JavaScript on, the sending of the new-need form is lost on the network while the
    phone believes it is online: it waits in the outbox and is sent once (its one-time token),
    also when the server took it but the answer was lost; an edit that fails to send is kept
    as a draft;
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


def _drop_posts(route):
    """The connection drops as the form is sent."""
    if route.request.method == "POST":
        route.abort("internetdisconnected")
    else:
        route.continue_()


def _lose_answers(route):
    """The form reaches the server, but its answer is lost on the way back."""
    if route.request.method == "POST":
        route.fetch()  # the server takes it ...
        route.abort("internetdisconnected")  # ... and the browser never hears back
    else:
        route.continue_()


def test_a_form_lost_on_the_network_while_online_waits_and_is_sent_once(live, chromium):
    from playwright.sync_api import expect

    base_url, app, email = live
    page = new_page(chromium, base_url)
    log_in(page, email)
    page.goto("/needs/new")
    token = page.locator("input[name=idempotency_key]").input_value()
    _fill_need(page)
    page.locator("input[name=place_name]").press("Escape")  # no suggestion chosen

    # The phone believes it is online, but the sending is lost on the network: the form goes
    # into "Waiting to send" (not the browser's error page), ready for the next one.
    page.route("**/needs/new", _drop_posts)
    page.click(SUBMIT)
    item = page.locator("[data-outbox-id]")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(TITLE)
    expect(item).to_contain_text("Waiting for a connection.")
    expect(page.locator("[data-outbox-badge] [data-outbox-count]")).to_have_text("1")
    assert page.evaluate("navigator.onLine") and page.url == base_url + "/needs/new"
    expect(page.locator("input[name=title]")).to_have_value("")
    assert _drafts(page) == [] and _needs(app) == []

    # The network works again: "Send now" sends it once, with the first sending's token.
    page.unroute_all(behavior="wait")
    page.click("[data-outbox-send]")
    sent = page.locator("[data-outbox-sent] a")
    expect(sent).to_have_count(1)
    expect(item).to_have_count(0)
    [need] = _needs(app)
    assert (need.title, need.name, need.idempotency_key) == (TITLE, PLACE, token)
    expect(sent).to_have_attribute("href", f"{base_url}/needs/{need.id}")

    # The next one reaches the server but its answer is lost: it waits on the phone, and sent
    # again it is recognised by its token: still one need.
    _fill_need(page)
    page.locator("input[name=place_name]").press("Escape")
    page.route("**/needs/new", _lose_answers)
    page.click(SUBMIT)
    expect(item).to_have_count(1)
    _first, second = _needs(app)
    # A sending may be in the handler right now (the page's own retry, offline.js): the route
    # goes once it is done, or its abort would find the request already let through.
    page.unroute_all(behavior="wait")
    page.evaluate("() => window.aidmatchOutbox.send()")
    expect(sent).to_have_count(2)
    expect(item).to_have_count(0)
    expect(sent.nth(1)).to_have_attribute("href", f"{base_url}/needs/{second.id}")
    assert len(_needs(app)) == 2

    # Sent while the network works: the page it leads to, with its message, and no draft.
    _fill_need(page)
    page.locator("input[name=place_name]").press("Escape")
    page.click(SUBMIT)
    page.wait_for_url(re.compile(r"/needs/\d+$"))
    expect(page.locator("p.flash-ok")).to_contain_text("posted")
    expect(page.locator("body")).to_have_attribute("data-drafts-sent", re.compile("need:new"))
    assert len(_needs(app)) == 3 and _drafts(page) == []
    need_path = re.search(r"/needs/\d+$", page.url).group(0)

    # An edit (a form of no outbox) that failed to send lands on the browser's error page;
    # opened again, it holds what was typed (drafts.js), dropped once saved.
    page.goto(need_path + "/edit")
    page.fill("input[name=quantity]", "15")
    _send_cut_off(page, "**/edit", _drop_posts)
    page.goto(need_path + "/edit")
    expect(page.locator("input[name=quantity]")).to_have_value("15")
    page.click(SUBMIT)
    page.wait_for_url(re.compile(re.escape(need_path) + "$"))
    assert _needs(app)[2].quantity == 15
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
