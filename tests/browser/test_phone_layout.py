"""Every page fits a phone: nothing scrolls sideways, and the header is one row.

Every GET route of the URL map that answers with an HTML page (found by asking for it: a
download, JSON, a redirect or a refusal is no page for that role), its path parameters
filled with ids of this test's objects, is opened as each role (anonymous, frontline group
organizer, donor, coordinator, admin) in Ukrainian, English and German, chosen through the
footer's language switch, at 320 and 390 px wide. A page wider than the screen
(`scrollWidth > innerWidth`) fails the test, which names the page, role, language, width,
how wide the page was and the element that sticks out furthest. On every page the header is
one row (the compact menu folded); on the home page the menu opens with the keyboard and,
open, still fits (and at 1280 px it is a row of links, no button). The forms to post a need, an offer and to register are also measured
with their error messages (sent empty).

The objects carry long words on purpose: a German compound in a title, an e-mail address
and a URL in a description and a contact, a long organization name.

One server, one browser, one context per role (its cookies: the login and the language);
each page is loaded once per language and measured at both widths by resizing the
viewport (the layout is CSS only, so a resize lays it out as a load at that width would).
Skipped in the PostgreSQL run: the markup does not depend on the database.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest

from tests.browser.live import TIMEOUT_MS, browser, log_in, serve_test_app
from tests.browser.marks import MARKUP_ONLY, SLOW_BROWSER

pytestmark = [
    *SLOW_BROWSER,
    MARKUP_ONLY,
]

ROLES = ("anonymous", "organizer", "donor", "coordinator", "admin")
LANGUAGES = ("uk", "en", "de")
WIDTHS = (390, 320)
HEIGHT = 800

# Forms also measured with their error messages (sent empty): the longest words they show.
SENT_EMPTY = {"anonymous": ["/register"], "organizer": ["/needs/new"], "donor": ["/offers/new"]}

LONG_TITLE = "Feldlazarettversorgungsmaterialanforderung: Tourniquets für Evakuierungsteams"
LONG_URL = "https://hilfe.example.org/spendenaktionen/feldlazarett-versorgung/2026/bestellliste-tourniquets-und-verbandsmaterial"
LONG_EMAIL = "versorgungskoordination.charkiw-nordost@hilfsorganisation-beispiel.example.org"


@pytest.fixture
def phone_world(database_url):
    """The app behind a real server with a verified group and donor collective (long names),
    a person of each role, a need and an offer with long words, a confirmed match (contacts
    shown, notifications sent) and a finished matching run. Yields (base_url, emails by
    role, every GET route with its parameters filled)."""
    from PIL import Image

    from aidmatch.auth.reset import make_reset_token
    from aidmatch.db import utcnow
    from aidmatch.extensions import db
    from aidmatch.matches import operations as ops
    from aidmatch.notify.unsubscribe import unsubscribe_token
    from aidmatch.orgs.models import OrgKind
    from aidmatch.permissions import Role
    from aidmatch.photos.models import PhotoPurpose
    from aidmatch.photos.operations import add_photo
    from aidmatch.receipts.operations import link_token, make_link
    from aidmatch.reports.models import FileStatus, ReportFile
    from aidmatch.runs.models import MatchingRun, RunStatus
    from tests.conftest import make_test_app
    from tests.factories import make_org, make_user
    from tests.money_helpers import make_money
    from tests.posting_factories import category, make_need, make_offer

    app = make_test_app(database_url, SERVER_NAME=None, TRANSPARENCY_DELAY_DAYS=0)
    with app.app_context():
        group = make_org(
            "Sanitätsdienstkoordinationsgruppe Медичні волонтери Куп'янська", contact=LONG_EMAIL
        )
        collective = make_org(
            "Hilfsgüterbeschaffungsgemeinschaft Leipzig-Grünau",
            kind=OrgKind.DONOR_COLLECTIVE,
            contact=LONG_URL,
        )
        people = {
            "organizer": make_user(Role.ORGANIZER, org=group),
            "donor": make_user(Role.DONOR, org=collective),
            "coordinator": make_user(Role.COORDINATOR),
            "admin": make_user(Role.ADMIN),
        }
        organizer, donor = people["organizer"], people["donor"]
        need = make_need(
            group,
            organizer,
            title=LONG_TITLE,
            description=f"Bestellliste: {LONG_URL} — Rückfragen an {LONG_EMAIL}",
            delivery_note=f"Übergabe am Schultor, vorher anrufen: {LONG_EMAIL}",
        )
        offer = make_offer(
            collective,
            donor,
            title="Tourniquetspendenlieferung aus Sanitätsmaterialüberschussbeständen",
            description=LONG_URL,
        )
        match = ops.claim_need(need, donor, 5, offer=offer)
        ops.approve(match, people["coordinator"])
        run = MatchingRun(
            started_by_id=people["coordinator"].id,
            parameters={},
            scope="all",
            status=RunStatus.FINISHED,
            started_at=utcnow() - timedelta(minutes=2),
            finished_at=utcnow(),
            seconds=1.5,
            skipped={},
            timings={},
        )
        db.session.add(run)
        # The match's slip (its receipt link, opened without an account) and a photo.
        receipt_token = link_token(make_link(match, people["coordinator"]))
        jpeg = io.BytesIO()
        Image.new("RGB", (1600, 1200)).save(jpeg, "JPEG")
        photo = add_photo(match, jpeg.getvalue(), PhotoPurpose.DELIVERY, donor)
        # A network report's PDF file, made (reports/job.py).
        report = ReportFile(
            requested_by_id=people["admin"].id, period_start=date(2026, 7, 1),
            period_end=date(2026, 9, 30), language="en", status=FileStatus.DONE, progress=100,
            pdf=b"%PDF-1.4\n%%EOF\n",
        )  # fmt: skip
        db.session.add(report)
        money = make_money(need, organizer, donor, people["coordinator"])
        db.session.commit()
        emails = {role: user.email for role, user in people.items()}
        ids = {
            "need_id": [need.id],
            "offer_id": [offer.id],
            "match_id": [match.id],
            "org_id": [group.id, collective.id],
            "run_id": [run.id],
            "user_id": [donor.id],
            "category_id": [category().id],
            "token": [
                make_reset_token(organizer),
                unsubscribe_token(donor, "match_shipped"),
                receipt_token,
            ],
            "photo_id": [photo.id],
            "file_id": [report.id],
            **money,  # pledge_id, report_id, slug
        }
        urls = _urls(app, ids)
        db.session.remove()
    with serve_test_app(app) as base_url:
        yield base_url, emails, urls


def _urls(app, ids: dict[str, list]) -> list[str]:
    """Every GET route of the URL map with each value of its parameters (static files
    aside); a parameter with no value fails here, naming the route."""
    urls, missing = [], []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if any(name not in ids for name in rule.arguments):
            missing.append(rule.rule)
            continue
        found = [rule.rule]
        for name in rule.arguments:
            found = [
                url.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
                for url in found
                for value in ids[name]
            ]
        urls.extend(found)
    assert not missing, f"no test value for a parameter of {missing}: add one to phone_world"
    return sorted(urls)


def _is_page(context, url: str) -> bool:
    """Does this role get an HTML page at url (not a redirect, refusal, file or JSON)?"""
    response = context.request.get(url, max_redirects=0)
    kind = response.headers.get("content-type", "")
    response.dispose()
    return response.status == 200 and kind.startswith("text/html")


def _choose_language(page, language: str) -> None:
    """Switch the language as a person would: the footer's switch (stored in the session,
    and on the account of who is logged in)."""
    page.goto("/")
    page.select_option("#language-switch", language)
    with page.expect_navigation():
        page.click("footer.foot button[type=submit]")
    assert page.locator("html").get_attribute("lang") == language


# What one page looks like at the current width: how wide the document is, the element
# sticking out furthest past the right edge (not counting what scrolls inside a box of its
# own), and whether the header is one row: no taller than its tallest visible child plus its
# own padding and border.
MEASURE = """() => {
  const screen = window.innerWidth;
  const describe = (el) => {
    let name = el.tagName.toLowerCase();
    if (el.id) { name += "#" + el.id; }
    for (const c of el.classList) { name += "." + c; }
    const text = (el.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 50);
    return text ? `${name} "${text}"` : name;
  };
  // Does a box with overflow of its own (a table's scrolling wrapper, .sr-only) that fits
  // the screen clip it? From el's parent up, or from el itself for el's text.
  const clipped = (el, itself) => {
    for (let up = itself ? el : el.parentElement; up && up !== document.body; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (style.overflowX !== "visible" && up.getBoundingClientRect().right <= screen) {
        return true;
      }
    }
    return false;
  };
  let worst = null;
  const consider = (el, box, what, text) => {
    if (box.width === 0 || box.right <= screen + 0.5) { return; }
    if (worst && box.right < worst.right - 0.5) { return; }
    if (clipped(el, text)) { return; }
    // At the same right edge the innermost element says most.
    if (!worst || box.right > worst.right + 0.5 || worst.el.contains(el)) {
      worst = { el, right: box.right, width: box.width, what };
    }
  };
  const width = document.documentElement.scrollWidth;
  if (width > screen) {  // look for the culprit only on a page too wide
    for (const el of document.body.querySelectorAll("*")) {
      consider(el, el.getBoundingClientRect(), describe(el), false);
    }
    // A word longer than its box sticks out of it while the box itself fits: its text.
    const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    for (let node = texts.nextNode(); node; node = texts.nextNode()) {
      if (!node.textContent.trim()) { continue; }
      range.selectNodeContents(node);
      for (const box of range.getClientRects()) {
        const text = node.textContent.trim().slice(0, 50);
        consider(node.parentElement, box, `the text "${text}" in ${describe(node.parentElement)}`,
          true);
      }
    }
  }
  const header = document.querySelector("header.top");
  if (!header) {  // a page of its own (the API's docs): no header to measure
    return { width, screen, widest: worst && worst.what, header: 0, oneRow: 0 };
  }
  const hs = getComputedStyle(header);
  const frame = ["paddingTop", "paddingBottom", "borderTopWidth", "borderBottomWidth"]
    .reduce((sum, key) => sum + parseFloat(hs[key]), 0);
  const tallest = Math.max(...Array.from(header.children).map(
    (child) => child.getBoundingClientRect().height));
  return {
    width,
    screen,
    widest: worst && `${worst.what} (${Math.round(worst.width)} px wide, `
      + `its right edge at ${Math.round(worst.right)} px)`,
    header: Math.round(header.getBoundingClientRect().height),
    oneRow: Math.ceil(tallest + frame + 1),
  };
}"""


def _check(page, where: str, failures: list[str]) -> None:
    seen = page.evaluate(MEASURE)
    if seen["width"] > seen["screen"]:
        failures.append(
            f"{where}: the page is {seen['width']} px wide on a {seen['screen']} px screen;"
            f" widest: {seen['widest']}"
        )
    if seen["header"] > seen["oneRow"]:
        failures.append(
            f"{where}: the header is {seen['header']} px tall, more than one row"
            f" ({seen['oneRow']} px)"
        )


def _check_open_menu(page, where: str, failures: list[str]) -> None:
    """On a phone the menu is folded behind its button; the keyboard opens it (Enter on the
    focused summary), its links show, and the open menu fits the screen too."""
    summary = page.locator("header.top details.menu > summary")
    nav = page.locator("header.top nav")
    if not summary.is_visible() or nav.is_visible():
        failures.append(f"{where}: no folded menu behind a button on a phone")
        return
    summary.focus()
    page.keyboard.press("Enter")
    if not nav.is_visible():
        failures.append(f"{where}: Enter on the menu button did not open the menu")
        return
    seen = page.evaluate(MEASURE)
    if seen["width"] > seen["screen"]:
        failures.append(f"{where} (menu open): {seen['width']} px wide; {seen['widest']}")
    page.keyboard.press("Enter")


def test_no_page_is_wider_than_a_phone(phone_world):
    base_url, emails, urls = phone_world
    failures: list[str] = []
    visited: dict[str, list[str]] = {}
    with browser() as b:
        for role in ROLES:
            context = b.new_context(
                base_url=base_url, viewport={"width": WIDTHS[0], "height": HEIGHT}
            )
            context.set_default_timeout(TIMEOUT_MS)
            context.set_default_navigation_timeout(TIMEOUT_MS)
            page = context.new_page()
            if role != "anonymous":
                log_in(page, emails[role])
            pages = [url for url in urls if _is_page(context, url)]
            visited[role] = pages
            widths = list(WIDTHS)  # the viewport is at widths[0]
            for language in LANGUAGES:
                _choose_language(page, language)
                for url in pages:
                    page.goto(url)
                    states = [url]
                    if url in SENT_EMPTY.get(role, ()):
                        states.append(f"{url} (sent empty)")
                    for state in states:
                        if state != url:
                            page.click("main form[method=post] button[type=submit]")
                            page.wait_for_selector("main .error")
                        # Measure at this width, then the other: the next starts there.
                        for width in widths:
                            if width != widths[0]:
                                page.set_viewport_size({"width": width, "height": HEIGHT})
                            where = f"{state} as {role} in {language} at {width} px"
                            _check(page, where, failures)
                            if url == "/":
                                _check_open_menu(page, where, failures)
                        widths.reverse()
            # On a wide screen the menu is a row of links, no button.
            page.set_viewport_size({"width": 1280, "height": HEIGHT})
            page.goto("/")
            if (
                not page.locator("header.top nav").is_visible()
                or page.locator("header.top details.menu > summary").is_visible()
            ):
                failures.append(f"/ as {role} at 1280 px: the menu is not a row of links")
            context.close()
    pages_seen = {url for pages in visited.values() for url in pages}
    # Each role met its own pages (what _is_page let through is what it should).
    assert {"/", "/transparency", "/login", "/register"} <= set(visited["anonymous"])
    assert {"/needs/new", "/needs", "/matches"} <= set(visited["organizer"])
    assert "/offers/new" in visited["donor"] and "/review" in visited["coordinator"]
    assert "/admin/deliveries" in visited["admin"]
    print(f"\n{len(pages_seen)} pages, {sum(map(len, visited.values()))} by role")
    if failures:
        print("\n".join(failures))
    assert not failures, "Pages that do not fit a phone:\n" + "\n".join(failures)
