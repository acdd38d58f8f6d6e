"""Unit tests of the pure matching engine (no app, no database)."""

from __future__ import annotations

import ast
import importlib.util
import io
import json
import math
import random
import subprocess
import sys
from contextlib import redirect_stdout
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from geopy.distance import geodesic

from aidmatch import geo
from aidmatch.engine import (
    NeedRecord,
    OfferRecord,
    ScoreWeights,
    haversine_km,
    propose,
    rank_needs_for_offer,
    rank_offers_for_need,
)
from aidmatch.engine import allocate as allocate_module
from aidmatch.engine import candidates as candidates_module
from aidmatch.engine.candidates import pair_distance_km, unit_vectors
from aidmatch.engine.scoring import PARTS

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
# 1 medical > 2 tourniquets, 3 bandages; 4 food (kg); 5 generators (pcs, no parent)
ANCESTRY = {1: (), 2: (1,), 3: (1,), 4: (), 5: ()}
UNITS = {1: "pcs", 2: "pcs", 3: "pcs", 4: "kg", 5: "pcs"}
KHARKIV = (49.9935, 36.2304)
KM_PER_DEG_LAT = geo.EARTH_RADIUS_KM * math.pi / 180


def need(id=1, category=2, lat=KHARKIV[0], lon=KHARKIV[1], quantity=10, **kw) -> NeedRecord:
    values = {
        "unit": UNITS.get(category, "pcs"),
        "urgency": "normal",
        "needed_by": None,
        "created_at": NOW - timedelta(days=1),
        "verified": True,
    }
    values.update(kw)
    return NeedRecord(
        id=id, category_id=category, quantity_open=quantity, lat=lat, lon=lon, **values
    )


def offer(id=1, category=2, lat=KHARKIV[0], lon=KHARKIV[1], quantity=10, radius=100.0, **kw):
    values = {"unit": UNITS.get(category, "pcs"), "radius_km": radius, "organization_id": 7}
    values.update(kw)
    return OfferRecord(
        id=id, category_id=category, quantity_remaining=quantity, lat=lat, lon=lon, **values
    )


def north_of(point: tuple[float, float], km: float) -> tuple[float, float]:
    """A point km due north (great circle along the meridian)."""
    return point[0] + km / KM_PER_DEG_LAT, point[1]


def run(needs, offers, **kw):
    return propose(needs, offers, ANCESTRY, NOW, units=UNITS, **kw)


def pairs(result) -> set[tuple[int, int]]:
    return {(p.need_id, p.offer_id) for p in result.proposals}


# --------------------------------------------------------------------------- compatibility


@pytest.mark.parametrize(
    ("need_category", "offer_category", "compatible"),
    [
        (2, 2, True),  # same category
        (2, 1, True),  # the offer's category is an ancestor of the need's
        (1, 2, False),  # a child offer does not cover the parent's need
        (2, 3, False),  # siblings
        (5, 1, False),  # unrelated
    ],
)
def test_category_compatibility(need_category, offer_category, compatible):
    result = run([need(category=need_category)], [offer(category=offer_category)])
    assert (pairs(result) == {(1, 1)}) is compatible
    ranked = rank_offers_for_need(
        need(category=need_category), [offer(category=offer_category)], ANCESTRY, NOW
    )
    assert bool(ranked) is compatible


def test_same_unit_required_even_within_the_tree():
    ancestry = {1: (), 2: (1,)}
    needs = [need(category=2, unit="pcs")]
    offers = [offer(category=1, unit="EUR")]  # a parent counted in another unit
    result = propose(needs, offers, ancestry, NOW)
    assert result.proposals == []


def test_radius_edge_is_inclusive_and_respected():
    inside, outside = north_of(KHARKIV, 49.9), north_of(KHARKIV, 50.1)
    needs = [need(1, lat=inside[0], lon=inside[1]), need(2, lat=outside[0], lon=outside[1])]
    result = run(needs, [offer(1, quantity=100, radius=50.0)])
    assert pairs(result) == {(1, 1)}
    assert result.proposals[0].distance_km == pytest.approx(49.9, abs=0.01)
    ranked = rank_needs_for_offer(offer(1, quantity=100, radius=50.0), needs, ANCESTRY, NOW)
    assert [p.need_id for p in ranked] == [1]


