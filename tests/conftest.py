"""Shared fixtures: an app on a clean database per test, clients, login helpers.

The database is SQLite unless TEST_DATABASE_URL names a PostgreSQL server; then this run
creates a fresh database of its own there and drops it at the end. The schema comes from the
migrations (upgrade head) once per run, with the gazetteer loaded; each test then starts from
that state: on SQLite a copy of the template file, on PostgreSQL the per-test tables emptied.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g, has_app_context
from flask.testing import FlaskClient
from flask_babel import force_locale
from jinja2 import BytecodeCache
from sqlalchemy.engine import make_url

from aidmatch import create_app
from aidmatch.extensions import db

# Slow tests carry @pytest.mark.slow where they are written. These live in modules being
# rewritten on other branches right now, so they are marked here, by module and name, until
# the marker can move onto the test itself. A name that no longer exists stops the run.
SLOW_BY_NAME = {
    "tests.test_matches_concurrency": {"test_gunicorn_workers_claiming_the_same_needs"},
}


def pytest_collection_modifyitems(config, items):
    """Mark the tests of SLOW_BY_NAME slow (before -m selects by markers)."""
    for item in items:
        module = getattr(item, "module", None)
        names = SLOW_BY_NAME.get(getattr(module, "__name__", ""), set())
        missing = {name for name in names if not hasattr(module, name)}
        if missing:
            raise pytest.UsageError(f"SLOW_BY_NAME names tests {module.__name__} lacks: {missing}")
        if getattr(item, "originalname", None) in names:
            item.add_marker(pytest.mark.slow)


# Reference data shared by all tests of a run: loaded once, never emptied.
REFERENCE_TABLES = {"places", "categories", "alembic_version"}
# Places made by tests.posting_factories.make_place, removed after each test.
TEST_PLACES_DELETE = "DELETE FROM places WHERE code LIKE 'TEST%'"
TEST_PLACES_EXIST = "SELECT 1 FROM places WHERE code LIKE 'TEST%' LIMIT 1"


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


@contextmanager
def scratch_database(server_url: str = "", prefix: str = "aidmatch_bench") -> Iterator[str]:
    """The URL of an empty, throwaway database: a new one on the PostgreSQL server of
    ``server_url`` if given, else a SQLite file in a temporary folder; dropped or deleted
    afterwards (for the benchmarks)."""
    with tempfile.TemporaryDirectory() as tmp:
        if not server_url.startswith("postgres"):
            yield f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
            return
        url = create_pg_database(server_url, prefix=prefix)
        try:
            yield url
        finally:
            drop_pg_database(url)


# What Flask-Login, Flask-Babel, the API's token loader, CSRF and the privacy policy remember
# in `g` for one request.
SHARED_G_KEYS = (
    "_login_user",
    "api_token_id",
    "_flask_babel",
    "login_failed",
    "csrf_token",
    "privacy_viewer",
)


class IsolatedClient(FlaskClient):
    """A test client whose every request starts with no cached user.

    Tests keep an app context pushed (to use db.session directly), and Flask then runs each
    test request inside that same context, so Flask-Login's and Flask-Babel's per-request caches in `g` would
    carry one request's user into the next; a real server never shares `g` between requests.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            for key in SHARED_G_KEYS:
                g.pop(key, None)
        return super().open(*args, **kwargs)


class CompiledOnce(BytecodeCache):
    """Templates compiled once per run: every test's app has a Jinja environment of its own,
    all made by the same factory with the same settings, and compiling the templates again
    for each was a third of a short test's time. Keyed by the template and its source's
    checksum, as Jinja keys a bytecode cache."""

    def __init__(self):
        self.compiled: dict[tuple[str, str], object] = {}

    def load_bytecode(self, bucket) -> None:
        bucket.code = self.compiled.get((bucket.key, bucket.checksum))

    def dump_bytecode(self, bucket) -> None:
        self.compiled[(bucket.key, bucket.checksum)] = bucket.code


TEMPLATES = CompiledOnce()


