"""The `flask seed-demo` command: seed the demo data set once and print its logins."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext

from aidmatch.demo.seeding import (
    COORDINATOR_EMAIL,
    DEMO_PASSWORD,
    DemoError,
    demo_logins,
    seed_demo,
)
from aidmatch.extensions import db
from aidmatch.refusals import Refusal


def _print_logins() -> None:
    from aidmatch.demo.funds import demo_fundraiser

    click.echo(f"Demo logins (the password of every one is {DEMO_PASSWORD}):")
    for email, role, org in demo_logins():
        click.echo(f"  {role:<12} {email:<45} {org}".rstrip())
    fundraiser = demo_fundraiser()
    if fundraiser is not None:
        click.echo(f"Public fundraiser page, no login needed: /f/{fundraiser.slug}")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Create the deterministic demo data set (organizations, users, needs, offers), a few
    deliveries the transparency page shows, a shipment through hubs, a monthly offer, money
    pledged and a fundraiser, a vouched group, and run matching once."""
    started = time.perf_counter()
    try:
        result = seed_demo()
        db.session.commit()
        delivered = _deliver_once()
        field = _field_once()
    except Refusal as error:  # an operation refused something: say what, in one line
        db.session.rollback()
        raise DemoError(f"Demo data not created: {error.message}") from error
    except Exception:
        db.session.rollback()
        raise
    if result.created:
        seconds = time.perf_counter() - started
        click.echo(
            f"Demo data created in {seconds:.1f} s: {result.organizations} organizations "
            f"({result.verified} verified), {result.users} users, {result.needs} needs, "
            f"{result.offers} offers."
        )
    else:
        click.echo(f"Demo data already exists ({COORDINATOR_EMAIL}): nothing added.")
    if delivered:
        click.echo(f"{delivered} delivered matches, dated weeks back: /transparency shows them.")
    if field is not None:
        click.echo(
            f"Shown too: match #{field.match_id} through two hubs ({field.legs} legs, one on its "
            f"way), a monthly offer, a monthly money pledge, {field.vouched} vouched for."
        )
    _run_matching_once()
    _print_logins()


def _deliver_once() -> int:
    """Deliver a few matches through the verbs (demo.deliveries) unless one is delivered
    already, before the engine runs (it then skips what they took); committed."""
    from sqlalchemy import select

    from aidmatch.auth.models import User
    from aidmatch.demo.deliveries import seed_deliveries

    coordinator = db.session.scalar(select(User).where(User.email == COORDINATOR_EMAIL))
    delivered = seed_deliveries(coordinator, current_app.config["TRANSPARENCY_DELAY_DAYS"])
    db.session.commit()
    return delivered


def _field_once():
    """The hubs' shipment, a monthly offer, money and a fundraiser, vouches (demo.field), once,
    after the deliveries and before the engine runs; committed."""
    from sqlalchemy import select

    from aidmatch.auth.models import User
    from aidmatch.demo.field import seed_field

    coordinator = db.session.scalar(select(User).where(User.email == COORDINATOR_EMAIL))
    made = seed_field(coordinator)
    db.session.commit()
    return made


def _run_matching_once() -> None:
    """Run the engine once over the demo data when no run exists yet, so that the review
    queue and the donors' proposals are not empty for a new user (idempotent)."""
    from sqlalchemy import select

    from aidmatch.runs.job import run_matching
    from aidmatch.runs.models import MatchingRun

    if db.session.scalar(select(MatchingRun.id).limit(1)) is not None:
        db.session.rollback()
        return
    db.session.rollback()
    run = run_matching(None)
    click.echo(f"Matching run #{run.id}: {run.status}, {run.proposals} proposals.")
