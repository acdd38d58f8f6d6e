"""The database tests/test_demo.py reads: the gazetteer and `flask seed-demo`, seeded once per
module through the CLI (it hashes ~50 passwords with Argon2: seconds), and what the demo made
without ids and creation times (its fingerprint, for the determinism test)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import date

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from aidmatch.auth.models import User
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.needs.models import Need
from aidmatch.offers.models import Offer
from aidmatch.orgs.models import Organization
from aidmatch.places.models import Place
from tests.conftest import create_pg_database, drop_pg_database, make_test_app, upgrade_and_load


@dataclass
class Seeded:
    app: Flask
    output: str
    exit_code: int
    today: date
    fingerprint: tuple


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def fingerprint(today: date) -> tuple:
    """What the demo made, without ids and creation times (which differ between runs)."""
    orgs = db.session.execute(
        select(
            Organization.name,
            Organization.kind,
            Organization.contact,
            Organization.verified_at.is_not(None),
            Organization.public_name,
            Place.code,
        ).join(Place)
    ).all()
    users = db.session.execute(select(User.email, User.display_name, User.role)).all()
    needs = [
        (n.organization.name, n.title, n.description, n.category.slug, n.quantity, n.urgency,
         n.needed_by and (n.needed_by - today).days, n.sensitive, n.delivery_note, n.lat, n.lon)
        for n in db.session.scalars(select(Need))
    ]  # fmt: skip
    offers = [
        (o.organization.name, o.title, o.description, o.category.slug, o.quantity,
         o.delivery_radius_km, o.available_until and (o.available_until - today).days,
         o.place.code, o.lat, o.lon)
        for o in db.session.scalars(select(Offer))
    ]  # fmt: skip
    return tuple(sorted(map(tuple, rows)) for rows in (orgs, users, needs, offers))


def seeded_database(template_database: str, tmp_path_factory):
    """A database of its own with the gazetteer, seeded once through the CLI; yields a Seeded
    and drops it afterwards (test_demo.py's module fixture)."""
    if template_database.startswith("sqlite"):
        target = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
        shutil.copyfile(make_url(template_database).database, target)
        url = f"sqlite:///{target}"
    else:
        url = create_pg_database(os.environ["TEST_DATABASE_URL"], prefix="aidmatch_demo")
        upgrade_and_load(url)
    app = make_test_app(url)
    with app.app_context():
        assert count(Place) > 0, "the gazetteer is not loaded into the test database"
        today = utcnow().date()
        result = app.test_cli_runner().invoke(args=["seed-demo"])
        state = Seeded(app, result.output, result.exit_code, today, fingerprint(today))
        db.session.remove()
    yield state
    with app.app_context():
        db.engine.dispose()
    if not url.startswith("sqlite"):
        drop_pg_database(url)