def make_test_app(database_url: str, **overrides):
    """An app in testing mode on the given database."""
    config = {
        "AIDMATCH_ENV": "testing",
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": "localhost",
        # The suite's assertions read English; the app's default is Ukrainian.
        # tests/test_translations.py asks for the other languages.
        "BABEL_DEFAULT_LOCALE": "en",
    }
    redis_url = os.environ.get("TEST_REDIS_URL")
    if redis_url:  # .ci/run's PostgreSQL pass: the job queue on Redis, a name per app
        config.update(
            JOBS_BACKEND="redis", REDIS_URL=redis_url, JOBS_NAME=f"aidmatch-test-{uuid.uuid4().hex}"
        )
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = IsolatedClient
    app.jinja_env.bytecode_cache = TEMPLATES
    return app


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
    with engine.begin() as conn:
        for statement in _emptying(conn):
            conn.exec_driver_sql(statement)
        conn.execute(sa.text(TEST_PLACES_DELETE))
        _restore_categories(conn)
    engine.dispose()
    return template_database


_EMPTYING: list[str] = []


def _emptying(conn) -> list[str]:
    """What empties the per-test tables of the PostgreSQL template and restarts their ids
    (found once per run): one DELETE of them all, since TRUNCATE of some thirty tables takes
    a third of a second per test, and a DELETE statement checks foreign keys at its end, so
    tables that refer to each other (users and organizations) empty in any order; TRUNCATE
    only where a trigger refuses DELETE."""
    if _EMPTYING:
        return _EMPTYING
    statements: list[str] = []
    tables = [t for t in sa.inspect(conn).get_table_names() if t not in REFERENCE_TABLES]
    # A table whose trigger refuses DELETE (the append-only audit trail) is truncated.
    refusing = conn.exec_driver_sql(
        "SELECT DISTINCT tab.relname FROM pg_trigger trig JOIN pg_class tab"
        " ON trig.tgrelid = tab.oid WHERE NOT trig.tgisinternal AND trig.tgtype & 8 <> 0"
        " AND tab.relname = ANY(%(tables)s)",
        {"tables": tables},
    ).scalars()
    truncated = sorted(refusing)
    if truncated:
        statements.append("TRUNCATE " + ", ".join(f'"{t}"' for t in truncated) + " CASCADE")
    deleted = [t for t in tables if t not in truncated]
    if deleted:
        first, *rest = deleted
        deletes = ", ".join(f'gone_{i} AS (DELETE FROM "{t}")' for i, t in enumerate(rest))
        statements.append(
            f'WITH {deletes} DELETE FROM "{first}"' if rest else f'DELETE FROM "{first}"'
        )
    owned = conn.exec_driver_sql(
        "SELECT seq.relname FROM pg_class seq"
        " JOIN pg_depend dep ON dep.objid = seq.oid AND dep.deptype IN ('a', 'i')"
        " JOIN pg_class tab ON dep.refobjid = tab.oid"
        " WHERE seq.relkind = 'S' AND tab.relname = ANY(%(tables)s)",
        {"tables": tables},
    ).scalars()
    restarts = ", ".join(f"setval('\"{name}\"', 1, false)" for name in owned)
    if restarts:
        statements.append(f"SELECT {restarts}")
    _EMPTYING.extend(statements)  # once all are found
    return _EMPTYING


_SEEDED_CATEGORIES: list = []


def _restore_categories(conn) -> None:
    """Categories are reference data the run shares on PostgreSQL, but the admin pages'
    tests add, rename, move and retire them: put back the seeded rows when a test changed
    them (one SELECT when it did not)."""
    table = sa.table("categories", *(sa.column(c) for c in _category_columns(conn)))
    rows = [tuple(r) for r in conn.execute(sa.select(table).order_by(table.c.id))]
    if not _SEEDED_CATEGORIES:
        _SEEDED_CATEGORIES.extend(rows)
        return
    if rows == _SEEDED_CATEGORIES:
        return
    ids = [row[0] for row in _SEEDED_CATEGORIES]
    conn.execute(sa.update(table).values(parent_id=None))
    conn.execute(sa.delete(table).where(table.c.id.not_in(ids)))
    names = [c.name for c in table.columns]
    for row in _SEEDED_CATEGORIES:
        values = dict(zip(names, row, strict=True))
        conn.execute(sa.update(table).where(table.c.id == values.pop("id")).values(**values))


