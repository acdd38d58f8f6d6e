"""flask places load | search: the gazetteer from the command line."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from aidmatch.transaction import run_in_transaction

places_cli = AppGroup("places", help="The gazetteer of places.")


@places_cli.command("load")
def load_command() -> None:
    """Load the shipped gazetteer into the database (new and changed places)."""
    from aidmatch.places.gazetteer import sync_places

    started = time.perf_counter()
    result = run_in_transaction(sync_places, what="flask places load")
    click.echo(
        f"Loaded {result.total} places ({result.inserted} new, {result.updated} updated, "
        f"{result.deleted} no longer listed removed) "
        f"in {time.perf_counter() - started:.1f} s."
    )
    if result.updated or result.deleted:
        click.echo("Restart running servers: their search index still holds the old names.")


@places_cli.command("search")
@click.argument("query")
@click.option("--limit", default=10, show_default=True, help="How many hits to show.")
@click.option("--country", default=None, help="Only this country (ISO code, e.g. UA).")
def search_command(query: str, limit: int, country: str | None) -> None:
    """Show the best places for QUERY, as the autocomplete would."""
    from aidmatch.places import search as places_search

    started = time.perf_counter()
    places = places_search.search(query, limit=limit, country=country)
    elapsed_ms = (time.perf_counter() - started) * 1000
    for place in places:
        where = place.oblast or place.country
        mark = " (approximate)" if place.approximate else ""
        click.echo(
            f"{place.id:>6}  {place.name} / {place.name_uk or '-'}  [{place.kind}, {where}]  "
            f"pop {place.population}  {place.lat:.4f},{place.lon:.4f}{mark}"
        )
    if not places:
        click.echo("No places found.")
    click.echo(f"({elapsed_ms:.1f} ms, index built in {places_search.last_build_seconds:.2f} s)")
