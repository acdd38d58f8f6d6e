"""What the database benchmarks share: their arguments, a fresh database filled with
synthetic needs and offers over the gazetteer's places and the seeded categories, and the
app on it (bench/needs_list.py, bench/candidates.py)."""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import Flask
from sqlalchemy import insert, select

from aidmatch.categories.models import Category
from aidmatch.extensions import db
from aidmatch.geo import coarse_point
from aidmatch.needs.models import URGENCY_RANK, Need, Urgency
from aidmatch.offers.models import Offer
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from aidmatch.places.models import Place
from tests.conftest import make_test_app, scratch_database, upgrade_and_load
from tests.factories import make_org, make_user

BATCH = 5000  # rows a single INSERT ... VALUES carries


def bench_arguments(doc: str, needs: int, offers: int) -> argparse.ArgumentParser:
    """The arguments of a database benchmark: how many needs and offers, and the server."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--needs", type=int, default=needs)
    parser.add_argument("--offers", type=int, default=offers)
    parser.add_argument("--database-url", default="")
    return parser


@dataclass
class Filled:
    """The app on a filled database, what `fill` returned, and how long it all took."""

    app: Flask
    setup: dict
    backend: str  # "sqlite" or "postgresql"
    fill_s: float


@contextmanager
def filled_app(database_url: str, n_needs: int, n_offers: int) -> Iterator[Filled]:
    """A fresh database (see scratch_database) migrated, with the gazetteer and `fill`'s
    rows, and the app on it; the body runs inside the app's context."""
    with scratch_database(database_url) as url:
        t0 = time.perf_counter()
        upgrade_and_load(url)
        app = make_test_app(url)
        with app.app_context():
            setup = fill(n_needs, n_offers)
            backend = "postgresql" if url.startswith("postgresql") else "sqlite"
            yield Filled(app, setup, backend, time.perf_counter() - t0)
            db.session.remove()
            db.engine.dispose()


def fill(n_needs: int, n_offers: int, seed: int = 7) -> dict:
    """Insert organizations, needs and offers in bulk; return what the timing needs (and the
    ids of the organizations made). Deterministic: places and categories read in id order,
    one seeded random.Random, so SQLite and PostgreSQL hold the same rows."""
    rng = random.Random(seed)
    places = db.session.execute(
        select(Place.id, Place.lat, Place.lon, Place.oblast)
        .where(Place.country == "UA")
        .order_by(Place.id)  # the same rows in the same order on SQLite and PostgreSQL
    ).all()
    leaves = [
        c
        for c in db.session.scalars(select(Category).order_by(Category.id))
        if c.parent_id is not None
    ]
    fronts = [make_org(f"Bench front {i}") for i in range(300)]
    donors = [make_org(f"Bench donor {i}", kind=OrgKind.DONOR_COLLECTIVE) for i in range(100)]
    viewer = make_user(Role.DONOR, org=donors[0])
    db.session.commit()
    now = datetime.now(UTC)
    urgencies = list(Urgency)

    def posting(title: str) -> dict:
        """The columns needs and offers share, drawn alike: place, points, category, title."""
        pid, lat, lon, _oblast = rng.choice(places)
        cat = rng.choice(leaves)
        plat, plon, _ = coarse_point(lat, lon)
        title = title.format(slug=cat.slug)
        return dict(
            title=title, description="", search_text=title.casefold(), category_id=cat.id,
            place_id=pid, lat=lat, lon=lon, public_lat=plat, public_lon=plon, status="open",
            created_at=now, updated_at=now,
        )  # fmt: skip

    def need_rows() -> Iterator[dict]:
        for i in range(n_needs):
            row = posting(f"Need {i} for {{slug}}")
            urgency = rng.choice(urgencies)
            yield dict(
                row, organization_id=rng.choice(fronts).id, quantity=rng.randint(1, 500),
                pledged=0, delivered=0, urgency=urgency.value, urgency_rank=URGENCY_RANK[urgency],
                needed_by=date.today() + timedelta(days=rng.randint(1, 90)) if i % 3 else None,
                delivery_note="", sensitive=i % 50 == 0,
            )  # fmt: skip

    def offer_rows() -> Iterator[dict]:
        for i in range(n_offers):
            row = posting(f"Offer {i} of {{slug}}")
            yield dict(
                row, organization_id=rng.choice(donors).id, quantity=rng.randint(1, 500),
                allocated=0, delivery_radius_km=rng.choice([None, 50, 100, 300]),
                available_until=None,
            )  # fmt: skip

    insert_in_batches(Need, need_rows())
    insert_in_batches(Offer, offer_rows())
    db.session.commit()
    # The busiest category and oblast among the needs: the hardest filter to serve.
    cat = db.session.get(Category, leaves[0].id)
    oblast = "Kharkiv Oblast"
    return {
        "viewer": viewer,
        "category": cat.slug,
        "oblast": oblast,
        "fronts": [org.id for org in fronts],
        "donors": [org.id for org in donors],
    }


def insert_in_batches(model, rows: Iterable[dict]) -> None:
    """INSERT the rows, BATCH at a time."""
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            db.session.execute(insert(model), batch)
            batch = []
    if batch:
        db.session.execute(insert(model), batch)
