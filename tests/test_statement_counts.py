"""Every list costs a fixed number of SQL statements, whatever its length (issue 15).

One world grows from 10 to 100 rows of each kind: needs of several groups, places and
categories (some sensitive), offers of several collectives, matches of both sides in every
state (pending claims and proposals, confirmed, shipped, delivered long enough ago for the
public ledger, rejected), the notifications and audit events the verbs write on the way,
deliveries that failed, organizations waiting for verification, matching runs; most rows
belong to an organization and a place of their own. Each list (page, CSV or API) is read as
the role that uses it, once to warm up and once counted on an empty session (as a real
server's request starts), at 10 and at 100 rows: the two counts must be equal, and the
response must have grown (the world reaches the list). How many statements a list takes is
not asserted (the count of a page may change), only that its rows cost none each. A list's
total (web/api.count_rows, its statements named `list_total`) is left out: it costs no
statement when the page is the last one, one or two otherwise, whatever the length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import update

from aidmatch.auth.models import User
from aidmatch.auth.tokens import issue
from aidmatch.cache import bump
from aidmatch.conversations import operations as conversations
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches import operations as ops
from aidmatch.matches.models import Match, MatchSource
from aidmatch.needs.models import Need
from aidmatch.notify.models import Delivery, DeliveryStatus
from aidmatch.offers.models import Offer
from aidmatch.orgs.models import OrgKind, Vouch
from aidmatch.permissions import Role
from aidmatch.receipts import operations as receipts
from aidmatch.runs.job import create_run, run_matching
from aidmatch.runs.models import MatchingRun, RunStatus
from tests.factories import PASSWORD, make_org, make_user
from tests.posting_factories import make_need, make_offer, make_place
from tests.sql_statements import statements

CATEGORIES = ("tourniquets", "generators", "drinking-water")
GENERAL = {"tourniquets": "tactical-medicine"}  # a general offer's category for some needs
OBLASTS = ("Kharkiv Oblast", "Donetsk Oblast", "Kyiv", "Lviv Oblast")
# What happens to the i-th match (i % len(STORY)).
STORY = ("claimed", "proposed", "confirmed", "shipped", "delivered", "rejected", "requested")


@dataclass
class World:
    """A group and a collective whose members read the lists, staff, and rows grown by grow(n):
    one match in three is the group's, one in three the collective's, and the other side of
    each (and every other row) belongs to an organization and a place of its own, so that a
    relation loaded once per row cannot hide behind rows that share it."""

    user_ids: dict = field(default_factory=dict)
    need_ids: list = field(default_factory=list)
    offer_ids: list = field(default_factory=list)
    # The group's need that every collective claims a little of (without an offer), and the
    # collective's general offer proposed for every tourniquets need: their pages list matches.
    popular_need: int = 0
    popular_offer: int = 0
    run: int = 0  # a run over all the rows so far (its page lists its proposals)

    @classmethod
    def make(cls) -> World:
        world = cls()
        group = make_org("Count group", OrgKind.FRONTLINE_GROUP)
        collective = make_org("Count collective", OrgKind.DONOR_COLLECTIVE)
        users = {
            "organizer": make_user(Role.ORGANIZER, org=group),
            "donor": make_user(Role.DONOR, org=collective),
            "coordinator": make_user(Role.COORDINATOR),
            "admin": make_user(Role.ADMIN),
        }
        world.user_ids = {role: user.id for role, user in users.items()}
        world.popular_need = make_need(group, users["organizer"], quantity=10_000).id
        world.popular_offer = make_offer(
            collective, users["donor"], category="tactical-medicine", quantity=10_000
        ).id
        db.session.commit()
        return world

    def user(self, role: str):
        """The user of a role, in the current session."""
        return db.session.get(User, self.user_ids[role])

    def grow(self, n: int) -> None:
        """Add rows until there are n needs, n offers and n matches (and what they wrote)."""
        reader = {role: self.user(role) for role in ("organizer", "donor", "coordinator")}
        while len(self.need_ids) < n:
            i = len(self.need_ids)
            organizer = reader["organizer"] if i % 3 == 1 else self._member(i, Role.ORGANIZER)
            donor = reader["donor"] if i % 3 == 0 else self._member(i, Role.DONOR)
            need_category = CATEGORIES[(i // 3) % len(CATEGORIES)]
            oblast = OBLASTS[i % len(OBLASTS)]
            need = make_need(
                organizer.organization,
                organizer,
                place=make_place(f"Lichylne {i}", lat=48 + i / 50, lon=36 - i / 40, oblast=oblast),
                title=f"Need {i}",
                category=need_category,
                quantity=50,
                sensitive=i % 5 == 0,
            )
            offer = make_offer(
                donor.organization,
                donor,
                place=make_place(f"Darivka {i}", lat=50 - i / 60, lon=30 + i / 30, oblast="Kyiv"),
                title=f"Offer {i}",
                category=GENERAL.get(need_category, need_category) if i % 2 else need_category,
                quantity=500,
            )
            self.need_ids.append(need.id)
            self.offer_ids.append(offer.id)
            self._match(i, need, offer, donor, organizer, reader["coordinator"])
            self._crowd(i, need, donor, reader["organizer"].organization, reader["coordinator"])
        self._troubled_deliveries()
        db.session.commit()
        self.run = run_matching(reader["coordinator"]).id

    @staticmethod
    def _member(i: int, role: Role):
        """A member of a new organization of the role's kind (some public by name)."""
        kind = OrgKind.FRONTLINE_GROUP if role == Role.ORGANIZER else OrgKind.DONOR_COLLECTIVE
        org = make_org(f"Count {kind.value} {i}", kind, public_name=i % 2 == 0)
        return make_user(role, org=org)

    def _crowd(self, i: int, need, donor, group, coordinator) -> None:
        """A claim on the popular need, a proposal of the popular offer, a member of the
        group, an organization waiting for verification, a matching run (finished)."""
        run = create_run(coordinator, None, OBLASTS[i % len(OBLASTS)], "flow")
        db.session.execute(
            update(MatchingRun).where(MatchingRun.id == run.id).values(status=RunStatus.FINISHED)
        )
        claim = ops.claim_need(db.session.get(Need, self.popular_need), donor, 1)
        # A message on each, reported by the group: the coordinators' reported messages.
        reporter = db.session.get(User, self.user_ids["organizer"])
        conversations.report(conversations.write_on_match(claim, donor, f"Hi {i}"), reporter)
        if need.category.slug == "tourniquets":
            popular = db.session.get(Offer, self.popular_offer)
            ops.reserve(need, popular, popular.organization, 2, source=MatchSource.ENGINE)
        make_user(Role.ORGANIZER, org=group)
        waiting = make_org(f"Count waiting {i}", OrgKind.FRONTLINE_GROUP, verified=False)
        make_user(Role.ORGANIZER, org=waiting)
        # The group vouches for each (the coordinators' list of vouches, the group's page).
        db.session.add(
            Vouch(voucher=group, vouched=waiting, reason=f"Known {i}", created_by=reporter)
        )

    def _match(self, i, need, offer, donor, organizer, coordinator) -> None:
        """The i-th match, taken through its story by the real verbs."""
        step = STORY[i % len(STORY)]
        if step == "proposed":
            ops.reserve(need, offer, donor.organization, 3, source=MatchSource.ENGINE, score=0.5)
        elif step == "requested":
            ops.request_offer(offer, organizer, need, 4)
        else:
            match = ops.claim_need(need, donor, 5, offer=offer)
            if step == "rejected":
                ops.reject(match, coordinator, "Not now")
            elif step != "claimed":
                ops.approve(match, coordinator)
            if step in ("shipped", "delivered"):
                ops.ship(match, donor, "Courier van", tracking="NP 1")
            if step == "delivered" and i % 2:
                ops.confirm_delivery(match, organizer, 5, "All there")
            elif step == "delivered":
                # signed at the drop point through the slip's link, then disputed
                link = receipts.make_link(match, donor)
                data = {"condition": "less", "quantity_received": "4", "signer_name": f"R {i}"}
                receipt = receipts.sign(link, match, data, f"count-{i}")
                receipts.dispute(match, receipt, organizer, "Only three")
            if step == "delivered":
                long_ago = utcnow() - timedelta(days=40 + i % 20)
                db.session.execute(
                    update(Match).where(Match.id == match.id).values(delivered_at=long_ago)
                )

    @staticmethod
    def _troubled_deliveries() -> None:
        """Every delivery failed once (what /admin/deliveries lists)."""
        db.session.execute(
            update(Delivery).values(
                status=DeliveryStatus.FAILED, attempts=1, last_error="550 no such user"
            )
        )


