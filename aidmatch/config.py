"""Settings from the environment, each with a safe default; tests pass a mapping instead."""

from __future__ import annotations

import os
import re
import secrets
from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

ENVIRONMENTS = ("development", "production", "testing")
# What Telegram's secret header (set-webhook's secret_token) takes.
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


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


def _positive_setting(env: dict, name: str, default: int) -> int:
    value = _int_setting(env, name, default)
    if value <= 0:
        raise ConfigError(f"{name} must be more than zero, got {value}")
    return value


def _flag_setting(env: dict, name: str, default: bool) -> bool:
    """A yes/no setting: 1, true, yes, on or 0, false, no, off (any case); unset: default."""
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be yes or no (1/0, true/false, on/off), got {raw!r}")


def _float_setting(env: dict, name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not (value >= 0 and value != float("inf")):
        raise ConfigError(f"{name} must be a finite number >= 0, got {raw!r}")
    return value


# The matching engine's score weights (aidmatch/engine/scoring.py, same defaults).
MATCH_SETTINGS = {
    "MATCH_WEIGHT_URGENCY": 0.35,
    "MATCH_WEIGHT_DEADLINE": 0.20,
    "MATCH_WEIGHT_CLOSENESS": 0.25,
    "MATCH_WEIGHT_WAITING": 0.15,
    "MATCH_WEIGHT_VERIFIED": 0.05,
    "MATCH_WEIGHT_CATEGORY_FIT": 0.10,
    "MATCH_DEADLINE_HORIZON_DAYS": 30.0,
    "MATCH_WAITING_FULL_DAYS": 14.0,
    "MATCH_ANYWHERE_REFERENCE_KM": 500.0,
}


def _match_settings(env: dict) -> dict:
    """The matching engine's settings: weights >= 0, scales > 0, worker processes >= 1."""
    values = {name: _float_setting(env, name, default) for name, default in MATCH_SETTINGS.items()}
    if not any(values[name] for name in values if name.startswith("MATCH_WEIGHT_")):
        raise ConfigError("At least one MATCH_WEIGHT_* setting must be greater than 0")
    for name in (
        "MATCH_DEADLINE_HORIZON_DAYS",
        "MATCH_WAITING_FULL_DAYS",
        "MATCH_ANYWHERE_REFERENCE_KM",
    ):
        if values[name] <= 0:
            raise ConfigError(f"{name} must be greater than 0")
    values["MATCH_WORKERS"] = _int_setting(env, "MATCH_WORKERS", 2)
    if values["MATCH_WORKERS"] < 1:
        raise ConfigError("MATCH_WORKERS must be at least 1")
    return values


# Oblasts with occupied or contested territory, as the gazetteer names them: a group there is
# never named on the public transparency page, whatever it chose.
FRONT_OBLASTS_DEFAULT = (
    "Donetsk Oblast",
    "Luhansk Oblast",
    "Zaporizhzhia Oblast",
    "Kherson Oblast",
    "Kharkiv Oblast",
    "Autonomous Republic of Crimea",
    "Sevastopol",
)


def front_oblast_names(raw) -> tuple[str, ...]:
    """FRONT_OBLASTS: oblasts separated by commas (or a list of them), as named in the
    gazetteer or typed ("Donetsk", "Донецька область"); None: FRONT_OBLASTS_DEFAULT; empty:
    none. The factory resolves them to the gazetteer's names (places.labels.resolve_oblasts)
    and refuses to start on one it does not know."""
    if raw is None:
        return FRONT_OBLASTS_DEFAULT
    if not isinstance(raw, str):  # a test's mapping may give a list or set
        raw = ",".join(raw)
    return tuple(name for name in (part.strip() for part in raw.split(",")) if name)


@cache
def _zones() -> frozenset[str]:
    """zoneinfo.available_timezones(), read off the disk once per process (each test makes
    an app: it was a fifth of the time that takes)."""
    from zoneinfo import available_timezones

    return frozenset(available_timezones())


def _timezone_setting(env: dict) -> str:
    """DEFAULT_TIMEZONE: an IANA zone (Europe/Kyiv unless set)."""
    zone = env.get("DEFAULT_TIMEZONE") or "Europe/Kyiv"
    if zone not in _zones():
        raise ConfigError(
            f"DEFAULT_TIMEZONE must be an IANA time zone like Europe/Kyiv, got {zone!r}"
        )
    return zone


def _limiter_storage(env: dict, mode: str) -> str:
    """Where rate-limit counters live: RATELIMIT_STORAGE_URI, else REDIS_URL, else (outside
    production) this process's memory. Production refuses to start without a shared store:
    with in-process counters every worker would allow the limit again."""
    storage = env.get("RATELIMIT_STORAGE_URI") or env.get("REDIS_URL")
    if not storage and mode == "production":
        raise ConfigError(
            "Production needs REDIS_URL (or RATELIMIT_STORAGE_URI) so that login limits are "
            "shared by all workers"
        )
    return storage or "memory://"


def _cache_settings(env: dict, mode: str, instance_path: Path) -> dict:
    """The shared cache (cache.py): Redis when REDIS_URL is set, else files in the instance
    folder (the processes of one machine); tests keep it in their own memory."""
    default = "memory" if mode == "testing" else ("redis" if env.get("REDIS_URL") else "files")
    backend = env.get("CACHE_BACKEND") or default
    types = {"redis": "RedisCache", "files": "FileSystemCache", "memory": "SimpleCache"}
    if backend not in types:
        raise ConfigError(f"CACHE_BACKEND must be redis, files or memory, got {backend!r}")
    if backend == "redis" and not env.get("REDIS_URL"):
        raise ConfigError("CACHE_BACKEND=redis needs REDIS_URL")
    if backend == "memory" and mode == "production":
        # Each worker would have a generation of its own: a write in one (a logout, a
        # disabled account) would not reach what another holds (auth/loading.py).
        raise ConfigError(
            "CACHE_BACKEND=memory keeps the cache in one process (the tests); production "
            "needs redis or files, which every worker shares"
        )
    return {
        "CACHE_BACKEND": backend,
        "CACHE_TYPE": types[backend],
        "CACHE_REDIS_URL": env.get("REDIS_URL"),
        "CACHE_DIR": str(instance_path / "cache"),
        "CACHE_THRESHOLD": 20_000,  # entries kept by the files and memory backends
        "CACHE_KEY_PREFIX": env.get("CACHE_KEY_PREFIX", "aidmatch:cache:"),
        "CACHE_DEFAULT_TIMEOUT": 300,
    }


def _jobs_settings(env: dict, mode: str, instance_path: Path) -> dict:
    """The job queue (jobs/queue.py): Redis when REDIS_URL is set, else a SQLite file of its
    own beside the database; tests use a memory queue they drain themselves."""
    default = "memory" if mode == "testing" else ("redis" if env.get("REDIS_URL") else "sqlite")
    backend = env.get("JOBS_BACKEND") or default
    if backend not in ("memory", "redis", "sqlite"):
        raise ConfigError(f"JOBS_BACKEND must be sqlite, redis or memory, got {backend!r}")
    if backend == "redis" and not env.get("REDIS_URL"):
        raise ConfigError("JOBS_BACKEND=redis needs REDIS_URL")
    return {
        "JOBS_BACKEND": backend,
        "JOBS_NAME": env.get("JOBS_NAME", "aidmatch"),
        "JOBS_SQLITE_PATH": env.get("JOBS_SQLITE_PATH") or str(instance_path / "jobs.sqlite3"),
        "JOBS_BLOCKING": backend == "redis" and mode != "testing",
        "JOBS_WORKERS": _positive_setting(env, "JOBS_WORKERS", 2),
        "NOTIFY_CLAIM_STALE_SECONDS": _int_setting(env, "NOTIFY_CLAIM_STALE_SECONDS", 300),
        # A matching run whose worker has not written its heartbeat for this long is taken
        # for dead and marked failed; one still queued after RUN_QUEUED_TIMEOUT_SECONDS too.
        "RUN_HEARTBEAT_TIMEOUT_SECONDS": _positive_setting(
            env, "RUN_HEARTBEAT_TIMEOUT_SECONDS", 60
        ),
        "RUN_QUEUED_TIMEOUT_SECONDS": _positive_setting(env, "RUN_QUEUED_TIMEOUT_SECONDS", 900),
    }


def _mail_settings(env: dict) -> dict:
    """E-mail over SMTP (Flask-Mailman's MAIL_* names); no MAIL_SERVER: e-mail is off."""
    port = _int_setting(env, "MAIL_PORT", 25)
    if not 0 < port < 65536:
        raise ConfigError(f"MAIL_PORT must be a TCP port, got {port}")
    flag = lambda name: env.get(name, "").lower() in ("1", "true", "yes", "on")  # noqa: E731
    return {
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": port,
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": flag("MAIL_USE_TLS"),
        "MAIL_USE_SSL": flag("MAIL_USE_SSL"),
        "MAIL_TIMEOUT": _positive_setting(env, "MAIL_TIMEOUT", 20),
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "aidmatch <noreply@localhost>"),
    }


