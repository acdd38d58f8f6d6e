"""flask matches expire: end pending matches past their time, flag overdue confirmed ones."""

from __future__ import annotations

import click
from flask.cli import AppGroup

matches_cli = AppGroup("matches", help="Matches between needs and offers.")


@matches_cli.command("expire")
def expire_command():
    """Expire pending matches past their time and flag confirmed ones not shipped in time."""
    from aidmatch.matches.operations import expire_matches
    from aidmatch.transaction import run_in_transaction

    counts = run_in_transaction(expire_matches, what="flask matches expire")
    click.echo(
        f"Expired {counts['expired']} pending matches; {counts['overdue']} confirmed matches "
        f"are overdue ({counts['flagged']} newly flagged for coordinators)."
    )
