"""The coordinators' review queue: order, filters, one-by-one and bulk decisions, the orgs'
history, discrepancies and overdue matches, permissions, and no N+1 queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, update

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches import operations as ops
from aidmatch.matches.models import Match, MatchSource, MatchStatus
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_offer, make_place


def text(response) -> str:
    return response.get_data(as_text=True)


def status_of(match_id: int) -> str:
    db.session.expire_all()
    return str(db.session.get(Match, match_id).status)


@pytest.fixture
def cast(app):
    """Two groups in two oblasts, a donor with an offer, a coordinator."""
    kharkiv = make_place("Reviewka", lat=49.9, lon=36.3, oblast="Kharkiv Oblast")
    donetsk = make_place("Pereviryne", lat=48.5, lon=37.9, oblast="Donetsk Oblast")
    group_a = make_org("Group Alpha")
    group_b = make_org("Group Bravo", verified=True)
    donor_org = make_org("Donor Delta", kind=OrgKind.DONOR_COLLECTIVE)
    donor = make_user(Role.DONOR, org=donor_org)
    offer = make_offer(donor_org, donor, quantity=1000)
    coordinator = make_user(Role.COORDINATOR, language="en")
    db.session.commit()
    return {
        "kharkiv": kharkiv,
        "donetsk": donetsk,
        "group_a": group_a,
        "group_b": group_b,
        "donor_org": donor_org,
        "donor": donor,
        "offer": offer,
        "coordinator": coordinator,
    }


def propose(need, cast, quantity: int = 5, claim: bool = True) -> Match:
    """A pending match: a donor's claim (donor consent given) or an engine proposal."""
    if claim:
        return ops.claim_need(need, cast["donor"], quantity)
    return ops.reserve(
        need,
        cast["offer"],
        cast["donor_org"],
        quantity,
        source=MatchSource.ENGINE,
        distance_km=123.4,
        score=0.5,
        explanation={
            "parts": {"urgency": 0.35, "closeness": 0.1},
            "facts": {"distance_km": 123.4, "radius_km": 300},
        },
    )


def test_queue_orders_by_urgency_then_age_and_filters(cast, client, login_as):
    normal = make_need(cast["group_a"], place=cast["kharkiv"], urgency="normal", title="Normal A")
    critical = make_need(
        cast["group_b"], place=cast["donetsk"], urgency="critical", title="Critical B"
    )
    water = make_need(
        cast["group_a"],
        place=cast["donetsk"],
        urgency="normal",
        title="Water A",
        category="drinking-water",
    )
    m_normal = propose(normal, cast)
    m_water = propose(water, cast)
    m_critical = propose(critical, cast, claim=False)
    db.session.commit()
    login_as(cast["coordinator"])

    assert "3 matches wait for a coordinator&#39;s review" in text(client.get("/"))
    html = text(client.get("/review"))
    assert "3 matches wait for review" in html
    positions = [html.index(f"Match #{m.id}<") for m in (m_critical, m_normal, m_water)]
    assert positions == sorted(positions)
    assert "Distance: 123.4 km" in html and "Closeness" in html  # the engine's reasons
    assert "the donor has not answered yet" in html

    html = text(client.get("/review?oblast=Donetsk+Oblast"))
    assert f"Match #{m_critical.id}<" in html and f"Match #{m_water.id}<" in html
    assert f"Match #{m_normal.id}<" not in html
    html = text(client.get("/review?category=water"))  # a parent takes in its children
    assert f"Match #{m_water.id}<" in html and f"Match #{m_normal.id}<" not in html
    html = text(client.get("/review?category=tourniquets&oblast=Kharkiv+Oblast"))
    assert "1 match waits for review" in html and f"Match #{m_normal.id}<" in html


def test_bulk_approve_and_bulk_reject(cast, client, login_as):
    needs = [make_need(cast["group_a"], place=cast["kharkiv"], quantity=10) for _ in range(4)]
    claims = [propose(n, cast) for n in needs[:2]]
    proposals = [propose(n, cast, claim=False) for n in needs[2:]]
    db.session.commit()
    login_as(cast["coordinator"])

    response = client.post(
        "/review",
        data={"action": "approve", "ids": [str(m.id) for m in (*claims, proposals[0])]},
    )
    assert response.status_code == 302
    assert [status_of(m.id) for m in claims] == ["confirmed", "confirmed"]
    assert status_of(proposals[0].id) == "pending"  # approved, waiting for the donor
    assert db.session.get(Match, proposals[0].id).coordinator_approved_at is not None
    page = text(client.get("/review"))
    assert "3 matches approved." in page and "1 match waits for review" in page

    # Rejecting needs a reason.
    client.post("/review", data={"action": "reject", "ids": [str(proposals[1].id)]})
    assert status_of(proposals[1].id) == "pending"
    assert "Please give a reason" in text(client.get("/review"))
    client.post(
        "/review",
        data={"action": "reject", "ids": [str(proposals[1].id)], "reason": "Not a fit"},
    )
    assert status_of(proposals[1].id) == "rejected"
    assert db.session.get(Match, proposals[1].id).reason == "Not a fit"

    # Approving again (or something already decided) is reported, not applied twice.
    client.post("/review", data={"action": f"approve:{claims[0].id}"})
    assert "already confirmed" in text(client.get("/review"))
    assert client.post("/review", data={"action": "approve"}).status_code == 302
    assert "Tick at least one match first." in text(client.get("/review"))


