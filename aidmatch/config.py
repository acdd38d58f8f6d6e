"""Settings from the environment, each with a safe default; tests pass a mapping instead."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

ENVIRONMENTS = ("development", "production", "testing")


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names the setting."""


def _instance_secret_key(instance_path: Path) -> str:
    """Return the secret key kept in instance/, generating it on first use."""
    path = instance_path / "secret_key"
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _int_setting(env: dict, name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def database_url(raw: str | None, instance_path: Path) -> str:
    """Validate DATABASE_URL (default: SQLite file in instance/) and normalise its driver."""
    if not raw:
        instance_path.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{instance_path / 'aidmatch.sqlite3'}"
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        raise ConfigError(
            "DATABASE_URL is not a database URL "
            "(expected e.g. postgresql://user@host/db or sqlite:////abs/path.db)"
        ) from None
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"DATABASE_URL names an unsupported database {backend!r}: use postgresql or sqlite"
        )
    if backend == "postgresql" and url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def load_config(instance_path: Path, env: dict | None = None) -> dict:
    """Build the Flask config mapping from environment variables."""
    env = dict(os.environ if env is None else env)
    mode = env.get("AIDMATCH_ENV", "development")
    if mode not in ENVIRONMENTS:
        raise ConfigError(f"AIDMATCH_ENV must be one of {', '.join(ENVIRONMENTS)}, got {mode!r}")

    secret = env.get("SECRET_KEY")
    if not secret:
        if mode == "production":
            raise ConfigError("SECRET_KEY must be set in production (AIDMATCH_ENV=production)")
        secret = _instance_secret_key(instance_path)
    elif mode == "production" and len(secret) < 32:
        raise ConfigError("SECRET_KEY is too short for production: use at least 32 characters")

    return {
        "AIDMATCH_ENV": mode,
        "TESTING": mode == "testing",
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url(env.get("DATABASE_URL"), instance_path),
        "SQLITE_BUSY_TIMEOUT_MS": _int_setting(env, "SQLITE_BUSY_TIMEOUT_MS", 15000),
        "REDIS_URL": env.get("REDIS_URL") or None,
        "RATELIMIT_STORAGE_URI": env.get("REDIS_URL") or "memory://",
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "10 per 15 minutes"),
        "SESSION_COOKIE_SECURE": mode == "production",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": mode == "production",
        "BABEL_DEFAULT_LOCALE": env.get("DEFAULT_LANGUAGE", "uk"),
        "LANGUAGES": ("uk", "en", "de"),
        "GEOCODER": env.get("GEOCODER") or None,
        "PROXY_COUNT": _int_setting(env, "PROXY_COUNT", 0),
        "INVITE_TTL_DAYS": _int_setting(env, "INVITE_TTL_DAYS", 7),
        "API_TOKEN_TTL_HOURS": _int_setting(env, "API_TOKEN_TTL_HOURS", 24 * 30),
        "PASSWORD_MIN_LENGTH": _int_setting(env, "PASSWORD_MIN_LENGTH", 10),
        "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,  # uploads (CSV) and JSON bodies
        "PREFERRED_URL_SCHEME": "https" if mode == "production" else "http",
    }
