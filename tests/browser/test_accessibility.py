"""Accessibility in a real browser: axe-core on the main pages, and the keyboard.

axe-core (vendored in static/vendor/axe-core/, injected by the test only) runs the WCAG 2.0
and 2.1 A/AA rules on each main page (two forms also with their error messages), anonymous
and as organizer, donor and coordinator, in Ukrainian and German; any violation of impact
serious or critical fails the test with the rule, the elements and how to fix them (lesser
findings are printed). With the keyboard alone: the skip link comes first and Tab reaches
every field of the new-need form in order; on the map, Tab and Enter open a need's marker
(through its cluster) and its popup link. One server and one browser per test; skipped only
when /usr/bin/chromium is missing, and in the PostgreSQL run (the markup is the same).
"""

from __future__ import annotations

import pytest

from tests.browser.axe import blocking, describe, run_axe
from tests.browser.live import browser, log_in, new_page, serve_test_app
from tests.browser.map_clusters import open_cluster_with_enter, wait_until_map_is_still
from tests.browser.marks import MARKUP_ONLY, SLOW_BROWSER

pytestmark = [
    *SLOW_BROWSER,  # a server and chromium per test
    MARKUP_ONLY,  # what axe and the keyboard check: the SQLite run covers it
]

LANGUAGES = {"uk": "uk-UA", "de": "de-DE"}
NEED_TITLE = "Турнікети для евакуаційної групи"


@pytest.fixture
def live(database_url):
    """The app behind a real server, with a verified frontline group and donor collective,
    people of each role in each language, needs and an offer, and matches in several states
    (pending, confirmed, delivered). Yields (base_url, emails by (role, language), paths)."""
    from aidmatch.extensions import db
    from aidmatch.matches import operations as ops
    from aidmatch.orgs.models import OrgKind
    from aidmatch.permissions import Role
    from tests.conftest import make_test_app
    from tests.factories import make_org, make_user
    from tests.posting_factories import make_need, make_offer, make_place

    app = make_test_app(database_url, WTF_CSRF_ENABLED=True, SERVER_NAME=None)
    with app.app_context():
        group = make_org("Медики Куп'янська")
        collective = make_org("Hilfe aus Leipzig", kind=OrgKind.DONOR_COLLECTIVE)
        people = {}
        for lang in LANGUAGES:
            people["organizer", lang] = make_user(Role.ORGANIZER, org=group, language=lang)
            people["donor", lang] = make_user(Role.DONOR, org=collective, language=lang)
            people["coordinator", lang] = make_user(Role.COORDINATOR, language=lang)
        organizer, donor = people["organizer", "uk"], people["donor", "uk"]
        coordinator = people["coordinator", "uk"]
        kharkiv = make_place("Kharkiv test", name_uk="Харків тест", lat=49.99, lon=36.23)
        need = make_need(group, organizer, place=kharkiv, title=NEED_TITLE, urgency="critical")
        make_need(
            group,
            organizer,
            place=kharkiv,
            title="Powerbanks",
            category="power-banks",
            urgency="low",
        )
        # Far from Kharkiv, so that the map's first view is wide enough to cluster the two
        # Kharkiv needs (3.5 km apart: the exact point, shown to this donor, and the coarse
        # one) and the generator stays a marker on its own (see the keyboard test).
        dnipro = make_place("Dnipro test", name_uk="Дніпро тест", lat=48.46, lon=35.05)
        make_need(
            group,
            organizer,
            place=dnipro,
            title="Генератор 5 кВт",
            category="generators",
            quantity=1,
        )
        offer = make_offer(collective, donor)
        ops.claim_need(need, donor, 3)  # pending: in the review queue
        confirmed = ops.claim_need(need, donor, 5, offer=offer)
        ops.approve(confirmed, coordinator)
        delivered = ops.claim_need(need, donor, 2)
        ops.approve(delivered, coordinator)
        ops.ship(delivered, donor, "Nova Poshta 2045 1234 5678")
        ops.confirm_delivery(delivered, organizer, 2, "Отримали")
        db.session.commit()
        emails = {key: user.email for key, user in people.items()}
        paths = {
            "need": f"/needs/{need.id}",
            "offer": f"/offers/{offer.id}",
            "match": f"/matches/{confirmed.id}",
        }
        db.session.remove()
    with serve_test_app(app) as base_url:
        yield base_url, emails, paths


