"""Allocation: how much each candidate pair moves, so that no need or offer is exceeded.

**Flow (default).** A transportation problem solved as *max flow at minimum cost* with
OR-Tools' ``SimpleMinCostFlow.solve_max_flow_with_min_cost``: each offer is a node with
supply = its remaining quantity, each need a node with demand = its open quantity, each
candidate pair an arc offer → need with capacity min(both) and unit cost
``round((max_score − score) × cost_scale)``. The solver moves the largest total quantity
possible and, among all allocations that move that much, picks one of least total cost,
i.e. of highest score-weighted quantity, up to the cost rounding (the solver works on
integers). The default scale of 1000 resolves a score (in [0, 1]) to 0.001. On the
benchmark a scale of 100 saved about 10 % of the solver's time but split the goods into
10 % more proposals (more ties, so more arbitrary splits for coordinators to review) for a
0.09 % lower total score. A property test checks quantity and cost against an exact
integer program (scipy's ``milp``).

The graph is split into connected components (scipy), which are independent problems:
each solve stays small (the issue measured 26.5 s for one problem against 5 s split by
category), and tiny ones are packed together to save per-call overhead. The caller
numbers nodes along a space-filling curve, which made the solver 15–25 % faster than
numbering by id (memory locality). OR-Tools holds the GIL during a solve (measured: a
Python thread spinning beside one got almost no time, and two solves in two threads took
as long as one after the other), so threads cannot solve components side by side;
``workers`` > 1 forks processes instead, as many as the machine has idle CPUs for
(``idle_workers``: on a busy machine a forked worker made runs slower). The children
inherit the arrays, build their own sub-problems and write their flows into shared memory,
so nothing is pickled, and this process solves its own share meanwhile; shares are
balanced by arc count, biggest first. Alternatives measured on the largest component of
the benchmark (0.5 M arcs): HiGHS' dual simplex on the same LP took 21 s against
OR-Tools' 2.6 s. A component's flows depend only on its arcs, given in a canonical order,
so the result is deterministic, whichever process solves it.

Within a component, ``_solve`` first finds a maximum flow and then solves only the strongly
connected components of its residual graph, each with a plain min-cost ``solve`` (the
arcs between them carry the same flow in every maximum flow): same quantity and cost as
one ``solve_max_flow_with_min_cost``, and 10-20 % less time on the two largest components
of the 1 M benchmark (3.4 M and 2.6 M arcs), as the solver's time grows faster than its
arcs; the same at N = 100 000.

Also measured, on the largest component at N = 100 000 (0.33 M arcs, 0.76 s): arcs
sorted by tail or by head, offers and needs numbered along one curve together, needs
numbered first: all within ±5 % (noise); a random numbering 20 % slower. The max-flow
phase of ``solve_max_flow_with_min_cost`` takes 5 % of a solve, so the min-cost phase is
the cost; its costs start at 0, so no shift narrows their range.

**Greedy (baseline).** Pairs by score, best first (ties: nearer, then lower ids), each
given as much as both sides still have. Myopic: a high-scored pair can use up an offer
that was the only reachable one for another need, so it usually moves less.
"""

from __future__ import annotations

import mmap
import multiprocessing
import os
from collections.abc import Callable

import numpy as np
from ortools.graph.python import max_flow, min_cost_flow
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

DEFAULT_COST_SCALE = 1000
# Components with more arcs than this are solved alone; smaller ones are packed together.
PACK_ARCS = 50_000
# Below this many candidate pairs, a run is solved in-process even if workers > 1.
PARALLEL_MIN_ARCS = 200_000


def costs_from_scores(
    score: np.ndarray, max_score: float, scale: int = DEFAULT_COST_SCALE
) -> np.ndarray:
    """Integer unit costs: 0 for a perfect score, up to ``scale × max_score``."""
    return np.rint((max_score - score) * scale).clip(min=0).astype(np.int64)


