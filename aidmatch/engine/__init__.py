"""The matching engine: plain records of open needs and offers in, ranked proposals out.

Pure Python with numpy, scipy and OR-Tools: no Flask, no database session. A run is

1. **validate** the rows into columns sorted by id (:mod:`.records`; bad rows are skipped
   with a reason and counted in the report);
2. **candidates** from a spatial index per category, bounded per need (:mod:`.candidates`);
3. **score** each pair, a weighted sum of explained parts (:mod:`.scoring`);
4. **allocate** quantities, max flow at minimum cost or greedy (:mod:`.allocate`).

``propose`` does a batch run; ``rank_offers_for_need`` and ``rank_needs_for_offer`` answer
"what could cover this need / what could this offer cover" at once, ranked by score, with
the same explanations and no allocation. Same input, same output, whatever the row order.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import numpy as np

from .allocate import DEFAULT_COST_SCALE, allocate_flow, allocate_greedy, costs_from_scores
from .candidates import (
    DEFAULT_K,
    DEFAULT_K_ANYWHERE,
    DEFAULT_K_OFFER,
    DEFAULT_K_SPREAD,
    DEFAULT_SCAN_MAX,
    Candidates,
    find_candidates,
    haversine_km,
    pair_distance_km,
    spatial_order,
    unit_vectors,
)
from .records import (
    URGENCIES,
    Catalog,
    MatchReport,
    MatchResult,
    NeedRecord,
    NeedTable,
    OfferRecord,
    OfferTable,
    Proposal,
    SkippedRow,
    need_table,
    offer_table,
)
from .scoring import ScoreWeights, explain, need_facts, pair_parts, pair_scores, score_pairs

__all__ = [
    "URGENCIES",
    "MatchReport",
    "MatchResult",
    "NeedRecord",
    "OfferRecord",
    "Proposal",
    "ScoreWeights",
    "SkippedRow",
    "haversine_km",
    "propose",
    "rank_needs_for_offer",
    "rank_offers_for_need",
]

log = logging.getLogger(__name__)

ALLOCATORS = ("flow", "greedy")
Ancestry = Mapping[Any, tuple[Any, ...]]


def propose(
    needs: Iterable[NeedRecord],
    offers: Iterable[OfferRecord],
    ancestry: Ancestry,
    now: datetime,
    *,
    weights: ScoreWeights | None = None,
    allocator: str = "flow",
    k: int = DEFAULT_K,
    k_anywhere: int = DEFAULT_K_ANYWHERE,
    k_spread: int = DEFAULT_K_SPREAD,
    k_offer: int = DEFAULT_K_OFFER,
    scan_max: int = DEFAULT_SCAN_MAX,
    cost_scale: int = DEFAULT_COST_SCALE,
    units: Mapping[Any, str] | None = None,
    workers: int = 1,
    exclude: Iterable[tuple[int, int]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> MatchResult:
    """Allocate open offers to open needs; proposals best score first, with a report.

    ``ancestry`` maps every category id to its ancestors' ids, nearest first; ``units``
    (category id → unit), when given, makes rows whose unit differs from their
    category's be skipped. ``now`` is the moment the time parts are measured from.
    ``workers`` is the number of threads finding candidates (one category group each at a
    time) and of processes solving the flow's independent components side by side (this
    one and ``workers - 1`` forked ones). 1, the default, stays in one process; on the
    2-vCPU benchmark machine 2 cut the allocation at N = 100 000 from 3.9 s to 2.4 s while
    nothing else ran, and gains little when other processes keep the second CPU busy (see
    bench/matching.py).
    ``exclude`` lists (need id, offer id) pairs never to propose (a run passes the
    pairs that already have an active match); they are dropped from the candidates before
    scoring, so their quantity can go elsewhere, and counted as ``excluded_pairs``.
    """
    if allocator not in ALLOCATORS:
        raise ValueError(f"allocator must be one of {ALLOCATORS}")
    weights = weights or ScoreWeights()
    workers = max(1, workers)
    needs, offers = list(needs), list(offers)
    report = MatchReport(needs_in=len(needs), offers_in=len(offers), allocator=allocator)
    report.params = {
        "k": k,
        "k_anywhere": k_anywhere,
        "k_spread": k_spread,
        "k_offer": k_offer,
        "scan_max": scan_max,
        "cost_scale": cost_scale,
        "workers": workers,
    }
    clock = _Clock(report.timings)

    catalog = Catalog(ancestry, units)
    need_rows = need_table(needs, catalog, report.skipped)
    offer_rows = offer_table(offers, catalog, report.skipped)
    report.needs_considered, report.offers_considered = len(need_rows), len(offer_rows)
    if report.skipped:
        log.warning("matching: skipped %d rows: %s", len(report.skipped), report.skipped_counts)
    clock.lap("validate_s")

    if progress is not None:
        progress("candidates")
    pairs = find_candidates(
        need_rows,
        offer_rows,
        catalog,
        k=k,
        k_anywhere=k_anywhere,
        k_spread=k_spread,
        k_offer=k_offer,
        scan_max=scan_max,
        workers=workers,
    )
    if exclude is not None:
        pairs, report.excluded_pairs = _without(pairs, need_rows.ids, offer_rows.ids, exclude)
    report.candidate_pairs = len(pairs)
    clock.lap("candidates_s")

    facts = need_facts(need_rows, now, weights)
    score = pair_scores(facts, offer_rows, pairs.need, pairs.offer, pairs.distance_km, weights)
    clock.lap("scoring_s")

    if progress is not None:
        progress("allocation")
    if allocator == "flow":
        cost = costs_from_scores(score, weights.max_score, cost_scale)
        # number the solver's nodes along a space-filling curve (faster than by id)
        need_order = spatial_order(need_rows.lat, need_rows.lon)
        offer_order = spatial_order(offer_rows.lat, offer_rows.lon)
        flow = allocate_flow(
            need_rows.quantity[need_order],
            offer_rows.quantity[offer_order],
            _inverse(need_order)[pairs.need],
            _inverse(offer_order)[pairs.offer],
            cost,
            workers=workers,
        )
    else:
        flow = allocate_greedy(
            need_rows.quantity,
            offer_rows.quantity,
            pairs.need,
            pairs.offer,
            score,
            pairs.distance_km,
        )
    clock.lap("allocation_s")

    chosen = np.flatnonzero(flow > 0)
    need, offer, km = pairs.need[chosen], pairs.offer[chosen], pairs.distance_km[chosen]
    parts = pair_parts(facts, offer_rows, need, offer, km, weights)  # of the proposed pairs
    with _gc_paused():
        proposals = _proposals(
            need_rows,
            offer_rows,
            facts,
            need,
            offer,
            km,
            score[chosen],
            parts,
            flow[chosen],
        )
    report.proposals = len(proposals)
    report.allocated_quantity = int(flow.sum())
    report.total_score = float((flow[chosen] * score[chosen]).sum())
    clock.lap("proposals_s")
    report.timings["total_s"] = clock.total()
    return MatchResult(proposals=proposals, report=report)


def rank_offers_for_need(
    need: NeedRecord,
    offers: Iterable[OfferRecord],
    ancestry: Ancestry,
    now: datetime,
    limit: int = 10,
    *,
    weights: ScoreWeights | None = None,
    units: Mapping[Any, str] | None = None,
) -> list[Proposal]:
    """The offers that could cover a need, best score first (quantity = what the pair could move)."""
    catalog = Catalog(ancestry, units)
    skipped: list[SkippedRow] = []
    need_rows = need_table([need], catalog, skipped)
    if not len(need_rows):
        return []
    allowed = set(catalog.compatible_categories(need.category_id))
    pool = [o for o in offers if o.unit == need.unit and _in(o.category_id, allowed)]
    offer_rows = offer_table(pool, catalog, skipped)
    need_idx = np.zeros(len(offer_rows), dtype=np.int64)
    offer_idx = np.arange(len(offer_rows), dtype=np.int64)
    return _rank(need_rows, offer_rows, need_idx, offer_idx, now, weights, limit)


def rank_needs_for_offer(
    offer: OfferRecord,
    needs: Iterable[NeedRecord],
    ancestry: Ancestry,
    now: datetime,
    limit: int = 10,
    *,
    weights: ScoreWeights | None = None,
    units: Mapping[Any, str] | None = None,
) -> list[Proposal]:
    """The needs an offer could cover, best score first (quantity = what the pair could move)."""
    catalog = Catalog(ancestry, units)
    skipped: list[SkippedRow] = []
    offer_rows = offer_table([offer], catalog, skipped)
    if not len(offer_rows):
        return []
    taking = {c for c in ancestry if offer.category_id in catalog.compatible_categories(c)}
    pool = [n for n in needs if n.unit == offer.unit and _in(n.category_id, taking)]
    need_rows = need_table(pool, catalog, skipped)
    need_idx = np.arange(len(need_rows), dtype=np.int64)
    offer_idx = np.zeros(len(need_rows), dtype=np.int64)
    return _rank(need_rows, offer_rows, need_idx, offer_idx, now, weights, limit)


# --------------------------------------------------------------------------- helpers


class _Clock:
    """Lap timer writing into a report's timings."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self.start = self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = now - self.last
        self.last = now

    def total(self) -> float:
        return time.perf_counter() - self.start


