"""The application factory: config, extensions, blueprints, error handlers, CLI.

``aidmatch.create_app`` calls it; importing ``aidmatch`` alone imports no Flask.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from sqlalchemy.exc import ArgumentError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from aidmatch.config import ConfigError, front_oblast_names, load_config
from aidmatch.db import MAX_ID
from aidmatch.transaction import TransactionalFlask
from aidmatch.web.headers import register_security_headers
from aidmatch.web.routing import LazyRule
from aidmatch.web.sending import register_foreground_sending
from aidmatch.web.static_assets import register_static_assets


def create_app(config: dict | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, error handlers, CLI."""
    app = TransactionalFlask(
        "aidmatch",  # the package, as before the factory moved here (logger, root path)
        instance_path=str(Path(__file__).resolve().parent.parent / "instance"),
        template_folder="../templates",
        static_folder="../static",
    )
    app.url_rule_class = LazyRule  # every rule but the static files' (added above)
    # A test's mapping can hold environment-style settings (DATABASE_URL, AIDMATCH_ENV) and
    # Flask config keys alike; both take precedence over the process environment.
    overrides = dict(config or {})
    app.config.update(load_config(Path(app.instance_path), env={**os.environ, **overrides}))
    app.config.update(overrides)
    resolve_settings(app)

    if app.config["PROXY_COUNT"] > 0:
        # Behind N reverse proxies: trust their X-Forwarded-For/-Proto (client address for
        # rate limits, https for URLs), and no more hops than that.
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    register_id_converter(app)
    register_extensions(app)
    register_static_assets(app)
    register_security_headers(app)
    register_foreground_sending(app)
    register_template_globals(app)
    register_blueprints(app)
    register_errors(app)
    register_cli(app)
    register_jobs(app)
    return app


class IdConverter(IntegerConverter):
    """<int:...> in a path is always a row's id: 1 to db.MAX_ID, else no route matches
    (404), rather than a number the database cannot compare (a 500)."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def register_id_converter(app: Flask) -> None:
    """Every route's <int:...> is an id (IdConverter), before any route is added."""
    app.url_map.converters["int"] = IdConverter


def register_extensions(app: Flask) -> None:
    """Bind the extensions of extensions.py to this app."""
    register_models()
    from aidmatch.cache import init_cache
    from aidmatch.db import configure_sqlite
    from aidmatch.extensions import babel, csrf, db, limiter, login_manager, mail, migrate
    from aidmatch.web.api import init_api
    from aidmatch.web.i18n import select_locale, select_timezone
    from aidmatch.web.write_hooks import writes_only

    try:
        db.init_app(app)
        with app.app_context():
            engine = db.engine
    except (ImportError, ArgumentError) as exc:
        raise ConfigError(f"DATABASE_URL cannot be used: {exc}") from None
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    limiter.init_app(app)
    mail.init_app(app)
    init_cache(app)
    init_api(app)
    login_manager.init_app(app)
    from aidmatch.auth.session import setup_login_manager
    from aidmatch.auth.tokens import setup_token_loader

    setup_login_manager(login_manager)
    setup_token_loader(login_manager)
    # their hooks on every request act on writes alone: a read passes them by
    limits = ("_check_request_limit", "__inject_headers", "__release_context")
    writes_only(app, limiter, limits if limiter.enabled else ())  # switched off: none
    writes_only(app, login_manager, ("_update_remember_cookie",))


def resolve_settings(app: Flask) -> None:
    """Settings that name things of the domain, checked against it: FRONT_OBLASTS."""
    from aidmatch.places.labels import resolve_oblasts

    try:
        names = front_oblast_names(app.config["FRONT_OBLASTS"])
        app.config["FRONT_OBLASTS"] = resolve_oblasts(names)
    except ValueError as unknown:
        raise ConfigError(f"FRONT_OBLASTS names no oblast of Ukraine: {unknown}") from None