def allocate_flow(
    need_qty: np.ndarray,
    offer_qty: np.ndarray,
    need: np.ndarray,
    offer: np.ndarray,
    cost: np.ndarray,
    *,
    workers: int = 1,
) -> np.ndarray:
    """Max-flow-at-min-cost quantities for the pairs (need index, offer index).

    With ``workers`` > 1 and a big enough instance, independent components are solved in
    this process and up to ``workers - 1`` forked ones, while the machine has CPUs idle
    (``idle_workers``; OR-Tools holds the GIL, so threads would not help).
    """
    flows = np.zeros(len(need), dtype=np.int64)
    if len(need) == 0:
        return flows
    chunks = _chunks(need, offer, len(need_qty), len(offer_qty))
    chunks.sort(key=len, reverse=True)  # biggest first: balances the workers

    def solve(arcs: np.ndarray) -> np.ndarray:
        return _solve(_problem(need_qty, offer_qty, need[arcs], offer[arcs], cost[arcs]))

    parallel = workers > 1 and len(chunks) > 1 and len(need) >= PARALLEL_MIN_ARCS
    processes = idle_workers(workers) if parallel and _can_fork() else 1
    if processes > 1:
        _solve_forked(solve, chunks, flows, processes)
    else:
        for arcs in chunks:
            flows[arcs] = solve(arcs)
    return flows


def idle_workers(workers: int, load: float | None = None, cpus: int | None = None) -> int:
    """How many processes to solve with: at most ``workers``, and besides this one only as
    many as the machine has CPUs idle (its CPUs less its 1-minute load average, this
    process included, rounded). On the 2-vCPU benchmark machine a second process cut the
    allocation at N = 100 000 from 2.6 s to 1.5 s while nothing else ran, but made the run
    15 % slower (5.9 s against 5.1 s, the median of six runs each, taken in turns) while
    three other jobs kept both CPUs busy: forking the process and sharing the CPUs then
    cost more than the second CPU gave. Which processes solve which component never
    changes the result."""
    if load is None:
        try:
            load = os.getloadavg()[0]
        except OSError:  # not known here: as asked
            return workers
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    idle = int((cpus or 1) - load + 0.5)
    return max(1, min(workers, cpus or 1, 1 + idle))


def _can_fork() -> bool:
    return hasattr(os, "fork") and "fork" in multiprocessing.get_all_start_methods()


def _shares(sizes: list[int], workers: int) -> list[list[int]]:
    """Split problem indices (biggest first) over workers, each to the least loaded one."""
    shares: list[list[int]] = [[] for _ in range(min(workers, len(sizes)))]
    load = [0] * len(shares)
    for index in sorted(range(len(sizes)), key=lambda i: (-sizes[i], i)):
        lightest = load.index(min(load))
        shares[lightest].append(index)
        load[lightest] += sizes[index]
    return shares


def _solve_forked(
    solve: Callable[[np.ndarray], np.ndarray],
    chunks: list[np.ndarray],
    flows: np.ndarray,
    workers: int,
) -> None:
    """Solve the sub-problems (arc index sets) in this process and ``workers - 1`` forked
    children.

    The children inherit ``solve`` and its arrays (no pickling) and write their flows into
    an anonymous shared memory map; this process solves its own share meanwhile, then waits
    for them.
    """
    shares = _shares([len(arcs) for arcs in chunks], workers)
    buffer = mmap.mmap(-1, max(1, len(flows)) * 8)
    shared = np.frombuffer(buffer, dtype=np.int64, count=len(flows))
    children = []
    try:
        for share in shares[1:]:
            pid = os.fork()
            if pid == 0:  # the child: solve its share, write it, leave without cleanup
                code = 0
                try:
                    for i in share:
                        shared[chunks[i]] = solve(chunks[i])
                except BaseException:  # noqa: BLE001 - reported through the exit code
                    code = 1
                finally:
                    os._exit(code)
            children.append(pid)
        for i in shares[0]:
            flows[chunks[i]] = solve(chunks[i])
    finally:
        failed = [pid for pid in children if os.waitpid(pid, 0)[1] != 0]
    if failed:
        raise RuntimeError(f"min-cost flow failed in {len(failed)} worker process(es)")
    for share in shares[1:]:
        for i in share:
            flows[chunks[i]] = shared[chunks[i]]
    del shared
    buffer.close()


