"""The audit trail's CSV export for coordinators: filters, permissions, formula safety."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from aidmatch.audit.models import AuditEvent
from aidmatch.audit.operations import record
from aidmatch.extensions import db
from aidmatch.permissions import Role
from tests.factories import make_org, make_user
from tests.posting_factories import make_need


def rows_of(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_coordinator_exports_the_whole_trail(app, client, login_as):
    coordinator = make_user(Role.COORDINATOR, email="coord@example.org")
    organizer = make_user(Role.ORGANIZER, email="olena@example.org")
    need = make_need(organizer.organization, organizer, title="Tourniquets")
    db.session.commit()
    login_as(coordinator)
    assert client.get("/audit").status_code == 200
    rows = rows_of(client.get("/audit/export.csv"))
    assert list(rows[0]) == [
        "time", "actor", "action", "object_type", "object_id", "before", "after",
    ]  # fmt: skip
    created = [r for r in rows if r["action"] == "need.create"]
    assert len(created) == 1
    row = created[0]
    assert row["actor"] == "olena@example.org"
    assert row["object_type"] == "needs" and row["object_id"] == str(need.id)
    assert json.loads(row["after"])["title"] == "Tourniquets" and row["before"] == ""
    assert datetime.fromisoformat(row["time"]).tzinfo is not None


def test_filters_by_object_type_and_dates(app, client, login_as):
    coordinator = make_user(Role.COORDINATOR, language="en")
    org = make_org()
    make_need(org, None)
    for action, when in (
        ("org.verify", datetime(2024, 1, 10, 23, 59, tzinfo=UTC)),
        ("org.note", datetime(2024, 2, 1, 0, 0, tzinfo=UTC)),
    ):
        db.session.add(
            AuditEvent(
                action=action,
                object_type="organizations",
                object_id=org.id,
                after={"x": 1},
                created_at=when,
            )
        )
    db.session.commit()
    login_as(coordinator)

    rows = rows_of(client.get("/audit/export.csv?object_type=organizations"))
    assert {r["action"] for r in rows} == {"org.verify", "org.note"}
    assert rows[0]["actor"] == ""  # automatic

    rows = rows_of(client.get("/audit/export.csv?object_type=organizations&since=2024-01-11"))
    assert [r["action"] for r in rows] == ["org.note"]
    rows = rows_of(
        client.get("/audit/export.csv?object_type=organizations&since=2024-01-01&until=2024-01-10")
    )
    assert [r["action"] for r in rows] == ["org.verify"]
    rows = rows_of(client.get("/audit/export.csv?object_type=needs"))
    assert [r["action"] for r in rows] == ["need.create"]

    bad = client.get("/audit/export.csv?since=yesterday")
    assert bad.status_code == 400
    assert "Use a date like" in bad.get_data(as_text=True)


def test_cells_cannot_run_as_formulas(app, client, login_as):
    coordinator = make_user(Role.COORDINATOR)
    evil = make_user(Role.ORGANIZER, email="=cmd@example.org")
    record(evil, '=HYPERLINK("x")', evil.organization, after={"name": "=1+1"})
    db.session.commit()
    login_as(coordinator)
    rows = rows_of(client.get("/audit/export.csv?object_type=organizations"))
    row = next(r for r in rows if "HYPERLINK" in r["action"])
    assert row["actor"] == "'=cmd@example.org"
    assert row["action"].startswith("'=")
    assert json.loads(row["after"]) == {"name": "=1+1"}  # JSON starts with "{": inert


def test_only_staff_may_export(app, client, login_as):
    assert client.get("/audit/export.csv").status_code == 302  # to the login page
    for role in (Role.ORGANIZER, Role.DONOR):
        login_as(make_user(role))
        assert client.get("/audit/export.csv").status_code == 403
        assert client.get("/audit").status_code == 403
        client.post("/logout")
    login_as(make_user(Role.ADMIN))
    assert client.get("/audit/export.csv").status_code == 200