# A step is a page to open, or (page, EMPTY): open it and send its form empty, to check the
# page with its error messages.
EMPTY = "sent empty"


def _pages(paths: dict) -> dict[str | None, list]:
    """The pages to check, by who looks at them (None: nobody logged in)."""
    need, offer, match = paths["need"], paths["offer"], paths["match"]
    return {
        None: [
            "/",
            "/login",
            "/register",
            ("/register", EMPTY),
            "/transparency",
            "/transparency/ledger",
        ],
        "organizer": ["/", "/needs/new", ("/needs/new", EMPTY), need],
        "donor": [
            "/",
            "/needs",
            need,
            f"{need}/claim",
            "/offers",
            "/offers/new",
            offer,
            "/map",
            "/matches",
            match,
        ],
        "coordinator": ["/review", match],
    }


def _open(page, step, where: str) -> None:
    """Open the step's page (and send its form empty); wait for what scripts add to it."""
    path = step[0] if isinstance(step, tuple) else step
    response = page.goto(path)
    assert response.status == 200, f"{where}: HTTP {response.status}"
    if isinstance(step, tuple):
        page.click("main form[method=post] button[type=submit]")
        page.wait_for_selector("main .error")
    if path == "/map":
        page.wait_for_selector("#map .leaflet-marker-icon")


def _watch_csp(page, refused: list[str]) -> None:
    """Collect what the page's Content-Security-Policy refused (the console's report)."""

    def _console(message) -> None:
        if "Content Security Policy" in message.text:
            refused.append(f"{page.url}: {message.text}")

    page.on("console", _console)


def test_main_pages_have_no_serious_accessibility_violations(live):
    """...and the CSP (aidmatch/web/headers.py) refuses nothing on them, nor on the API docs."""
    base_url, emails, paths = live
    failures, minor, refused = [], [], []
    with browser() as b:
        docs = new_page(b, base_url)
        _watch_csp(docs, refused)
        docs.goto("/api/v1/docs")
        docs.wait_for_selector("#swagger-ui .opblock")  # Swagger UI ran and drew the API
        docs.context.close()
        for lang, locale in LANGUAGES.items():
            for role, steps in _pages(paths).items():
                page = new_page(b, base_url, locale)
                _watch_csp(page, refused)
                if role is not None:
                    log_in(page, emails[role, lang])
                for step in steps:
                    shown = " ".join(step) if isinstance(step, tuple) else step
                    where = f"{lang} {role or 'anonymous'} {shown}"
                    _open(page, step, where)
                    assert page.locator("html").get_attribute("lang") == lang, where
                    found = run_axe(page)
                    serious = blocking(found)
                    failures += [describe(where, serious)] if serious else []
                    rest = [v for v in found if v not in serious]
                    minor += [describe(where, rest)] if rest else []
                page.context.close()
    if minor:
        print("\nMinor and moderate accessibility findings (not failing):\n" + "\n".join(minor))
    assert not failures, "Serious accessibility violations:\n" + "\n".join(failures)
    assert refused == []


