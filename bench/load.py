"""Benchmark: requests per second of the busiest pages under load, served as deployed.

Fills a fresh database (a SQLite file, or a scratch PostgreSQL database dropped afterwards)
with the demo data (`flask seed-demo`), 100 000 needs and 50 000 offers (bench/filling.py),
the pending proposals of a large run that lapsed (``--lapsed``, 36 000) and 200 fresh ones
for the review queue (bench/load_setup.py). Starts gunicorn as the README deploys it
(AIDMATCH_ENV=production, a SECRET_KEY, REDIS_URL on Redis database 15, which the bench
flushes), logs each role in over HTTP right before each of its pages (the login form; the
session cookie is read from Set-Cookie and sent back as a header, since production marks it
Secure and the bench speaks plain http), and runs ``wrk -t1 -c16 -d<duration>s --latency``
on each page as the role that uses it. The floor: a minimal Flask app (bench/minimal_app.py:
20 of 1 000 rows through the ORM and a Jinja template) on the same kind of database, same
gunicorn settings, measured first and again last. ``--rounds N`` runs that whole sequence N
times on the same servers (filled once) and prints medians: on a machine whose speed drifts
(a shared host), a page and the floor it is compared with are then measured minutes apart
at most, N times over.

Prints per page: requests/s, p50 and p99 latency (over the requests that finished within
the duration: on a page slower than 16 connections / duration, few do; with rounds, the
median p50 and the worst p99 of the rounds in which any finished), non-2xx/3xx responses,
socket errors and timeouts (after 30 s), the requests done (these three summed over the
rounds), the ratio to the minimal page's requests/s (the faster of its two runs in the same
round: a page exactly as fast as the floor tends to show a little under 1.0), and the SQL
statements one request issues (counted in-process after the load, the app on the same
database, a second GET as the role).
Every URL is first fetched once without following redirects: anything but 200 stops the
bench (a redirect to /login means the login did not take).

    .venv/bin/python bench/load.py [--duration 10] [--rounds 1] [--workers 2] [--threads 1]
        [--connections 16] [--needs 100000] [--offers 50000] [--lapsed 36000] [--fresh 200]
        [--pages REGEX] [--json] [--database-url postgresql://postgres@127.0.0.1:5432/test]
        [--redis-url redis://127.0.0.1:6379/15]

    .venv/bin/python bench/load.py --duration 3 --pages 'needs|minimal'   # a quick look
    .venv/bin/python bench/load.py --rounds 5 --pages 'map data packed'  # one ratio, steadier
    .venv/bin/python bench/load.py --connections 1 --pages 'api (matches|pending)'  # one
        # request at a time: the latency of one GET, without waiting behind 15 others

Needs wrk on PATH (apt-get install wrk) and a Redis server (production refuses to keep rate
limits in memory).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlencode

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import minimal_app  # noqa: E402
from bench.load_setup import count_statements, prepare  # noqa: E402
from tests.conftest import scratch_database  # noqa: E402


@dataclass(frozen=True)
class Page:
    """One page under load: its name, the role that asks, its path (minimal: the floor), and
    the Accept-Encoding it sends (none unless given, as wrk sends)."""

    name: str
    role: str  # donor, organizer, coordinator, anonymous
    path: str
    encoding: str = ""


# What a browser sends (over HTTPS): a kept JSON answer goes out compressed, kept so.
BROWSER_ENCODINGS = "gzip, deflate, br, zstd"


PAGES = [
    Page("minimal", "anonymous", "/?page=3"),
    Page("needs", "donor", "/needs"),
    Page("api needs", "donor", "/api/v1/needs"),
    Page("offers", "donor", "/offers"),
    Page("api offers", "donor", "/api/v1/offers"),
    Page("matches", "donor", "/matches"),
    Page("api matches", "donor", "/api/v1/matches"),
    Page("map data", "donor", "/map/data.json?kind=needs"),
    Page("map data packed", "donor", "/map/data.json?kind=needs", BROWSER_ENCODINGS),
    Page("matches", "organizer", "/matches"),
    Page("api matches", "organizer", "/api/v1/matches"),
    Page("review", "coordinator", "/review"),
    Page("api pending", "coordinator", "/api/v1/matches?status=pending"),
    Page("transparency", "anonymous", "/transparency"),
    Page("api transparency", "anonymous", "/api/v1/transparency/summary"),
    Page("healthz", "anonymous", "/healthz"),
]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(port: int, path: str, method: str = "GET", headers=None, body=None):
    """One HTTP request, redirects not followed: (status, response headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def cookies_of(headers) -> dict[str, str]:
    """The cookies a response sets (name -> value)."""
    out = {}
    for line in headers.get_all("Set-Cookie") or []:
        name, _, value = line.split(";", 1)[0].partition("=")
        out[name.strip()] = value.strip()
    return out


def log_in(port: int, email: str, password: str) -> str:
    """Log in through the login form as a browser would; the Cookie header to send after."""
    status, headers, body = fetch(port, "/login")
    jar = cookies_of(headers)
    found = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body)
    if status != 200 or not found:
        sys.exit(f"load: GET /login answered {status} without a CSRF token")
    form = urlencode({"csrf_token": found.group(1).decode(), "email": email, "password": password})
    status, headers, _ = fetch(
        port, "/login", "POST",
        {"Content-Type": "application/x-www-form-urlencoded",
         "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())},
        form,
    )  # fmt: skip
    jar.update(cookies_of(headers))
    if status != 302:
        sys.exit(f"load: logging in as {email} answered {status}, not a redirect")
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def wait_for(port: int, path: str, server: subprocess.Popen, log: Path) -> None:
    """Wait until the server answers `path` (or stop with its log if it died)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"load: gunicorn exited:\n{log.read_text()[-4000:]}")
        try:
            if fetch(port, path)[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"load: gunicorn did not answer {path} on port {port}")


@contextmanager
def gunicorn(target: str, env: dict, args, log: Path, ready: str):
    """gunicorn serving `target` on a free port, as deployed; yields the port."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        *("--workers", str(args.workers), "--threads", str(args.threads)),
        *("--bind", f"127.0.0.1:{port}", target),
    ]
    with open(log, "w") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(port, ready, server, log)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk(port: int, path: str, headers: dict, duration: int, connections: int = 16) -> dict:
    """One wrk run on the page; its requests/s, p50/p99 in ms, non-2xx/3xx and socket errors."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "30s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(
        [*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True
    ).stdout
    return parse_wrk(out)


def parse_wrk(out: str) -> dict:
    """wrk's report as numbers: requests/s, p50/p99 in ms (None when no request finished),
    requests done, non-2xx/3xx responses, socket errors (timeouts among them)."""

    def latency(pct: str) -> float | None:
        found = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        return round(float(found.group(1)) * UNITS[found.group(2)], 1) if found else None

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    done = int(total.group(1)) if total else 0
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "p50_ms": latency("50") if done else None,  # over the requests that finished
        "p99_ms": latency("99") if done else None,
        "requests": done,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": sum(map(int, errors.groups())) if errors else 0,
    }


def headers_for(page: Page, cookies: dict, tokens: dict) -> dict:
    """What a request of the page sends: the role's bearer token (API) or session cookie, and
    its Accept-Encoding."""
    headers = {"Accept-Encoding": page.encoding} if page.encoding else {}
    if page.role == "anonymous":
        return headers
    if page.path.startswith("/api/"):
        return {**headers, "Authorization": f"Bearer {tokens[page.role]}"}
    return {**headers, "Cookie": cookies[page.role]}


def positive(text: str) -> int:
    """A whole number of at least 1 (argparse's type for --rounds)."""
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{number} is not at least 1")
    return number


def arguments() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per page")
    parser.add_argument(
        "--rounds", type=positive, default=1, help="times the whole sequence is run (medians)"
    )
    parser.add_argument(
        "--connections", type=int, default=16, help="wrk's open connections (1: one at a time)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--needs", type=int, default=100_000)
    parser.add_argument("--offers", type=int, default=50_000)
    parser.add_argument("--lapsed", type=int, default=36_000, help="lapsed pending proposals")
    parser.add_argument("--fresh", type=int, default=200, help="pending proposals in time")
    parser.add_argument("--pages", default="", help="regex over 'name role path'")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--database-url", default="", help="a PostgreSQL server (else SQLite)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    return parser.parse_args()


def main() -> None:
    """Fill, serve, load each page, print the table."""
    args = arguments()
    if not shutil.which("wrk"):
        sys.exit("load: wrk is needed (apt-get install wrk)")
    pattern = re.compile(args.pages or ".")
    pages = [
        p for p in PAGES if p.name == "minimal" or pattern.search(f"{p.name} {p.role} {p.path}")
    ]
    load_average = os.getloadavg()
    store = redis.Redis.from_url(args.redis_url)
    try:
        store.ping()
    except redis.RedisError as error:
        sys.exit(f"load: no Redis at {args.redis_url} ({error}): production needs one")
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        url = stack.enter_context(scratch_database(args.database_url, "aidmatch_bench_load"))
        floor_url = stack.enter_context(scratch_database(args.database_url, "aidmatch_bench_min"))
        started = time.perf_counter()
        prepared = prepare(url, args.needs, args.offers, args.lapsed, args.fresh)
        minimal_app.fill(floor_url)
        fill_s = time.perf_counter() - started
        os.sync()  # the SQLite file's writes on disk now, not under the first page's load
        store.flushdb()
        env = {
            **os.environ, "AIDMATCH_ENV": "production", "SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": url, "REDIS_URL": args.redis_url, "MINIMAL_DATABASE_URL": floor_url,
        }  # fmt: skip
        runs = [*pages, pages[0]]
        rounds: list[list[dict]] = []  # a result per page of runs, per round
        with (
            gunicorn("bench.minimal_app:create_app()", env, args, Path(tmp) / "min.log", "/") as fp,
            gunicorn("app:app", env, args, Path(tmp) / "app.log", "/healthz") as port,
        ):
            cookies = {}
            # The floor is measured first and again last in each round: the first run can
            # share the machine with what is still settling (the app's second worker
            # importing it, the fill's last writes); each page's ratio is taken to the faster
            # of the two of its round. Rounds repeat the whole sequence: a machine whose
            # speed drifts drifts under the floor and the pages alike.
            for index, page in [
                (i, page) for _ in range(args.rounds) for i, page in enumerate(runs)
            ]:
                if index == 0:
                    rounds.append([])
                target = fp if page.name == "minimal" else port
                if page.role in prepared.emails and not page.path.startswith("/api/"):
                    # A browser sends back the cookie each answer renews (the session notes
                    # when it was last used, once a minute: auth/session.SEEN_RESOLUTION_S);
                    # wrk sends one cookie all along. A login right before each page keeps
                    # that cookie as fresh as a browser's for a run shorter than a minute
                    # (the login's cookie notes that use and holds the CSRF secret).
                    cookies[page.role] = log_in(port, prepared.emails[page.role], prepared.password)
                headers = headers_for(page, cookies, prepared.tokens)
                status, answered, _ = fetch(target, page.path, headers=headers)
                if status != 200:
                    sys.exit(f"load: {page.path} as the {page.role} answered {status}, not 200")
                if "Cookie" in headers and answered.get("Set-Cookie"):
                    # wrk would measure a rewrite on every request that a browser makes once
                    # (a visitor without an account is sent none: each a new visitor)
                    sys.exit(f"load: {page.path} as the {page.role} sets a cookie on a fresh one")
                rounds[-1].append(wrk(target, page.path, headers, args.duration, args.connections))
        statements = count_statements(
            url, prepared.emails, [p for p in pages if p.name != "minimal"]
        )
        store.flushdb()
        backend = "postgresql" if url.startswith("postgresql") else "sqlite"
        results = per_page(runs, rounds)
        report(args, results, statements, prepared, backend, load_average, fill_s)


def per_page(runs: list[Page], rounds: list[list[dict]]) -> list[tuple[Page, dict]]:
    """Each of `runs` (the floor, the pages, the floor again) with its results of every round
    (`rounds`: one result per run, in that order, per round) summed, and its ratios set."""
    results = [(page, summed([done[i] for done in rounds])) for i, page in enumerate(runs)]
    with_ratios(results)
    return results


def summed(runs: list[dict]) -> dict:
    """A page's runs of every round as one result: the median of requests/s, the median p50
    and the worst p99 over the rounds in which requests finished (None if in none), the sums
    of requests and failures, and each round's requests/s (with_ratios adds the ratios)."""
    p50s = [r["p50_ms"] for r in runs if r["p50_ms"] is not None]
    p99s = [r["p99_ms"] for r in runs if r["p99_ms"] is not None]
    return {
        "rps": statistics.median(r["rps"] for r in runs),
        "p50_ms": statistics.median(p50s) if p50s else None,
        "p99_ms": max(p99s) if p99s else None,
        "requests": sum(r["requests"] for r in runs),
        "non_2xx": sum(r["non_2xx"] for r in runs),
        "socket_errors": sum(r["socket_errors"] for r in runs),
        "rounds_rps": [r["rps"] for r in runs],
    }


def with_ratios(results: list[tuple[Page, dict]]) -> None:
    """Set each result's ratio in each round (rounds_ratio: to the faster of that round's two
    floor runs, the first and last results) and its ratio, the median of those."""
    pairs = zip(results[0][1]["rounds_rps"], results[-1][1]["rounds_rps"], strict=True)
    floors = [max(first, last) for first, last in pairs]
    if not all(floors):
        sys.exit(f"load: the minimal page served nothing in round {floors.index(0) + 1}")
    for _page, r in results:
        r["rounds_ratio"] = [
            round(rps / floor, 3) for rps, floor in zip(r["rounds_rps"], floors, strict=True)
        ]
        r["ratio"] = round(statistics.median(r["rounds_ratio"]), 3)


def report(args, results, statements, prepared, backend, load_average, fill_s) -> None:
    """The table (or JSON) of the results and how to reproduce them: each page's ratio to the
    faster of the floor's two runs of the same round, the median over the rounds."""
    counts = prepared.counts
    command = shlex.join([".venv/bin/python", "bench/load.py", *sys.argv[1:]])
    if args.json:
        rows = [
            {**asdict(p), **r, "statements": statements.get((p.name, p.role)),
             "again": i == len(results) - 1}  # the floor's last run
            for i, (p, r) in enumerate(results)
        ]  # fmt: skip
        print(json.dumps({"backend": backend, "counts": counts, "workers": args.workers,
                          "threads": args.threads, "duration_s": args.duration,
                          "rounds": args.rounds,
                          "load_average": load_average, "fill_s": round(fill_s, 1),
                          "fingerprint": prepared.fingerprint,
                          "pages": rows, "command": command}, indent=2))  # fmt: skip
        return
    print(f"backend: {backend}; filled in {fill_s:.0f} s; "
          + ", ".join(f"{v} {k}" for k, v in counts.items())
          + f"; fingerprint of the filled rows {prepared.fingerprint}")  # fmt: skip
    print(f"gunicorn: --workers {args.workers} --threads {args.threads}, AIDMATCH_ENV=production; "
          f"wrk -t1 -c{args.connections} -d{args.duration}s; {args.rounds} round(s): medians, "
          "the worst p99, done, non-2xx and errors summed; load average at start "
          + " ".join(f"{x:.2f}" for x in load_average))  # fmt: skip
    print(f"{'page':18} {'role':12} {'rps':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} "
          f"{'errors':>7} {'done':>6} {'ratio':>6} {'SQL':>5}  path")  # fmt: skip
    for i, (page, r) in enumerate(results):
        name = f"{page.name}, again" if i == len(results) - 1 else page.name
        sql = str(statements.get((page.name, page.role), ""))
        p50, p99 = (
            f"{ms:8.1f}" if ms is not None else f"{'-':>8}" for ms in (r["p50_ms"], r["p99_ms"])
        )
        print(f"{name:18} {page.role:12} {r['rps']:8.1f} {p50} "
              f"{p99} {r['non_2xx']:8d} {r['socket_errors']:7d} {r['requests']:6d} "
              f"{r['ratio']:6.3f} {sql:>5}  {page.path}"
              + (f"  rounds: {' '.join(f'{x:.3f}' for x in r['rounds_ratio'])}"
                 if args.rounds > 1 else ""))  # fmt: skip
    print(f"reproduce: {command}")


if __name__ == "__main__":
    main()
