"""Benchmark of the matching engine on a deterministic synthetic instance.

    .venv/bin/python bench/matching.py --n 100000 [--seed 1] [--workers 2]
        [--sample 4000] [--repeats 5]

N needs and N offers over 20 categories (three parents with children: an offer of
``medical`` can cover a need of ``tourniquets``), placed at ~70 real Ukrainian towns with
~10 km of Gaussian jitter. Needs lean to the east and south (front-line oblasts); offers to
Kyiv, Lviv, Dnipro and cities in the EU, where most offers are "anywhere" ones. Radii are
log-uniform from 30 to 300 km; quantities uniform 1–200; urgency, deadlines, posting dates
and verification drawn with fixed probabilities. Everything comes from ``--seed``.

Prints, for the default (flow) allocator: the time of each step, the peak memory,
candidate pairs, quantity allocated and total score; then greedy on the same candidates
(the candidate step is deterministic, so the pairs are identical: the count is checked);
then all-pairs candidate generation (vectorised haversine of each sampled need against
every offer of its compatible categories, kept where within the offer's radius, as pairs
with their distances, in matrices of up to 1024 needs) timed on ``--repeats`` random
samples of ``--sample`` needs, each extrapolated to N: the mean, its standard deviation,
and the speed-up of the spatial index (the mean over the index's time in both runs, and
the range from mean ± sd over the slower and faster of them). Several larger samples
make the figure steadier than one sample of 2000 needs did, and show how much it moves
with the machine's load (the standard deviation is printed).
The last line is one JSON object. Times are wall-clock (``time.perf_counter``) from the
engine's report; "total" is the whole ``propose`` call (validation, candidates, scoring,
allocation, building the proposals), not the instance's construction. ``--workers``
(default 2 on a machine with 2 or more CPUs, as ``MATCH_WORKERS``) is passed to
``propose``: threads for the spatial queries, and processes solving the flow's independent
components side by side, as many as the machine has idle CPUs for (the engine reads the
load average: on the busy 2-vCPU machine a forked process made runs 15 % slower, on an
idle one it cut the allocation by 40 %); ``--workers 1`` keeps everything in one thread.

Supply and demand are about equal overall but not where they are: most offers sit far from
most needs, and many offers overlap, which is where greedy-by-score is myopic (it hands an
offer to its best-scored need even when that need had other offers and another had none).
Timings on the 2-vCPU benchmark machine vary by ±30 % from run to run with the load of its
neighbours: run it twice.

Peak memory is the process's peak resident set size (``resource.getrusage``,
``ru_maxrss``) read right after the flow run: it includes the interpreter, numpy, scipy,
OR-Tools and the instance itself, and also OR-Tools' C++ allocations, which tracemalloc
would not see. tracemalloc is not used, as it slows down Python allocations.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from datetime import UTC, datetime, timedelta

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from aidmatch.engine import NeedRecord, OfferRecord, propose  # noqa: E402
from aidmatch.engine.candidates import haversine_km  # noqa: E402

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

# (name, lat, lon, weight of needs, weight of offers)
TOWNS = [
    ("Kyiv", 50.450, 30.523, 3, 20),
    ("Lviv", 49.839, 24.029, 1, 16),
    ("Dnipro", 48.464, 35.046, 5, 14),
    ("Kharkiv", 49.993, 36.231, 10, 4),
    ("Odesa", 46.482, 30.723, 4, 5),
    ("Zaporizhzhia", 47.838, 35.139, 9, 3),
    ("Mykolaiv", 46.975, 31.995, 6, 2),
    ("Kherson", 46.636, 32.617, 8, 1),
    ("Kramatorsk", 48.738, 37.584, 9, 1),
    ("Sloviansk", 48.853, 37.605, 8, 1),
    ("Pokrovsk", 48.282, 37.176, 7, 0),
    ("Kostiantynivka", 48.527, 37.707, 7, 0),
    ("Druzhkivka", 48.630, 37.556, 6, 0),
    ("Dobropillia", 48.467, 37.085, 5, 0),
    ("Izium", 49.212, 37.257, 6, 0),
    ("Kupiansk", 49.711, 37.615, 7, 0),
    ("Balakliia", 49.462, 36.860, 4, 0),
    ("Chuhuiv", 49.836, 36.688, 4, 0),
    ("Vovchansk", 50.290, 36.942, 3, 0),
    ("Lozova", 48.889, 36.318, 3, 1),
    ("Bohodukhiv", 50.165, 35.527, 2, 0),
    ("Zolochiv", 50.280, 35.983, 2, 0),
    ("Sumy", 50.907, 34.798, 6, 1),
    ("Okhtyrka", 50.310, 34.899, 3, 0),
    ("Shostka", 51.866, 33.480, 2, 0),
    ("Konotop", 51.240, 33.203, 2, 0),
    ("Chernihiv", 51.498, 31.289, 4, 1),
    ("Nizhyn", 51.048, 31.886, 1, 0),
    ("Poltava", 49.589, 34.551, 2, 3),
    ("Myrhorod", 49.968, 33.608, 1, 0),
    ("Lubny", 50.019, 32.997, 1, 0),
    ("Kremenchuk", 49.066, 33.410, 1, 2),
    ("Kryvyi Rih", 47.910, 33.392, 4, 2),
    ("Nikopol", 47.567, 34.396, 5, 0),
    ("Marhanets", 47.642, 34.630, 3, 0),
    ("Pavlohrad", 48.534, 35.871, 3, 1),
    ("Synelnykove", 48.318, 35.517, 2, 0),
    ("Kamianske", 48.507, 34.613, 1, 1),
    ("Zhovti Vody", 48.347, 33.502, 1, 0),
    ("Orikhiv", 47.568, 35.785, 4, 0),
    ("Huliaipole", 47.662, 36.256, 3, 0),
    ("Beryslav", 46.838, 33.426, 3, 0),
    ("Ochakiv", 46.612, 31.548, 2, 0),
    ("Voznesensk", 47.567, 31.333, 1, 0),
    ("Pervomaisk", 48.044, 30.850, 1, 0),
    ("Izmail", 45.351, 28.837, 1, 0),
    ("Bilhorod-Dnistrovskyi", 46.186, 30.344, 1, 0),
    ("Cherkasy", 49.444, 32.060, 1, 2),
    ("Kropyvnytskyi", 48.508, 32.262, 1, 1),
    ("Uman", 48.749, 30.221, 0, 1),
    ("Bila Tserkva", 49.799, 30.114, 0, 2),
    ("Brovary", 50.511, 30.790, 1, 2),
    ("Irpin", 50.522, 30.250, 1, 1),
    ("Bucha", 50.544, 30.212, 0, 1),
    ("Boryspil", 50.352, 30.955, 0, 1),
    ("Fastiv", 50.077, 29.918, 0, 1),
    ("Zhytomyr", 50.255, 28.659, 1, 2),
    ("Berdychiv", 49.899, 28.603, 0, 1),
    ("Korosten", 50.951, 28.639, 1, 0),
    ("Vinnytsia", 49.233, 28.468, 1, 3),
    ("Khmelnytskyi", 49.423, 26.987, 0, 2),
    ("Ternopil", 49.553, 25.595, 0, 2),
    ("Rivne", 50.619, 26.252, 0, 2),
    ("Lutsk", 50.748, 25.325, 0, 2),
    ("Kovel", 51.215, 24.709, 0, 1),
    ("Ivano-Frankivsk", 48.922, 24.711, 0, 3),
    ("Kalush", 49.027, 24.373, 0, 1),
    ("Drohobych", 49.350, 23.506, 0, 1),
    ("Uzhhorod", 48.621, 22.288, 0, 2),
    ("Mukachevo", 48.439, 22.718, 0, 1),
    ("Chernivtsi", 48.292, 25.936, 0, 2),
]
# EU cities where donor collectives sit: (name, lat, lon, weight of offers)
EU_CITIES = [
    ("Warsaw", 52.230, 21.012, 5),
    ("Krakow", 50.065, 19.945, 3),
    ("Rzeszow", 50.041, 21.999, 3),
    ("Lublin", 51.246, 22.568, 2),
    ("Przemysl", 49.784, 22.768, 2),
    ("Berlin", 52.520, 13.405, 4),
    ("Munich", 48.137, 11.575, 2),
    ("Prague", 50.076, 14.438, 2),
    ("Vienna", 48.208, 16.373, 2),
    ("Bratislava", 48.149, 17.107, 1),
    ("Budapest", 47.498, 19.040, 1),
    ("Vilnius", 54.687, 25.280, 2),
    ("Iasi", 47.159, 27.587, 1),
    ("Bucharest", 44.426, 26.102, 1),
    ("Chisinau", 47.011, 28.864, 1),
]
# 20 categories: id -> (slug, parent id, unit)
CATEGORIES = {
    1: ("medical", None, "pcs"),
    2: ("tourniquets", 1, "pcs"),
    3: ("first-aid-kits", 1, "pcs"),
    4: ("bandages", 1, "pcs"),
    5: ("medicines", 1, "pcs"),
    6: ("power", None, "pcs"),
    7: ("generators", 6, "pcs"),
    8: ("power-banks", 6, "pcs"),
    9: ("solar-panels", 6, "pcs"),
    10: ("clothing", None, "pcs"),
    11: ("sleeping-bags", 10, "pcs"),
    12: ("boots", 10, "pcs"),
    13: ("vehicles", None, "pcs"),
    14: ("drones", None, "pcs"),
    15: ("radios", None, "pcs"),
    16: ("optics", None, "pcs"),
    17: ("food", None, "kg"),
    18: ("water", None, "l"),
    19: ("fuel", None, "l"),
    20: ("hygiene", None, "pcs"),
}
PARENT_SHARE = 0.3  # relative weight of a parent category (needs and offers are mostly specific)


def ancestry() -> dict[int, tuple[int, ...]]:
    """Category id -> ancestor ids, nearest first."""
    result = {}
    for cid in CATEGORIES:
        chain, parent = [], CATEGORIES[cid][1]
        while parent is not None:
            chain.append(parent)
            parent = CATEGORIES[parent][1]
        result[cid] = tuple(chain)
    return result


def _category_weights() -> np.ndarray:
    w = np.array([PARENT_SHARE if cid in {1, 6, 10} else 1.0 for cid in CATEGORIES])
    return w / w.sum()


def _jitter(rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, sigma_km: float):
    lat = lat + rng.normal(0.0, sigma_km / 111.32, len(lat))
    lon = lon + rng.normal(0.0, sigma_km / 111.32, len(lon)) / np.cos(np.radians(lat))
    return lat, lon


def _first_fields(i: int, cats, units, qty, lat, lon) -> tuple:
    """id, category, unit, quantity, lat, lon of row i: the first six fields of both records."""
    return i + 1, int(cats[i]), units[int(cats[i])], int(qty[i]), float(lat[i]), float(lon[i])


def make_instance(n: int, seed: int) -> tuple[list[NeedRecord], list[OfferRecord]]:
    """N needs and N offers, fully determined by (n, seed)."""
    rng = np.random.default_rng(seed)
    cat_ids = np.array(list(CATEGORIES))
    units = {cid: CATEGORIES[cid][2] for cid in CATEGORIES}
    cat_w = _category_weights()

    town_lat = np.array([t[1] for t in TOWNS])
    town_lon = np.array([t[2] for t in TOWNS])
    need_w = np.array([t[3] for t in TOWNS], dtype=float)
    place = rng.choice(len(TOWNS), n, p=need_w / need_w.sum())
    lat, lon = _jitter(rng, town_lat[place], town_lon[place], 10.0)
    cats = rng.choice(cat_ids, n, p=cat_w)
    qty = rng.integers(1, 201, n)
    urgency = rng.choice(["critical", "high", "normal", "low"], n, p=[0.15, 0.3, 0.4, 0.15])
    has_deadline = rng.random(n) < 0.6
    deadline_days = rng.integers(-5, 61, n)
    waited_s = rng.uniform(0, 60 * 86400, n)
    verified = rng.random(n) < 0.85
    needs = [
        NeedRecord(
            *_first_fields(i, cats, units, qty, lat, lon),
            urgency=str(urgency[i]),
            needed_by=(NOW + timedelta(days=int(deadline_days[i]))).date()
            if has_deadline[i]
            else None,
            created_at=NOW - timedelta(seconds=float(waited_s[i])),
            verified=bool(verified[i]),
        )
        for i in range(n)
    ]

    places = [(t[1], t[2], t[4], False) for t in TOWNS] + [
        (c[1], c[2], c[3], True) for c in EU_CITIES
    ]
    offer_w = np.array([p[2] for p in places], dtype=float)
    place = rng.choice(len(places), n, p=offer_w / offer_w.sum())
    in_eu = np.array([places[p][3] for p in place])
    lat, lon = _jitter(
        rng, np.array([places[p][0] for p in place]), np.array([places[p][1] for p in place]), 10.0
    )
    cats = rng.choice(cat_ids, n, p=cat_w)
    qty = rng.integers(1, 201, n)
    radius = np.exp(rng.uniform(np.log(30.0), np.log(300.0), n))
    anywhere = rng.random(n) < np.where(in_eu, 0.7, 0.03)
    orgs = rng.integers(1, max(2, n // 20), n)
    offers = [
        OfferRecord(
            *_first_fields(j, cats, units, qty, lat, lon),
            radius_km=None if anywhere[j] else round(float(radius[j]), 1),
            organization_id=int(orgs[j]),
        )
        for j in range(n)
    ]
    return needs, offers


ALLPAIRS_BATCH = 1024  # sampled needs per haversine matrix (bounds its memory)


def offer_columns(offers: list[OfferRecord]) -> dict[tuple[int, str], tuple[np.ndarray, ...]]:
    """Offers as (lat, lon, radius) columns per (category, unit), as all-pairs would keep them."""
    by_group: dict[tuple[int, str], list[OfferRecord]] = {}
    for o in offers:
        by_group.setdefault((o.category_id, o.unit), []).append(o)
    return {
        key: (
            np.array([o.lat for o in rows]),
            np.array([o.lon for o in rows]),
            np.array([np.inf if o.radius_km is None else o.radius_km for o in rows]),
        )
        for key, rows in by_group.items()
    }


def all_pairs_time(
    needs: list[NeedRecord], picked: np.ndarray, columns: dict, anc: dict
) -> tuple[float, int]:
    """Seconds to generate every pair within radius for the picked needs, and the pairs."""
    sample_by_key: dict[tuple[int, str], list[NeedRecord]] = {}
    for i in picked:
        need = needs[int(i)]
        sample_by_key.setdefault((need.category_id, need.unit), []).append(need)
    start = time.perf_counter()
    found = 0
    for (category, unit), group in sample_by_key.items():
        for first in range(0, len(group), ALLPAIRS_BATCH):
            batch = group[first : first + ALLPAIRS_BATCH]
            nlat = np.array([x.lat for x in batch])[:, None]
            nlon = np.array([x.lon for x in batch])[:, None]
            for cat in (category, *anc[category]):
                if (cat, unit) not in columns:
                    continue
                olat, olon, orad = columns[(cat, unit)]
                dist = haversine_km(nlat, nlon, olat[None, :], olon[None, :])
                rows, cols = np.nonzero(dist <= orad[None, :])  # the candidate pairs ...
                kept = dist[rows, cols]  # ... with their distances, as the index returns them
                found += len(kept)
    return time.perf_counter() - start, found


def all_pairs_estimate(
    needs: list[NeedRecord],
    offers: list[OfferRecord],
    anc: dict,
    sample: int,
    repeats: int,
    seed: int,
) -> dict:
    """All-pairs candidate generation timed on ``repeats`` random samples of needs, each
    extrapolated to all N needs: mean, standard deviation, and the pairs within radius."""
    rng = np.random.default_rng(seed + 1)
    columns = offer_columns(offers)
    size = min(sample, len(needs))
    runs = []
    for _ in range(repeats):
        picked = rng.choice(len(needs), size, replace=False)
        seconds, found = all_pairs_time(needs, picked, columns, anc)
        scale = len(needs) / size
        runs.append((seconds, seconds * scale, found * scale))
    total = np.array([r[1] for r in runs])
    return {
        "sample": size,
        "repeats": repeats,
        "sample_s": [round(r[0], 3) for r in runs],
        "mean_s": float(total.mean()),
        "sd_s": float(total.std(ddof=1)) if repeats > 1 else 0.0,
        "pairs": int(np.mean([r[2] for r in runs])),
    }


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its figures; the last line is JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="needs and offers (each)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample", type=int, default=4000, help="needs timed for all-pairs")
    parser.add_argument("--repeats", type=int, default=5, help="all-pairs samples timed")
    parser.add_argument(
        "--workers",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="processes for the flow's components, threads for the spatial queries",
    )
    parser.add_argument(
        "--k", type=int, default=None, help="candidates per need (default: engine's)"
    )
    args = parser.parse_args(argv)
    extra = {"workers": args.workers} | ({} if args.k is None else {"k": args.k})

    print(
        f"command: .venv/bin/python bench/matching.py --n {args.n} --seed {args.seed} "
        f"--workers {args.workers} --sample {args.sample} --repeats {args.repeats}"
    )
    start = time.perf_counter()
    needs, offers = make_instance(args.n, args.seed)
    anc = ancestry()
    print(
        f"instance: {args.n} needs, {args.n} offers, 20 categories ({time.perf_counter() - start:.2f} s to build)"
    )
    print(
        f"machine: {os.cpu_count()} cpu, python {sys.version.split()[0]}, "
        f"load average {os.getloadavg()[0]:.2f}; workers {args.workers}"
    )

    flow = propose(needs, offers, anc, NOW, **extra).report
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    t = flow.timings
    print("\nflow (max flow at min cost, OR-Tools), the default:")
    for name in (
        "validate_s",
        "candidates_s",
        "scoring_s",
        "allocation_s",
        "proposals_s",
        "total_s",
    ):
        print(f"  {name:<14}{t[name]:8.3f} s")
    print(f"  peak memory   {peak_mb:8.0f} MB (ru_maxrss of the process)")
    print(
        f"  candidate pairs {flow.candidate_pairs:,} ({flow.candidate_pairs / args.n:.1f} per need)"
    )
    print(f"  proposals       {flow.proposals:,}")
    print(f"  allocated       {flow.allocated_quantity:,}")
    print(f"  total score     {flow.total_score:,.1f} (sum of quantity x score)")
    demand = sum(x.quantity_open for x in needs)
    supply = sum(x.quantity_remaining for x in offers)
    print(f"  (open demand {demand:,}, supply {supply:,})")

    greedy = propose(needs, offers, anc, NOW, allocator="greedy", **extra).report
    assert greedy.candidate_pairs == flow.candidate_pairs
    more = (flow.allocated_quantity / max(greedy.allocated_quantity, 1) - 1) * 100
    print("\ngreedy by score on the same candidates:")
    print(f"  allocation_s  {greedy.timings['allocation_s']:8.3f} s")
    print(f"  allocated       {greedy.allocated_quantity:,} (flow moves {more:+.1f} %)")
    print(f"  total score     {greedy.total_score:,.1f}")

    allpairs = all_pairs_estimate(needs, offers, anc, args.sample, args.repeats, args.seed)
    # the spatial index's time: both runs above made the same candidates
    index_s = [t["candidates_s"], greedy.timings["candidates_s"]]
    speedup = allpairs["mean_s"] / float(np.mean(index_s))
    low = (allpairs["mean_s"] - allpairs["sd_s"]) / max(index_s)
    high = (allpairs["mean_s"] + allpairs["sd_s"]) / min(index_s)
    print(
        f"\nall pairs within categories (vectorised haversine), {allpairs['repeats']} random "
        f"samples of {allpairs['sample']} needs:"
    )
    print(f"  samples         {', '.join(f'{x:.3f}' for x in allpairs['sample_s'])} s")
    print(
        f"  extrapolated    {allpairs['mean_s']:8.3f} s ± {allpairs['sd_s']:.3f} (sd) for "
        f"{args.n} needs (~{allpairs['pairs']:,} pairs within radius)"
    )
    print(f"  spatial index   {', '.join(f'{x:.3f}' for x in index_s)} s (the two runs above)")
    print(f"  speed-up of the spatial index: {speedup:.0f}x (range {low:.0f}x to {high:.0f}x)")

    print(
        json.dumps(
            {
                "n": args.n,
                "candidates_s": round(t["candidates_s"], 3),
                "allocation_s": round(t["allocation_s"], 3),
                "total_s": round(t["total_s"], 3),
                "peak_mb": round(peak_mb, 1),
                "pairs": flow.candidate_pairs,
                "allocated": flow.allocated_quantity,
                "greedy_allocated": greedy.allocated_quantity,
                "allpairs_speedup": round(speedup, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
