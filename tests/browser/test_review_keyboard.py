"""The review queue with the keyboard alone, in chromium: Tab to "All matches on this page",
Space ticks it (and, with the page's script, every row), Tab reaches "Approve ticked", Enter
approves them all; the matches are confirmed afterwards."""

from __future__ import annotations

import pytest

from tests.browser.live import browser, log_in, new_page, serve_test_app
from tests.browser.marks import SLOW_BROWSER

pytestmark = SLOW_BROWSER


@pytest.fixture
def live(database_url):
    """A live server with three pending claims and a coordinator; yields (base_url, email,
    the matches' ids)."""
    from aidmatch.extensions import db
    from aidmatch.matches import operations as ops
    from aidmatch.orgs.models import OrgKind
    from aidmatch.permissions import Role
    from tests.conftest import make_test_app
    from tests.factories import make_org, make_user
    from tests.posting_factories import make_need, make_place

    app = make_test_app(database_url, WTF_CSRF_ENABLED=True, SERVER_NAME=None)
    with app.app_context():
        group = make_org("Keyboard group", verified=True)
        donor = make_user(
            Role.DONOR, org=make_org("Keys collective", kind=OrgKind.DONOR_COLLECTIVE)
        )
        place = make_place("Klaviatura")
        ids = [
            ops.claim_need(make_need(group, place=place, title=f"Need {i}"), donor, 2).id
            for i in range(3)
        ]
        email = make_user(Role.COORDINATOR, language="en").email
        db.session.commit()
        db.session.remove()
    with serve_test_app(app) as base_url:
        yield app, base_url, email, ids


def test_bulk_approval_with_the_keyboard_alone(live):
    app, base_url, email, ids = live
    with browser() as b:
        page = new_page(b, base_url)
        log_in(page, email)
        page.goto("/review")
        page.wait_for_selector("#pick-all")
        trail = []
        for _ in range(60):  # from the top of the page, as a keyboard user would
            page.keyboard.press("Tab")
            focused = page.evaluate(
                "document.activeElement.id || document.activeElement.textContent"
            )
            trail.append(focused)
            if focused == "pick-all":
                break
        assert trail[-1] == "pick-all", f"Tab never reached the box: {trail}"
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none"  # the focus is visible
        page.keyboard.press("Space")
        assert page.is_checked("#pick-all")
        rows = page.locator("input[name=ids]")
        assert [rows.nth(i).is_checked() for i in range(rows.count())] == [True] * 3
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent").strip() == "Approve ticked"
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "3 matches approved." in page.text_content("main")
        assert "Nothing waits for review." in page.text_content("main")

    from aidmatch.extensions import db
    from aidmatch.matches.models import Match

    with app.app_context():
        assert [str(db.session.get(Match, i).status) for i in ids] == ["confirmed"] * 3
        db.session.remove()
