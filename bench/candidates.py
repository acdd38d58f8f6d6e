"""Benchmark: instant candidates with 100 000 open offers in the database.

Fills a fresh database (SQLite file, or PostgreSQL with --database-url) with synthetic
offers and needs over the gazetteer's places and the seeded categories (as
bench/needs_list.py does), then times ``candidates_for_need`` over many needs and
``candidates_for_offer`` over many offers, as a donor (the privacy-filtered case) and as a
coordinator, and prints the median and 95th percentile.

    .venv/bin/python bench/candidates.py [--offers 100000] [--needs 20000] [--samples 300]
        [--database-url postgresql://postgres@127.0.0.1:5432/test]

With a PostgreSQL URL it creates its own database on that server and drops it afterwards.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from aidmatch.extensions import db  # noqa: E402
from aidmatch.needs.models import Need  # noqa: E402
from aidmatch.offers.models import Offer  # noqa: E402
from aidmatch.permissions import Role  # noqa: E402
from bench.filling import bench_arguments, filled_app  # noqa: E402
from tests.factories import make_user  # noqa: E402


def timed(fn, items) -> list[float]:
    """Milliseconds of fn(item) for each item (after one warm-up call)."""
    fn(items[0])
    out = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - start) * 1000)
    return out


def summary(ms: list[float]) -> str:
    p95 = sorted(ms)[max(0, int(len(ms) * 0.95) - 1)]
    return f"median {statistics.median(ms):6.1f} ms  p95 {p95:6.1f} ms  max {max(ms):6.1f} ms"


def main() -> None:
    parser = bench_arguments(__doc__, needs=20_000, offers=100_000)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()

    from aidmatch.candidates.ranking import candidates_for_need, candidates_for_offer

    results = {}
    with filled_app(args.database_url, args.needs, args.offers) as filled:
        donor = filled.setup["viewer"]
        coordinator = make_user(Role.COORDINATOR)
        db.session.commit()
        rng = random.Random(3)
        need_ids = rng.sample(list(db.session.scalars(select(Need.id))), args.samples)
        offer_ids = rng.sample(list(db.session.scalars(select(Offer.id))), args.samples)
        needs = [db.session.get(Need, i) for i in need_ids]
        offers = [db.session.get(Offer, i) for i in offer_ids]
        for obj in (*needs, *offers):
            obj.organization  # noqa: B018 - loaded, as the page has it
        counts = []
        for viewer_name, viewer in (("donor", donor), ("coordinator", coordinator)):

            def need_call(need, viewer=viewer):
                items = candidates_for_need(need, viewer)
                counts.append(len(items))

            def offer_call(offer, viewer=viewer):
                candidates_for_offer(offer, viewer)

            results[f"need -> offers, {viewer_name}"] = timed(need_call, needs)
            results[f"offer -> needs, {viewer_name}"] = timed(offer_call, offers)
            db.session.rollback()
        found = statistics.mean(counts)

    print(
        f"database: {filled.backend}; {args.offers} offers, {args.needs} needs "
        f"(filled in {filled.fill_s:.1f} s)"
    )
    print(f"{args.samples} random needs and offers each; {found:.1f} candidates shown on average")
    for name, ms in results.items():
        print(f"{name:<28s} {summary(ms)}")
    print("reproduce: .venv/bin/python bench/candidates.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