@contextmanager
def _gc_paused():
    """No cyclic garbage collection while building many small acyclic objects (proposals,
    their dicts): each collection would walk every object alive, the input rows included,
    for nothing. On the benchmark (N = 100 000, 84 000 proposals) this step took 0.28 s
    instead of 0.47-0.62 s. Collection resumes as it was, even on an error."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _inverse(permutation: np.ndarray) -> np.ndarray:
    """The inverse of a permutation: position of each index in it."""
    inverse = np.empty_like(permutation)
    inverse[permutation] = np.arange(len(permutation))
    return inverse


def _without(
    pairs: Candidates, need_ids: np.ndarray, offer_ids: np.ndarray, exclude: Iterable
) -> tuple[Candidates, int]:
    """The candidate pairs less those whose (need id, offer id) is in ``exclude``."""
    banned = np.array([(n, o) for n, o in exclude], dtype=np.int64).reshape(-1, 2)
    if not len(banned) or not len(pairs):
        return pairs, 0
    width = np.int64(max(int(offer_ids.max(initial=0)), int(banned[:, 1].max())) + 1)
    keys = need_ids[pairs.need] * width + offer_ids[pairs.offer]
    drop = np.isin(keys, banned[:, 0] * width + banned[:, 1])
    if not drop.any():
        return pairs, 0
    keep = ~drop
    kept = Candidates(pairs.need[keep], pairs.offer[keep], pairs.distance_km[keep])
    return kept, int(drop.sum())


def _in(value: Any, allowed: Iterable[Any]) -> bool:
    """Membership that tolerates unhashable category ids from bad rows."""
    try:
        return value in allowed
    except TypeError:
        return False


def _rank(
    need_rows: NeedTable,
    offer_rows: OfferTable,
    need_idx: np.ndarray,
    offer_idx: np.ndarray,
    now: datetime,
    weights: ScoreWeights | None,
    limit: int,
) -> list[Proposal]:
    """Feasible pairs among the given ones, scored and cut to the best ``limit``."""
    weights = weights or ScoreWeights()
    need_xyz = unit_vectors(need_rows.lat, need_rows.lon)
    offer_xyz = unit_vectors(offer_rows.lat, offer_rows.lon)
    distance = pair_distance_km(need_xyz[need_idx], offer_xyz[offer_idx])
    ok = distance <= offer_rows.radius[offer_idx]
    need_idx, offer_idx, distance = need_idx[ok], offer_idx[ok], distance[ok]
    facts = need_facts(need_rows, now, weights)
    score, parts = score_pairs(facts, offer_rows, need_idx, offer_idx, distance, weights)
    order = np.lexsort((offer_rows.ids[offer_idx], need_rows.ids[need_idx], distance, -score))
    best = order[: max(limit, 0)]
    quantity = np.minimum(need_rows.quantity[need_idx[best]], offer_rows.quantity[offer_idx[best]])
    return _proposals(
        need_rows,
        offer_rows,
        facts,
        need_idx[best],
        offer_idx[best],
        distance[best],
        score[best],
        {name: values[best] for name, values in parts.items()},
        quantity,
        keep_order=True,
    )


def _proposals(
    need_rows: NeedTable,
    offer_rows: OfferTable,
    facts: Any,
    need: np.ndarray,
    offer: np.ndarray,
    distance: np.ndarray,
    score: np.ndarray,
    parts: dict[str, np.ndarray],
    quantity: np.ndarray,
    *,
    keep_order: bool = False,
) -> list[Proposal]:
    """Proposal objects, best score first (ties: lower need id, then lower offer id)."""
    need_ids, offer_ids = need_rows.ids[need], offer_rows.ids[offer]
    order = np.arange(len(need)) if keep_order else np.lexsort((offer_ids, need_ids, -score))
    need, offer, distance, score = need[order], offer[order], distance[order], score[order]
    parts = {name: values[order] for name, values in parts.items()}
    part_dicts, fact_dicts = explain(
        facts, offer_rows, need, offer, distance, parts, need_rows.urgency
    )
    return list(
        map(
            Proposal,
            need_ids[order].tolist(),
            offer_ids[order].tolist(),
            quantity[order].tolist(),
            np.round(distance, 3).tolist(),
            np.round(score, 4).tolist(),
            part_dicts,
            fact_dicts,
        )
    )
