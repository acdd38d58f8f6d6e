"""flask users create (stub)."""

import click

users_cli = click.Group("users", help="Manage user accounts.")
