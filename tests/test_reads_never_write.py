"""Reads never write: every GET route in the URL map, as each role, issues no INSERT, UPDATE
or DELETE, even with rows whose time has passed (a need past its needed-by date, an offer past
available-until, a pending match past its time): they read as expired; storing it is the job of
`flask expire` and `flask matches expire`."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import event, update

from aidmatch.auth.reset import make_reset_token
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches.models import Match
from aidmatch.needs.models import Need
from aidmatch.notify.outbox import tell
from aidmatch.notify.unsubscribe import unsubscribe_token
from aidmatch.offers.models import Offer
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from aidmatch.photos.models import PhotoPurpose
from aidmatch.photos.operations import add_photo
from aidmatch.receipts.operations import link_token, make_link
from tests.factories import PASSWORD, make_org, make_user
from tests.money_helpers import make_money
from tests.posting_factories import make_need, make_offer

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE")


class World:
    """Two groups, a donor collective, staff, needs and offers in every state a read meets."""

    def __init__(self, client):
        self.group = make_org("Reads Group", OrgKind.FRONTLINE_GROUP)
        self.collective = make_org("Reads Collective", OrgKind.DONOR_COLLECTIVE)
        self.unverified = make_org("Reads Unverified", OrgKind.FRONTLINE_GROUP, verified=False)
        self.users = {
            "organizer": make_user(Role.ORGANIZER, org=self.group),
            "donor": make_user(Role.DONOR, org=self.collective),
            "unverified": make_user(Role.ORGANIZER, org=self.unverified),
            "coordinator": make_user(Role.COORDINATOR),
            "admin": make_user(Role.ADMIN),
        }
        self.need = make_need(self.group, quantity=40, sensitive=True, delivery_note="back door")
        self.stale_need = make_need(self.group, quantity=5)
        self.hidden_need = make_need(self.unverified, quantity=3)
        self.offer = make_offer(self.collective, quantity=100, delivery_radius_km=None)
        self.stale_offer = make_offer(self.collective, quantity=7)
        db.session.commit()
        self.tokens = {name: self._token(client, user) for name, user in self.users.items()}
        # A confirmed match, a lapsed pending claim, and a matching run.
        self.confirmed = self._claim(client, self.need.id, 10)
        self._act(client, "coordinator", self.confirmed, "approve")
        self.lapsed = self._claim(client, self.need.id, 5)
        run = client.post(
            "/api/v1/matching/runs", json={}, headers=self._auth("coordinator")
        ).get_json()
        self.run_id = run["id"]
        self.money = make_money(
            self.stale_need, self.users["organizer"], self.users["donor"], self.users["coordinator"]
        )
        db.session.commit()
        past = date.today() - timedelta(days=3)
        db.session.execute(update(Need).where(Need.id == self.stale_need.id).values(needed_by=past))
        db.session.execute(
            update(Offer).where(Offer.id == self.stale_offer.id).values(available_until=past)
        )
        db.session.execute(
            update(Match)
            .where(Match.id == self.lapsed)
            .values(expires_at=utcnow() - timedelta(hours=1))
        )
        # Unread notifications for everyone: the bell and the inbox only count and show them.
        params = {"category_id": self.need.category_id, "quantity": 5, "oblast": "Kharkiv Oblast"}
        everyone = list(self.users.values())
        tell(everyone, "match_claimed", params=params, match=db.session.get(Match, self.lapsed))
        tell(everyone, "reminder_unpledged", params=params, need=self.need)
        # The confirmed match's slip (its receipt link) and a photo of it.
        confirmed = db.session.get(Match, self.confirmed)
        self.receipt_token = link_token(make_link(confirmed, self.users["admin"]))
        self.photo_id = add_photo(confirmed, _jpeg(), PhotoPurpose.DELIVERY, self.users["admin"]).id
        # The network report's PDF files: one still waiting for the job, one made.
        self.file_ids = [report_file(self.users["admin"], done) for done in (False, True)]
        db.session.commit()

    @staticmethod
    def _token(client, user) -> str:
        response = client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD})
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()["token"]

    def _auth(self, role: str) -> dict:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def _claim(self, client, need_id: int, quantity: int) -> int:
        response = client.post(
            f"/api/v1/needs/{need_id}/claims",
            json={"quantity": quantity, "offer_id": self.offer.id},
            headers=self._auth("donor"),
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()["id"]

    def _act(self, client, role: str, match_id: int, action: str) -> None:
        response = client.post(
            f"/api/v1/matches/{match_id}/{action}", json={}, headers=self._auth(role)
        )
        assert response.status_code == 200, response.get_data(as_text=True)

    def ids(self) -> dict[str, list[int]]:
        """Values for each URL parameter: every row a read may meet."""
        return {
            "need_id": [self.need.id, self.stale_need.id, self.hidden_need.id],
            "offer_id": [self.offer.id, self.stale_offer.id],
            "match_id": [self.confirmed, self.lapsed],
            "org_id": [self.group.id, self.collective.id, self.unverified.id],
            "run_id": [self.run_id],
            "category_id": [self.need.category_id],
            # a password reset link, an unsubscribe link (valid), and one forged
            "token": [
                make_reset_token(self.users["organizer"]),
                unsubscribe_token(self.users["donor"], "match_shipped"),
                "forged.token",
                self.receipt_token,
            ],
            "photo_id": [self.photo_id],
            "file_id": self.file_ids,
            **self.money,  # pledge_id, report_id, slug
        }


def report_file(user, done: bool) -> int:
    """A network report's PDF file (reports/job.py), queued or made."""
    from datetime import date

    from aidmatch.reports.models import FileStatus, ReportFile

    file = ReportFile(
        requested_by_id=user.id, period_start=date(2026, 7, 1), period_end=date(2026, 9, 30),
        language="en", status=FileStatus.DONE if done else FileStatus.QUEUED,
        progress=100 if done else 0, pdf=b"%PDF-1.4\n%%EOF\n" if done else None,
    )  # fmt: skip
    db.session.add(file)
    db.session.flush()
    return file.id


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def world(app, client):
    return World(client)