# (role, URL): every list of the app as the role that reads it. {need} and {offer} are the
# first need and offer (their candidates grow with the offers and needs); the pages of the
# popular need and offer list their matches, the group's page its members and open needs, the
# collective's its open offers; the home pages their dashboards.
LISTS = [
    ("donor", "/needs"),
    ("donor", "/offers"),
    ("donor", "/matches"),
    ("donor", "/notifications"),
    ("donor", "/map/data.json"),
    ("donor", "/api/v1/needs"),
    ("donor", "/api/v1/offers"),
    ("donor", "/api/v1/matches"),
    ("donor", "/api/v1/matches?mine=true"),
    ("donor", "/api/v1/notifications"),
    ("donor", "/api/v1/offers/{offer}/candidates"),
    ("organizer", "/needs"),
    ("organizer", "/offers"),
    ("organizer", "/matches"),
    ("organizer", "/notifications"),
    ("organizer", "/api/v1/matches"),
    ("organizer", "/api/v1/notifications"),
    ("organizer", "/api/v1/needs/{need}/candidates"),
    ("coordinator", "/review"),
    ("coordinator", "/review?flag=general_offer&sort=best"),
    ("coordinator", "/needs"),
    ("coordinator", "/offers"),
    ("coordinator", "/needs/export.csv"),
    ("coordinator", "/offers/export.csv"),
    ("coordinator", "/needs/export.xlsx"),
    ("coordinator", "/offers/export.xlsx"),
    ("coordinator", "/needs/export.csv?hxl=1"),
    ("coordinator", "/offers/export.xlsx?hxl=1"),
    ("coordinator", "/matches/deliveries.csv?hxl=1"),
    ("organizer", "/matches/deliveries.csv"),
    ("donor", "/matches/deliveries.csv?hxl=1"),
    ("coordinator", "/map/data.json"),
    ("coordinator", "/orgs"),
    ("coordinator", "/orgs?state=unverified"),
    ("coordinator", "/conversations/reported"),
    ("coordinator", "/receipts/disputed"),
    ("coordinator", "/notifications"),
    ("coordinator", "/api/v1/needs"),
    ("coordinator", "/api/v1/offers"),
    ("coordinator", "/api/v1/matches"),
    ("coordinator", "/api/v1/matches?status=pending"),
    ("coordinator", "/api/v1/matches?status=confirmed"),
    ("coordinator", "/api/v1/matches?status=active"),
    ("coordinator", "/api/v1/matches?status=delivered"),
    ("coordinator", "/api/v1/notifications"),
    ("coordinator", "/api/v1/needs/{need}/candidates"),
    ("coordinator", "/api/v1/offers/{offer}/candidates"),
    ("coordinator", "/"),
    ("coordinator", "/matching"),
    ("coordinator", "/api/v1/matching/runs"),
    ("coordinator", "/needs/{popular_need}"),
    ("coordinator", "/offers/{popular_offer}"),
    ("coordinator", "/api/v1/matches?need={popular_need}"),
    ("coordinator", "/api/v1/matches?offer={popular_offer}"),
    ("coordinator", "/orgs/{group}"),
    ("coordinator", "/orgs/vouches"),
    ("coordinator", "/api/v1/vouches"),
    ("organizer", "/needs/{popular_need}"),
    ("organizer", "/orgs/{group}"),
    ("organizer", "/"),
    ("donor", "/"),
    ("donor", "/orgs/{group}"),
    ("organizer", "/orgs/{collective}"),
    ("donor", "/offers/{popular_offer}"),
    ("donor", "/needs/{popular_need}/claim"),
    ("organizer", "/offers/{popular_offer}/request"),
    ("coordinator", "/matching/runs/{run}"),
    ("admin", "/audit"),
    ("admin", "/audit/export.csv"),
    ("admin", "/admin/deliveries"),
    ("admin", "/admin/users"),
    ("admin", "/admin/users?q=example&role=donor&state=active"),
    ("anonymous", "/transparency"),
    ("anonymous", "/transparency/ledger"),
    ("anonymous", "/transparency/ledger.csv"),
    ("anonymous", "/api/v1/transparency/summary"),
    # the network's report: its figures over every match of the quarter, in one read
    ("coordinator", "/reports/network"),
]


