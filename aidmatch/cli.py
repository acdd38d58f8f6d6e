"""flask commands: users, seed-demo, places."""

from __future__ import annotations


def register_commands(app) -> None:
    """Attach every command group to the app's CLI."""
    from aidmatch.auth.cli import users_cli
    from aidmatch.demo import seed_demo_command
    from aidmatch.places.cli import places_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(places_cli)
    app.cli.add_command(seed_demo_command)
