"""/admin/settings: what the instance is configured with, read-only, never a secret."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from aidmatch.config import masked_url
from aidmatch.extensions import db
from aidmatch.permissions import Role
from tests.factories import make_user

SECRETS = {
    "SECRET_KEY": "the-secret-key-0123456789abcdef-xyz",
    "MAIL_PASSWORD": "mail-pass-4f9a",
    "TELEGRAM_BOT_TOKEN": "123456:bot-token-AbCdEf",
    "TELEGRAM_WEBHOOK_SECRET": "webhook-secret-77",
}


def test_settings_show_what_is_configured_and_no_secret(app, client, login_as):
    admin = make_user(Role.ADMIN)
    db.session.commit()
    app.config.update(
        SECRETS,
        MAIL_SERVER="smtp.example.org",
        MAIL_PORT=587,
        MAIL_USERNAME="aidmatch",
        REDIS_URL="redis://:redis-pass-31@cache.example.org:6379/0",
        MAP_TILE_URL="https://tiles.example.org/{z}/{x}/{y}.png?key=tile-key-55",
        PUBLIC_URL="https://ops:public-pass-8@aid.example.org",
    )
    login_as(admin)
    response = client.get("/admin/settings")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    for secret in (*SECRETS.values(), "redis-pass-31", "tile-key-55", "public-pass-8"):
        assert secret not in text, secret
    database = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()
    for shown in (
        database,  # the database's kind: sqlite, or postgresql in .ci/run's second pass
        "JOBS_BACKEND",
        f">{app.config['JOBS_BACKEND']}<",  # the job queue and cache backends of the tests
        f">{app.config['CACHE_BACKEND']}<",
        "smtp.example.org:587",
        "redis://:***@cache.example.org:6379/0",
        "https://tiles.example.org/{z}/{x}/{y}.png?key=***",
        "Europe/Kyiv",
        "uk, en, de",
        "10 per 15 minutes",  # LOGIN_RATE_LIMIT
    ):
        assert shown in text, shown
    assert text.count(">set<") >= 4  # the secret key, mail password, bot token, webhook secret

    app.config.update(MAIL_SERVER=None, TELEGRAM_BOT_TOKEN=None)
    text = client.get("/admin/settings").get_data(as_text=True)
    assert "not configured: no e-mail is sent" in text
    assert "not configured: no Telegram messages" in text


def test_masked_urls():
    assert masked_url(None) is None
    assert masked_url("postgresql+psycopg://aid:pw@db:5432/aid") == (
        "postgresql+psycopg://aid:***@db:5432/aid"
    )
    assert masked_url("sqlite:////srv/aid.sqlite3") == "sqlite:////srv/aid.sqlite3"
    assert masked_url("https://t.example/{z}/{x}/{y}.png?key=k&style") == (
        "https://t.example/{z}/{x}/{y}.png?key=***&style"
    )
    assert masked_url("redis://[::1]:6379") == "redis://[::1]:6379"
