"""The migrations build exactly the schema the models describe, and unwind to nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from aidmatch.extensions import db
from tests.conftest import make_test_app


def _diff(connection) -> list:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": False}
    )
    return compare_metadata(context, db.metadata)


def test_upgrade_head_matches_models_then_downgrade_base(empty_database_url):
    app = make_test_app(empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            assert _diff(conn) == []
            tables = set(sa.inspect(conn).get_table_names())
        assert tables == set(db.metadata.tables) | {"alembic_version"}

        downgrade(revision="base")
        with db.engine.connect() as conn:
            left = set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
        assert left == set()
        db.engine.dispose()


def test_drift_is_detected(empty_database_url):
    """The comparison really fails when a model has a column the migrations lack."""
    app = make_test_app(empty_database_url)
    with app.app_context():
        upgrade()
        extra = sa.Column("drift_probe", sa.Integer)
        table = db.metadata.tables["needs"]
        table.append_column(extra)
        try:
            with db.engine.connect() as conn:
                diff = _diff(conn)
        finally:
            table._columns.remove(extra)
        assert any(op[0] == "add_column" and op[3].name == "drift_probe" for op in diff)
        db.engine.dispose()


def test_audit_events_are_append_only(app):
    from aidmatch.audit.operations import record
    from tests.factories import make_org

    org = make_org()
    event = record(None, "org.test", org, after={"name": org.name})
    db.session.commit()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(
            sa.text("UPDATE audit_events SET action = 'x' WHERE id = :id"), {"id": event.id}
        )
    db.session.rollback()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.text("DELETE FROM audit_events WHERE id = :id"), {"id": event.id})
    db.session.rollback()


def test_0009_downgrades_with_a_removed_member(empty_database_url):
    """A member removed from an organization keeps the account without one, which the schema
    before 0009 does not allow: the downgrade gives each such account an organization of its
    own, unverified and of the kind its role fits, and loses nobody."""
    app = make_test_app(empty_database_url)
    with app.app_context():
        upgrade(revision="0009_orgs")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO organizations (name, name_key, kind, contact, public_name,"
                    " state, verified_at, created_at, updated_at) VALUES ('A', 'a',"
                    " 'frontline_group', '', false, 'verified', '2026-01-01 00:00:00',"
                    " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
            org_id = conn.scalar(sa.text("SELECT id FROM organizations WHERE name_key = 'a'"))
            conn.execute(
                sa.text(
                    "INSERT INTO users (id, email, password_hash, display_name, role,"
                    " organization_id, org_role, language, active, created_at, updated_at)"
                    " VALUES"
                    " (3, 'a0@x.org', 'h', 'A0', 'organizer', :org, 'owner', 'uk', true,"
                    " '2026-01-01', '2026-01-01'),"
                    " (5, 'gone@x.org', 'h', 'Gone', 'organizer', NULL, 'member', 'uk', true,"
                    " '2026-01-01', '2026-01-01'),"
                    " (7, 'left@x.org', 'h', 'Left', 'donor', NULL, 'member', 'en', true,"
                    " '2026-01-01', '2026-01-01'),"
                    " (9, 'c@x.org', 'h', 'C', 'coordinator', NULL, 'member', 'uk', true,"
                    " '2026-01-01', '2026-01-01')"
                ),
                {"org": org_id},
            )
        downgrade(revision="0008")
        with db.engine.connect() as conn:
            users = conn.execute(
                sa.text(
                    "SELECT u.id, u.organization_id, o.kind, o.verified_at FROM users u"
                    " LEFT JOIN organizations o ON o.id = u.organization_id ORDER BY u.id"
                )
            ).all()
        by_id = {row[0]: row[1:] for row in users}
        assert set(by_id) == {3, 5, 7, 9}
        assert by_id[3][0] == org_id and by_id[9] == (None, None, None)
        assert by_id[5][1:] == ("frontline_group", None) and by_id[7][1:] == (
            "donor_collective",
            None,
        )
        assert len({by_id[3][0], by_id[5][0], by_id[7][0]}) == 3  # each an organization of its own
        upgrade()  # and up again
        db.engine.dispose()


def test_the_versions_share_one_sqlite_foreign_key_switch():
    """The switch of SQLite's foreign keys around a table rebuild is written once
    (migrations/helpers.py) and imported by the versions that rebuild a referenced table."""
    from pathlib import Path

    versions = Path(__file__).resolve().parent.parent / "migrations" / "versions"
    copies = [p.name for p in versions.glob("*.py") if "PRAGMA foreign_keys" in p.read_text()]
    assert copies == []
    for name in ("0009_orgs.py", "0013_legs.py"):
        assert "from migrations.helpers import sqlite_foreign_keys" in (versions / name).read_text()
