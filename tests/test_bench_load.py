"""bench/load.py: its reading of wrk's report, and (slow) one small run end to end: the demo,
a small fill, gunicorn in production mode, each role logged in, every page answered 200."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bench.load import PAGES, parse_wrk, per_page, positive

ROOT = Path(__file__).resolve().parent.parent

WRK_REPORT = """Running 10s test @ http://127.0.0.1:8000/needs
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.86s   685.37ms   3.05s    88.06%
    Req/Sec     9.16      3.80    20.00     80.00%
  Latency Distribution
     50%    1.76s
     75%    2.06s
     90%    2.41s
     99%  940.00us
  88 requests in 10.00s, 1.06MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 3
Requests/sec:      8.79
Transfer/sec:    108.42KB
"""


def test_parse_wrk_reads_rates_latencies_in_ms_and_failures():
    assert parse_wrk(WRK_REPORT) == {
        "rps": 8.79,
        "p50_ms": 1760.0,
        "p99_ms": 0.9,
        "requests": 88,
        "non_2xx": 3,
        "socket_errors": 3,
    }


def test_parse_wrk_gives_no_latency_when_nothing_finished():
    report = "  0 requests in 3.00s, 0.00B read\nRequests/sec:      0.00\n"
    result = parse_wrk(report)
    assert result["requests"] == 0
    assert result["p50_ms"] is None and result["p99_ms"] is None


def _run(rps: float, p50=10.0, p99=20.0, bad: int = 0, errors: int = 0) -> dict:
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "requests": int(rps * 10),
            "non_2xx": bad, "socket_errors": errors}  # fmt: skip


def test_rounds_give_medians_and_each_ratio_to_its_own_rounds_faster_floor():
    floor, page, idle = PAGES[0], PAGES[1], PAGES[2]
    # three rounds on a machine whose speed drifts: the floor's first run is the slower one
    # in the first round, its last one in the third; the page is as fast as the floor of its
    # round in the first, faster in the second, slower in the third; the third page never
    # finished a request.
    rounds = [
        [_run(500.0), _run(1000.0, 12.0, 25.0, bad=2), _run(0.0, None, None), _run(1000.0)],
        [_run(800.0), _run(880.0, 11.0, 40.0, bad=1, errors=3), _run(0.0, None, None),
         _run(600.0)],
        [_run(1200.0), _run(400.0, 90.0, 30.0, errors=1), _run(0.0, None, None), _run(900.0)],
    ]  # fmt: skip
    results = per_page([floor, page, idle, floor], rounds)
    assert [p for p, _r in results] == [floor, page, idle, floor]
    _first, (_page, got), (_idle, none), (_last, last) = results
    assert got["rounds_rps"] == [1000.0, 880.0, 400.0]
    assert got["rounds_ratio"] == [1.0, 1.1, 0.333]  # 400 / 1 200, to three places
    assert got["ratio"] == 1.0 and got["rps"] == 880.0
    assert got["p50_ms"] == 12.0  # the median, not the mean (37.7)
    assert got["p99_ms"] == 40.0  # the worst
    assert (got["requests"], got["non_2xx"], got["socket_errors"]) == (22_800, 3, 4)
    assert none["p50_ms"] is None and none["p99_ms"] is None and none["ratio"] == 0.0
    assert last["rounds_ratio"] == [1.0, 0.75, 0.75]


def test_an_even_number_of_rounds_gives_a_ratio_to_three_places():
    floor, page = PAGES[0], PAGES[1]
    rounds = [[_run(300.0), _run(100.0), _run(300.0)], [_run(300.0), _run(200.0), _run(300.0)]]
    (_f, _r), (_p, got), (_l, _s) = per_page([floor, page, floor], rounds)
    assert got["rounds_ratio"] == [0.333, 0.667]
    assert got["ratio"] == 0.5


def test_a_floor_that_served_nothing_stops_the_bench():
    floor, page = PAGES[0], PAGES[1]
    rounds = [[_run(300.0), _run(100.0), _run(300.0)], [_run(0.0), _run(200.0), _run(0.0)]]
    with pytest.raises(SystemExit, match="served nothing in round 2"):
        per_page([floor, page, floor], rounds)


def test_rounds_must_be_at_least_one():
    with pytest.raises(argparse.ArgumentTypeError):
        positive("0")
    assert positive("3") == 3


def _redis_up(host: str = "127.0.0.1", port: int = 6379) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed")
@pytest.mark.skipif(not _redis_up(), reason="no Redis server on 127.0.0.1:6379")
@pytest.mark.skipif(
    os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="the same run as the SQLite suite's: the bench fills a SQLite file of its own",
)
def test_small_load_run_serves_every_page_to_its_role():
    args = ["--needs", "300", "--offers", "150", "--lapsed", "60", "--fresh", "20"]
    args += ["--duration", "1", "--workers", "1", "--json"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "load.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stdout + done.stderr[-4000:]
    result = json.loads(done.stdout)
    assert result["counts"]["pending lapsed"] == 60
    pages = result["pages"]
    # every page once, the floor first and again last; ratios to the faster floor
    assert len(pages) == 17
    assert pages[0]["name"] == pages[-1]["name"] == "minimal"
    assert pages[-1]["again"] and not any(p["again"] for p in pages[:-1])
    assert [p["name"] for p in pages].count("minimal") == 2
    assert result["rounds"] == 1
    assert max(pages[0]["ratio"], pages[-1]["ratio"]) == 1.0
    for page in pages:
        assert page["requests"] > 0, page
        assert page["non_2xx"] == 0, page
        if page["name"] == "minimal":
            continue
        # A page or an answer kept whole asked again sends no statement at all: the user and
        # a token are held (auth/loading.py), and a page's bell count (notify/inbox.py).
        # /healthz asks the database.
        if page["name"] == "healthz":
            assert page["statements"] > 0, page
        else:
            assert page["statements"] == 0, page