def _focus_stops(page, limit: int = 120) -> list[dict]:
    """Press Tab from the top of the page until focus leaves it or comes round again; what
    got focus, in order. A folded <details> is unfolded with Enter on its summary, as a
    keyboard user would."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate(
            """() => {
              const el = document.activeElement;
              if (!el || el === document.body) { return null; }
              return { tag: el.tagName.toLowerCase(), name: el.getAttribute("name"),
                       type: el.getAttribute("type"), cls: el.className,
                       text: (el.textContent || "").trim().slice(0, 40),
                       inForm: !!el.closest("main form[method=post]"),
                       folded: el.tagName === "SUMMARY" && !el.parentElement.open };
            }"""
        )
        if stop is None or (stops and stop == stops[0]):
            break
        stops.append(stop)
        if stop["folded"]:
            page.keyboard.press("Enter")
    return stops


def test_keyboard_reaches_every_field_of_the_need_form(live):
    base_url, emails, _paths = live
    with browser() as b:
        page = new_page(b, base_url, "uk-UA")
        log_in(page, emails["organizer", "uk"])
        page.goto("/needs/new")
        stops = _focus_stops(page)
        fields = page.evaluate(
            """() => Array.from(document.querySelector("main form[method=post]").elements)
                 .filter((el) => el.type !== "hidden" && !el.disabled && el.offsetParent)
                 .map((el) => el.getAttribute("name") || el.type)"""
        )

    assert stops, "Tab never moved the focus"
    assert stops[0]["tag"] == "a" and "skip" in stops[0]["cls"], stops[0]
    reached = [s["name"] or s["type"] for s in stops if s["inForm"]]
    missing = [name for name in fields if name not in reached]
    assert not missing, f"never reached with Tab: {missing}; focus went {stops}"
    assert {"title", "description", "category", "quantity", "urgency", "place_name"} <= set(fields)
    assert {"lat", "lon", "submit"} <= set(fields)  # the folded exact point, and the button
    # The fields come in the order they are shown (a date input stops once per part).
    assert [n for n in dict.fromkeys(reached) if n in fields] == fields


def test_keyboard_opens_a_need_on_the_map(live):
    """Tab to the need's marker (opening its cluster with Enter on the way), Enter opens its
    popup with the focus on the link, Escape closes it and gives the focus back.

    Deterministic by construction: the donor's map shows the generator near Dnipro and, near
    Kharkiv, one cluster of two markers 3.5 km apart (this need at its exact point, which a
    confirmed partner sees, and the power banks at their coarse point). Enter on the cluster
    zooms in until the two are apart; the test waits for the animation to end (the cluster
    gone, no animation class on the map), then Tab meets each marker of the map once."""
    base_url, emails, paths = live
    focused = """() => { const el = document.activeElement;
        return { title: el.getAttribute("title"), href: el.getAttribute("href"),
                 cluster: el.classList.contains("marker-cluster"),
                 inMap: document.getElementById("map").contains(el) }; }"""
    with browser() as b:
        page = new_page(b, base_url, "de-DE")
        log_in(page, emails["donor", "de"])
        _open(page, "/map", "map")
        wait_until_map_is_still(page)
        trail = []
        for _ in range(40):  # the skip link, the menu and the filters come first
            page.keyboard.press("Tab")
            now = page.evaluate(focused)
            trail.append(now)
            if now["inMap"]:
                break
        assert now["inMap"], f"Tab never reached the map: {trail}"
        # Inside the map: the map itself, then its markers and clusters in order. Each step
        # either opens a cluster (which leaves the focus on the map, before its markers) or
        # moves on; two markers and a cluster need far fewer than 12 steps.
        for _ in range(12):
            if now["title"] == NEED_TITLE:
                break
            if now["cluster"]:
                open_cluster_with_enter(page)
            else:
                page.keyboard.press("Tab")
            now = page.evaluate(focused)
            trail.append(now)
            assert now["inMap"], f"the focus left the map before the need's marker: {trail}"
        assert now["title"] == NEED_TITLE, f"the need's marker was never focused: {trail}"
        assert any(stop["cluster"] for stop in trail), f"no cluster on the way: {trail}"
        page.keyboard.press("Enter")
        page.wait_for_function(
            "(href) => document.activeElement.getAttribute('href') === href", arg=paths["need"]
        )
        page.keyboard.press("Escape")
        page.wait_for_function("() => !document.querySelector('.leaflet-popup')")
        assert page.evaluate(focused)["title"] == NEED_TITLE