def test_anywhere_offers_reach_far_needs_but_stay_bounded():
    lviv = (49.8397, 24.0297)
    far = [
        offer(i, lat=lviv[0], lon=lviv[1] + i * 0.01, quantity=1, radius=None) for i in range(1, 41)
    ]
    result = run([need(1, quantity=100)], far, k_anywhere=3, k_spread=2)
    # 3 nearest + 2 picks by a hash of the need's id (one hits an offer already chosen),
    # never all 40
    assert result.report.candidate_pairs == 4
    assert result.report.allocated_quantity == result.report.candidate_pairs
    assert all(p.distance_km > 800 for p in result.proposals)
    assert all(p.facts["radius_km"] is None for p in result.proposals)
    # the nearest "anywhere" offers (40, 39, 38 lie furthest east) and the hashed pick 26
    assert sorted(p.offer_id for p in result.proposals) == [26, 38, 39, 40]


def test_offer_side_gives_a_crowded_offer_candidates():
    # Twenty needs in one spot and twenty offers in another, 10 km away: with k=1 every need
    # sees the same nearest offer; the offer side links each offer to the needs it reaches.
    there = north_of(KHARKIV, 10)
    offers = [
        offer(i, lat=there[0], lon=there[1] + i * 1e-4, quantity=1, radius=30.0)
        for i in range(1, 21)
    ]
    needs = [need(i, lat=KHARKIV[0] + i * 1e-4, quantity=1) for i in range(1, 21)]
    assert run(needs, offers, k=1, k_offer=0).report.allocated_quantity == 1
    assert run(needs, offers, k=1, k_offer=20).report.allocated_quantity == 20


# --------------------------------------------------------------------------- bad rows


def test_bad_rows_are_skipped_with_reasons_and_counted():
    needs = [
        need(1),  # good
        need(2, lat=None),
        need(3, lon=float("nan")),
        need(4, unit="kg"),  # tourniquets are counted in pcs
        need(5, quantity=0),
        need(6, quantity=-3),  # over-reserved by old data
        need(7, category=99),
        need(8, urgency="urgent"),
        need(9, created_at="yesterday"),
        need(10, quantity=2.5),
        need(11),
        need(11),  # duplicate id: both skipped
        need("x"),
        need(12, lat=91.0),
    ]
    offers = [
        offer(1, quantity=100),
        offer(2, radius=-5.0),
        offer(3, lat=None),
        offer(4, quantity=0),
    ]
    result = run(needs, offers)
    assert pairs(result) == {(1, 1)}
    report = result.report
    assert report.needs_in == 14 and report.needs_considered == 1
    assert report.offers_in == 4 and report.offers_considered == 1
    assert report.skipped_counts == {
        "need:bad_id": 1,
        "need:bad_quantity": 1,
        "need:bad_timestamp": 1,
        "need:bad_urgency": 1,
        "need:duplicate_id": 2,
        "need:no_coordinates": 3,
        "need:no_quantity": 1,
        "need:over_reserved": 1,
        "need:unit_mismatch": 1,
        "need:unknown_category": 1,
        "offer:bad_radius": 1,
        "offer:no_coordinates": 1,
        "offer:no_quantity": 1,
    }
    assert {s.id for s in report.skipped if s.reason == "no_quantity"} == {5, 4}
    assert [s.id for s in report.skipped if s.reason == "over_reserved"] == [6]
    json.dumps(report.as_dict())  # JSON-ready for the MatchingRun


def test_nothing_in_nothing_out():
    result = run([], [])
    assert result.proposals == [] and result.report.candidate_pairs == 0
    assert run([need(1)], []).proposals == []
    assert run([], [offer(1)]).proposals == []


def test_rank_with_a_bad_need_is_empty():
    assert rank_offers_for_need(need(1, lat=None), [offer(1)], ANCESTRY, NOW) == []
    assert rank_needs_for_offer(offer(1, radius=0.0), [need(1)], ANCESTRY, NOW) == []