def register_models() -> None:
    """Import every domain's models, so that metadata, Alembic and relationships see them all."""
    from aidmatch.audit import models as _audit  # noqa: F401
    from aidmatch.auth import models as _auth  # noqa: F401
    from aidmatch.categories import models as _categories  # noqa: F401
    from aidmatch.conversations import models as _conversations  # noqa: F401
    from aidmatch.legs import models as _legs  # noqa: F401
    from aidmatch.matches import models as _matches  # noqa: F401
    from aidmatch.money import models as _money  # noqa: F401
    from aidmatch.needs import models as _needs  # noqa: F401
    from aidmatch.notify import models as _notify  # noqa: F401
    from aidmatch.offers import models as _offers  # noqa: F401
    from aidmatch.orgs import models as _orgs  # noqa: F401
    from aidmatch.photos import models as _photos  # noqa: F401
    from aidmatch.places import models as _places  # noqa: F401
    from aidmatch.receipts import models as _receipts  # noqa: F401
    from aidmatch.recurring import models as _recurring  # noqa: F401
    from aidmatch.reports import models as _reports  # noqa: F401
    from aidmatch.runs import models as _runs  # noqa: F401


def register_template_globals(app: Flask) -> None:
    """Helpers every template may call: permission checks, the current language, and
    filters that format dates and numbers for it."""
    from flask_babel import get_locale

    from aidmatch import permissions
    from aidmatch.notify.views import register_globals as register_notify_globals
    from aidmatch.places.labels import register_globals as register_place_globals
    from aidmatch.web.i18n import register_filters

    app.jinja_env.globals.update(
        is_staff=permissions.is_staff,
        is_admin=permissions.is_admin,
        current_locale=lambda: str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"]),
    )
    register_filters(app)
    register_place_globals(app)
    register_notify_globals(app)


def register_hooks() -> None:
    """What the domains above postings hook into it, registering themselves on import: the
    sections the matches and candidates add to a need's and an offer's page, how matches
    end with their need or offer, and the open needs or offers an organization's page lists
    (site/org_page.py, over orgs/sections.py)."""
    from aidmatch.candidates import views as _candidates  # noqa: F401
    from aidmatch.conversations import views as _conversations  # noqa: F401
    from aidmatch.legs import views as _legs  # noqa: F401
    from aidmatch.matches import operations as _operations  # noqa: F401
    from aidmatch.matches import sections as _sections  # noqa: F401
    from aidmatch.money import home as _money_home  # noqa: F401  (home page lines)
    from aidmatch.money import views as _money  # noqa: F401  (the need page's money section)
    from aidmatch.receipts import views as _receipts  # noqa: F401  (the match page's receipt)
    from aidmatch.recurring import views as _recurring  # noqa: F401  (the offer page's series)
    from aidmatch.site import org_page as _org_page  # noqa: F401


