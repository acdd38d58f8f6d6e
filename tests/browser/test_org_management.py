"""Looking after organizations in a real browser (issue 16's scenario, item 2): an organizer
edits her organization's profile and removes a member; a coordinator finds a group in the
directory and suspends it, and its need disappears from a donor's list.

Forms carry real CSRF tokens (WTF_CSRF_ENABLED=True). Skipped when /usr/bin/chromium is
missing (.ci/run installs it); the test of markup alone also in the PostgreSQL run
(MARKUP_ONLY: the SQLite run covers it).
"""

from __future__ import annotations

import pytest

from tests.browser.live import browser, log_in, new_page, serve_test_app
from tests.browser.marks import MARKUP_ONLY, SLOW_BROWSER

pytestmark = SLOW_BROWSER

GROUP = "Медики Ізюма"
NEED_TITLE = "Генератор для польового шпиталю"


@pytest.fixture
def live(database_url):
    """The app behind a real server: a verified group with its owner (Ukrainian interface),
    a member and an open need; a donor; a coordinator."""
    from aidmatch.extensions import db
    from aidmatch.orgs.models import OrgKind, OrgRole
    from aidmatch.permissions import Role
    from tests.conftest import make_test_app
    from tests.factories import make_org, make_user
    from tests.posting_factories import make_need

    app = make_test_app(database_url, WTF_CSRF_ENABLED=True, SERVER_NAME=None)
    with app.app_context():
        group = make_org(GROUP)
        owner = make_user(org=group, org_role=OrgRole.OWNER, display_name="Олена", language="uk")
        make_user(org=group, display_name="Микола")
        make_need(group, owner, title=NEED_TITLE)
        donor_org = make_org("Hilfe aus Dresden", kind=OrgKind.DONOR_COLLECTIVE)
        donor = make_user(Role.DONOR, org=donor_org, language="de")
        coordinator = make_user(Role.COORDINATOR)
        db.session.commit()
        people = {
            "group": group.id,
            "owner": owner.email,
            "donor": donor.email,
            "coordinator": coordinator.email,
        }
        db.session.remove()
    with serve_test_app(app) as base_url:
        yield base_url, people


def test_organizer_edits_and_removes_a_member_coordinator_suspends(live):
    from playwright.sync_api import expect

    base_url, people = live
    group = people["group"]
    with browser() as b:
        organizer = new_page(b, base_url, locale="uk-UA")
        donor = new_page(b, base_url, locale="de-DE")
        coordinator = new_page(b, base_url)

        log_in(donor, people["donor"])
        donor.goto("/needs")
        expect(donor.locator("main", has_text=NEED_TITLE)).to_have_count(1)

        # The organizer edits her organization's profile.
        log_in(organizer, people["owner"])
        organizer.goto(f"/orgs/{group}")
        organizer.click(f"a[href='/orgs/{group}/edit']")
        organizer.fill("textarea[name=description]", "Евакуація та перша допомога в Ізюмі")
        organizer.check("input[name=public_name]")
        organizer.click("main form[method=post] button[type=submit]")
        organizer.wait_for_url(f"**/orgs/{group}")
        expect(organizer.locator("p.flash-ok")).to_be_visible()
        expect(organizer.locator("main")).to_contain_text("Евакуація та перша допомога")

        # ... and removes a member, who disappears from the list.
        members = organizer.locator("ul.members")
        expect(members).to_contain_text("Микола")
        organizer.click(f"form[action^='/orgs/{group}/members/'][action$='/remove'] button")
        expect(organizer.locator("p.flash-ok")).to_contain_text("Микола")
        expect(organizer.locator("ul.members")).not_to_contain_text("Микола")
        expect(organizer.locator("ul.members")).to_contain_text("Олена")

        # A coordinator finds the group in the directory and suspends it, with a reason.
        log_in(coordinator, people["coordinator"])
        coordinator.goto("/orgs")
        coordinator.fill("input[name=q]", "ізюма")
        coordinator.click("form[role=search] button[type=submit]")
        coordinator.locator("table.orgs a", has_text=GROUP).click()
        coordinator.click("form[action$='/suspend'] button[type=submit]")  # no reason yet
        expect(coordinator.locator("form[action$='/suspend'] .error")).to_be_visible()
        coordinator.fill("textarea[name=suspend-reason]", "Two donors reported resold goods")
        coordinator.fill("textarea[name=suspend-note]", "Phone call with the Kharkiv hub")
        coordinator.click("form[action$='/suspend'] button[type=submit]")
        expect(coordinator.locator("p.flash-ok")).to_contain_text("suspended")

        # The group's need has left the donor's list.
        donor.goto("/needs")
        expect(donor.locator("main")).not_to_contain_text(NEED_TITLE)


@MARKUP_ONLY
def test_organization_pages_have_no_serious_accessibility_violations(live):
    """The directory, an organization's page with the coordinators' decision forms (one sent
    without a reason), and the edit page sent with an empty name, in Ukrainian and German."""
    from tests.browser.axe import blocking, describe, run_axe

    base_url, people = live
    group = people["group"]
    failures = []
    with browser() as b:
        for locale in ("uk-UA", "de-DE"):
            owner = new_page(b, base_url, locale=locale)
            log_in(owner, people["owner"])
            owner.goto(f"/orgs/{group}/edit")
            owner.fill("input[name=name]", "")
            owner.click("main form[method=post] button[type=submit]")
            owner.wait_for_selector("main .error")
            steps = [("edit, sent empty", owner)]
            coordinator = new_page(b, base_url, locale=locale)
            log_in(coordinator, people["coordinator"])
            coordinator.goto("/orgs?state=verified")
            steps.append(("directory", coordinator))
            for where, page in steps:
                serious = blocking(run_axe(page))
                failures += [describe(f"{locale} {where}", serious)] if serious else []
            coordinator.goto(f"/orgs/{group}")
            coordinator.click("form[action$='/suspend'] button[type=submit]")
            coordinator.wait_for_selector("form[action$='/suspend'] .error")
            serious = blocking(run_axe(coordinator))
            failures += [describe(f"{locale} page, decision refused", serious)] if serious else []
            owner.context.close()
            coordinator.context.close()
    assert not failures, "Serious accessibility violations:\n" + "\n".join(failures)