# --------------------------------------------------------------------------- score


def test_explanation_parts_and_facts():
    created = NOW - timedelta(days=9, hours=12)
    n = need(1, urgency="critical", needed_by=(NOW + timedelta(days=6)).date(), created_at=created)
    here = north_of(KHARKIV, 34.0)
    result = run([n], [offer(1, lat=here[0], lon=here[1], radius=100.0)])
    (p,) = result.proposals
    assert set(p.parts) == set(PARTS)
    assert sum(p.parts.values()) == pytest.approx(p.score, abs=1e-3)
    assert p.facts == {
        "distance_km": 34.0,
        "radius_km": 100.0,
        "urgency": "critical",
        "days_waiting": 9,
        "days_left": 6,
        "verified": True,
        "category_fit": "same",
    }
    w = ScoreWeights()
    assert p.parts["urgency"] == pytest.approx(w.urgency)
    assert p.parts["closeness"] == pytest.approx(w.closeness * (1 - 34 / 100), abs=1e-3)
    assert p.parts["deadline"] == pytest.approx(w.deadline * (1 - 6 / 30), abs=1e-3)
    assert p.parts["waiting"] == pytest.approx(w.waiting * 9.5 / 14, abs=1e-3)
    assert p.parts["verified"] == pytest.approx(w.verified)
    assert p.explanation() == {"score": p.score, "parts": p.parts, "facts": p.facts}
    json.dumps(p.explanation())


def test_score_orders_by_urgency_deadline_waiting_and_verification():
    base = {"lat": KHARKIV[0], "lon": KHARKIV[1]}
    needs = [
        need(1, urgency="low", **base),
        need(2, urgency="critical", **base),
        need(3, needed_by=NOW.date(), **base),
        need(4, created_at=NOW - timedelta(days=30), **base),
        need(5, verified=False, **base),
    ]
    ranked = rank_needs_for_offer(offer(1), needs, ANCESTRY, NOW, limit=10)
    score = {p.need_id: p.score for p in ranked}
    plain = ScoreWeights()
    assert score[2] > score[3] > score[4] > score[5]
    assert score[1] < score[5] + plain.verified  # low urgency is the lowest but verified
    overdue = rank_needs_for_offer(offer(1), [need(1, needed_by=date(2025, 2, 1))], ANCESTRY, NOW)
    assert overdue[0].parts["deadline"] == pytest.approx(plain.deadline)
    assert overdue[0].facts["days_left"] == -28


def test_a_general_offer_fits_less_than_one_of_the_need_s_own_category():
    # A tourniquet need; a "medical" offer a little nearer than a tourniquet offer.
    near, far = north_of(KHARKIV, 10), north_of(KHARKIV, 12)
    general = offer(1, category=1, lat=near[0], lon=near[1])
    same = offer(2, category=2, lat=far[0], lon=far[1])
    ranked = rank_offers_for_need(need(1), [general, same], ANCESTRY, NOW)
    assert [p.offer_id for p in ranked] == [2, 1]
    by_offer = {p.offer_id: p for p in ranked}
    assert by_offer[2].facts["category_fit"] == "same"
    assert by_offer[2].parts["category_fit"] == pytest.approx(ScoreWeights().category_fit)
    assert by_offer[1].facts["category_fit"] == "general"
    assert by_offer[1].parts["category_fit"] == 0.0  # a root category pins nothing down
    # The run agrees with the instant ranking: one unit, two offers: the same category wins.
    (p,) = run([need(1, quantity=1)], [general, same]).proposals
    assert (p.offer_id, p.facts["category_fit"]) == (2, "same")
    # A tree three levels deep: a need two levels down, an offer of its parent fits half.
    deep = {1: (), 2: (1,), 3: (2, 1)}
    (half,) = rank_offers_for_need(
        need(1, category=3), [offer(1, category=2)], deep, NOW, units={1: "pcs", 2: "pcs", 3: "pcs"}
    )
    assert half.parts["category_fit"] == pytest.approx(ScoreWeights().category_fit / 2)
    assert half.facts["category_fit"] == "general"