# The GET routes without parameters that are no list (or a list of fixed length), and why.
NOT_LISTS = {
    "/account": "one user's settings",
    "/admin": "links to the admin pages",
    "/admin/categories": "the category tree, reference data of fixed size",
    "/admin/settings": "the instance's settings",
    "/account/notifications": "one row per kind of notification (a fixed number)",
    "/api/v1/categories": "the category tree, reference data of fixed size",
    "/api/v1/docs": "the API's documentation page",
    "/api/v1/me": "one user",
    "/api/v1/notifications/preferences": "one row per kind of notification (a fixed number)",
    "/api/v1/openapi.json": "the OpenAPI document",
    "/api/v1/places": "gazetteer search: reference data, at most a fixed number of hits",
    "/favicon.ico": "the site's icon (a static file)",
    "/healthz": "a health check",
    "/login": "a form",
    "/map": "the map's page (its rows come from /map/data.json)",
    "/needs/spreadsheets": "a form, and the category tree (reference data of fixed size)",
    "/offers/spreadsheets": "a form, and the category tree (reference data of fixed size)",
    "/needs/spreadsheets/template.csv": "an empty file: the header row",
    # (tests/test_hxl.py reads it; the world's places carry no codifier code to spread over)
    "/transparency/deliveries.hxl.csv": "aggregates: two GROUP BY statements, whatever the rows",
    "/offers/spreadsheets/template.csv": "an empty file: the header row",
    "/needs/spreadsheets/template.xlsx": "the header row, and the category tree",
    "/offers/spreadsheets/template.xlsx": "the header row, and the category tree",
    "/orgs/review": "a redirect to the directory of organizations waiting (/orgs?state=unverified)",
    "/needs/new": "a form",
    "/offline": "the service worker's page for a page not kept (the same for everyone)",
    "/sw.js": "the service worker's script",
    "/offers/new": "a form",
    "/fundraisers/new": "a form",
    "/password/forgot": "a form",
    "/places/search": "gazetteer search: reference data, at most a fixed number of hits",
    "/register": "a form",
}


