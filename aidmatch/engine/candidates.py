"""Candidate pairs: which offers could cover which needs, found with a spatial index.

A need and an offer are **candidates** when

* their categories are compatible: the offer's category is the need's or one of its
  ancestors (``medical`` covers ``tourniquets``), and both count in the same unit;
* the great-circle distance between their points is at most the offer's delivery radius
  (inclusive); an offer with no radius ("anywhere") reaches every compatible need.

**Method.** Offers are grouped by (category, unit). Points become 3-D unit vectors, and a
scipy ``cKDTree`` per group answers nearest-neighbour queries in chord length, which is a
monotone function of the great-circle distance (``d = 2 R asin(chord / 2)``, the
haversine formula in another form). Distances use the mean Earth radius, as
:func:`aidmatch.geo.haversine_km` does (the engine keeps its own copy of the radius so that
it never imports geopy; a test checks that both agree); on the ellipsoid (geopy's
``geodesic``) they differ by well under 0.5 % at European latitudes (a test checks this on
random pairs).
All pairs are never generated; the number of candidates is bounded:

1. **Need side, radius-limited offers** – each need keeps its ``k`` *nearest feasible*
   offers (feasible = within that offer's own radius) over its compatible categories, from
   one tree per (need category, unit) over the offers of that category and its ancestors.
   The tree is asked for the nearest ``1.5 k`` offers within the largest radius; a need
   that has fewer than ``k`` feasible ones among them asks again for 4× as many, up to
   ``scan_max`` (then the search stops: the only place where a reachable offer can be
   missed, when more than ``scan_max`` nearer offers all have radii too small to reach).
2. **Need side, "anywhere" offers** – each need keeps its ``k_anywhere`` nearest ones,
   from a separate tree, so they neither crowd out local offers nor blow up to all pairs;
   plus ``k_spread`` more picked by a hash of the need's id. Far from a need, every
   "anywhere" offer scores the same (closeness is 0 beyond the reference distance), so
   *which* far one it gets does not matter, but if every need only saw its nearest ones,
   all the needs of a city would share the same three offers and the rest of the
   "anywhere" supply (donors abroad) would reach nobody. The hashed picks make a sparse
   random bipartite graph, which like an expander lets the flow route nearly all of it. On
   the benchmark (N = 100 000, k = 10, k_anywhere = 3, k_offer = 10) linking every need
   to a pool of all its compatible "anywhere" offers lets the flow move 4.50 M units;
   the nearest ones only, 2.82 M;
   ``k_spread = 1``, 4.42 M; ``k_spread = 3``, the full 4.50 M (but random arcs are the
   hardest part for the flow solver, so the default is 1).
3. **Offer side, radius-limited offers** – each keeps its ``k_offer`` nearest compatible
   needs within its radius. Feasibility depends only on the query point here, so these
   are exact. Without this, an offer that is nobody's nearest (one of many in a big
   city) would get no candidates at all.

So a run has at most ``N·(k + k_anywhere + k_spread) + M·k_offer`` pairs. Larger values
let the allocation find better (and more) matches at the price of time and memory. The
defaults (10, 2, 1, 3: 14 pairs per need on the benchmark) were chosen there: with
(10, 3, 3, 10), 21 pairs per need, the flow moved 2.5 % more for about 1.5× the
allocation time; with (6, 2, 1, 4), 1.8 % less for little time saved.
The pairs come out in an order fixed by the (id-sorted) tables, whatever the order of the
input rows, and each pair once.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from .records import Catalog, NeedTable, OfferTable

EARTH_RADIUS_KM = 6371.0088  # mean radius, as aidmatch.geo.EARTH_RADIUS_KM
DEFAULT_K = 10
DEFAULT_K_ANYWHERE = 2
DEFAULT_K_SPREAD = 1
DEFAULT_K_OFFER = 3
DEFAULT_SCAN_MAX = 256
_SLACK = 1e-9  # so that a point exactly on the radius is not lost to rounding in the tree


@dataclass(slots=True)
class Candidates:
    """Candidate pairs as parallel arrays of need index, offer index and distance."""

    need: np.ndarray  # int64, index into the NeedTable
    offer: np.ndarray  # int64, index into the OfferTable
    distance_km: np.ndarray  # float64

    def __len__(self) -> int:
        return len(self.need)


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points on the unit sphere (n × 3) for latitudes and longitudes in degrees."""
    phi, lam = np.radians(lat), np.radians(lon)
    cos_phi = np.cos(phi)
    return np.column_stack((cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)))