def test_naive_timestamps_are_utc():
    aware = run([need(1, created_at=NOW - timedelta(days=3))], [offer(1)])
    naive = propose(
        [need(1, created_at=(NOW - timedelta(days=3)).replace(tzinfo=None))],
        [offer(1)],
        ANCESTRY,
        NOW.replace(tzinfo=None),
        units=UNITS,
    )
    assert aware.proposals == naive.proposals


def test_weights_are_checked_and_configurable():
    with pytest.raises(ValueError):
        ScoreWeights(urgency=-1)
    with pytest.raises(ValueError):
        ScoreWeights(urgency=0, deadline=0, closeness=0, waiting=0, verified=0, category_fit=0)
    with pytest.raises(ValueError):
        ScoreWeights.from_mapping({"urgancy": 1})
    weights = ScoreWeights.from_mapping({"closeness": 1, "urgency": 0})
    assert weights.closeness == 1.0 and weights.deadline == ScoreWeights().deadline
    near, far = north_of(KHARKIV, 5), north_of(KHARKIV, 60)
    offers = [offer(1, lat=far[0], lon=far[1]), offer(2, lat=near[0], lon=near[1])]
    ranked = rank_offers_for_need(need(1), offers, ANCESTRY, NOW, weights=weights)
    assert [p.offer_id for p in ranked] == [2, 1]


# --------------------------------------------------------------------------- allocation


def test_flow_beats_myopic_greedy():
    # Offer 1 reaches needs 1 and 2 and is nearest to need 1; offer 2 reaches only need 1.
    # Greedy gives offer 1 to need 1 (best score) and strands need 2; the flow does not.
    n2 = north_of(KHARKIV, 80)
    o2 = north_of(KHARKIV, -40)
    needs = [need(1, quantity=10), need(2, lat=n2[0], lon=n2[1], quantity=10)]
    offers = [
        offer(1, quantity=10, radius=100.0),
        offer(2, lat=o2[0], lon=o2[1], quantity=10, radius=50.0),
    ]
    greedy = run(needs, offers, allocator="greedy")
    flow = run(needs, offers)
    assert greedy.report.allocated_quantity == 10
    assert flow.report.allocated_quantity == 20
    assert pairs(flow) == {(1, 2), (2, 1)}


def test_flow_prefers_better_scores_among_maximum_allocations():
    near, far = north_of(KHARKIV, 5), north_of(KHARKIV, 90)
    offers = [
        offer(1, lat=far[0], lon=far[1], quantity=5),
        offer(2, lat=near[0], lon=near[1], quantity=5),
    ]
    result = run([need(1, quantity=5)], offers)
    assert [(p.offer_id, p.quantity) for p in result.proposals] == [(2, 5)]


def test_quantities_are_split_within_capacities():
    needs = [need(i, lat=KHARKIV[0] + i * 0.01, quantity=7) for i in range(1, 6)]
    offers = [offer(j, lon=KHARKIV[1] + j * 0.01, quantity=9) for j in range(1, 4)]
    for allocator in ("flow", "greedy"):
        result = run(needs, offers, allocator=allocator)
        assert result.report.allocated_quantity == 27
        by_need, by_offer = {}, {}
        for p in result.proposals:
            by_need[p.need_id] = by_need.get(p.need_id, 0) + p.quantity
            by_offer[p.offer_id] = by_offer.get(p.offer_id, 0) + p.quantity
        assert max(by_need.values()) <= 7 and sorted(by_offer.values()) == [9, 9, 9]


def test_unknown_allocator_is_refused():
    with pytest.raises(ValueError):
        run([need(1)], [offer(1)], allocator="magic")


def _drawn(rng: random.Random) -> dict:
    """The category, point and quantity of a random need or offer (drawn alike for both)."""
    return {
        "category": rng.choice([1, 2, 3, 5]),
        "lat": rng.uniform(47.5, 50.5),
        "lon": rng.uniform(30.0, 38.0),
        "quantity": rng.randint(1, 60),
    }