_CATEGORY_COLUMNS: list[str] = []


def _category_columns(conn) -> list[str]:
    if not _CATEGORY_COLUMNS:
        columns = sa.inspect(conn).get_columns("categories")
        _CATEGORY_COLUMNS.extend(["id", *(c["name"] for c in columns if c["name"] != "id")])
    return _CATEGORY_COLUMNS


@pytest.fixture
def empty_database_url(tmp_path):
    """An empty database of the kind this run tests (SQLite or PostgreSQL), no tables."""
    pg_base = os.environ.get("TEST_DATABASE_URL", "")
    if pg_base.startswith("postgres"):
        url = create_pg_database(pg_base, prefix="aidmatch_empty")
        yield url
        drop_pg_database(url)
    else:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"


@contextmanager
def running(application):
    """The application inside an app context, cleaned up after: what the test left
    uncommitted, a place index built over its places, its connections, its Redis queue."""
    from aidmatch.places.search import invalidate_index

    with application.app_context():
        yield application
        db.session.rollback()
        # A search index built over places this test added (make_place) must go: the next
        # test's database has other rows under the same ids.
        if db.session.scalar(sa.text(TEST_PLACES_EXIST)):
            invalidate_index()
        db.session.remove()
        db.engine.dispose()
        if application.config["JOBS_BACKEND"] == "redis":
            application.extensions["huey"].storage.flush_all()


@pytest.fixture
def app(database_url):
    """The application on this test's clean database, inside an app context."""
    with running(make_test_app(database_url)) as application:
        yield application


@pytest.fixture
def english(app):
    """English words also outside a request (verbs, explanations, refusals)."""
    with force_locale("en"):
        yield


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


@pytest.fixture
def switch(client, login_as):
    """Log out whoever is logged in, then log in as user."""

    def _switch(user):
        client.post("/logout")
        return login_as(user)

    return _switch


# A small pool per app of the concurrency tests: other sessions may share the PostgreSQL server.
ENGINE_OPTIONS = {"pool_size": 5, "max_overflow": 25, "pool_timeout": 60}


@pytest.fixture
def conc_app(database_url):
    """An app on this test's database whose requests each get their own context."""
    app = make_test_app(database_url, SQLALCHEMY_ENGINE_OPTIONS=ENGINE_OPTIONS)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class ApiClient:
    """The test client with a bearer token for one user: api.get("/needs") etc. Each
    response is checked against the OpenAPI document (tests/openapi_check.py)."""

    def __init__(self, client, token: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def _call(self, method: str, path: str, **kwargs):
        from tests.openapi_check import check_response

        headers = {**self.headers, **kwargs.pop("headers", {})}
        response = getattr(self.client, method)(f"/api/v1{path}", headers=headers, **kwargs)
        check_response(self.client, method, f"/api/v1{path}", response)
        return response

    def get(self, path, **kwargs):
        return self._call("get", path, **kwargs)

    def post(self, path, **kwargs):
        return self._call("post", path, **kwargs)

    def patch(self, path, **kwargs):
        return self._call("patch", path, **kwargs)

    def put(self, path, **kwargs):
        return self._call("put", path, **kwargs)

    def delete(self, path, **kwargs):
        return self._call("delete", path, **kwargs)


@pytest.fixture
def api_client(app):
    """api_client(user) -> an ApiClient authenticated as that user (token committed)."""
    from aidmatch.auth.tokens import issue

    def _make(user):
        token, _row = issue(user, ttl_hours=1)
        db.session.commit()
        return ApiClient(app.test_client(), token)

    return _make
