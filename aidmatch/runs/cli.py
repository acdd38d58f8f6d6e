"""flask match run: a matching run from the command line, through the same job (runs.job),
run in this process with its progress on the terminal (stderr: --json keeps stdout one JSON
object)."""

from __future__ import annotations

import json
import sys

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
    help="flow: best overall (a min-cost flow over all pairs); greedy: fast, one by one "
    "(the best-scored pair first)",
)
@click.option("--json", "as_json", is_flag=True, help="print the report as one JSON object")
@with_appcontext
def run_command(category, oblast, allocator, as_json):
    """Run matching now and print the run's report."""
    from aidmatch.refusals import Refusal
    from aidmatch.runs.job import run_matching, run_summary
    from aidmatch.runs.models import RunStatus

    shown = _Shown()
    try:
        run = run_matching(None, category, oblast, allocator, progress=shown)
    except Refusal as err:
        raise click.ClickException(err.message) from None
    finally:
        shown.close()
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


class _Shown:
    """Shows a run's progress on stderr: a line per stage, and for storing a progress bar on
    a terminal, or a line per batch (n of N) when stderr is not one."""

    def __init__(self) -> None:
        self.stage: str | None = None
        self.bar = None
        self.done = 0
        self.tty = sys.stderr.isatty()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage = stage
            if stage == "storing" and total and self.tty:
                self.bar = click.progressbar(
                    length=total, label="storing proposals", file=sys.stderr
                )
                self.bar.__enter__()
                self.done = 0
            elif stage == "storing":
                click.echo(f"storing {total} proposals", err=True)
            else:
                click.echo(f"{stage}…", err=True)
            return
        if self.bar is not None:
            self.bar.update(done - self.done)
            self.done = done
        else:
            click.echo(f"  storing: {done} of {total} proposals", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