def random_instance(seed: int, n_needs: int, n_offers: int):
    rng = random.Random(seed)
    needs = [
        need(
            i,
            **_drawn(rng),
            urgency=rng.choice(["critical", "high", "normal", "low"]),
            needed_by=rng.choice([None, (NOW + timedelta(days=rng.randint(-3, 40))).date()]),
            created_at=NOW - timedelta(hours=rng.randint(0, 900)),
            verified=rng.random() < 0.8,
        )
        for i in range(1, n_needs + 1)
    ]
    offers = [
        offer(
            j,
            **_drawn(rng),
            radius=rng.choice([None, 30.0, 80.0, 150.0, 300.0]),
        )
        for j in range(1, n_offers + 1)
    ]
    return needs, offers


def test_same_proposals_whatever_the_row_order():
    needs, offers = random_instance(3, 300, 300)
    first = run(needs, offers)
    assert first.proposals
    rng = random.Random(9)
    for allocator in ("flow", "greedy"):
        expected = run(needs, offers, allocator=allocator).proposals
        for _ in range(2):
            rng.shuffle(needs)
            rng.shuffle(offers)
            assert run(needs, offers, allocator=allocator).proposals == expected


def test_proposals_are_ranked_best_first():
    needs, offers = random_instance(4, 80, 60)
    scores = [p.score for p in run(needs, offers).proposals]
    assert scores == sorted(scores, reverse=True)


def test_parallel_components_give_the_same_result(monkeypatch):
    needs, offers = random_instance(5, 400, 400)
    monkeypatch.setattr(allocate_module, "PACK_ARCS", 50)  # several sub-problems
    single = run(needs, offers, workers=1)
    monkeypatch.setattr(allocate_module, "PARALLEL_MIN_ARCS", 0)
    parallel = run(needs, offers, workers=2)
    assert parallel.proposals == single.proposals


def test_garbage_collection_is_left_as_it_was(monkeypatch):
    """Proposals are built with the cyclic collector paused; it runs again afterwards, also
    when building them fails, and stays off if the caller had turned it off."""
    import gc

    import aidmatch.engine as engine

    needs, offers = random_instance(8, 30, 30)
    assert gc.isenabled()
    run(needs, offers)
    assert gc.isenabled()

    def broken(*args, **kwargs):
        assert not gc.isenabled()
        raise RuntimeError("while building proposals")

    monkeypatch.setattr(engine, "_proposals", broken)
    with pytest.raises(RuntimeError):
        run(needs, offers)
    assert gc.isenabled()
    gc.disable()
    try:
        with pytest.raises(RuntimeError):
            run(needs, offers)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_rank_offers_for_need_is_ranked_limited_and_explained():
    needs, offers = random_instance(6, 1, 200)
    n = need(1, category=2, quantity=25)
    ranked = rank_offers_for_need(n, offers, ANCESTRY, NOW, limit=5)
    assert len(ranked) == 5  # 37 offers qualify, the limit keeps the best five
    assert [p.score for p in ranked] == sorted((p.score for p in ranked), reverse=True)
    by_id = {o.id: o for o in offers}
    for p in ranked:
        o = by_id[p.offer_id]
        assert o.category_id in (2, 1)
        assert o.radius_km is None or p.distance_km <= o.radius_km
        assert p.quantity == min(25, o.quantity_remaining)
        assert set(p.parts) == set(PARTS)
    everything = rank_offers_for_need(n, offers, ANCESTRY, NOW, limit=1000)
    assert ranked == everything[:5]


# --------------------------------------------------------------------------- distances


def test_haversine_agrees_with_geodesic_within_half_a_percent():
    rng = np.random.default_rng(42)
    lat1, lat2 = rng.uniform(35, 65, 300), rng.uniform(35, 65, 300)  # Europe and Ukraine
    lon1, lon2 = rng.uniform(-10, 50, 300), rng.uniform(-10, 50, 300)
    fast = haversine_km(lat1, lon1, lat2, lon2)
    chord = pair_distance_km(unit_vectors(lat1, lon1), unit_vectors(lat2, lon2))
    exact = np.array(
        [geodesic((a, b), (c, d)).km for a, b, c, d in zip(lat1, lon1, lat2, lon2, strict=True)]
    )
    assert np.max(np.abs(fast - exact) / exact) < 0.005
    np.testing.assert_allclose(chord, fast, rtol=1e-9)
    assert fast[0] == pytest.approx(geo.haversine_km(lat1[0], lon1[0], lat2[0], lon2[0]), rel=1e-12)