def test_reject_one_with_its_own_reason(cast, client, login_as):
    match = propose(make_need(cast["group_a"], place=cast["kharkiv"]), cast)
    db.session.commit()
    login_as(cast["coordinator"])
    client.post(
        "/review",
        data={"action": f"reject:{match.id}", f"reason-{match.id}": "Group asked to stop"},
    )
    assert status_of(match.id) == "rejected"
    assert db.session.get(Match, match.id).reason == "Group asked to stop"


def test_history_counts_of_both_groups(cast, client, login_as):
    need = make_need(cast["group_a"], place=cast["kharkiv"], quantity=100)
    coordinator = cast["coordinator"]
    delivered = propose(need, cast, 5)
    ops.approve(delivered, coordinator)
    ops.ship(delivered, cast["donor"], "sent")
    organizer = make_user(Role.ORGANIZER, org=cast["group_a"])
    ops.confirm_delivery(delivered, organizer, 5)
    withdrawn = propose(need, cast, 5)
    ops.approve(withdrawn, coordinator)
    ops.withdraw(withdrawn, cast["donor"], "no van")
    waiting = propose(need, cast, 5)
    db.session.commit()
    login_as(coordinator)
    html = text(client.get("/review"))
    assert f"Match #{waiting.id}<" in html
    assert html.count("earlier: 1 delivered, 1 lapsed (0 expired, 1 withdrawn), 0 rejected") == 2


def test_discrepancies_and_overdue_matches_with_release(cast, client, login_as):
    need = make_need(cast["group_a"], place=cast["kharkiv"], quantity=100, title="Short need")
    coordinator = cast["coordinator"]
    short = propose(need, cast, 10)
    ops.approve(short, coordinator)
    ops.ship(short, cast["donor"], "sent")
    ops.confirm_delivery(short, make_user(Role.ORGANIZER, org=cast["group_a"]), 7, "3 broken")
    late = propose(need, cast, 6)
    ops.approve(late, coordinator)
    db.session.execute(
        update(Match).where(Match.id == late.id).values(expires_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    login_as(coordinator)
    html = text(client.get("/review"))
    assert "7 of 10 pcs arrived" in html and "3 broken" in html
    assert "Confirmed but not shipped in time" in html
    assert f"/matches/{late.id}/release" in html
    home = text(client.get("/"))
    assert "1 confirmed match was not shipped in time" in home

    response = client.post(
        f"/matches/{late.id}/release", data={"reason": "No answer", "next": "/review#stale"}
    )
    assert response.status_code == 302
    assert status_of(late.id) == MatchStatus.EXPIRED
    assert "No confirmed match is overdue." in text(client.get("/review"))


def test_only_staff_review(cast, client, login_as):
    match = propose(make_need(cast["group_a"], place=cast["kharkiv"]), cast)
    db.session.commit()
    assert client.get("/review").status_code == 302
    for user in (cast["donor"], make_user(Role.ORGANIZER)):
        db.session.commit()
        login_as(user)
        assert client.get("/review").status_code == 403
        assert client.post("/review", data={"action": f"approve:{match.id}"}).status_code == 403
        client.post("/logout")
    assert status_of(match.id) == "pending"


def test_a_coordinator_of_one_side_cannot_approve(cast, client, login_as):
    match = propose(make_need(cast["group_a"], place=cast["kharkiv"]), cast)
    insider = make_user(Role.COORDINATOR, org=cast["donor_org"], language="en")
    db.session.commit()
    login_as(insider)
    html = text(client.get("/review"))
    assert "another coordinator reviews it" in html
    client.post("/review", data={"action": f"approve:{match.id}"})
    assert status_of(match.id) == "pending"


def test_statements_do_not_grow_with_rows(cast, client, login_as):
    login_as(cast["coordinator"])
    statements: list[str] = []

    def counter(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    def run() -> int:
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            response = client.get("/review")
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)
        assert response.status_code == 200
        return len(statements)

    def add(n: int) -> None:
        for i in range(n):
            group = make_org(f"Queue group {len(statements)}-{i}-{utcnow().timestamp()}")
            need = make_need(group, place=cast["kharkiv" if i % 2 else "donetsk"])
            propose(need, cast, claim=bool(i % 2))
        db.session.commit()

    add(2)
    client.get("/review")  # warm up
    few = run()
    add(10)
    client.get("/review")  # the same state of the session as before the first count
    many = run()
    assert many == few, "\n".join(s[:160] for s in statements)


def test_a_lapsed_pending_match_leaves_the_queue_without_a_write(cast, client, login_as):
    need = make_need(cast["group_a"], place=cast["kharkiv"], quantity=10)
    lapsed = propose(need, cast, 4)
    fresh = propose(need, cast, 3)
    db.session.execute(
        update(Match).where(Match.id == lapsed.id).values(expires_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    login_as(cast["coordinator"])
    html = text(client.get("/review"))
    assert f"Match #{lapsed.id}<" not in html and f"Match #{fresh.id}<" in html
    assert status_of(lapsed.id) == "pending"  # reads as expired; `flask matches expire` stores it
    assert db.session.get(type(need), need.id).pledged == 7
