"""flask places load (stub)."""

import click

places_cli = click.Group("places", help="The gazetteer of places.")
