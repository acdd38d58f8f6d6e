"""Benchmark: one whole matching run (load, engine, store) over 20 000 open needs and 100 000
offers of verified organizations.

Fills a fresh database (a SQLite file, or a scratch PostgreSQL database dropped afterwards)
with 100 front-line groups and 500 donor organizations, all verified; needs (quantity 1–40)
and offers (quantity 1–20, delivery radius 50–600 km or anywhere) of the leaf categories,
placed at real Ukrainian settlements, all drawn from ``--seed``. Then runs matching as
``flask match run`` does (``runs.job.run_matching``, in this process) and prints the time of
each stage as the run recorded it, the proposals stored and the statements it sent.

    .venv/bin/python bench/run.py [--needs 20000] [--offers 100000] [--seed 1]
        [--allocator flow] [--database-url postgresql://postgres@127.0.0.1:5432/test]

With ``--database-url`` the run goes to a new database on that server (named
``aidmatch_bench_runs_<random>``), never to the database of the URL itself.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, insert, select  # noqa: E402

from aidmatch.categories.models import Category  # noqa: E402
from aidmatch.extensions import db  # noqa: E402
from aidmatch.geo import coarse_point  # noqa: E402
from aidmatch.needs.models import URGENCY_RANK, Need, Urgency  # noqa: E402
from aidmatch.offers.models import Offer  # noqa: E402
from aidmatch.orgs.models import OrgKind  # noqa: E402
from aidmatch.permissions import Role  # noqa: E402
from aidmatch.places.models import Place  # noqa: E402
from aidmatch.runs.job import run_matching  # noqa: E402
from tests.conftest import make_test_app, scratch_database, upgrade_and_load  # noqa: E402
from tests.factories import make_org, make_user  # noqa: E402

CHUNK = 5000


def fill(n_needs: int, n_offers: int, seed: int):
    """Verified groups and donors, their needs and offers; the coordinator who runs."""
    rng = random.Random(seed)
    places = db.session.execute(
        select(Place.id, Place.lat, Place.lon).where(Place.country == "UA").order_by(Place.id)
    ).all()
    places = rng.sample(places, min(600, len(places)))
    coarse = {pid: coarse_point(lat, lon)[:2] for pid, lat, lon in places}
    parents = set(db.session.scalars(select(Category.parent_id)))
    leaves = [
        c.id
        for c in db.session.scalars(select(Category).order_by(Category.id))
        if c.id not in parents
    ]
    coordinator = make_user(Role.COORDINATOR, email="coordinator@bench.example.org")
    groups = [make_org(f"Bench group {i}").id for i in range(100)]
    donors = [make_org(f"Bench donor {i}", kind=OrgKind.DONOR_COLLECTIVE).id for i in range(500)]
    now = datetime.now(UTC)
    urgencies = list(Urgency)

    def common(i: int, kind: str) -> dict:
        pid, lat, lon = rng.choice(places)
        plat, plon = coarse[pid]
        return dict(
            title=f"{kind} {i}", description="", search_text=f"{kind} {i}",
            category_id=rng.choice(leaves), place_id=pid, lat=lat, lon=lon, public_lat=plat,
            public_lon=plon, status="open", created_at=now - timedelta(hours=rng.randint(0, 900)),
            updated_at=now,
        )  # fmt: skip

    needs = []
    for i in range(n_needs):
        urgency = rng.choice(urgencies)
        needs.append({
            **common(i, "Need"), "organization_id": rng.choice(groups),
            "quantity": rng.randint(1, 40), "pledged": 0, "delivered": 0,
            "urgency": urgency.value, "urgency_rank": URGENCY_RANK[urgency],
            "needed_by": (now + timedelta(days=rng.randint(3, 90))).date()
            if rng.random() < 0.5 else None,
            "delivery_note": "", "sensitive": False,
        })  # fmt: skip
    offers = []
    for i in range(n_offers):
        offers.append({
            **common(i, "Offer"), "organization_id": rng.choice(donors),
            "quantity": rng.randint(1, 20), "allocated": 0,
            "delivery_radius_km": None if rng.random() < 0.2 else rng.randint(50, 600),
        })  # fmt: skip
    for model, rows in ((Need, needs), (Offer, offers)):
        for start in range(0, len(rows), CHUNK):
            db.session.execute(insert(model), rows[start : start + CHUNK])
    db.session.commit()
    return coordinator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--needs", type=int, default=20_000)
    parser.add_argument("--offers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--allocator", default="flow", choices=["flow", "greedy"])
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    with scratch_database(args.database_url, prefix="aidmatch_bench_runs") as url:
        backend = "postgresql" if url.startswith("postgresql") else "sqlite"
        t0 = time.perf_counter()
        upgrade_and_load(url)
        app = make_test_app(url)
        with app.app_context():
            coordinator = fill(args.needs, args.offers, args.seed)
            fill_s = time.perf_counter() - t0
            statements: Counter[str] = Counter()

            @event.listens_for(db.engine, "before_cursor_execute")
            def count(conn, cursor, statement, parameters, context, executemany):
                words = statement.lstrip().split(None, 3)
                verb = words[0].upper()
                table = ""
                found = re.search(r"\bFROM\s+(\w+)", statement, re.IGNORECASE)
                if verb in ("SELECT", "DELETE") and found:
                    table = found.group(1)
                elif verb == "UPDATE" and len(words) > 1:
                    table = words[1].upper()
                elif verb == "INSERT" and len(words) > 2:
                    table = words[2].upper()
                statements[f"{verb} {table}".strip().replace('"', "").lower()] += 1

            t0 = time.perf_counter()
            run = run_matching(coordinator, allocator=args.allocator)
            run_s = time.perf_counter() - t0
            event.remove(db.engine, "before_cursor_execute", count)
            timings, status, proposals, error = (
                dict(run.timings or {}),
                run.status,
                run.proposals,
                run.error,
            )
            needs_n, offers_n, pairs = (
                run.needs_considered,
                run.offers_considered,
                run.candidate_pairs,
            )
            db.session.rollback()
            db.engine.dispose()

    print(
        f"database {backend}; {args.needs} needs, {args.offers} offers (seed {args.seed}), "
        f"allocator {args.allocator}; filled in {fill_s:.1f} s"
    )
    print(
        f"run: {status}, {needs_n} needs and {offers_n} offers considered, {pairs} candidate "
        f"pairs, {proposals} proposals stored" + (f"; error {error}" if error else "")
    )
    for name, seconds in timings.items():
        print(f"  {name:<24} {seconds:8.3f} s")
    print(f"  {'whole run':<24} {run_s:8.3f} s")
    sent = sum(statements.values())
    top = ", ".join(f"{k} {n}" for k, n in statements.most_common(8))
    print(f"statements: {sent} ({sent / max(proposals, 1):.2f} per proposal): {top}")
    print("reproduce: .venv/bin/python " + " ".join(sys.argv))


if __name__ == "__main__":
    main()
