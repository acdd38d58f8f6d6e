"""Benchmark: the needs list with 100 000 needs and 50 000 offers in the database.

Fills a fresh database (SQLite file, or PostgreSQL with --database-url) with synthetic
needs and offers over the gazetteer's places and the seeded categories, then times the needs
list filtered by category and oblast and sorted by urgency, through the HTML page and the
JSON API, as a donor (the common, privacy-filtered case) and prints the medians.

    .venv/bin/python bench/needs_list.py [--needs 100000] [--offers 50000]
        [--database-url postgresql://postgres@127.0.0.1:5432/test] [--repeat 30]

With a PostgreSQL URL it creates its own database on that server and drops it afterwards.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select  # noqa: E402

from aidmatch.categories.models import Category  # noqa: E402
from aidmatch.extensions import db  # noqa: E402
from aidmatch.geo import coarse_point  # noqa: E402
from aidmatch.needs.models import URGENCY_RANK, Need, Urgency  # noqa: E402
from aidmatch.offers.models import Offer  # noqa: E402
from aidmatch.orgs.models import OrgKind  # noqa: E402
from aidmatch.permissions import Role  # noqa: E402
from aidmatch.places.models import Place  # noqa: E402
from tests.conftest import make_test_app, scratch_database, upgrade_and_load  # noqa: E402
from tests.factories import make_org, make_user  # noqa: E402


def fill(n_needs: int, n_offers: int, seed: int = 7) -> dict:
    """Insert organizations, needs and offers in bulk; return what the timing needs."""
    rng = random.Random(seed)
    places = db.session.execute(
        select(Place.id, Place.lat, Place.lon, Place.oblast).where(Place.country == "UA")
    ).all()
    leaves = [c for c in db.session.scalars(select(Category)) if c.parent_id is not None]
    fronts = [make_org(f"Bench front {i}") for i in range(300)]
    donors = [make_org(f"Bench donor {i}", kind=OrgKind.DONOR_COLLECTIVE) for i in range(100)]
    viewer = make_user(Role.DONOR, org=donors[0])
    db.session.commit()
    now = datetime.now(UTC)
    urgencies = list(Urgency)
    rows = []
    for i in range(n_needs):
        pid, lat, lon, _oblast = rng.choice(places)
        cat = rng.choice(leaves)
        urgency = rng.choice(urgencies)
        plat, plon, _ = coarse_point(lat, lon)
        title = f"Need {i} for {cat.slug}"
        rows.append(
            dict(
                organization_id=rng.choice(fronts).id, title=title, description="",
                search_text=title.casefold(), category_id=cat.id, quantity=rng.randint(1, 500),
                pledged=0, delivered=0, urgency=urgency.value,
                urgency_rank=URGENCY_RANK[urgency],
                needed_by=date.today() + timedelta(days=rng.randint(1, 90)) if i % 3 else None,
                place_id=pid, lat=lat, lon=lon, public_lat=plat, public_lon=plon,
                delivery_note="", sensitive=i % 50 == 0, status="open",
                created_at=now, updated_at=now,
            )
        )  # fmt: skip
        if len(rows) == 5000:
            db.session.execute(insert(Need), rows)
            rows = []
    if rows:
        db.session.execute(insert(Need), rows)
    rows = []
    for i in range(n_offers):
        pid, lat, lon, _oblast = rng.choice(places)
        cat = rng.choice(leaves)
        plat, plon, _ = coarse_point(lat, lon)
        title = f"Offer {i} of {cat.slug}"
        rows.append(
            dict(
                organization_id=rng.choice(donors).id, title=title, description="",
                search_text=title.casefold(), category_id=cat.id, quantity=rng.randint(1, 500),
                allocated=0, place_id=pid, lat=lat, lon=lon, public_lat=plat, public_lon=plon,
                delivery_radius_km=rng.choice([None, 50, 100, 300]), available_until=None,
                status="open", created_at=now, updated_at=now,
            )
        )  # fmt: skip
        if len(rows) == 5000:
            db.session.execute(insert(Offer), rows)
            rows = []
    if rows:
        db.session.execute(insert(Offer), rows)
    db.session.commit()
    # The busiest category and oblast among the needs: the hardest filter to serve.
    cat = db.session.get(Category, leaves[0].id)
    oblast = "Kharkiv Oblast"
    return {"viewer": viewer, "category": cat.slug, "oblast": oblast}


def timed(fn, repeat: int) -> list[float]:
    """Milliseconds of each of `repeat` calls (after one warm-up call)."""
    fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--needs", type=int, default=100_000)
    parser.add_argument("--offers", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    with scratch_database(args.database_url) as url:
        t0 = time.perf_counter()
        upgrade_and_load(url)
        app = make_test_app(url)
        with app.app_context():
            setup = fill(args.needs, args.offers)
            fill_s = time.perf_counter() - t0
            from aidmatch.auth.tokens import issue

            token, _row = issue(setup["viewer"], 1)
            db.session.commit()
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = setup["viewer"].get_id()
                session["_fresh"] = True
            query = f"category={setup['category']}&oblast={setup['oblast']}&sort=default"
            api_headers = {"Authorization": f"Bearer {token}"}

            def page():
                response = client.get(f"/needs?{query}")
                assert response.status_code == 200, response.status_code

            def api():
                response = client.get(f"/api/v1/needs?{query}", headers=api_headers)
                assert response.status_code == 200, response.status_code
                return response

            total = api().get_json()["total"]
            results = {"page": timed(page, args.repeat), "api": timed(api, args.repeat)}
            db.session.remove()
            db.engine.dispose()

    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(
        f"database: {backend}; {args.needs} needs, {args.offers} offers (filled in {fill_s:.1f} s)"
    )
    print(f"filter: category={setup['category']} oblast={setup['oblast']}, sorted by urgency; "
          f"{total} matching needs; viewer: a donor")  # fmt: skip
    for name, ms in results.items():
        print(f"{name:5s} median {statistics.median(ms):6.1f} ms  p95 "
              f"{sorted(ms)[int(len(ms) * 0.95) - 1]:6.1f} ms  ({len(ms)} requests)")  # fmt: skip
    print("reproduce: .venv/bin/python bench/needs_list.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
