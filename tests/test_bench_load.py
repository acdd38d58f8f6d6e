"""bench/load.py: its reading of wrk's report, and (slow) one small run end to end: the demo,
a small fill, gunicorn in production mode, each role logged in, every page answered 200."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bench.load import parse_wrk

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
    args += ["--duration", "1", "--rounds", "2", "--workers", "1", "--json"]
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
    assert [p["name"] for p in pages].count("minimal") == 2
    # two rounds: each page's two figures, its ratio the median of the two rounds' ratios
    # (each to the faster floor of its round, so one of the floor's two runs is 1.0 each time)
    assert result["rounds"] == 2
    for first, last in zip(pages[0]["rounds_ratio"], pages[-1]["rounds_ratio"], strict=True):
        assert max(first, last) == 1.0
    for page in pages:
        assert len(page["rounds_rps"]) == len(page["rounds_ratio"]) == 2
        assert page["ratio"] == sum(page["rounds_ratio"]) / 2
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
