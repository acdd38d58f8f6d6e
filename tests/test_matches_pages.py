"""The matches pages through the test client: claim a need, a match's page and its buttons,
the user's matches, the home page's lines; and the whole way from a claim to the public
transparency page."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches import operations as ops
from aidmatch.matches.models import Match, MatchSource, MatchStatus
from aidmatch.needs.models import Need
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_offer, make_place

CONTACT_GROUP = "Signal +380 50 111 22 33 (Oksana)"
CONTACT_DONOR = "donors@example.org, +49 151 000"
NOTE = "Blue gate behind the school, ask for Oksana"
EXACT = (49.712345, 37.612345)


class World:
    """A verified frontline group with a need, a donor collective with an offer, a coordinator."""

    def __init__(self, need_quantity: int = 40):
        self.group = make_org("Kupiansk Rescue", contact=CONTACT_GROUP, public_name=True)
        self.organizer = make_user(Role.ORGANIZER, org=self.group, language="en")
        place = make_place("Zoriane", lat=49.7, lon=37.6, oblast="Kharkiv Oblast")
        self.need = make_need(
            self.group,
            self.organizer,
            place=place,
            quantity=need_quantity,
            lat=EXACT[0],
            lon=EXACT[1],
            delivery_note=NOTE,
        )
        self.donor_org = make_org(
            "Berlin Helpers", kind=OrgKind.DONOR_COLLECTIVE, contact=CONTACT_DONOR
        )
        self.donor = make_user(Role.DONOR, org=self.donor_org, language="en")
        self.offer = make_offer(self.donor_org, self.donor, quantity=100, title="CAT stock")
        self.coordinator = make_user(Role.COORDINATOR, language="en")
        db.session.commit()


@pytest.fixture
def world(app):
    return World()


def text(response) -> str:
    return response.get_data(as_text=True)


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html) or re.search(
        rf'type="hidden" name="{name}" value="([^"]*)"', html
    )
    if found is None:
        found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html)
    assert found, f"no hidden {name}"
    return found.group(1)


def matches_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Match))


def only_match() -> Match:
    db.session.expire_all()
    return db.session.scalar(select(Match))


def refuses_a_blank_reason(client, match, action: str, blank: str, reason: str, then: str):
    """`action` on the page refuses a blank reason (422) and takes a real one (302): the match
    is then `then`."""
    response = client.post(f"/matches/{match.id}/{action}", data={"reason": blank})
    assert response.status_code == 422 and "Please give a reason." in text(response)
    response = client.post(f"/matches/{match.id}/{action}", data={"reason": reason})
    assert response.status_code == 302
    assert only_match().status == then


def claim(client, need_id: int, **data):
    page = client.get(f"/needs/{need_id}/claim")
    assert page.status_code == 200, text(page)
    form = {"quantity": "10", "offer": "", "idempotency_key": hidden(text(page), "idempotency_key")}
    form.update(data)
    return client.post(f"/needs/{need_id}/claim", data=form)


def test_claim_approve_ship_receive_and_count_it_publicly(world, client, switch):
    w = world
    switch(w.donor)
    need_page = text(client.get(f"/needs/{w.need.id}"))
    assert f"/needs/{w.need.id}/claim" in need_page

    form = client.get(f"/needs/{w.need.id}/claim")
    html = text(form)
    assert "CAT stock (100 pcs left)" in html and 'value="40"' in html
    response = claim(client, w.need.id, quantity="15", offer=str(w.offer.id))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/needs/{w.need.id}#matches")
    match = only_match()
    assert (match.status, match.quantity, match.offer_id) == ("pending", 15, w.offer.id)
    assert match.donor_accepted_at is not None and match.coordinator_approved_at is None

    # The need page shows the pending match at once, with a link to it.
    need_page = text(client.get(f"/needs/{w.need.id}"))
    assert "pending" in need_page and f"/matches/{match.id}" in need_page
    assert "15 pledged" in need_page and "25 open" in need_page

    # Pending: the donor sees neither the exact point, the note nor the group's contact.
    page = text(client.get(f"/matches/{match.id}"))
    assert "Berlin Helpers" in page and "Kupiansk Rescue" in page
    assert NOTE not in page and CONTACT_GROUP not in page and "712345" not in page
    assert "left before it expires" in page
    assert "/accept" not in page  # a claim carries the donor's consent already
    assert f"/matches/{match.id}/extend" in page and f"/matches/{match.id}/decline" in page

    # The coordinator approves from the review queue.
    switch(w.coordinator)
    queue = text(client.get("/review"))
    assert f'<tr id="m{match.id}"' in queue and "donor agreed" in queue
    response = client.post("/review", data={"action": f"approve:{match.id}", "back": "/review"})
    assert response.status_code == 302
    match = only_match()
    assert match.status == "confirmed" and match.confirmed_at is not None

    # Confirmed: both sides see each other's contact, the exact point and the note.
    switch(w.donor)
    page = text(client.get(f"/matches/{match.id}"))
    assert NOTE in page and CONTACT_GROUP in page and "49.71234" in page
    assert "left to ship" in page
    response = client.post(
        f"/matches/{match.id}/ship", data={"note": "Nova Poshta, 2 boxes", "tracking": "NP123"}
    )
    assert response.status_code == 302
    assert only_match().status == "shipped"

    switch(w.organizer)
    page = text(client.get(f"/matches/{match.id}"))
    assert CONTACT_DONOR in page and "Nova Poshta, 2 boxes" in page and "NP123" in page
    mine = text(client.get("/matches"))
    assert "On the way to you" in mine and f"/matches/{match.id}/confirm-delivery" in mine
    home = text(client.get("/"))
    assert "1 shipment is on its way to you" in home
    response = client.post(
        f"/matches/{match.id}/confirm-delivery",
        data={"quantity_received": "12", "note": "3 lost", "next": "/matches"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/matches")
    match = only_match()
    assert (match.status, match.quantity_received, match.discrepancy) == ("delivered", 12, True)
    need = db.session.get(Need, w.need.id)
    assert (need.pledged, need.delivered) == (12, 12)

    # History, from the audit trail.
    page = text(client.get(f"/matches/{match.id}"))
    for words in ("claimed", "approved by a coordinator", "shipped", "receipt confirmed"):
        assert words in page

    # The public counts it once its week is TRANSPARENCY_DELAY_DAYS (14) past, not before; and
    # never names the group, which opted in but is in Kharkiv Oblast, near the front.
    client.post("/logout")
    assert client.get("/api/v1/transparency/summary").get_json()["totals"]["deliveries"] == 0
    match.delivered_at = utcnow() - timedelta(days=21)  # its whole week is 14 days past
    db.session.commit()
    public = text(client.get("/transparency", headers={"Accept-Language": "en"}))
    assert "Tactical medicine › Tourniquets" in public and "Kupiansk Rescue" not in public
    summary = client.get("/api/v1/transparency/summary").get_json()
    assert summary["totals"]["deliveries"] == 1 and summary["groups_served"] == 1
    assert summary["totals"]["quantity_by_unit"] == {"pcs": 12}
    assert summary["by_oblast"][0]["oblast"] == "Kharkiv Oblast"
    assert summary["median_days_to_delivery"] is not None
    rows = list(csv.DictReader(io.StringIO(text(client.get("/transparency/ledger.csv")))))
    assert len(rows) == 1 and rows[0]["quantity"] == "12"
    assert rows[0]["group"] == "" and rows[0]["category"] == "tourniquets"


def test_claim_errors_keep_what_was_typed(world, client, switch):
    switch(world.donor)
    response = claim(client, world.need.id, quantity="0")
    assert response.status_code == 422
    html = text(response)
    assert "more than zero" in html and 'value="0"' in html

    response = claim(client, world.need.id, quantity="41")
    assert response.status_code == 409
    html = text(response)
    assert "Only 40 are still open." in html and 'value="41"' in html

    response = claim(client, world.need.id, quantity="ten")
    assert response.status_code == 422 and "whole number" in text(response)
    assert 'value="ten"' in text(response)

    other_org = make_org(kind=OrgKind.DONOR_COLLECTIVE)
    other_offer = make_offer(other_org, None)
    db.session.commit()
    response = claim(client, world.need.id, quantity="5", offer=str(other_offer.id))
    assert response.status_code == 422 and "Choose one of your open offers" in text(response)
    assert matches_count() == 0


def test_a_double_submitted_claim_creates_one_match(world, client, switch):
    switch(world.donor)
    page = client.get(f"/needs/{world.need.id}/claim")
    key = hidden(text(page), "idempotency_key")
    assert len(key) == 32  # secrets.token_urlsafe(24): 24 bytes in base64
    data = {"quantity": "10", "offer": "", "idempotency_key": key}
    first = client.post(f"/needs/{world.need.id}/claim", data=data)
    second = client.post(f"/needs/{world.need.id}/claim", data=data)
    assert first.status_code == second.status_code == 302
    assert matches_count() == 1
    assert db.session.get(Need, world.need.id).pledged == 10
    # A new form gets a new key: a second, deliberate claim is a second match.
    assert claim(client, world.need.id, quantity="5").status_code == 302
    assert matches_count() == 2


def test_who_may_claim_and_open_a_match(world, client, switch, login_as):
    assert client.get(f"/needs/{world.need.id}/claim").status_code == 302  # to login
    switch(world.organizer)
    assert client.get(f"/needs/{world.need.id}/claim").status_code == 403
    assert client.post(f"/needs/{world.need.id}/claim", data={"quantity": "1"}).status_code == 403
    need_page = text(client.get(f"/needs/{world.need.id}"))
    assert f"/needs/{world.need.id}/claim" not in need_page

    match = ops.claim_need(world.need, world.donor, 5)
    db.session.commit()
    stranger = make_user(Role.DONOR, language="en")
    db.session.commit()
    switch(stranger)
    assert client.get(f"/matches/{match.id}").status_code == 404
    assert client.post(f"/matches/{match.id}/accept").status_code == 404
    assert client.get("/matches/999999").status_code == 404
    assert f"/matches/{match.id}" not in text(client.get(f"/needs/{world.need.id}"))

    # The group sees it, but may not act as the donor or as a coordinator.
    switch(world.organizer)
    assert client.get(f"/matches/{match.id}").status_code == 200
    assert client.post(f"/matches/{match.id}/accept").status_code == 403
    assert client.post(f"/matches/{match.id}/approve").status_code == 403
    # The donor may not approve its own match.
    switch(world.donor)
    assert client.post(f"/matches/{match.id}/approve").status_code == 403
    assert client.post(f"/matches/{match.id}/nonsense").status_code == 404
    assert only_match().status == "pending"


def test_wrong_state_answers_409_on_the_page(world, client, switch):
    match = ops.claim_need(world.need, world.donor, 5)
    db.session.commit()
    switch(world.donor)
    response = client.post(f"/matches/{match.id}/ship", data={"note": "sent"})
    assert response.status_code == 409
    assert "Only a confirmed match can be marked shipped" in text(response)
    response = client.post(f"/matches/{match.id}/withdraw", data={"reason": "x"})
    assert response.status_code == 409
    assert only_match().status == "pending"

    switch(world.coordinator)
    refuses_a_blank_reason(client, match, "reject", "", "Duplicate", then="rejected")
    switch(world.organizer)
    assert "Duplicate" in text(client.get(f"/matches/{match.id}"))


def test_engine_proposal_accept_and_decline_from_my_matches(world, client, switch):
    explanation = {
        "parts": {"urgency": 0.23, "deadline": 0.0, "closeness": 0.2, "waiting": 0.01},
        "facts": {"distance_km": 437.2, "radius_km": None, "urgency": "high", "verified": True},
    }
    proposals = [
        ops.reserve(
            world.need,
            world.offer,
            world.donor_org,
            n,
            source=MatchSource.ENGINE,
            distance_km=437.2,
            score=0.44,
            explanation=explanation,
        )
        for n in (5, 6)
    ]
    db.session.commit()
    switch(world.donor)
    home = text(client.get("/"))
    assert "2 proposed matches wait for your answer" in home
    mine = text(client.get("/matches"))
    assert "Waiting for your answer" in mine
    for p in proposals:
        assert f"/matches/{p.id}/accept" in mine and f"/matches/{p.id}/decline" in mine

    # Before confirmation the donor gets neither the exact distance nor the closeness part.
    page = text(client.get(f"/matches/{proposals[0].id}"))
    assert "437.2" not in page and "Closeness" not in page and "Urgency" in page
    assert "Distance: about" in page and "0.440" not in page

    response = client.post(f"/matches/{proposals[0].id}/accept", data={"next": "/matches#answer"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/matches#answer")
    response = client.post(f"/matches/{proposals[1].id}/decline", data={"next": "/matches"})
    assert response.status_code == 302
    db.session.expire_all()
    assert [db.session.get(Match, p.id).status for p in proposals] == ["pending", "declined"]
    assert db.session.get(Match, proposals[0].id).donor_accepted_at is not None

    # Staff see the whole explanation.
    switch(world.coordinator)
    page = text(client.get(f"/matches/{proposals[0].id}"))
    assert "437.2" in page and "Closeness" in page and "0.440" in page


def test_donor_asks_for_more_time_once(world, client, switch):
    match = ops.claim_need(world.need, world.donor, 5)
    db.session.commit()
    before = match.expires_at
    switch(world.donor)
    response = client.post(f"/matches/{match.id}/extend")
    assert response.status_code == 302
    match = only_match()
    assert match.extension_used and match.expires_at > before
    page = text(client.get(f"/matches/{match.id}"))
    assert f"/matches/{match.id}/extend" not in page
    response = client.post(f"/matches/{match.id}/extend")
    assert response.status_code == 409 and "already given once" in text(response)


def test_withdraw_needs_a_reason_and_releases(world, client, switch):
    match = ops.claim_need(world.need, world.donor, 8)
    ops.approve(match, world.coordinator)
    db.session.commit()
    switch(world.donor)
    refuses_a_blank_reason(client, match, "withdraw", " ", "Van broke down", then="withdrawn")
    assert db.session.get(Need, world.need.id).pledged == 0


def test_receipt_errors_stay_on_the_form(world, client, switch):
    match = ops.claim_need(world.need, world.donor, 8)
    ops.approve(match, world.coordinator)
    ops.ship(match, world.donor, "sent")
    db.session.commit()
    switch(world.organizer)
    response = client.post(
        f"/matches/{match.id}/confirm-delivery", data={"quantity_received": "9", "note": "hm"}
    )
    assert response.status_code == 422
    html = text(response)
    assert "At most 8 were sent" in html and 'value="9"' in html
    response = client.post(
        f"/matches/{match.id}/confirm-delivery", data={"quantity_received": "eight"}
    )
    assert response.status_code == 422 and "whole number" in text(response)
    assert only_match().status == "shipped"
    response = client.post(f"/matches/{match.id}/confirm-delivery", data={"quantity_received": "8"})
    assert response.status_code == 302
    response = client.post(f"/matches/{match.id}/confirm-delivery", data={"quantity_received": "8"})
    assert response.status_code == 409  # twice: refused
    assert db.session.get(Need, world.need.id).delivered == 8


def test_a_stale_pending_match_reads_as_expired(world, client, switch):
    match = ops.claim_need(world.need, world.donor, 8)
    db.session.commit()
    db.session.execute(
        Match.__table__.update()
        .where(Match.id == match.id)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    switch(world.donor)
    page = text(client.get(f"/matches/{match.id}"))
    assert "expired" in page and f"/matches/{match.id}/decline" not in page
    assert only_match().status == MatchStatus.PENDING  # reads as expired; nothing stored
    response = client.post(f"/matches/{match.id}/decline", data={"reason": ""})
    assert response.status_code == 409 and "This match has expired." in text(response)
    assert db.session.get(Need, world.need.id).pledged == 8
    ops.expire_matches()
    db.session.commit()
    assert only_match().status == MatchStatus.EXPIRED
    assert db.session.get(Need, world.need.id).pledged == 0


def test_matches_page_for_someone_without_matches(app, client, login_as):
    login_as(make_user(Role.DONOR, language="en"))
    html = text(client.get("/matches"))
    assert "Nothing waits for your answer." in html and "Nothing to ship." in html
    assert 'href="/matches"' in html  # the nav link
    assert 'href="/review"' not in html


def test_forms_carry_csrf_tokens(database_url):
    from tests.conftest import make_test_app
    from tests.factories import PASSWORD

    csrf_app = make_test_app(database_url, WTF_CSRF_ENABLED=True)
    with csrf_app.app_context():
        w = World()
        client = csrf_app.test_client()

        def token(html: str) -> str:
            return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)

        login = text(client.get("/login"))
        data = {"csrf_token": token(login), "email": w.donor.email, "password": PASSWORD}
        assert client.post("/login", data=data).status_code == 302

        page = text(client.get(f"/needs/{w.need.id}/claim"))
        bare = {"quantity": "4", "idempotency_key": hidden(page, "idempotency_key")}
        assert client.post(f"/needs/{w.need.id}/claim", data=bare).status_code == 400
        data = {**bare, "csrf_token": token(page)}
        assert client.post(f"/needs/{w.need.id}/claim", data=data).status_code == 302
        match = only_match()

        page = text(client.get(f"/matches/{match.id}"))
        assert client.post(f"/matches/{match.id}/extend").status_code == 400
        response = client.post(f"/matches/{match.id}/extend", data={"csrf_token": token(page)})
        assert response.status_code == 302 and only_match().extension_used
        db.session.remove()
        db.engine.dispose()


def test_a_claim_sent_twice_at_once_creates_one_match(app, world):
    """Two browsers' submits of the same form land at the same moment."""
    import threading

    from tests.factories import PASSWORD

    clients = [app.test_client() for _ in range(2)]
    for c in clients:
        data = {"email": world.donor.email, "password": PASSWORD}
        assert c.post("/login", data=data).status_code == 302
    page = text(clients[0].get(f"/needs/{world.need.id}/claim"))
    data = {"quantity": "12", "offer": "", "idempotency_key": hidden(page, "idempotency_key")}
    db.session.close()  # on SQLite, an open transaction here would hold the write lock
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def submit(c):
        barrier.wait()
        codes.append(c.post(f"/needs/{world.need.id}/claim", data=data).status_code)

    threads = [threading.Thread(target=submit, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [302, 302]
    assert matches_count() == 1
    db.session.expire_all()
    assert db.session.get(Need, world.need.id).pledged == 12


def test_pages_and_api_refuse_the_same_way(world, client, switch, api_client):
    """404 for a viewer who may not see the match, 403 for a side that may not take the
    action, 409 for the wrong state: the same answer from the page and from the API, and the
    side is checked before the body is read."""
    match = ops.claim_need(world.need, world.donor, 5)
    stranger = make_user(Role.DONOR, language="en")
    db.session.commit()
    cases = [
        (stranger, "accept", {}, 404),
        (stranger, "withdraw", {"reason": 7}, 404),
        (world.organizer, "accept", {}, 403),
        (world.organizer, "ship", {"note": ["not text"]}, 403),
        (world.donor, "approve", {}, 403),
        (world.donor, "ship", {"note": "sent"}, 409),
        (world.organizer, "confirm-delivery", {"quantity_received": 1}, 409),
    ]
    for user, action, body, status in cases:
        api = api_client(user)
        assert api.post(f"/matches/{match.id}/{action}", json=body).status_code == status, (
            "api",
            action,
        )
        switch(user)
        form = {k: str(v) for k, v in body.items()}
        response = client.post(f"/matches/{match.id}/{action}", data=form)
        assert response.status_code == status, ("page", action, response.status_code)
    for user, status in ((stranger, 404), (world.organizer, 200), (world.coordinator, 200)):
        switch(user)
        assert client.get(f"/matches/{match.id}").status_code == status
        assert api_client(user).get(f"/matches/{match.id}").status_code == status
    assert only_match().status == "pending"
