"""What the engine does to be fast must not change what it proposes: the scores summed
without holding every part, the groups found with numpy, and a second process forked only
for an idle CPU."""

from __future__ import annotations

import os

import numpy as np

from aidmatch.engine import allocate as allocate_module
from aidmatch.engine.candidates import _groups, find_candidates
from aidmatch.engine.records import Catalog, need_table, offer_table
from aidmatch.engine.scoring import (
    ScoreWeights,
    need_facts,
    pair_parts,
    pair_scores,
    score_pairs,
)
from tests.test_matching_engine import ANCESTRY, NOW, UNITS, random_instance, run


def test_scores_summed_one_part_at_a_time_are_the_same_bit_for_bit():
    needs, offers = random_instance(11, 500, 500)
    catalog = Catalog(ANCESTRY, UNITS)
    need_rows, offer_rows = need_table(needs, catalog, []), offer_table(offers, catalog, [])
    pairs = find_candidates(need_rows, offer_rows, catalog)
    weights = ScoreWeights()
    facts = need_facts(need_rows, NOW, weights)
    args = (facts, offer_rows, pairs.need, pairs.offer, pairs.distance_km, weights)
    score, parts = score_pairs(*args)
    assert len(score) > 1000
    assert np.array_equal(pair_scores(*args), score)  # exactly: the costs are rounded from it
    some = np.arange(0, len(score), 7)
    subset = pair_parts(facts, offer_rows, pairs.need[some], pairs.offer[some],
                        pairs.distance_km[some], weights)  # fmt: skip
    assert all(np.array_equal(subset[name], parts[name][some]) for name in parts)


def test_groups_found_with_numpy_are_those_of_the_general_path():
    rng = np.random.default_rng(3)
    category = rng.integers(1, 30, 2000).tolist()
    unit = rng.choice(["pcs", "kg", "l", "EUR"], 2000).tolist()
    fast = _groups(category, unit)
    general = _groups([str(c) for c in category], unit)  # not integers: the Python path
    assert list(fast) == sorted(fast)
    by_key = {(int(c), u): rows for (c, u), rows in general.items()}
    assert fast.keys() == by_key.keys()
    assert all(np.array_equal(fast[key], by_key[key]) for key in fast)
    assert all(type(c) is int and type(u) is str for c, u in fast)


def test_a_second_process_only_for_an_idle_cpu():
    idle = allocate_module.idle_workers
    assert idle(2, load=0.1, cpus=2) == 2  # nothing else runs
    assert idle(2, load=1.0, cpus=2) == 2  # only this run
    assert idle(2, load=1.7, cpus=2) == 1  # something else keeps the other CPU busy
    assert idle(2, load=3.4, cpus=2) == 1
    assert idle(4, load=0.2, cpus=2) == 2  # never more than the CPUs
    assert idle(1, load=0.0, cpus=8) == 1  # never more than asked
    assert idle(3, load=0.9, cpus=8) == 3


def test_forked_workers_on_an_idle_machine_give_the_same_proposals(monkeypatch):
    needs, offers = random_instance(5, 400, 400)
    monkeypatch.setattr(allocate_module, "PACK_ARCS", 50)  # several sub-problems
    single = run(needs, offers, workers=1)
    monkeypatch.setattr(allocate_module, "PARALLEL_MIN_ARCS", 0)
    forks = []
    real_fork = os.fork

    def fork():
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))  # an idle machine
    monkeypatch.setattr(os, "fork", fork)
    parallel = run(needs, offers, workers=2)
    assert len(forks) == 1 and parallel.proposals == single.proposals
    monkeypatch.setattr(os, "getloadavg", lambda: (5.0, 5.0, 5.0))  # a busy one
    assert run(needs, offers, workers=2).proposals == single.proposals and len(forks) == 1
