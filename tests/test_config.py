"""Settings from the environment: defaults, refusals, and the SQLite connection recipe."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from aidmatch import create_app
from aidmatch.config import ConfigError, load_config
from aidmatch.extensions import db


def test_defaults_use_sqlite_in_instance_and_keep_a_generated_secret(tmp_path):
    first = load_config(tmp_path, env={})
    assert first["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'aidmatch.sqlite3'}"
    assert first["AIDMATCH_ENV"] == "development"
    assert len(first["SECRET_KEY"]) == 64  # secrets.token_hex(32)
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    second = load_config(tmp_path, env={})
    assert second["SECRET_KEY"] == first["SECRET_KEY"]


def test_production_refuses_to_start_without_a_real_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(tmp_path, env={"AIDMATCH_ENV": "production"})
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(tmp_path, env={"AIDMATCH_ENV": "production", "SECRET_KEY": "short"})
    production = {"AIDMATCH_ENV": "production", "SECRET_KEY": "k" * 40}
    config = load_config(tmp_path, env={**production, "REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


def test_production_refuses_to_start_without_a_shared_limiter_store(tmp_path):
    production = {"AIDMATCH_ENV": "production", "SECRET_KEY": "k" * 40}
    with pytest.raises(ConfigError, match="REDIS_URL"):
        load_config(tmp_path, env=production)
    stated = load_config(tmp_path, env={**production, "RATELIMIT_STORAGE_URI": "memory://"})
    assert stated["RATELIMIT_STORAGE_URI"] == "memory://"  # said so explicitly: one worker
    assert load_config(tmp_path, env={})["RATELIMIT_STORAGE_URI"] == "memory://"


def test_production_refuses_a_cache_of_one_process(tmp_path):
    production = {"AIDMATCH_ENV": "production", "SECRET_KEY": "k" * 40,
                  "REDIS_URL": "redis://127.0.0.1:6379/0"}  # fmt: skip
    with pytest.raises(ConfigError, match="CACHE_BACKEND=memory"):
        load_config(tmp_path, env={**production, "CACHE_BACKEND": "memory"})
    assert load_config(tmp_path, env=production)["CACHE_BACKEND"] == "redis"
    files = load_config(tmp_path, env={**production, "CACHE_BACKEND": "files"})
    assert files["CACHE_BACKEND"] == "files"  # the workers of one machine share the files
    development = load_config(tmp_path, env={"CACHE_BACKEND": "memory"})
    assert development["CACHE_BACKEND"] == "memory"  # flask run: one process


@pytest.mark.parametrize(
    "url", ["not a url", "mysql://root@localhost/db", "postgresql://:::/x:y", "://nothing"]
)
def test_broken_database_url_names_the_setting(tmp_path, url):
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_app({"AIDMATCH_ENV": "testing", "SECRET_KEY": "x" * 40, "DATABASE_URL": url})


def test_unknown_environment_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="AIDMATCH_ENV"):
        load_config(tmp_path, env={"AIDMATCH_ENV": "staging"})


def test_postgres_url_gets_the_psycopg_driver(tmp_path):
    config = load_config(tmp_path, env={"DATABASE_URL": "postgresql://u@h/db"})
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")


def test_sqlite_connections_use_wal_foreign_keys_and_begin_immediate(tmp_path):
    path = tmp_path / "recipe.sqlite3"
    app = create_app(
        {"AIDMATCH_ENV": "testing", "SECRET_KEY": "x" * 40, "DATABASE_URL": f"sqlite:///{path}"}
    )
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            # SQLITE_BUSY_TIMEOUT_MS, by default 15 s (the README's settings table)
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000
            # Even a read-only transaction holds the write lock from its BEGIN: another
            # writer cannot start until it ends (no lost update between read and write).
            conn.execute(sa.text("SELECT 1"))
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            conn.rollback()
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            other.close()
        db.engine.dispose()


def test_transparency_delay_and_front_oblasts(tmp_path):
    from aidmatch import create_app

    def front(env: dict) -> frozenset:
        app = create_app({"AIDMATCH_ENV": "testing", "SECRET_KEY": "x" * 40,
                          "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", **env})  # fmt: skip
        return app.config["FRONT_OBLASTS"]

    config = load_config(tmp_path, env={})
    assert config["TRANSPARENCY_DELAY_DAYS"] == 14
    assert front({}) == {
        "Donetsk Oblast",
        "Luhansk Oblast",
        "Zaporizhzhia Oblast",
        "Kherson Oblast",
        "Kharkiv Oblast",
        "Autonomous Republic of Crimea",
        "Sevastopol",
    }
    config = load_config(tmp_path, env={"TRANSPARENCY_DELAY_DAYS": "0"})
    assert config["TRANSPARENCY_DELAY_DAYS"] == 0
    assert front({"FRONT_OBLASTS": "sumy, Чернігівська область"}) == {
        "Sumy Oblast",
        "Chernihiv Oblast",
    }
    assert front({"FRONT_OBLASTS": ""}) == set()
    with pytest.raises(ConfigError, match="FRONT_OBLASTS names no oblast of Ukraine: Narnia"):
        front({"FRONT_OBLASTS": "Donetsk, Narnia"})
    with pytest.raises(ConfigError, match="TRANSPARENCY_DELAY_DAYS"):
        load_config(tmp_path, env={"TRANSPARENCY_DELAY_DAYS": "-1"})


@pytest.mark.parametrize("secret", ["with space", "a/b", "ключ", "x" * 257])
def test_a_webhook_secret_that_telegrams_header_cannot_carry_is_refused(tmp_path, secret):
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        load_config(tmp_path, env={"TELEGRAM_WEBHOOK_SECRET": secret})
    fine = load_config(tmp_path, env={"TELEGRAM_WEBHOOK_SECRET": "Az09_-" + "x" * 250})
    assert fine["TELEGRAM_WEBHOOK_SECRET"].startswith("Az09_-")
