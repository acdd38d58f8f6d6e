"""flask jobs: the worker, and running a job by hand."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from aidmatch.jobs.queue import JOBS, drain, run_now

jobs_cli = AppGroup("jobs", help="The job queue: run the worker, or a job now.")


@jobs_cli.command("worker")
@click.option("--workers", type=int, default=None, help="Threads (default JOBS_WORKERS).")
def worker_command(workers):
    """Take tasks from the queue and run the periodic jobs (expiry, reminders, the outbox
    sweep) until stopped. One per deployment is enough; more may run side by side."""
    import logging

    from aidmatch.jobs.queue import enqueue

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    huey = current_app.extensions["huey"]
    for job in JOBS.values():
        if job.at_start:
            enqueue(job.name)
    consumer = huey.create_consumer(
        workers=workers or current_app.config["JOBS_WORKERS"],
        worker_type="thread",
        periodic=True,
        check_worker_health=True,
    )
    click.echo(
        f"aidmatch worker: {current_app.config['JOBS_BACKEND']} queue, "
        f"{len(JOBS)} jobs: {', '.join(sorted(JOBS))}"
    )
    consumer.run()


@jobs_cli.command("run")
@click.argument("name")
def run_command(name):
    """Run one job now, in this process (what cron would call)."""
    if name not in JOBS:
        raise click.BadParameter(
            f"no job {name!r}; `flask jobs list` names them", param_hint="NAME"
        )
    click.echo(f"{name}: {run_now(name)}")


@jobs_cli.command("drain")
def drain_command():
    """Run what is on the queue now, in this process, until nothing is due."""
    click.echo(f"ran {drain()} tasks")


@jobs_cli.command("list")
def list_command():
    """The jobs this app knows, with their schedules."""
    for job in sorted(JOBS.values(), key=lambda j: j.name):
        when = " ".join(f"{k}={v}" for k, v in (job.schedule or {}).items()) or "on demand"
        click.echo(f"{job.name:32} {when}")