def chord_to_km(chord: np.ndarray) -> np.ndarray:
    """Great-circle distance in km for a chord length on the unit sphere."""
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(np.asarray(chord) / 2.0, 1.0))


def km_to_chord(km: float | np.ndarray) -> np.ndarray:
    """Chord length on the unit sphere for a great-circle distance in km (capped at π R)."""
    angle = np.minimum(np.asarray(km, dtype=np.float64) / EARTH_RADIUS_KM, np.pi)
    return 2.0 * np.sin(angle / 2.0)


def haversine_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    """Vectorised great-circle distance in km (mean Earth radius), as aidmatch.geo's."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def pair_distance_km(a_xyz: np.ndarray, b_xyz: np.ndarray) -> np.ndarray:
    """Great-circle distance in km between rows of two unit-vector arrays."""
    return chord_to_km(np.linalg.norm(a_xyz - b_xyz, axis=-1))


# --------------------------------------------------------------------------- queries


def _tree(points: np.ndarray) -> cKDTree:
    """A k-d tree over unit vectors (bigger leaves and plain midpoint splits query faster)."""
    return cKDTree(points, leafsize=32, balanced_tree=False)


def _query(tree: cKDTree, points: np.ndarray, k: int, bound: float) -> tuple[np.ndarray, ...]:
    """k-nearest query that always returns 2-D arrays (chord, index)."""
    chord, idx = tree.query(points, k=k, distance_upper_bound=bound)
    if k == 1:
        chord, idx = chord[:, None], idx[:, None]
    return chord, idx


def _nearest_feasible(
    tree: cKDTree,
    reach_km: np.ndarray,
    points: np.ndarray,
    k: int,
    scan_max: int,
) -> tuple[np.ndarray, ...]:
    """For each query point, its k nearest tree points p whose own reach_km[p] covers it.

    Asks for 1.5 k neighbours within the largest reach, then 4× as many for the points
    that found fewer than k feasible ones, up to scan_max. Returns (row, point, km, rank)
    with rank 0 for a row's nearest feasible point, 1 for the next, ...
    """
    n_tree = tree.n
    bound = float(km_to_chord(reach_km.max())) * (1 + _SLACK) + _SLACK
    limit = min(n_tree, max(scan_max, k))
    want = min(limit, k + k // 2)
    pending = np.arange(len(points))
    rows, cols, kms, slots = [], [], [], []
    while len(pending):
        chord, idx = _query(tree, points[pending], want, bound)
        found = idx < n_tree
        km = chord_to_km(np.where(found, chord, 0.0))
        feasible = found & (km <= reach_km[np.minimum(idx, n_tree - 1)])
        rank = np.cumsum(feasible, axis=1)
        done = (rank[:, -1] >= k) | ~found[:, -1] | (want >= limit)
        take = feasible & (rank <= k) & done[:, None]
        r, c = np.nonzero(take)
        rows.append(pending[r])
        cols.append(idx[r, c])
        kms.append(km[r, c])
        slots.append(rank[r, c] - 1)
        pending = pending[~done]
        want = min(limit, want * 4)
    return tuple(np.concatenate(x) for x in (rows, cols, kms, slots))


def _nearest_within_own_radius(
    tree: cKDTree, points: np.ndarray, radius_km: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each query point, its k nearest tree points within the point's own (finite) radius."""
    k = min(k, tree.n)
    bound = float(km_to_chord(radius_km.max())) * (1 + _SLACK) + _SLACK
    chord, idx = _query(tree, points, k, bound)
    found = idx < tree.n
    km = chord_to_km(np.where(found, chord, 0.0))
    r, c = np.nonzero(found & (km <= radius_km[:, None]))
    return r, idx[r, c], km[r, c]


