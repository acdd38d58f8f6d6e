"""Reads never write (DESIGN.md, "Storage and scale"): a pending match past its time reads as
expired on every page and in the API, and no GET stores it; `flask matches expire` does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches import operations as ops
from aidmatch.matches.models import Match, MatchSource, MatchStatus
from tests.match_helpers import assert_invariant, make_cast
from tests.sql_statements import writes


@pytest.fixture
def lapsed(app):
    """A cast with a claim past its time (still stored as pending) and a fresh one."""
    cast = make_cast()
    match = ops.claim_need(cast.need, cast.donor, 5, offer=cast.offer)
    fresh = ops.claim_need(cast.need, cast.donor, 3)
    db.session.flush()
    db.session.execute(
        update(Match).where(Match.id == match.id).values(expires_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    return cast, match.id, fresh.id


@pytest.mark.parametrize("role", ["donor", "organizer", "coordinator"])
def test_gets_write_nothing_and_show_a_lapsed_match_as_expired(
    lapsed, role, client, login_as, api_client
):
    cast, match_id, fresh_id = lapsed
    user = getattr(cast, role)
    api = api_client(user)
    login_as(user)
    with writes() as seen:
        listed = api.get("/matches")
        one = api.get(f"/matches/{match_id}")
        expired = api.get("/matches?status=expired")
        page = client.get(f"/matches/{match_id}")
        mine = client.get("/matches")
        home = client.get("/")
        queue = client.get("/review") if role == "coordinator" else None
    assert seen == []
    assert listed.status_code == 200 and one.status_code == 200
    statuses = {m["id"]: m["status"] for m in listed.get_json()["items"]}
    assert statuses == {match_id: "expired", fresh_id: "pending"}
    assert one.get_json()["status"] == "expired"
    assert [m["id"] for m in expired.get_json()["items"]] == [match_id]
    assert page.status_code == 200 and mine.status_code == 200 and home.status_code == 200
    html = page.get_data(as_text=True)
    assert "expired" in html and f"/matches/{match_id}/decline" not in html
    assert f"/matches/{match_id}/approve" not in html
    if queue is not None:
        assert queue.status_code == 200
        body = queue.get_data(as_text=True)
        assert f'<tr id="m{match_id}"' not in body and f'<tr id="m{fresh_id}"' in body
    db.session.expire_all()
    assert db.session.get(Match, match_id).status == MatchStatus.PENDING
    with writes() as seen:  # the listener does see writes: a POST that acts writes
        assert api.post(f"/matches/{fresh_id}/extend").status_code == (
            200 if role == "donor" else 403
        )
    assert bool(seen) == (role == "donor")
    assert_invariant()


def test_only_the_expiry_command_stores_it(lapsed, app):
    cast, match_id, _fresh = lapsed
    result = app.test_cli_runner().invoke(args=["matches", "expire"])
    assert result.exit_code == 0 and "Expired 1 pending matches" in result.output
    db.session.expire_all()
    assert db.session.get(Match, match_id).status == MatchStatus.EXPIRED
    assert db.session.get(type(cast.need), cast.need.id).pledged == 3
    assert_invariant()


def test_active_is_designs_active(lapsed, api_client):
    """Active (DESIGN.md): pending once the donor accepted, confirmed, shipped, delivered; not
    an engine proposal nobody accepted yet, nor a claim past its time."""
    cast, match_id, fresh_id = lapsed
    proposal = ops.reserve(
        cast.need, cast.offer, cast.donor_org, 2, source=MatchSource.ENGINE, distance_km=3.0
    )
    confirmed = ops.approve(ops.claim_need(cast.need, cast.donor, 1), cast.coordinator)
    db.session.commit()
    api = api_client(cast.donor)
    items = api.get("/matches?status=active").get_json()["items"]
    assert {m["id"] for m in items} == {fresh_id, confirmed.id}
    pending = api.get("/matches?status=pending").get_json()["items"]
    assert {m["id"] for m in pending} == {fresh_id, proposal.id}
    now = utcnow()
    assert [m.is_active(now) for m in (proposal, confirmed)] == [False, True]
    assert db.session.get(Match, match_id).is_active(now) is False
