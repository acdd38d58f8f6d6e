"""The main scenario in a real browser (Playwright driving Debian's chromium).

An organizer registers a frontline group in Ukrainian; a coordinator verifies it; the
organizer posts a need (title in Cyrillic, place chosen through the autocomplete); a donor
using German finds it on the map (in a cluster with another group's need at the same coarse
point) and follows its marker's popup to it, finds it in the list too and claims part of it;
the coordinator approves; the donor ships; the organizer confirms receipt; the public
transparency page shows the delivery.

Forms carry real CSRF tokens (WTF_CSRF_ENABLED=True). Skipped only when /usr/bin/chromium
is missing; .ci/run installs it.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.live import browser, log_in, new_page, serve_test_app
from tests.browser.map_clusters import open_cluster_with_click, wait_until_map_is_still
from tests.browser.marks import SLOW_BROWSER

pytestmark = SLOW_BROWSER

ORG_NAME = "Медики Куп'янська"
NEED_TITLE = "Турнікети для евакуаційної групи"
ORGANIZER_EMAIL = "organizer@example.org"
ORGANIZER_PASSWORD = "кілька слів для пароля"
PLACE_TYPED = "Харків"
OTHER_TITLE = "Павербанки для укриття"


@pytest.fixture
def live(database_url):
    """The app on this test's database behind a real server, with the coordinator, a
    donor (German interface, verified donor collective) and another group's need in
    Kharkiv (the place the organizer will choose) already there."""
    from aidmatch.extensions import db
    from aidmatch.orgs.models import OrgKind
    from aidmatch.permissions import Role
    from aidmatch.places.search import search
    from tests.conftest import make_test_app
    from tests.factories import make_org, make_user
    from tests.posting_factories import make_need

    # The transparency page publishes a delivery after a delay (tests/test_transparency.py):
    # here without one, so that step 8 sees this test's delivery counted.
    app = make_test_app(
        database_url, WTF_CSRF_ENABLED=True, SERVER_NAME=None, TRANSPARENCY_DELAY_DAYS=0
    )
    with app.app_context():
        coordinator = make_user(Role.COORDINATOR)
        donor_org = make_org("Hilfe aus Leipzig", kind=OrgKind.DONOR_COLLECTIVE)
        donor = make_user(Role.DONOR, org=donor_org, language="de")
        neighbours = make_org("Волонтери Салтівки")
        kharkiv = search(PLACE_TYPED)[0]  # the autocomplete's first suggestion
        make_need(neighbours, place=kharkiv, title=OTHER_TITLE, category="power-banks")
        db.session.commit()
        people = {
            "coordinator": coordinator.email,
            "donor": donor.email,
            "place": (kharkiv.id, kharkiv.name_uk),  # as a Ukrainian page names it
        }
        db.session.remove()
    with serve_test_app(app) as base_url:
        yield base_url, people


def _expect_ok_flash(page) -> None:
    from playwright.sync_api import expect

    expect(page.locator("p.flash-ok")).to_be_visible()


def _open_marker(page, title: str) -> None:
    """On /map, open the popup of the marker titled `title`. Both needs stand at one coarse
    point, so they start as one cluster: click it and wait until it has spread out (no guess
    at time: see map_clusters), until the marker is on the map; then open the marker with the
    keyboard (focus, Enter), which does not depend on where it stands on a loaded machine (a
    click can land as a spread-out cluster folds back, and then opens nothing). The base layer
    is drawn first, so nothing is added to the map between the steps."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.wait_for_selector("#map.map-based")
    page.wait_for_selector("#map .leaflet-marker-icon")
    wait_until_map_is_still(page)
    marker = page.locator("#map").get_by_title(title, exact=True)
    popup = page.locator(".leaflet-popup-content a", has_text=title)
    for _attempt in range(3):
        for _ in range(4):  # one cluster here; each pass opens one level of clusters
            if marker.count():
                break
            clusters = page.locator("#map .marker-cluster")
            assert clusters.count(), f"no marker {title!r} and no cluster on the map"
            open_cluster_with_click(page, clusters.first)
        marker.focus()
        page.keyboard.press("Enter")
        try:
            popup.wait_for(state="visible", timeout=5000)
            return
        except PlaywrightTimeout:
            wait_until_map_is_still(page)
    seen = page.evaluate(
        """() => ({markers: [...document.querySelectorAll('#map .leaflet-marker-icon')]
                     .map((m) => m.title || m.className),
                   popups: document.querySelectorAll('.leaflet-popup').length,
                   focused: document.activeElement && document.activeElement.outerHTML})"""
    )
    raise AssertionError(f"the popup of {title!r} never opened: {seen}")


