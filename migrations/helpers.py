"""What several migrations share, imported by the versions as ``migrations.helpers`` (the
project's folder is importable wherever the migrations run: flask puts the app's folder on
sys.path, and env.py makes sure of it). Written here, not imported from the application, so
that a migration keeps doing what it did when the application changes."""

from alembic import op


def sqlite_foreign_keys(on: bool) -> None:
    """SQLite rebuilds a table to change its constraints (batch mode): dropping the old
    organizations or users table would fail the foreign keys of every row that references it.
    PRAGMA foreign_keys takes effect only outside a transaction, so on SQLite: commit what came
    before, switch them, begin again (the migration's own statements stay one transaction);
    before switching them back on, every reference is checked. Nothing on other databases."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    raw = bind.connection.dbapi_connection
    if on:
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
    if raw.in_transaction:
        raw.execute("COMMIT")
    raw.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")
    raw.execute("BEGIN IMMEDIATE")
