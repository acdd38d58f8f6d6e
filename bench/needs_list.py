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

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aidmatch.extensions import db  # noqa: E402
from bench.filling import bench_arguments, filled_app  # noqa: E402


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
    parser = bench_arguments(__doc__, needs=100_000, offers=50_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    with filled_app(args.database_url, args.needs, args.offers) as filled:
        from aidmatch.auth.tokens import issue

        setup = filled.setup
        token, _row = issue(setup["viewer"], 1)
        db.session.commit()
        client = filled.app.test_client()
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

    print(
        f"database: {filled.backend}; {args.needs} needs, {args.offers} offers "
        f"(filled in {filled.fill_s:.1f} s)"
    )
    print(f"filter: category={setup['category']} oblast={setup['oblast']}, sorted by urgency; "
          f"{total} matching needs; viewer: a donor")  # fmt: skip
    for name, ms in results.items():
        print(f"{name:5s} median {statistics.median(ms):6.1f} ms  p95 "
              f"{sorted(ms)[int(len(ms) * 0.95) - 1]:6.1f} ms  ({len(ms)} requests)")  # fmt: skip
    print("reproduce: .venv/bin/python bench/needs_list.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