def test_need_posted_claimed_approved_shipped_delivered(live):
    from playwright.sync_api import expect

    base_url, people = live
    with browser() as b:
        organizer = new_page(b, base_url, "uk-UA")
        coordinator = new_page(b, base_url, "en-US")
        donor = new_page(b, base_url, "en-US")  # the donor's own setting (de) wins once logged in

        # 1. The organizer registers a new frontline group, in Ukrainian.
        organizer.goto("/register")
        expect(organizer.locator("html")).to_have_attribute("lang", "uk")
        organizer.fill("input[name=email]", ORGANIZER_EMAIL)
        organizer.fill("input[name=display_name]", "Оксана")
        organizer.fill("input[name=password]", ORGANIZER_PASSWORD)
        organizer.fill("input[name=password_confirm]", ORGANIZER_PASSWORD)
        organizer.select_option("select[name=language]", "uk")
        organizer.check("input[name=mode][value=new]")
        organizer.fill("input[name=org_name]", ORG_NAME)
        organizer.select_option("select[name=org_kind]", "frontline_group")
        organizer.fill("textarea[name=org_contact]", "Signal +380 50 123 4567")
        organizer.click("form[action$='/register'] button[type=submit]")
        # Registration answers alike whether the address was new or not (nobody learns who
        # has an account): the login page, with the address filled in, says so.
        organizer.wait_for_selector("form[action$='/login'] input[name=password]")
        _expect_ok_flash(organizer)
        expect(organizer.locator("input[name=email]")).to_have_value(ORGANIZER_EMAIL)
        expect(organizer.locator("html")).to_have_attribute("lang", "uk")
        log_in(organizer, ORGANIZER_EMAIL, ORGANIZER_PASSWORD)
        expect(organizer.locator("html")).to_have_attribute("lang", "uk")

        # 2. A coordinator verifies the new organization, from the directory's waiting ones,
        # saying why and how it was checked.
        log_in(coordinator, people["coordinator"])
        coordinator.goto("/orgs/review")
        coordinator.locator("table.orgs a", has_text=ORG_NAME).click()
        coordinator.fill("textarea[name=verify-reason]", "Known to the Kharkiv hub")
        coordinator.fill("textarea[name=verify-note]", "Phone call with the organizer")
        coordinator.click("form[action$='/verify'] button[type=submit]")
        _expect_ok_flash(coordinator)
        coordinator.goto("/orgs/review")
        expect(coordinator.locator("table.orgs a", has_text=ORG_NAME)).to_have_count(0)

        # 3. The organizer posts a need in Ukrainian, choosing the place by typing.
        organizer.goto("/needs/new")
        organizer.fill("input[name=title]", NEED_TITLE)
        organizer.fill("textarea[name=description]", "CAT Gen 7, щонайменше 10 штук.")
        organizer.select_option("select[name=category]", index=1)
        organizer.fill("input[name=quantity]", "10")
        organizer.select_option("select[name=urgency]", "high")
        organizer.locator("input[name=place_name]").press_sequentially(PLACE_TYPED, delay=20)
        # A list shown for a shorter prefix may still be up for a moment (the lookups of a
        # slow typist): wait until the first suggestion is the place this test means.
        place_id, place_label = people["place"]
        suggestion = organizer.locator("#place_name-suggestions li").first
        expect(suggestion).to_have_text(re.compile("^" + re.escape(place_label) + " "))
        suggestion.click()
        expect(organizer.locator("input[name=place_id]")).to_have_value(str(place_id))
        organizer.click("main form[method=post] button[type=submit]")
        organizer.wait_for_url(re.compile(r"/needs/\d+$"))
        _expect_ok_flash(organizer)
        expect(organizer.locator("h1")).to_contain_text(NEED_TITLE)
        need_path = re.search(r"/needs/\d+$", organizer.url).group(0)

        # 4. The donor, in German, finds the need on the map, then in the list, and claims
        # part of it.
        log_in(donor, people["donor"])
        expect(donor.locator("html")).to_have_attribute("lang", "de")
        donor.goto("/map")
        _open_marker(donor, NEED_TITLE)
        popup_link = donor.locator(".leaflet-popup-content a", has_text=NEED_TITLE)
        expect(popup_link).to_have_attribute("href", need_path)
        place = donor.locator(".leaflet-popup-content .map-popup-place")
        expect(place).to_have_text("Kharkiv, Oblast Kharkiv")  # the place, in German
        popup_link.click()
        donor.wait_for_url(re.compile(re.escape(need_path) + "$"))
        expect(donor.locator("h1")).to_contain_text(NEED_TITLE)
        donor.goto("/needs")
        donor.locator(f"a[href$='{need_path}']", has_text=NEED_TITLE).click()
        donor.wait_for_url(re.compile(re.escape(need_path) + "$"))
        donor.click(f"a[href$='{need_path}/claim']")
        donor.wait_for_url(re.compile(r"/claim$"))
        donor.fill("input[name=quantity]", "4")
        donor.click("main form[method=post] button[type=submit]")
        donor.wait_for_url(re.compile(re.escape(need_path) + "(#matches)?$"))
        _expect_ok_flash(donor)
        match_link = donor.locator("#matches a[href*='/matches/']").first
        match_path = match_link.get_attribute("href")
        assert re.fullmatch(r"/matches/\d+", match_path), match_path
        match_id = match_path.rsplit("/", 1)[1]

        # 5. The coordinator approves the claim in the review queue.
        coordinator.goto("/review")
        coordinator.check(f"input[name=ids][value='{match_id}']")
        coordinator.click("button[name=action][value='approve']")
        coordinator.wait_for_load_state()
        _expect_ok_flash(coordinator)
        expect(coordinator.locator(f"input[name=ids][value='{match_id}']")).to_have_count(0)

        # 6. The donor ships it from the match page.
        donor.goto(match_path)
        ship = donor.locator("form[action$='/ship']")
        ship.locator("[name=note]").fill("Per Post, DHL, Ankunft in etwa 5 Tagen.")
        ship.locator("button[type=submit]").click()
        donor.wait_for_load_state()
        expect(donor.locator("form[action$='/ship']")).to_have_count(0)

        # 7. The organizer confirms receipt, with the quantity received.
        organizer.goto(match_path)
        receipt = organizer.locator("form[action$='/confirm-delivery']")
        receipt.locator("[name=quantity_received]").fill("4")
        receipt.locator("[name=note]").fill("Отримали, дякуємо!")
        receipt.locator("button[type=submit]").click()
        organizer.wait_for_load_state()
        expect(organizer.locator("form[action$='/confirm-delivery']")).to_have_count(0)

        # 8. The public transparency page (nobody logged in) counts the delivery.
        public = new_page(b, base_url, "en-US")
        public.goto("/transparency")
        expect(public.locator("form[action$='/logout']")).to_have_count(0)
        expect(public.locator("dt:text-is('Deliveries') + dd").first).to_have_text("1")