def test_every_list_route_is_counted(app):
    """A new list (a GET route without parameters) is counted here or said to be none."""
    counted = {url.split("?")[0] for _role, url in LISTS}
    routes = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and rule.endpoint != "static" and not rule.arguments
    }
    assert routes - counted - NOT_LISTS.keys() == set()
    assert NOT_LISTS.keys() & counted == set()
    assert NOT_LISTS.keys() <= routes, "NOT_LISTS names a route that is gone"


@pytest.fixture
def world(app):
    return World.make()


def _client(app, world: World, role: str):
    """A client logged in as the role (a session for pages, a bearer token for the API)."""
    client = app.test_client()
    headers = {}
    if role != "anonymous":
        user = world.user(role)
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302
        token, _row = issue(user, ttl_hours=1)
        db.session.commit()
        headers = {"Authorization": f"Bearer {token}"}
    return client, headers


def _count(client, headers: dict, url: str) -> tuple[list[str], int]:
    """The statements one GET of url sends (after a warm-up GET), and the body's length."""
    client.get(url, headers=headers)  # warm up: caches of the process (categories, places)
    bump()  # but nothing the shared cache kept: what a page reads must be counted
    # A request of a real server starts with an empty session: nothing the test or the warm-up
    # loaded may spare a query.
    db.session.remove()
    with statements() as sent:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return [s for s in sent if "list_total" not in s], len(response.get_data())


def test_every_list_costs_the_same_for_10_and_100_rows(app, world):
    clients = {role: _client(app, world, role) for role in {r for r, _ in LISTS}}

    def measure() -> dict:
        found = {}
        for role, url in LISTS:
            client, headers = clients[role]
            full = url.format(
                need=world.need_ids[0],
                offer=world.offer_ids[0],
                popular_need=world.popular_need,
                popular_offer=world.popular_offer,
                group=world.user("organizer").organization_id,
                collective=world.user("donor").organization_id,
                run=world.run,
            )
            found[(role, url)] = _count(client, headers, full)
        return found

    world.grow(10)
    few = measure()
    world.grow(100)
    many = measure()
    grew = [key for key in LISTS if many[key][1] <= few[key][1]]
    assert grew == [], "these lists did not grow: the world does not reach them"
    differ = {
        f"{role} {url}": (len(few[(role, url)][0]), len(many[(role, url)][0]))
        for role, url in LISTS
        if len(few[(role, url)][0]) != len(many[(role, url)][0])
    }
    assert differ == {}, "\n\n".join(
        f"{key}: {a} -> {b}\n" + "\n".join(s[:150] for s in many[tuple(key.split(" ", 1))][0])
        for key, (a, b) in differ.items()
    )