def test_short_distances_agree_too():
    rng = np.random.default_rng(7)
    lat1, lon1 = rng.uniform(46, 52, 200), rng.uniform(22, 40, 200)
    lat2, lon2 = lat1 + rng.uniform(-0.5, 0.5, 200), lon1 + rng.uniform(-0.5, 0.5, 200)
    fast = haversine_km(lat1, lon1, lat2, lon2)
    exact = np.array(
        [geodesic((a, b), (c, d)).km for a, b, c, d in zip(lat1, lon1, lat2, lon2, strict=True)]
    )
    assert np.max(np.abs(fast - exact) / exact) < 0.005


# --------------------------------------------------------------------------- purity, bench


FORBIDDEN = ("flask", "flask_sqlalchemy", "werkzeug", "sqlalchemy", "geopy")


def test_engine_imports_no_web_or_database_code():
    """No module of the engine names Flask, SQLAlchemy, geopy, or aidmatch outside the engine."""
    root = Path(__file__).resolve().parent.parent / "aidmatch" / "engine"
    names = sorted(path.name for path in root.glob("*.py"))
    assert {"__init__.py", "records.py", "candidates.py", "scoring.py", "allocate.py"} <= set(names)
    for name in names:
        tree = ast.parse((root / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""] if node.level == 0 else []
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                assert top not in FORBIDDEN, (name, module)
                assert top != "aidmatch" or module.startswith("aidmatch.engine"), (name, module)


def test_importing_the_engine_loads_no_web_database_or_geopy():
    """In a fresh interpreter, importing aidmatch.engine (and running it) pulls in none of
    Flask, Werkzeug, SQLAlchemy, Flask-SQLAlchemy or geopy, directly or indirectly."""
    script = (
        "import sys, json\n"
        "import aidmatch.engine as engine\n"
        "from datetime import datetime, UTC\n"
        "need = engine.NeedRecord(1, 1, 'pcs', 5, 50.0, 36.0, 'high', None,"
        " datetime(2025, 1, 1, tzinfo=UTC), True)\n"
        "offer = engine.OfferRecord(1, 1, 'pcs', 5, 50.1, 36.1, 50.0, 7)\n"
        "result = engine.propose([need], [offer], {1: ()}, datetime(2025, 2, 1, tzinfo=UTC))\n"
        "assert len(result.proposals) == 1, result\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert "aidmatch.engine" in loaded
    heavy = sorted(m for m in loaded if m.split(".")[0] in FORBIDDEN)
    assert heavy == []


def test_importing_the_package_loads_no_flask():
    """``import aidmatch`` alone (as the engine's users do) imports no Flask."""
    root = Path(__file__).resolve().parent.parent
    script = "import sys, aidmatch; print(sorted(m for m in sys.modules if m.startswith('flask')))"
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_the_engine_and_geo_use_the_same_earth_radius():
    assert candidates_module.EARTH_RADIUS_KM == geo.EARTH_RADIUS_KM


def test_benchmark_runs_and_ends_with_json():
    path = Path(__file__).resolve().parent.parent / "bench" / "matching.py"
    spec = importlib.util.spec_from_file_location("bench_matching", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = io.StringIO()
    with redirect_stdout(out):
        bench.main(["--n", "1500", "--sample", "200"])
    last = json.loads(out.getvalue().strip().splitlines()[-1])
    assert set(last) == {
        "n",
        "candidates_s",
        "allocation_s",
        "total_s",
        "peak_mb",
        "pairs",
        "allocated",
        "greedy_allocated",
        "allpairs_speedup",
    }
    assert last["n"] == 1500 and last["allocated"] >= last["greedy_allocated"] > 0