def register_blueprints(app: Flask) -> None:
    """Mount every domain's routes."""
    register_hooks()
    from aidmatch.auth.admin_views import bp as admin_users_bp
    from aidmatch.auth.views import bp as auth_bp
    from aidmatch.categories.views import bp as admin_categories_bp
    from aidmatch.conversations.views import bp as conversations_bp
    from aidmatch.legs.views import bp as legs_bp
    from aidmatch.maps.views import bp as maps_bp
    from aidmatch.matches import asking_views  # noqa: F401 - its routes, on matches_bp
    from aidmatch.matches.review import bp as review_bp
    from aidmatch.matches.views import bp as matches_bp
    from aidmatch.money.views import bp as money_bp
    from aidmatch.needs.views import bp as needs_bp
    from aidmatch.notify.views import bp as notify_bp
    from aidmatch.offers.views import bp as offers_bp
    from aidmatch.orgs import vouch_views  # noqa: F401 - its routes, on orgs_bp
    from aidmatch.orgs.views import bp as orgs_bp
    from aidmatch.photos.views import bp as photos_bp
    from aidmatch.places.views import bp as places_bp
    from aidmatch.receipts.views import bp as receipts_bp
    from aidmatch.recurring.views import bp as recurring_bp
    from aidmatch.reports.views import bp as reports_bp
    from aidmatch.runs.views import bp as runs_bp
    from aidmatch.site.admin_views import bp as admin_bp
    from aidmatch.site.audit_views import bp as audit_bp
    from aidmatch.site.core_views import bp as core_bp
    from aidmatch.site.sheet_views import bp as sheets_bp
    from aidmatch.telegram.views import bp as telegram_bp
    from aidmatch.transparency.views import bp as transparency_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(orgs_bp)
    app.register_blueprint(sheets_bp)
    app.register_blueprint(places_bp)
    app.register_blueprint(needs_bp)
    app.register_blueprint(offers_bp)
    app.register_blueprint(maps_bp)
    app.register_blueprint(transparency_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(matches_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(conversations_bp)
    app.register_blueprint(photos_bp)
    app.register_blueprint(receipts_bp)
    app.register_blueprint(legs_bp)
    app.register_blueprint(recurring_bp)
    app.register_blueprint(money_bp)
    app.register_blueprint(runs_bp)
    app.register_blueprint(notify_bp)
    register_notify_blueprints(app)
    app.register_blueprint(telegram_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(admin_users_bp)
    app.register_blueprint(admin_categories_bp)

    from aidmatch.auth.api import blp as auth_api
    from aidmatch.candidates.api import blp as candidates_api
    from aidmatch.categories.api import blp as categories_api
    from aidmatch.conversations.api import blp as conversations_api
    from aidmatch.extensions import csrf
    from aidmatch.legs.api import blp as legs_api
    from aidmatch.matches.api import blp as matches_api
    from aidmatch.money.api import blp as money_api
    from aidmatch.needs.api import blp as needs_api
    from aidmatch.notify.api import blp as notify_api
    from aidmatch.offers.api import blp as offers_api
    from aidmatch.orgs.api import blp as vouches_api
    from aidmatch.photos.api import blp as photos_api
    from aidmatch.places.api import blp as places_api
    from aidmatch.receipts.api import blp as receipts_api
    from aidmatch.recurring.api import blp as recurring_api
    from aidmatch.runs.api import blp as runs_api
    from aidmatch.transparency.api import blp as transparency_api
    from aidmatch.web.api import api, register_docs_page

    # JSON API: bearer tokens only (session cookies are ignored there), so no CSRF.
    for blueprint in (
        auth_api,
        categories_api,
        places_api,
        needs_api,
        offers_api,
        matches_api,
        conversations_api,
        photos_api,
        receipts_api,
        legs_api,
        recurring_api,
        money_api,
        transparency_api,
        runs_api,
        candidates_api,
        notify_api,
        vouches_api,
    ):
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
    register_docs_page(app)


def register_notify_blueprints(app: Flask) -> None:
    """The notification channels' pages: e-mail (unsubscribe, a bounced address), the admins'
    list of failed deliveries."""
    from aidmatch.notify.deliveries import bp as deliveries_bp
    from aidmatch.notify.mail_views import bp as mail_bp

    app.register_blueprint(mail_bp)
    app.register_blueprint(deliveries_bp)


def register_jobs(app: Flask) -> None:
    """Import every module that registers a job or a channel, then bind the jobs to the app's
    queue (jobs/queue.py)."""
    from aidmatch import cli as _cli  # noqa: F401  (postings.expire)
    from aidmatch.jobs.queue import init_jobs
    from aidmatch.legs import overdue as _legs_overdue  # noqa: F401  (legs.overdue)
    from aidmatch.matches import digest as _digest  # noqa: F401
    from aidmatch.matches import expiry as _expiry  # noqa: F401  (matches.expire)
    from aidmatch.matches import reminders as _match_reminders  # noqa: F401
    from aidmatch.money import late as _money_late  # noqa: F401  (money.late)
    from aidmatch.needs import reminders as _need_reminders  # noqa: F401
    from aidmatch.notify import events as _events  # noqa: F401  (orgs' signals, told)
    from aidmatch.notify import inbox as _inbox  # noqa: F401  (the bell's stamps renewed)
    from aidmatch.notify import mail as _mail  # noqa: F401
    from aidmatch.notify import outbox as _outbox  # noqa: F401
    from aidmatch.recurring import opening as _recurring  # noqa: F401  (recurring.periods)
    from aidmatch.reports import job as _reports  # noqa: F401  (reports.network_pdf)
    from aidmatch.runs import job as _runs  # noqa: F401  (runs.run, runs.sweep)
    from aidmatch.telegram import channel as _telegram  # noqa: F401

    init_jobs(app)


def register_errors(app: Flask) -> None:
    """JSON errors under /api, HTML pages elsewhere."""
    from aidmatch.web.errors import register_error_handlers

    register_error_handlers(app)


def register_cli(app: Flask) -> None:
    """flask users / seed-demo / places / ... commands."""
    from aidmatch.cli import register_commands

    register_commands(app)
