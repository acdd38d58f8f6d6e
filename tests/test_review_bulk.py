"""Bulk decisions in the review queue: ticked rows or all on the page, one reason for all
rejections, refusals that keep what was ticked and typed, a match moved meanwhile reported
while the others go through, and back to the same filters and page."""

from __future__ import annotations

import pytest

from aidmatch.extensions import db
from aidmatch.matches import operations as ops
from aidmatch.matches.models import Match
from aidmatch.permissions import Role
from tests.factories import make_user
from tests.test_review import cast, propose, shown_ids, status_of, text  # noqa: F401


@pytest.fixture
def queue(cast, login_as):  # noqa: F811
    """Four pending matches (two claims, two engine proposals) and a coordinator logged in."""
    from tests.posting_factories import make_need

    needs = [make_need(cast["group_a"], place=cast["kharkiv"], quantity=10) for _ in range(4)]
    claims = [propose(n, cast) for n in needs[:2]]
    proposals = [propose(n, cast, claim=False) for n in needs[2:]]
    db.session.commit()
    login_as(cast["coordinator"])
    return claims, proposals


def test_bulk_approve_ticked(queue, client):
    claims, proposals = queue
    back = "/review?oblast=Kharkiv+Oblast&sort=oldest"
    response = client.post(
        "/review",
        data={
            "action": "approve",
            "ids": [str(m.id) for m in (*claims, proposals[0])],
            "back": back,
        },
    )
    assert response.status_code == 302 and response.location == back  # filters survive
    assert [status_of(m.id) for m in claims] == ["confirmed", "confirmed"]
    assert status_of(proposals[0].id) == "pending"  # approved, waiting for the donor
    assert db.session.get(Match, proposals[0].id).coordinator_approved_at is not None
    page = text(client.get(back))
    assert "3 matches approved." in page and "1 match waits for review" in page


def test_all_on_this_page_without_javascript(queue, client):
    claims, proposals = queue
    html = text(client.get("/review?per_page=3"))
    on_page = shown_ids(html)
    assert len(on_page) == 3
    assert f'name="shown" value="{" ".join(map(str, on_page))}"' in html
    assert 'id="pick-all"' in html and "All matches on this page (3)" in html
    # The box ticked, no row ticked: the server takes the ids the page showed.
    response = client.post(
        "/review",
        data={
            "action": "approve",
            "all": "page",
            "shown": " ".join(map(str, on_page)),
            "back": "/review?per_page=3",
        },
    )
    assert response.status_code == 302 and response.location == "/review?per_page=3"
    approved = {
        m.id for m in (*claims, *proposals) if db.session.get(Match, m.id).coordinator_approved_at
    }
    assert approved == set(on_page)


def test_bulk_reject_needs_one_reason_for_all(queue, client):
    claims, proposals = queue
    ids = [str(proposals[0].id), str(proposals[1].id)]
    response = client.post(
        "/review", data={"action": "reject", "ids": ids, "back": "/review?sort=best"}
    )
    assert response.status_code == 422  # drawn again, what was ticked still ticked
    html = text(response)
    assert "Please give a reason for rejecting: both sides read it." in html
    for mid in ids:
        assert f'value="{mid}" checked>' in html
    assert '<option selected value="best">' in html  # the filters of the page it came from
    assert [status_of(m.id) for m in proposals] == ["pending", "pending"]

    response = client.post(
        "/review", data={"action": "reject", "ids": ids, "reason": "Not a fit", "back": "/review"}
    )
    assert response.status_code == 302
    assert [status_of(m.id) for m in proposals] == ["rejected", "rejected"]
    assert {db.session.get(Match, m.id).reason for m in proposals} == {"Not a fit"}
    assert "2 matches rejected." in text(client.get("/review"))


def test_nothing_ticked_is_said_clearly(queue, client):
    response = client.post("/review", data={"action": "approve", "reason": "kept"})
    assert response.status_code == 422
    html = text(response)
    assert "Tick at least one match first, or “All matches on this page”." in html
    assert "\nkept</textarea>" in html  # what was typed stays


def test_a_match_moved_meanwhile_is_reported_and_the_others_go_through(queue, client):
    claims, proposals = queue
    other = make_user(Role.COORDINATOR)
    ops.reject(claims[0], other, "Duplicate")  # another coordinator, a moment earlier
    db.session.commit()
    response = client.post(
        "/review",
        data={"action": "approve", "ids": [str(m.id) for m in (*claims, proposals[0])]},
    )
    assert response.status_code == 302
    assert status_of(claims[0].id) == "rejected"
    assert status_of(claims[1].id) == "confirmed"
    assert db.session.get(Match, proposals[0].id).coordinator_approved_at is not None
    page = text(client.get("/review"))
    assert "2 matches approved." in page
    assert f"Match #{claims[0].id}: " in page and "rejected" in page
    # Approving again what is already decided is reported, not applied twice.
    client.post("/review", data={"action": f"approve:{claims[1].id}"})
    assert "already confirmed" in text(client.get("/review"))


def test_reject_one_with_its_own_reason(queue, client):
    claims, _proposals = queue
    match = claims[0]
    client.post(
        "/review",
        data={"action": f"reject:{match.id}", f"reason-{match.id}": "Group asked to stop"},
    )
    assert status_of(match.id) == "rejected"
    assert db.session.get(Match, match.id).reason == "Group asked to stop"


def test_back_never_leaves_the_queue(queue, client):
    claims, _proposals = queue
    for back in ("https://evil.example/review", "//evil.example/review", "/needs"):
        response = client.post(
            "/review", data={"action": "approve", "ids": [str(claims[0].id)], "back": back}
        )
        assert response.location == "/review", back