# --------------------------------------------------------------------------- main


def find_candidates(
    needs: NeedTable,
    offers: OfferTable,
    catalog: Catalog,
    *,
    k: int = DEFAULT_K,
    k_anywhere: int = DEFAULT_K_ANYWHERE,
    k_spread: int = DEFAULT_K_SPREAD,
    k_offer: int = DEFAULT_K_OFFER,
    scan_max: int = DEFAULT_SCAN_MAX,
    workers: int = 1,
) -> Candidates:
    """Bounded candidate pairs between valid needs and offers (see the module docstring)."""
    need_xyz = unit_vectors(needs.lat, needs.lon)
    offer_xyz = unit_vectors(offers.lat, offers.lon)
    offer_groups = _groups(offers.category, offers.unit)
    need_groups = _groups(needs.category, needs.unit)
    k, k_anywhere, k_spread = max(k, 0), max(k_anywhere, 0), max(k_spread, 0)
    k_offer = max(k_offer, 0)

    # Need side: one tree per need group over the offers of all its compatible groups,
    # so that "the k nearest" spans the need's category and its ancestors at once.
    # chosen[i] holds need i's offers (k local, k_anywhere nearest "anywhere", k_spread
    # hashed), so that the offer side can skip pairs already found. The groups are
    # independent (each writes only its own needs' rows of chosen), so up to ``workers``
    # of them run at once: the tree queries and most numpy work release the GIL.
    chosen = np.full((len(needs), k + k_anywhere + k_spread), -1, dtype=np.int64)
    lookers: dict[tuple[Any, str], list[np.ndarray]] = defaultdict(list)
    jobs = []
    for (category, unit), n_idx in need_groups.items():
        pools = []
        for ancestor in catalog.compatible_categories(category):
            if (ancestor, unit) in offer_groups:
                pools.append(offer_groups[(ancestor, unit)])
                lookers[(ancestor, unit)].append(n_idx)
        if pools:
            jobs.append((n_idx, np.concatenate(pools)))

    def need_side(job: tuple[np.ndarray, np.ndarray]) -> list[tuple[np.ndarray, ...]]:
        n_idx, pool = job
        found = []
        anywhere = np.isinf(offers.radius[pool])
        for part, kk, first_slot in ((pool[~anywhere], k, 0), (pool[anywhere], k_anywhere, k)):
            if kk == 0 or len(part) == 0:
                continue
            r, c, km, slot = _nearest_feasible(
                _tree(offer_xyz[part]), offers.radius[part], need_xyz[n_idx], kk, scan_max
            )
            chosen[n_idx[r], first_slot + slot] = part[c]
            found.append((n_idx[r], part[c], km))
        spread = pool[anywhere]
        for t in range(k_spread if len(spread) else 0):
            offer = spread[_mix(needs.ids[n_idx], t) % len(spread)]
            new = ~(chosen[n_idx] == offer[:, None]).any(axis=1)
            need, offer = n_idx[new], offer[new]
            chosen[need, k + k_anywhere + t] = offer
            found.append((need, offer, pair_distance_km(need_xyz[need], offer_xyz[offer])))
        return found

    # Offer side: each radius-limited offer's nearest needs among those that may take its
    # category, less the pairs the need side already found (so it runs after all of it).
    def offer_side(key: tuple[Any, str]) -> list[tuple[np.ndarray, ...]]:
        o_idx = offer_groups[key]
        local = o_idx[np.isfinite(offers.radius[o_idx])]
        if k_offer == 0 or key not in lookers or len(local) == 0:
            return []
        n_idx = np.sort(np.concatenate(lookers[key]))
        r, c, km = _nearest_within_own_radius(
            _tree(need_xyz[n_idx]), offer_xyz[local], offers.radius[local], k_offer
        )
        need, offer = n_idx[c], local[r]
        new = ~(chosen[need] == offer[:, None]).any(axis=1)
        return [(need[new], offer[new], km[new])]

    with ThreadPoolExecutor(max_workers=max(1, workers)) as executor:
        pieces = [p for found in executor.map(need_side, jobs) for p in found]
        pieces += [p for found in executor.map(offer_side, list(offer_groups)) for p in found]
    need, offer, km = _concat(pieces)
    return Candidates(need=need, offer=offer, distance_km=km)


