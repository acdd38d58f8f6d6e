"""flask match run: a matching run from the command line, through the same job (runs.job)."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext


@click.group("match")
def match_cli():
    """Matching runs."""


@match_cli.command("run")
@click.option(
    "--category",
    default=None,
    help="category slug, e.g. tourniquets; the run covers it and what is below it",
)
@click.option(
    "--oblast",
    default=None,
    help='the needs of this oblast (offers from anywhere), e.g. "Kharkiv Oblast" or Kharkiv',
)
@click.option(
    "--allocator",
    type=click.Choice(["flow", "greedy"]),
    default="flow",
    show_default=True,
    help="min-cost flow (most quantity, best scores) or greedy by score",
)
@click.option("--json", "as_json", is_flag=True, help="print the report as one JSON object")
@with_appcontext
def run_command(category, oblast, allocator, as_json):
    """Run matching now and print the run's report."""
    from aidmatch.refusals import Refusal
    from aidmatch.runs.job import run_matching, run_summary
    from aidmatch.runs.models import RunStatus

    try:
        run = run_matching(None, category, oblast, allocator)
    except Refusal as err:
        raise click.ClickException(err.message) from None
    summary = {**run_summary(run), "timings": dict(run.timings or {})}
    if as_json:
        click.echo(json.dumps(summary, sort_keys=True))
    else:
        click.echo(f"Matching run #{run.id} ({run.scope}): {run.status}")
        click.echo(
            f"  considered {run.needs_considered} needs and {run.offers_considered} offers, "
            f"{run.candidate_pairs} candidate pairs"
        )
        click.echo(f"  proposals: {run.proposals}")
        for reason, count in (run.skipped or {}).items():
            click.echo(f"  skipped {reason}: {count}")
        timings = ", ".join(f"{k} {v:.3f} s" for k, v in (run.timings or {}).items())
        click.echo(f"  time: {run.seconds or 0:.3f} s ({timings})")
        if run.error:
            click.echo(f"  error: {run.error}")
    if run.status != RunStatus.FINISHED:
        raise SystemExit(1)
