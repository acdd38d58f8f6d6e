"""The admins' pages above every domain: /admin (where each admin page is) and
/admin/settings (what this instance is configured with, read-only, never a secret: a
secret shows as "set" or "not set", a URL with its password and query values masked by
config.masked_url)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_babel import gettext as _
from sqlalchemy.engine import make_url

from aidmatch.config import masked_url
from aidmatch.permissions import Role, require_role

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("")
@require_role(Role.ADMIN)
def index():
    """Links to the admin pages."""
    return render_template("admin/index.html")


def _set(value) -> str:
    return _("set") if value else _("not set")


def _yes(value) -> str:
    return _("yes") if value else _("no")


def _or_none(value) -> str:
    return str(value) if value not in (None, "", ()) else _("not set")


def settings_sections(config) -> list[tuple[str, list[tuple[str, str]]]]:
    """(section, [(setting, shown value)]) of what the page shows. Secrets (SECRET_KEY, the
    mail password, the bot token, the webhook secret) only as set or not set; URLs masked."""
    database = make_url(config["SQLALCHEMY_DATABASE_URI"])
    mail_on = bool(config.get("MAIL_SERVER"))
    telegram_on = bool(config.get("TELEGRAM_BOT_TOKEN"))
    mail = [("MAIL_SERVER", _("not configured: no e-mail is sent"))]
    if mail_on:
        mail = [
            ("MAIL_SERVER", f"{config['MAIL_SERVER']}:{config['MAIL_PORT']}"),
            ("MAIL_USE_TLS", _yes(config.get("MAIL_USE_TLS"))),
            ("MAIL_USE_SSL", _yes(config.get("MAIL_USE_SSL"))),
            ("MAIL_USERNAME", _set(config.get("MAIL_USERNAME"))),
            ("MAIL_PASSWORD", _set(config.get("MAIL_PASSWORD"))),
            ("MAIL_DEFAULT_SENDER", str(config.get("MAIL_DEFAULT_SENDER") or "")),
        ]
    telegram = [("TELEGRAM_BOT_TOKEN", _("not configured: no Telegram messages"))]
    if telegram_on:
        telegram = [
            ("TELEGRAM_BOT_TOKEN", _set(True)),
            ("TELEGRAM_BOT_USERNAME", _or_none(config.get("TELEGRAM_BOT_USERNAME"))),
            ("TELEGRAM_WEBHOOK_SECRET", _set(config.get("TELEGRAM_WEBHOOK_SECRET"))),
            ("TELEGRAM_API_BASE", masked_url(config.get("TELEGRAM_API_BASE")) or ""),
        ]
    rate_limits = (
        "LOGIN_RATE_LIMIT",
        "LOGIN_ADDRESS_RATE_LIMIT",
        "LOGIN_ACCOUNT_RATE_LIMIT",
        "REGISTER_RATE_LIMIT",
        "PASSWORD_RESET_RATE_LIMIT",
    )
    return [
        (
            _("Instance"),
            [
                ("AIDMATCH_ENV", str(config["AIDMATCH_ENV"])),
                ("SECRET_KEY", _set(config.get("SECRET_KEY"))),
                ("PUBLIC_URL", masked_url(config.get("PUBLIC_URL")) or ""),
                ("PROXY_COUNT", str(config.get("PROXY_COUNT"))),
            ],
        ),
        (
            _("Storage and queues"),
            [
                (_("Database"), database.get_backend_name()),
                ("DATABASE_URL", masked_url(database.render_as_string(hide_password=False))),
                ("JOBS_BACKEND", str(config["JOBS_BACKEND"])),
                ("JOBS_WORKERS", str(config["JOBS_WORKERS"])),
                ("CACHE_BACKEND", str(config["CACHE_BACKEND"])),
                ("REDIS_URL", masked_url(config.get("REDIS_URL")) or _("not set")),
                ("RATELIMIT_STORAGE_URI", masked_url(config.get("RATELIMIT_STORAGE_URI")) or ""),
            ],
        ),
        (_("E-mail"), mail),
        (_("Telegram"), telegram),
        (
            _("Languages and time"),
            [
                ("LANGUAGES", ", ".join(config["LANGUAGES"])),
                ("DEFAULT_LANGUAGE", str(config["BABEL_DEFAULT_LOCALE"])),
                ("DEFAULT_TIMEZONE", str(config["BABEL_DEFAULT_TIMEZONE"])),
            ],
        ),
        (
            _("Map"),
            [("MAP_TILE_URL", masked_url(config.get("MAP_TILE_URL")) or _("not set"))],
        ),
        (_("Rate limits"), [(name, str(config[name])) for name in rate_limits]),
        (
            _("Accounts"),
            [
                (name, str(config[name]))
                for name in (
                    "SESSION_IDLE_HOURS",
                    "API_TOKEN_TTL_HOURS",
                    "INVITE_TTL_DAYS",
                    "VOUCHED_NEEDS_SHOWN",
                    "PASSWORD_MIN_LENGTH",
                    "PASSWORD_RESET_TTL_MINUTES",
                )
            ],
        ),
        (
            _("Matches and transparency"),
            [
                (name, str(config[name]))
                for name in (
                    "MATCH_PENDING_TTL_HOURS",
                    "MATCH_CONFIRMED_TTL_DAYS",
                    "MATCH_EXTENSION_HOURS",
                    "MATCH_WORKERS",
                    "TRANSPARENCY_DELAY_DAYS",
                )
            ]
            + [
                (name, str(config[name]))
                for name in sorted(config)
                if name.startswith("MATCH_W") and name != "MATCH_WORKERS"
            ]  # fmt: skip
            + [("FRONT_OBLASTS", ", ".join(config["FRONT_OBLASTS"]) or _("none"))],
        ),
    ]


@bp.get("/settings")
@require_role(Role.ADMIN)
def settings():
    """What this instance is configured with (read-only; set in the environment)."""
    return render_template("admin/settings.html", sections=settings_sections(current_app.config))