def spatial_order(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """A permutation listing points along a Z-order (Morton) curve: near points come close.

    Numbering the flow's nodes this way keeps neighbours near in memory, which makes the
    solver measurably faster than numbering them by id.
    """
    x = ((np.asarray(lon) + 180.0) / 360.0 * 65535).astype(np.uint64)
    y = ((np.asarray(lat) + 90.0) / 180.0 * 65535).astype(np.uint64)
    return np.argsort(_spread_bits(x) | (_spread_bits(y) << np.uint64(1)), kind="stable")


def _spread_bits(v: np.ndarray) -> np.ndarray:
    """Put a zero bit between the 16 low bits of each value (for Morton codes)."""
    for shift, mask in ((8, 0x00FF00FF), (4, 0x0F0F0F0F), (2, 0x33333333), (1, 0x55555555)):
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


def _mix(ids: np.ndarray, salt: int) -> np.ndarray:
    """A well-mixed 64-bit hash of integer ids (splitmix64), different for each salt."""
    with np.errstate(over="ignore"):
        z = ids.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15) * np.uint64(salt + 1)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _groups(category: list[Any], unit: list[str]) -> dict[tuple[Any, str], np.ndarray]:
    """Row indices (ascending) by (category, unit), the groups in key order."""
    cats, units = np.asarray(category), np.asarray(unit)
    if len(cats) and cats.dtype.kind in "iu" and units.dtype.kind == "U":
        # integer ids and text units (as the app and the benchmark give them): numpy sorts
        # both as Python would, without a Python loop over the rows
        cat_keys, cat_code = np.unique(cats, return_inverse=True)
        unit_keys, unit_code = np.unique(units, return_inverse=True)
        code = cat_code.astype(np.int64) * len(unit_keys) + unit_code
        order = np.argsort(code, kind="stable")
        present, starts = np.unique(code[order], return_index=True)
        bounds = np.r_[starts, len(order)]
        return {
            (int(cat_keys[c // len(unit_keys)]), str(unit_keys[c % len(unit_keys)])): order[
                bounds[g] : bounds[g + 1]
            ]
            for g, c in enumerate(present.tolist())
        }
    index: dict[tuple[Any, str], int] = {}
    code = np.fromiter(
        (index.setdefault(key, len(index)) for key in zip(category, unit, strict=True)),
        dtype=np.int64,
        count=len(category),
    )
    order = np.argsort(code, kind="stable")
    bounds = np.searchsorted(code[order], np.arange(len(index) + 1))
    try:
        keys = sorted(index)  # the order of the pairs, whatever the order of first appearance
    except TypeError:  # category ids of mixed types: rows are sorted by id, so this is fixed too
        keys = list(index)
    return {key: order[bounds[index[key]] : bounds[index[key] + 1]] for key in keys}


def _concat(parts: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concatenate (need, offer, km) triples; empty arrays when there are none."""
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)
    need, offer, km = zip(*parts, strict=True)
    return np.concatenate(need), np.concatenate(offer), np.concatenate(km)
