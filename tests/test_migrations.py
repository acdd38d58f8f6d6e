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
