"""Property tests of the matching engine on random small instances (hypothesis)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix

from aidmatch.engine import NeedRecord, OfferRecord, ScoreWeights, haversine_km, propose
from aidmatch.engine.allocate import allocate_flow, allocate_greedy, costs_from_scores
from aidmatch.engine.candidates import find_candidates
from aidmatch.engine.records import Catalog, need_table, offer_table
from aidmatch.engine.scoring import need_facts, score_pairs

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
# 1 medical > 2 tourniquets > 6 cat-tourniquets; 3 bandages < 1; 4 food (kg); 5 power
ANCESTRY = {1: (), 2: (1,), 3: (1,), 4: (), 5: (), 6: (2, 1)}
UNITS = {1: "pcs", 2: "pcs", 3: "pcs", 4: "kg", 5: "pcs", 6: "pcs"}
CATEGORIES = sorted(ANCESTRY)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Points in a ~300 × 300 km box around Dnipro, so radii of 20–300 km matter.
lat = st.floats(47.2, 49.8, allow_nan=False)
lon = st.floats(33.0, 37.0, allow_nan=False)
radius = st.one_of(st.none(), st.floats(20.0, 300.0, allow_nan=False))


def _shared_fields(draw, i: int) -> tuple:
    """id, category, unit, quantity, lat, lon: the first six fields of both records."""
    category = draw(st.sampled_from(CATEGORIES))
    return i, category, UNITS[category], draw(st.integers(1, 60)), draw(lat), draw(lon)


@st.composite
def need_rows(draw, i: int) -> NeedRecord:
    return NeedRecord(
        *_shared_fields(draw, i),
        urgency=draw(st.sampled_from(["critical", "high", "normal", "low"])),
        needed_by=draw(
            st.one_of(
                st.none(), st.integers(-5, 60).map(lambda d: (NOW + timedelta(days=d)).date())
            )
        ),
        created_at=NOW - timedelta(hours=draw(st.integers(0, 2000))),
        verified=draw(st.booleans()),
    )


@st.composite
def offer_rows(draw, j: int) -> OfferRecord:
    return OfferRecord(
        *_shared_fields(draw, j),
        radius_km=draw(radius),
        organization_id=draw(st.integers(1, 5)),
    )


@st.composite
def instances(draw, max_needs: int = 15, max_offers: int = 15):
    n = draw(st.integers(0, max_needs))
    m = draw(st.integers(0, max_offers))
    # ids not in row order, to show nothing depends on it
    need_ids = draw(st.permutations(range(1, n + 1)))
    offer_ids = draw(st.permutations(range(1, m + 1)))
    needs = [draw(need_rows(i)) for i in need_ids]
    offers = [draw(offer_rows(j)) for j in offer_ids]
    # a few shared points, as when many rows sit at one town's centre
    if needs and offers and draw(st.booleans()):
        o = offers[0]
        needs[0] = NeedRecord(**{**_fields(needs[0]), "lat": o.lat, "lon": o.lon})
    return needs, offers


def _fields(record) -> dict:
    return {name: getattr(record, name) for name in record.__slots__}


small_k = st.fixed_dictionaries(
    {
        "k": st.integers(1, 6),
        "k_anywhere": st.integers(0, 3),
        "k_spread": st.integers(0, 2),
        "k_offer": st.integers(0, 4),
    }
)


@FAST
@given(instances(), small_k, st.sampled_from(["flow", "greedy"]))
def test_capacities_are_never_exceeded_and_pairs_are_valid(instance, ks, allocator):
    needs, offers = instance
    result = propose(needs, offers, ANCESTRY, NOW, units=UNITS, allocator=allocator, **ks)
    need_by_id = {n.id: n for n in needs}
    offer_by_id = {o.id: o for o in offers}
    to_need, from_offer = defaultdict(int), defaultdict(int)
    seen = set()
    for p in result.proposals:
        assert p.quantity > 0
        assert (p.need_id, p.offer_id) not in seen
        seen.add((p.need_id, p.offer_id))
        n, o = need_by_id[p.need_id], offer_by_id[p.offer_id]
        to_need[n.id] += p.quantity
        from_offer[o.id] += p.quantity
        assert o.category_id in (n.category_id, *ANCESTRY[n.category_id])
        assert o.unit == n.unit
        distance = float(haversine_km(n.lat, n.lon, o.lat, o.lon))
        assert p.distance_km == pytest.approx(distance, abs=1e-3)
        assert o.radius_km is None or distance <= o.radius_km + 1e-6
        assert sum(p.parts.values()) == pytest.approx(p.score, abs=1e-3)
    assert all(q <= need_by_id[i].quantity_open for i, q in to_need.items())
    assert all(q <= offer_by_id[j].quantity_remaining for j, q in from_offer.items())
    assert result.report.allocated_quantity == sum(to_need.values())
    assert (
        result.report.candidate_pairs
        <= len(needs) * (ks["k"] + ks["k_anywhere"] + ks["k_spread"]) + len(offers) * ks["k_offer"]
    )


@FAST
@given(instances(), st.randoms(use_true_random=False), st.sampled_from(["flow", "greedy"]))
def test_result_is_independent_of_row_order(instance, rnd, allocator):
    needs, offers = instance
    expected = propose(needs, offers, ANCESTRY, NOW, units=UNITS, allocator=allocator)
    needs, offers = list(needs), list(offers)
    rnd.shuffle(needs)
    rnd.shuffle(offers)
    again = propose(needs, offers, ANCESTRY, NOW, units=UNITS, allocator=allocator)
    assert again.proposals == expected.proposals
    assert again.report.candidate_pairs == expected.report.candidate_pairs


def exact_optimum(need_qty, offer_qty, need, offer, cost) -> tuple[int, int]:
    """Max quantity, then min cost at that quantity, by two integer programs (HiGHS)."""
    n_pairs = len(need)
    if n_pairs == 0:
        return 0, 0
    rows = np.concatenate((need, len(need_qty) + offer))
    cols = np.concatenate((np.arange(n_pairs), np.arange(n_pairs)))
    a = csr_matrix(
        (np.ones(2 * n_pairs), (rows, cols)), shape=(len(need_qty) + len(offer_qty), n_pairs)
    )
    caps = LinearConstraint(a, 0, np.concatenate((need_qty, offer_qty)).astype(float))
    bounds = Bounds(0, np.inf)
    ones = np.ones(n_pairs)
    most = milp(-ones, constraints=[caps], bounds=bounds, integrality=ones)
    assert most.success
    quantity = round(-most.fun)
    at_most = LinearConstraint(ones[None, :], quantity, quantity)
    cheapest = milp(
        cost.astype(float), constraints=[caps, at_most], bounds=bounds, integrality=ones
    )
    assert cheapest.success
    return quantity, round(cheapest.fun)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_needs=50, max_offers=50), st.sampled_from([10, 100, 1000]))
def test_flow_equals_the_exact_optimum_on_the_same_candidates(instance, scale):
    needs, offers = instance
    catalog = Catalog(ANCESTRY, UNITS)
    skipped: list = []
    need_rows_, offer_rows_ = (
        need_table(needs, catalog, skipped),
        offer_table(offers, catalog, skipped),
    )
    pairs = find_candidates(need_rows_, offer_rows_, catalog)
    weights = ScoreWeights()
    facts = need_facts(need_rows_, NOW, weights)
    score, _ = score_pairs(facts, offer_rows_, pairs.need, pairs.offer, pairs.distance_km, weights)
    cost = costs_from_scores(score, weights.max_score, scale)
    flow = allocate_flow(need_rows_.quantity, offer_rows_.quantity, pairs.need, pairs.offer, cost)
    quantity, total_cost = exact_optimum(
        need_rows_.quantity, offer_rows_.quantity, pairs.need, pairs.offer, cost
    )
    assert int(flow.sum()) == quantity
    assert int((flow * cost).sum()) == total_cost
    greedy = allocate_greedy(
        need_rows_.quantity, offer_rows_.quantity, pairs.need, pairs.offer, score, pairs.distance_km
    )
    assert greedy.sum() <= flow.sum()


@pytest.mark.parametrize("seed", range(30))
def test_flow_split_along_the_residual_graph_matches_one_whole_solve(seed):
    """allocate._solve (max flow, then one min-cost solve per strongly connected component
    of its residual graph) moves the same quantity at the same total cost as one
    max-flow-at-min-cost solve of the whole, on random bipartite instances with few cost
    levels (many ties), scarce or plentiful supply, and arcs of every capacity."""
    from aidmatch.engine.allocate import _problem, _solve, _solve_whole

    rng = np.random.default_rng(seed)
    n_needs, n_offers = rng.integers(1, 60, 2)
    need_qty = rng.integers(1, 50, n_needs)
    offer_qty = rng.integers(1, 50 if seed % 3 else 10, n_offers)
    arcs = rng.integers(1, 6 * (n_needs + n_offers))
    pairs = np.unique(
        np.stack((rng.integers(0, n_needs, arcs), rng.integers(0, n_offers, arcs)), 1), axis=0
    )
    need, offer = pairs[:, 0], pairs[:, 1]
    cost = rng.integers(0, 4 if seed % 2 else 1000, len(need))
    problem = _problem(need_qty, offer_qty, need, offer, cost)
    split, whole = _solve(problem), _solve_whole(problem)
    assert (split >= 0).all() and (split <= problem[2]).all()
    assert (np.bincount(need, split, n_needs) <= need_qty).all()
    assert (np.bincount(offer, split, n_offers) <= offer_qty).all()
    assert split.sum() == whole.sum()
    assert (split * cost).sum() == (whole * cost).sum()
