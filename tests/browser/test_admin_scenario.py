"""The admin's part of the browser scenario (issue 16): an admin disables a user whose
session is open in another browser; that session ends on its next request, and the user
cannot log in again until an admin enables the account.

Forms carry real CSRF tokens (WTF_CSRF_ENABLED=True). Skipped when /usr/bin/chromium is
missing (.ci/run installs it); the test of markup alone also in the PostgreSQL run
(MARKUP_ONLY: the SQLite run covers it).
"""

from __future__ import annotations

import pytest

from tests.browser.live import browser, log_in, new_page, serve_test_app
from tests.browser.marks import MARKUP_ONLY, SLOW_BROWSER

pytestmark = SLOW_BROWSER


@pytest.fixture
def live(database_url):
    """The app behind a real server with an admin and a donor (German interface)."""
    from aidmatch.extensions import db
    from aidmatch.permissions import Role
    from tests.conftest import make_test_app
    from tests.factories import make_user

    app = make_test_app(database_url, WTF_CSRF_ENABLED=True, SERVER_NAME=None)
    with app.app_context():
        admin = make_user(Role.ADMIN, display_name="Anna Admin")
        donor = make_user(Role.DONOR, display_name="Jonas Weber", language="de")
        db.session.commit()
        people = {"admin": admin.email, "donor": donor.email}
        db.session.remove()
    with serve_test_app(app) as base_url:
        yield base_url, people


def test_an_admin_disables_a_user_whose_open_session_then_ends(live):
    from playwright.sync_api import expect

    from tests.factories import PASSWORD

    base_url, people = live
    with browser() as b:
        admin = new_page(b, base_url, "en-US")
        donor = new_page(b, base_url, "de-DE")  # a second browser context: its own cookies

        log_in(donor, people["donor"])
        donor.goto("/needs")
        expect(donor.locator("form[action$='/logout']")).to_be_visible()

        # The admin finds the donor through the nav entry and the search, and disables them.
        log_in(admin, people["admin"])
        admin.click("header nav a[href='/admin']")
        admin.click("main a[href='/admin/users']")
        admin.fill("input[name=q]", "Weber")
        admin.click("form.filters button[type=submit]")
        card = admin.locator("li.card", has_text=people["donor"])
        expect(admin.locator("li.card")).to_have_count(1)
        card.locator("form[action$='/disable'] button[type=submit]").click()
        expect(admin.locator("p.flash-ok")).to_contain_text("is disabled")
        expect(admin.locator("li.card", has_text=people["donor"])).to_contain_text("disabled")
        # The search is kept after the change (the card's form came back to it).
        expect(admin.locator("input[name=q]")).to_have_value("Weber")

        # The donor's open session ends on its next request: the login form, no logout button.
        donor.goto("/needs")
        expect(donor.locator("form[action*='/login'] input[name=password]")).to_be_visible()
        expect(donor.locator("form[action$='/logout']")).to_have_count(0)
        donor.fill("input[name=email]", people["donor"])
        donor.fill("input[name=password]", PASSWORD)
        donor.click("main form button[type=submit]")
        expect(donor.locator("form[action$='/logout']")).to_have_count(0)

        # Enabled again, the donor logs in.
        admin.locator("li.card", has_text=people["donor"]).locator(
            "form[action$='/enable'] button[type=submit]"
        ).click()
        expect(admin.locator("p.flash-ok")).to_be_visible()
        log_in(donor, people["donor"])
        expect(donor.locator("form[action$='/logout']")).to_be_visible()


@MARKUP_ONLY
def test_the_admin_pages_fit_a_phone_and_pass_axe(live):
    """The admin pages and /account (its time zone select) in each language at 320 px: no
    page wider than the screen (long addresses, URLs and zone names wrap), and no serious or
    critical WCAG violation (axe-core, as tests/browser/test_accessibility.py runs it)."""
    from tests.browser.axe import blocking, describe, run_axe

    base_url, people = live
    with browser() as b:
        page = new_page(b, base_url, "en-US")
        log_in(page, people["admin"])
        page.set_viewport_size({"width": 320, "height": 640})
        wide, failures = [], []
        for language in ("uk", "en", "de"):
            page.goto("/admin")
            page.select_option("#language-switch", language)
            page.click("footer form button[type=submit]")
            for path in ("/admin", "/admin/users", "/admin/categories", "/admin/settings",
                         "/account"):  # fmt: skip
                page.goto(path)
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > 320:
                    wide.append((language, path, width))
                serious = blocking(run_axe(page))
                failures += [describe(f"{language} {path}", serious)] if serious else []
        assert wide == []
        assert not failures, "Serious accessibility violations:\n" + "\n".join(failures)
