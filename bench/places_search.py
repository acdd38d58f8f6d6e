"""Benchmark of the gazetteer: load time, index build time, and search latency.

Creates a fresh SQLite database in a temporary directory (or uses the empty database given
with --database-url), migrates it, loads the shipped places, then times a few hundred
searches: Cyrillic and Latin prefixes, whole village names, one-typo queries, and the names
people type most. The index is built once before the timed queries, and reported apart.

Run:  .venv/bin/python bench/places_search.py [--queries 600] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COMMON = [
    "Харків",
    "Харк",
    "Kharkiv",
    "Kharkov",
    "Kharkiw",
    "Київ",
    "Kyiv",
    "Kiev",
    "Zaporizhia",
    "Дніпро",
    "Odesa",
    "Lviv",
    "Bakhmut",
    "Chasiv Yar",
    "Покровськ",
    "Berlin",
    "Warszawa",
    "Kraków",
    "Praha",
    "Wien",
    "к",
    "Ko",
    "Олександрівка",
    "Oleksandrivka, Kharkiv",
]


def typo(word: str, rng: random.Random) -> str:
    """One substitution, deletion, insertion or transposition after the first letter."""
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    letters = "abcdefghiklmnoprstuvyz" if word.isascii() else "абвгдеєжзиіїйклмнопрстуфхцчшщьюя"
    kind = rng.choice(("sub", "del", "ins", "swap"))
    if kind == "sub":
        return word[:i] + rng.choice(letters) + word[i + 1 :]
    if kind == "del":
        return word[:i] + word[i + 1 :]
    if kind == "ins":
        return word[:i] + rng.choice(letters) + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def make_queries(places, count: int, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, query) pairs drawn deterministically from the loaded places."""
    ukrainian = [p for p in places if p.country == "UA"]
    queries = [("common", q) for q in COMMON]
    per_kind = max(1, (count - len(queries)) // 5)
    for _ in range(per_kind):
        p = rng.choice(ukrainian)
        queries.append(("prefix uk", p.name_uk[: rng.randint(3, max(3, len(p.name_uk)))]))
        p = rng.choice(places)
        queries.append(("prefix latin", p.name[: rng.randint(3, max(3, len(p.name)))]))
        p = rng.choice([v for v in ukrainian if v.kind == "village"] or ukrainian)
        queries.append(("village", rng.choice((p.name, p.name_uk))))
        p = rng.choice(ukrainian)
        queries.append(("typo latin", typo(p.name, rng)))
        queries.append(("typo uk", typo(p.name_uk, rng)))
    return queries


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values lie."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    """Set up the database, load, build, query, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default="", help="an EMPTY database to use instead")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        os.environ.setdefault("AIDMATCH_ENV", "testing")
        from flask_migrate import upgrade
        from sqlalchemy import select

        from aidmatch import create_app
        from aidmatch.extensions import db
        from aidmatch.places import search as places_search
        from aidmatch.places.gazetteer import sync_places
        from aidmatch.places.models import Place

        app = create_app(
            {
                "AIDMATCH_ENV": "testing",
                "DATABASE_URL": url,
                "SECRET_KEY": "bench-" + "x" * 40,
                "RATELIMIT_STORAGE_URI": "memory://",
            }
        )
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            result = sync_places()
            db.session.commit()
            load_seconds = time.perf_counter() - started

            started = time.perf_counter()
            places_search.get_indexes()
            build_seconds = time.perf_counter() - started
            keys = len(places_search.get_indexes()[0].keys)

            places = db.session.execute(
                select(Place.name, Place.name_uk, Place.kind, Place.country).order_by(Place.id)
            ).all()
            rng = random.Random(args.seed)
            queries = make_queries(places, args.queries, rng)
            timings: dict[str, list[float]] = {}
            empty = 0
            for kind, query in queries:
                started = time.perf_counter()
                hits = places_search.search(query, limit=10)
                timings.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
                empty += not hits
                db.session.expunge_all()
            db.engine.dispose()

    every = [t for ts in timings.values() for t in ts]
    print(f"database: {url.split('://')[0]}{' (temporary)' if not args.database_url else ''}")
    print(
        f"load: {result.total} places ({result.inserted} new) in {load_seconds:.2f} s, "
        "migrations excluded"
    )
    print(f"index build (once per process): {build_seconds:.2f} s, {keys} search keys")
    print(
        f"{len(every)} queries: median {statistics.median(every):.2f} ms, "
        f"p95 {percentile(every, 0.95):.2f} ms, max {max(every):.2f} ms "
        f"({empty} found nothing)"
    )
    for kind, values in timings.items():
        print(
            f"  {kind:<13} n={len(values):<4} median {statistics.median(values):6.2f} ms   "
            f"p95 {percentile(values, 0.95):6.2f} ms"
        )
    database = f" --database-url {args.database_url}" if args.database_url else ""
    print(
        "reproduce: .venv/bin/python bench/places_search.py "
        f"--queries {args.queries} --seed {args.seed}{database}"
    )


if __name__ == "__main__":
    main()
