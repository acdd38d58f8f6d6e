"""flask seed-demo (stub)."""

import click


@click.command("seed-demo")
def seed_demo_command():
    """Create the deterministic demo data set."""