def _chunks(need: np.ndarray, offer: np.ndarray, n_needs: int, n_offers: int) -> list[np.ndarray]:
    """Arc index sets of independent sub-problems: big components alone, small ones packed."""
    n = n_needs + n_offers
    ones = np.ones(len(need), dtype=np.int8)
    graph = coo_matrix((ones, (need, n_needs + offer)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    arc_label = label[need]
    order = np.argsort(arc_label, kind="stable")
    bounds = np.flatnonzero(np.r_[True, np.diff(arc_label[order]) != 0, True])
    chunks: list[np.ndarray] = []
    packed: list[np.ndarray] = []
    packed_size = 0
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        arcs = order[start:stop]
        if len(arcs) > PACK_ARCS:
            chunks.append(arcs)
            continue
        packed.append(arcs)
        packed_size += len(arcs)
        if packed_size >= PACK_ARCS:
            chunks.append(np.concatenate(packed))
            packed, packed_size = [], 0
    if packed:
        chunks.append(np.concatenate(packed))
    return [np.sort(arcs) for arcs in chunks]


def _problem(
    need_qty: np.ndarray,
    offer_qty: np.ndarray,
    need: np.ndarray,
    offer: np.ndarray,
    cost: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """One sub-problem as solver arrays: (tails, heads, capacities, costs, supplies)."""
    offers, tail = np.unique(offer, return_inverse=True)
    needs, head = np.unique(need, return_inverse=True)
    supplies = np.concatenate((offer_qty[offers], -need_qty[needs])).astype(np.int64)
    capacity = np.minimum(offer_qty[offer], need_qty[need]).astype(np.int64)
    return (
        tail.astype(np.int32),
        (head + len(offers)).astype(np.int32),
        capacity,
        cost.astype(np.int64),
        supplies,
    )


def _solve(problem: tuple[np.ndarray, ...]) -> np.ndarray:
    """One sub-problem's max flow at least cost, split along its residual graph.

    Any maximum flow ``f`` (OR-Tools' max flow, cheap: 5 % of a min-cost solve) differs
    from every other one by a circulation in its residual graph (offers and needs, plus a
    source feeding the offers and a sink fed by the needs), and a circulation only moves
    along cycles, so within that graph's strongly connected components (scipy). Arcs
    between two components carry the same flow in every maximum flow: they keep ``f``'s.
    Each component is then a min-cost flow problem of its own whose supplies are what ``f``
    makes its nodes send through its arcs (the source and the sink take part as nodes, at
    no cost), solved with OR-Tools' plain ``solve``. Same quantity and same total cost as
    one ``solve_max_flow_with_min_cost`` of the whole (tested); when optima tie, which pairs
    share the goods may differ. The solver's time grows faster than its arcs (the largest
    component of the 1 M benchmark, 3.4 M arcs, took 21 s, its eight 0.78 M-arc ones about
    2.2 s each), and on the benchmark the residual graph splits a big component into about
    80 % and 15 % of its arcs plus fixed ones: 19.5 s became 17.6 s on that component.
    """
    tails, heads, capacities, costs, supplies = problem
    n, m = len(supplies), len(tails)
    source, sink = n, n + 1
    node = np.arange(n, dtype=np.int32)
    offers, needs = node[supplies > 0], node[supplies < 0]
    all_tails = np.concatenate((tails, np.full(len(offers), source, np.int32), needs))
    all_heads = np.concatenate((heads, offers, np.full(len(needs), sink, np.int32)))
    capacity = np.concatenate((capacities, supplies[offers], -supplies[needs]))
    solver = max_flow.SimpleMaxFlow()
    arcs = solver.add_arcs_with_capacity(all_tails, all_heads, capacity)
    status = solver.solve(source, sink)
    if status != solver.OPTIMAL:
        raise RuntimeError(f"max flow failed: {status}")
    flow = np.asarray(solver.flows(arcs), dtype=np.int64)
    forward, backward = flow < capacity, flow > 0
    residual = coo_matrix(
        (
            np.ones(int(forward.sum() + backward.sum()), dtype=np.int8),
            (
                np.concatenate((all_tails[forward], all_heads[backward])),
                np.concatenate((all_heads[forward], all_tails[backward])),
            ),
        ),
        shape=(n + 2, n + 2),
    )
    _, label = connected_components(residual, directed=True, connection="strong")
    arc_label = label[all_tails]
    inside = np.flatnonzero(arc_label == label[all_heads])
    # what f makes each node send through the arcs inside its component
    net = np.zeros(n + 2, dtype=np.int64)
    np.add.at(net, all_tails[inside], flow[inside])
    np.subtract.at(net, all_heads[inside], flow[inside])
    inside = inside[np.argsort(arc_label[inside], kind="stable")]
    bounds = np.flatnonzero(np.r_[True, np.diff(arc_label[inside]) != 0, True])
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        group = inside[start:stop]
        nodes, local = np.unique(
            np.concatenate((all_tails[group], all_heads[group])), return_inverse=True
        )
        local = local.astype(np.int32)
        flow[group] = _solve_balanced(
            local[: len(group)],
            local[len(group) :],
            capacity[group],
            np.concatenate((costs, np.zeros(len(capacity) - m, dtype=np.int64)))[group],
            net[nodes],
        )
    return flow[:m]


def _solve_balanced(
    tails: np.ndarray,
    heads: np.ndarray,
    capacities: np.ndarray,
    costs: np.ndarray,
    supplies: np.ndarray,
) -> np.ndarray:
    """One OR-Tools min-cost flow solve with supplies that a flow meets exactly."""
    solver = min_cost_flow.SimpleMinCostFlow()
    arcs = solver.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs)
    solver.set_nodes_supplies(np.arange(len(supplies), dtype=np.int32), supplies)
    status = solver.solve()
    if status != solver.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: {status}")
    return np.asarray(solver.flows(arcs), dtype=np.int64)


def _solve_whole(problem: tuple[np.ndarray, ...]) -> np.ndarray:
    """One OR-Tools max-flow-at-min-cost solve of the whole sub-problem, unsplit: the flows
    of each arc (kept to check ``_solve`` against)."""
    tails, heads, capacities, costs, supplies = problem
    solver = min_cost_flow.SimpleMinCostFlow()
    arcs = solver.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs)
    solver.set_nodes_supplies(np.arange(len(supplies), dtype=np.int32), supplies)
    status = solver.solve_max_flow_with_min_cost()
    if status != solver.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: {status}")
    return np.asarray(solver.flows(arcs), dtype=np.int64)


def allocate_greedy(
    need_qty: np.ndarray,
    offer_qty: np.ndarray,
    need: np.ndarray,
    offer: np.ndarray,
    score: np.ndarray,
    distance_km: np.ndarray,
) -> np.ndarray:
    """Greedy quantities: best score first (ties: nearer, lower need, lower offer)."""
    order = np.lexsort((offer, need, distance_km, -score))
    left_need = need_qty.tolist()
    left_offer = offer_qty.tolist()
    flows = [0] * len(need)
    for p, i, j in zip(order.tolist(), need[order].tolist(), offer[order].tolist(), strict=True):
        q = min(left_need[i], left_offer[j])
        if q > 0:
            flows[p] = q
            left_need[i] -= q
            left_offer[j] -= q
    return np.array(flows, dtype=np.int64)
