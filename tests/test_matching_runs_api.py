"""The matching runs API and page: who may start runs, 202/403/409, a run queued and run by
the job queue, reading its stage and progress."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.jobs.queue import drain
from aidmatch.matches.models import Match
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from aidmatch.runs.models import MatchingRun, RunStatus
from aidmatch.runs.scope import resolve_scope
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_offer


def cast():
    front = make_org("Front")
    make_need(front, None, quantity=20)
    donor = make_org("Donor", kind=OrgKind.DONOR_COLLECTIVE)
    donor_user = make_user(Role.DONOR, org=donor, language="en")
    make_offer(donor, donor_user, quantity=15)
    coordinator = make_user(Role.COORDINATOR, language="en")
    db.session.commit()
    return coordinator, donor_user


def test_only_staff_start_runs(app, api_client):
    _coordinator, donor_user = cast()
    response = api_client(donor_user).post("/matching/runs", json={})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert api_client(donor_user).get("/matching/runs").status_code == 403
    assert db.session.scalar(select(MatchingRun)) is None
    assert app.test_client().post("/api/v1/matching/runs", json={}).status_code == 401


def test_a_coordinator_starts_a_run_and_reads_it(app, api_client):
    coordinator, _donor = cast()
    api = api_client(coordinator)
    response = api.post("/matching/runs", json={"category": "tourniquets"})
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert {"id", "status", "stage", "progress_done", "progress_total", "proposals"} <= set(body)
    assert body["status"] == "queued" and body["proposals"] == 0 and body["stage"] is None
    assert body["scope"] == "category=tourniquets"
    assert response.headers["Location"].endswith(f"/api/v1/matching/runs/{body['id']}")
    assert db.session.scalar(select(Match)) is None  # the answer came before the run
    db.session.rollback()  # end the test's read: SQLite lets one writer at a time
    assert drain(app) == 1  # the job queue runs it
    match = db.session.scalar(select(Match))
    assert match.quantity == 15 and match.run_id == body["id"]
    read = api.get(f"/matching/runs/{body['id']}")
    assert read.status_code == 200
    done = read.get_json()
    assert done["status"] == "finished" and done["proposals"] == 1
    assert done["needs_considered"] == 1 and done["offers_considered"] == 1
    assert done["stage"] == "storing" and done["progress_done"] == done["progress_total"] == 1
    assert done["heartbeat_at"] is not None
    listed = api.get("/matching/runs").get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == body["id"]
    assert api.get("/matching/runs/999").status_code == 404
    again = api.post("/matching/runs", json={}).get_json()
    db.session.rollback()
    drain(app)
    assert api.get(f"/matching/runs/{again['id']}").get_json()["proposals"] == 0


def test_a_run_while_another_runs_is_refused_with_409(app, api_client):
    coordinator, _donor = cast()
    scope = resolve_scope("tactical-medicine")
    db.session.add(
        MatchingRun(
            parameters=scope.parameters(),
            scope=scope.key,
            status=RunStatus.RUNNING,
            started_at=utcnow() - timedelta(minutes=2),
            heartbeat_at=utcnow(),  # its worker is alive
            skipped={},
            timings={},
        )
    )
    db.session.commit()
    response = api_client(coordinator).post("/matching/runs", json={"category": "tourniquets"})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "run_in_progress" and "still running" in error["message"]
    other = api_client(coordinator).post("/matching/runs", json={"category": "generators"})
    assert other.status_code == 202
    queued = api_client(coordinator).post("/matching/runs", json={"category": "generators"})
    assert queued.status_code == 409  # a queued run holds its scope too
    assert f"#{other.get_json()['id']}" in queued.get_json()["error"]["message"]


def test_bad_parameters_answer_422(app, api_client):
    coordinator, _donor = cast()
    api = api_client(coordinator)
    response = api.post("/matching/runs", json={"category": "unicorns"})
    assert response.status_code == 422 and "category" in response.get_json()["error"]["fields"]
    assert "tourniquets" in response.get_json()["error"]["fields"]["category"]  # what works
    atlantis = api.post("/matching/runs", json={"oblast": "Atlantis"})
    assert atlantis.status_code == 422
    assert "Kharkiv Oblast" in atlantis.get_json()["error"]["fields"]["oblast"]
    assert api.post("/matching/runs", json={"allocator": "magic"}).status_code == 422


@pytest.mark.parametrize(
    "typed",
    [
        "Kharkiv Oblast",
        "kharkiv oblast",
        "Kharkiv",
        " KHARKIV ",
        "Харківська область",
        "харківська",
    ],
)
def test_an_oblast_is_taken_as_people_write_it(app, api_client, typed):
    coordinator, _donor = cast()
    response = api_client(coordinator).post("/matching/runs", json={"oblast": typed})
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["scope"] == "oblast=Kharkiv Oblast"


def test_kyiv_is_the_city_and_kyivska_the_oblast(app):
    from aidmatch.places.labels import find_oblast

    assert find_oblast("Kyiv") == "Kyiv" and find_oblast("Київ") == "Kyiv"
    assert find_oblast("kyiv oblast") == "Kyiv Oblast" and find_oblast("Київська") == "Kyiv Oblast"
    assert find_oblast("Atlantis") is None and find_oblast("  ") is None


def test_the_runs_page_starts_a_run_and_shows_its_proposals(app, login_as):
    coordinator, donor_user = cast()
    client = login_as(coordinator)
    page = client.get("/matching")
    assert page.status_code == 200 and "Start a matching run" in page.get_data(as_text=True)
    assert "Best overall" in page.get_data(as_text=True)
    assert "Fast, one by one" in page.get_data(as_text=True)
    assert "(a min-cost flow)" in page.get_data(as_text=True)  # the names in the note
    response = client.post("/matching", data={"category": "", "oblast": "", "allocator": "flow"})
    assert response.status_code == 302
    run = db.session.scalar(select(MatchingRun))
    assert response.headers["Location"].endswith(f"/matching/runs/{run.id}")
    waiting = client.get(f"/matching/runs/{run.id}").get_data(as_text=True)
    assert "waiting for a worker" in waiting and "<progress" in waiting
    assert '<meta http-equiv="refresh"' in waiting  # it reloads without JavaScript
    db.session.rollback()
    drain(app)
    page = client.get(f"/matching/runs/{run.id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh"' not in page and "<progress" not in page
    assert "Tourniquets for the evacuation team" in page and "critical" not in page
    assert " km" in page
    listing = client.get("/matching").get_data(as_text=True)
    assert f"#{run.id}" in listing
    refused = client.post("/matching", data={"category": "nope", "allocator": "flow"})
    assert refused.status_code == 200  # the form again, with its error; no second run
    assert "no such category" in refused.get_data(as_text=True).lower()
    assert db.session.scalar(select(func.count()).select_from(MatchingRun)) == 1


def test_the_runs_page_is_for_staff_only(app, login_as):
    _coordinator, donor_user = cast()
    client = login_as(donor_user)
    assert client.get("/matching").status_code == 403
    assert client.post("/matching", data={}).status_code == 403