def _urls(app, world: World) -> list[str]:
    """Every GET route of the URL map with each value of its parameters (static files aside)."""
    ids = world.ids()
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        missing = [name for name in rule.arguments if name not in ids]
        assert not missing, f"{rule.rule}: no test value for {missing}; add one to World.ids"
        if not rule.arguments:
            urls.append(rule.rule)
            continue
        (name,) = rule.arguments
        urls.extend(
            rule.rule.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
            for value in ids[name]
        )
    return sorted(urls)


@pytest.fixture
def writes(app):
    """The INSERT/UPDATE/DELETE statements the database is sent while the test runs."""
    seen: list[str] = []

    def _record(_conn, _cursor, statement, _params, _context, _many):
        if statement.lstrip().upper().startswith(WRITES):
            seen.append(statement.split("\n")[0][:120])

    event.listen(db.engine, "before_cursor_execute", _record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", _record)


@pytest.mark.parametrize(
    "role", ["anonymous", "organizer", "donor", "unverified", "coordinator", "admin"]
)
def test_no_get_route_writes_for_any_role(app, client, world, writes, role):
    if role != "anonymous":
        response = client.post(
            "/login", data={"email": world.users[role].email, "password": PASSWORD}
        )
        assert response.status_code == 302
    headers = world._auth(role) if role != "anonymous" else {}
    writes.clear()
    by_url = {}
    for url in _urls(app, world):
        before = len(writes)
        response = client.get(url, headers=headers if url.startswith("/api/") else {})
        assert response.status_code < 500, f"{role} GET {url}: {response.status_code}"
        if len(writes) > before:
            by_url[url] = writes[before:]
    assert by_url == {}


def test_lapsed_rows_read_as_expired_without_being_stored(app, client, world, writes):
    headers = world._auth("coordinator")
    match = client.get(f"/api/v1/matches/{world.lapsed}", headers=headers).get_json()
    need = client.get(f"/api/v1/needs/{world.stale_need.id}", headers=headers).get_json()
    offer = client.get(f"/api/v1/offers/{world.stale_offer.id}", headers=headers).get_json()
    assert (match["status"], need["status"], offer["status"]) == ("expired", "expired", "expired")
    assert writes == []
    db.session.expire_all()
    stored = (
        db.session.get(Match, world.lapsed).status,
        db.session.get(Need, world.stale_need.id).status,
        db.session.get(Offer, world.stale_offer.id).status,
    )
    assert [str(s) for s in stored] == ["pending", "open", "open"]
