"""flask commands: users, places, seed-demo, expire; and the periodic jobs that store the
expiry of needs and offers (``postings.expire``, every 10 minutes: what `flask expire` does)
and keep SQLite's planner statistics (``db.statistics``, hourly and when a worker starts)."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import with_appcontext

from aidmatch.jobs.queue import periodic


@periodic("postings.expire", minute="*/10")
def expire_postings(now: datetime | None = None) -> tuple[int, int]:
    """Store `expired` on needs past their needed-by date and offers past their
    available-until date; (needs, offers) expired. A job, and `flask expire`."""
    from aidmatch.db import utcnow
    from aidmatch.needs.operations import expire_needs
    from aidmatch.offers.operations import expire_offers

    today = (now or utcnow()).date()
    return expire_needs(today), expire_offers(today)


@periodic("db.statistics", at_start=True, minute="17")
def database_statistics() -> bool:
    """SQLite: refresh the query planner's statistics of the tables (db.refresh_statistics);
    True when done (PostgreSQL keeps its own)."""
    from aidmatch.db import refresh_statistics
    from aidmatch.extensions import db

    return refresh_statistics(db.session.connection())


@click.command("expire")
@with_appcontext
def expire_command():
    """Expire needs past their needed-by date and offers past their available-until date."""
    from aidmatch.transaction import run_in_transaction

    needs, offers = run_in_transaction(expire_postings, what="flask expire")
    click.echo(f"Expired {needs} needs and {offers} offers.")


def register_commands(app) -> None:
    """Attach every command group to the app's CLI."""
    from aidmatch.auth.cli import users_cli
    from aidmatch.demo.cli import seed_demo_command
    from aidmatch.jobs.cli import jobs_cli
    from aidmatch.matches.cli import matches_cli
    from aidmatch.places.cli import places_cli
    from aidmatch.runs.cli import match_cli
    from aidmatch.telegram.cli import telegram_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(places_cli)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(expire_command)
    app.cli.add_command(matches_cli)
    app.cli.add_command(match_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(telegram_cli)