def _telegram_settings(env: dict) -> dict:
    """The Telegram bot (telegram/): off without TELEGRAM_BOT_TOKEN."""
    secret = env.get("TELEGRAM_WEBHOOK_SECRET") or None
    if secret is not None and not WEBHOOK_SECRET.fullmatch(secret):
        raise ConfigError(
            "TELEGRAM_WEBHOOK_SECRET must be 1 to 256 characters of A-Z, a-z, 0-9, _ and - "
            "(what Telegram's secret header takes)"
        )
    return {
        "TELEGRAM_BOT_TOKEN": env.get("TELEGRAM_BOT_TOKEN") or None,
        "TELEGRAM_BOT_USERNAME": env.get("TELEGRAM_BOT_USERNAME") or None,
        "TELEGRAM_API_BASE": (env.get("TELEGRAM_API_BASE") or "https://api.telegram.org").rstrip(
            "/"
        ),
        # What Telegram's X-Telegram-Bot-Api-Secret-Token header must carry to the webhook;
        # unset: the webhook answers 404.
        "TELEGRAM_WEBHOOK_SECRET": secret,
    }


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


def masked_url(raw: str | None) -> str | None:
    """A URL as it may be shown (the admins' settings page): its password and the values of
    its query (an API key of a tile server) replaced by ***; None when not set."""
    if not raw:
        return None
    parts = urlsplit(str(raw))
    netloc = parts.hostname or ""
    if ":" in netloc:  # an IPv6 address
        netloc = f"[{netloc}]"
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    if parts.username is not None or parts.password is not None:
        userinfo = parts.username or ""
        if parts.password is not None:
            userinfo += ":***"
        netloc = f"{userinfo}@{netloc}"
    query = "&".join(
        f"{name}=***" if value else name for name, value in parse_qsl(parts.query, True)
    )
    if parts.scheme and raw.startswith(f"{parts.scheme}://"):  # keep sqlite:////abs/path
        return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


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

    if _int_setting(env, "TRANSPARENCY_DELAY_DAYS", 14) < 0:
        raise ConfigError("TRANSPARENCY_DELAY_DAYS must be 0 or more")

    return {
        "AIDMATCH_ENV": mode,
        "TESTING": mode == "testing",
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url(env.get("DATABASE_URL"), instance_path),
        "SQLITE_BUSY_TIMEOUT_MS": _int_setting(env, "SQLITE_BUSY_TIMEOUT_MS", 15000),
        "REDIS_URL": env.get("REDIS_URL") or None,
        "RATELIMIT_STORAGE_URI": _limiter_storage(env, mode),
        # failed logins: per account and client address, per address (several people behind
        # one NAT), and per account from anywhere, over a short window: it slows guessing
        # from many addresses without locking the owner out for long
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "10 per 15 minutes"),
        "LOGIN_ADDRESS_RATE_LIMIT": env.get("LOGIN_ADDRESS_RATE_LIMIT", "30 per 15 minutes"),
        "LOGIN_ACCOUNT_RATE_LIMIT": env.get("LOGIN_ACCOUNT_RATE_LIMIT", "5 per minute"),
        "REGISTER_RATE_LIMIT": env.get("REGISTER_RATE_LIMIT", "10 per hour"),
        "MESSAGE_RATE_LIMIT": env.get("MESSAGE_RATE_LIMIT", "20 per minute; 200 per day"),
        # receipts signed through a slip's link (no account): per client address
        "RECEIPT_RATE_LIMIT": env.get("RECEIPT_RATE_LIMIT", "10 per minute; 60 per hour"),
        "RECEIPT_LINK_DAYS": _positive_setting(env, "RECEIPT_LINK_DAYS", 60),
        "SESSION_IDLE_HOURS": _positive_setting(env, "SESSION_IDLE_HOURS", 72),
        "SESSION_COOKIE_SECURE": mode == "production",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": mode == "production",
        "BABEL_DEFAULT_LOCALE": env.get("DEFAULT_LANGUAGE", "uk"),
        "LANGUAGES": ("uk", "en", "de"),
        # The zone times are shown in for anyone who chose none (/account), visitors too.
        "BABEL_DEFAULT_TIMEZONE": _timezone_setting(env),
        # The compiled catalogues shipped in the package (scripts/translations compile).
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).resolve().parent / "translations"),
        "PROXY_COUNT": _int_setting(env, "PROXY_COUNT", 0),
        # Base tiles of the map, e.g. https://tile.example.org/{z}/{x}/{y}.png; empty: none.
        "MAP_TILE_URL": env.get("MAP_TILE_URL", ""),
        "INVITE_TTL_DAYS": _int_setting(env, "INVITE_TTL_DAYS", 7),
        "API_TOKEN_TTL_HOURS": _int_setting(env, "API_TOKEN_TTL_HOURS", 24 * 30),
        # A group vouched for by two verified groups nearby (orgs/vouches.py): its
        # non-sensitive needs are shown to donors while its verification waits.
        "VOUCHED_NEEDS_SHOWN": _flag_setting(env, "VOUCHED_NEEDS_SHOWN", True),
        "PASSWORD_MIN_LENGTH": _int_setting(env, "PASSWORD_MIN_LENGTH", 10),
        "MATCH_PENDING_TTL_HOURS": _positive_setting(env, "MATCH_PENDING_TTL_HOURS", 72),
        "LEG_CONFIRM_HOURS": _positive_setting(env, "LEG_CONFIRM_HOURS", 72),
        # A month's pledged money not confirmed received this many days after its due day is
        # flagged to both sides (aidmatch/money/late.py).
        "MONEY_LATE_DAYS": _positive_setting(env, "MONEY_LATE_DAYS", 7),
        "MATCH_CONFIRMED_TTL_DAYS": _positive_setting(env, "MATCH_CONFIRMED_TTL_DAYS", 14),
        "MATCH_EXTENSION_HOURS": _positive_setting(env, "MATCH_EXTENSION_HOURS", 72),
        # The public ledger and charts: a delivery shows this many days after it at the
        # earliest, dated by its week; groups in FRONT_OBLASTS are never named.
        "TRANSPARENCY_DELAY_DAYS": _int_setting(env, "TRANSPARENCY_DELAY_DAYS", 14),
        "FRONT_OBLASTS": front_oblast_names(env.get("FRONT_OBLASTS")),
        "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,  # uploads (CSV) and JSON bodies
        "PREFERRED_URL_SCHEME": "https" if mode == "production" else "http",
        # Where links in e-mails and Telegram messages point (no request to take it from).
        "PUBLIC_URL": (env.get("PUBLIC_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "PASSWORD_RESET_RATE_LIMIT": env.get("PASSWORD_RESET_RATE_LIMIT", "5 per hour"),
        "PASSWORD_RESET_TTL_MINUTES": _positive_setting(env, "PASSWORD_RESET_TTL_MINUTES", 60),
        **_match_settings(env),
        **_jobs_settings(env, mode, instance_path),
        **_cache_settings(env, mode, instance_path),
        **_mail_settings(env),
        **_telegram_settings(env),
    }
