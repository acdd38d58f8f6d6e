"""Shared fixtures: an app on a clean database per test, clients, login helpers.

The database is SQLite unless TEST_DATABASE_URL names a PostgreSQL server; then this run
creates a fresh database of its own there and drops it at the end. The schema comes from the
migrations (upgrade head) once per run, with the gazetteer loaded; each test then starts from
that state: on SQLite a copy of the template file, on PostgreSQL the per-test tables truncated.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from aidmatch import create_app
from aidmatch.extensions import db

# Reference data shared by all tests of a run: loaded once, never truncated.
REFERENCE_TABLES = {"places", "categories", "alembic_version"}


def _pg_admin_url(url: str) -> sa.URL:
    return make_url(url).set(drivername="postgresql+psycopg")


def create_pg_database(base_url: str, prefix: str = "aidmatch_test") -> str:
    """Create an empty database on the server of base_url; return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(_pg_admin_url(base_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return _pg_admin_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    """Drop a database made by create_pg_database, closing other connections first."""
    target = make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
    admin.dispose()


def make_test_app(database_url: str, **overrides):
    """An app in testing mode on the given database."""
    config = {
        "AIDMATCH_ENV": "testing",
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": "localhost",
    }
    config.update(overrides)
    return create_app(config)


def upgrade_and_load(database_url: str) -> None:
    """Migrate an empty database to head and load the gazetteer into it."""
    from flask_migrate import upgrade

    from aidmatch.places.gazetteer import load_places

    app = make_test_app(database_url)
    with app.app_context():
        upgrade()
        load_places()
        db.session.commit()
        db.engine.dispose()


@pytest.fixture(scope="session")
def template_database(tmp_path_factory):
    """The migrated, gazetteer-loaded database that each test starts from."""
    pg_base = os.environ.get("TEST_DATABASE_URL", "")
    if pg_base.startswith("postgres"):
        url = create_pg_database(pg_base)
        upgrade_and_load(url)
        yield url
        drop_pg_database(url)
        return
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    url = f"sqlite:///{path}"
    upgrade_and_load(url)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.exec_driver_sql("PRAGMA journal_mode = DELETE")
    engine.dispose()
    yield url


@pytest.fixture
def database_url(template_database, tmp_path) -> str:
    """A clean database for this test, in the state upgrade_and_load left it."""
    if template_database.startswith("sqlite"):
        source = Path(make_url(template_database).database)
        target = tmp_path / "test.sqlite3"
        shutil.copyfile(source, target)
        return f"sqlite:///{target}"
    engine = sa.create_engine(template_database)
    tables = [t for t in sa.inspect(engine).get_table_names() if t not in REFERENCE_TABLES]
    with engine.begin() as conn:
        if tables:
            quoted = ", ".join(f'"{t}"' for t in tables)
            conn.exec_driver_sql(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
    engine.dispose()
    return template_database


@pytest.fixture
def app(database_url):
    """The application on this test's clean database, inside an app context."""
    application = make_test_app(database_url)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client (cookies kept between requests)."""
    return app.test_client()


@pytest.fixture
def login_as(client):
    """Log the test client in as a user (by its factory password)."""
    from tests.factories import PASSWORD

    def _login(user, password: str = PASSWORD):
        response = client.post(
            "/login", data={"email": user.email, "password": password}, follow_redirects=False
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return _login
