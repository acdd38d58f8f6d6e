"""Benchmark: the coordinators' review queue (/review) with 200 pending engine proposals.

Fills a fresh database (SQLite file, or PostgreSQL with --database-url) with synthetic needs
and offers over the gazetteer's places and the seeded categories (bench/filling.py), makes
--proposals pending engine proposals through the real verb (matches/holds.reserve, with an
explanation shaped like the engine's), some of them general offers on specific needs, then
times GET /review as a coordinator and prints the HTML's size and the server's time (the
median of --repeat requests through the test client, after a warm-up). Goal (issue 14):
under 40 KB of HTML and under 150 ms.

    .venv/bin/python bench/review_page.py [--proposals 200] [--repeat 30] [--query ...]
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
from bench.filling import bench_arguments, filled_app  # noqa: E402

KB = 1000


def make_proposals(n: int, seed: int = 11) -> int:
    """n pending engine proposals, one per need, from offers of the same or a parent category
    (every fourth a general offer); returns how many were made."""
    from aidmatch.categories.models import Category
    from aidmatch.matches.holds import reserve
    from aidmatch.matches.models import MatchSource
    from aidmatch.needs.models import Need
    from aidmatch.offers.models import Offer

    rng = random.Random(seed)
    parents = dict(db.session.execute(select(Category.id, Category.parent_id)).all())
    offers_by_category: dict[int, list[Offer]] = {}
    for offer in db.session.scalars(select(Offer).order_by(Offer.id)):
        offers_by_category.setdefault(offer.category_id, []).append(offer)
    # A general offer: one of each parent category, from the first donor organization.
    general: dict[int, Offer] = {}
    made = 0
    for need in db.session.scalars(select(Need).order_by(Need.id)):
        if made >= n:
            break
        parent = parents.get(need.category_id)
        if made % 4 == 3 and parent is not None:
            offer = general.get(parent)
            if offer is None:
                template = rng.choice(offers_by_category[need.category_id])
                offer = Offer(
                    organization_id=template.organization_id, title="Mixed supplies",
                    description="", search_text="mixed supplies", category_id=parent,
                    quantity=100_000, allocated=0, place_id=template.place_id,
                    lat=template.lat, lon=template.lon, public_lat=template.public_lat,
                    public_lon=template.public_lon, status="open", delivery_radius_km=None,
                )  # fmt: skip
                db.session.add(offer)
                db.session.flush()
                general[parent] = offer
        else:
            candidates = offers_by_category.get(need.category_id)
            if not candidates:
                continue
            offer = rng.choice(candidates)
        quantity = max(1, min(need.quantity, offer.quantity - offer.allocated) // 2)
        if quantity < 1 or offer.quantity - offer.allocated < 1:
            continue
        distance = round(rng.uniform(3, 400), 1)
        parts = {
            "urgency": round(rng.uniform(0, 0.35), 4),
            "deadline": round(rng.uniform(0, 0.2), 4),
            "closeness": round(rng.uniform(0, 0.25), 4),
            "waiting": round(rng.uniform(0, 0.1), 4),
            "verified": 0.1,
        }
        score = round(sum(parts.values()), 4)
        facts = {
            "distance_km": distance, "radius_km": offer.delivery_radius_km,
            "urgency": str(need.urgency), "days_waiting": rng.randint(0, 30),
            "days_left": rng.randint(1, 60), "verified": True,
        }  # fmt: skip
        match = reserve(
            need, offer, offer.organization, quantity, source=MatchSource.ENGINE,
            distance_km=distance, score=score,
            explanation={"score": score, "parts": parts, "facts": facts}, allow_partial=True,
        )  # fmt: skip
        made += match is not None
    db.session.commit()
    return made


def main() -> None:
    parser = bench_arguments(__doc__, needs=2000, offers=3000)
    parser.add_argument("--proposals", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--query", default="", help="the queue's query string, e.g. sort=best")
    args = parser.parse_args()

    with filled_app(args.database_url, args.needs, args.offers) as filled:
        from aidmatch.permissions import Role
        from tests.factories import make_user

        made = make_proposals(args.proposals)
        coordinator = make_user(Role.COORDINATOR, language="en")
        db.session.commit()
        client = filled.app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = coordinator.get_id()
            session["_fresh"] = True
        path = "/review" + (f"?{args.query}" if args.query else "")

        def page() -> bytes:
            response = client.get(path)
            assert response.status_code == 200, response.status_code
            return response.get_data()

        size = len(page())
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            page()
            times.append((time.perf_counter() - start) * 1000)

    print(
        f"database: {filled.backend}; {args.needs} needs, {args.offers} offers, "
        f"{made} pending engine proposals (filled in {filled.fill_s:.1f} s)"
    )
    median, p95 = statistics.median(times), sorted(times)[int(len(times) * 0.95) - 1]
    print(f"GET {path}: {size} bytes of HTML ({size / KB:.1f} KB; goal under 40 KB)")
    print(f"server time: median {median:.1f} ms, p95 {p95:.1f} ms over {len(times)} requests "
          f"(goal under 150 ms)")  # fmt: skip
    print("reproduce: .venv/bin/python bench/review_page.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
