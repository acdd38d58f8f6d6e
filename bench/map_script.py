"""Benchmark: the browser's work to draw the map's 2 000 markers (static/js/map.js).

The database is bench/instructions.py's (bench/load_setup.prepare: the demo, 100 000 needs,
50 000 offers; filled once into a SQLite file and kept, `--database`), whose map feed for a
donor holds the limit of 2 000 markers. The app (testing settings, on that file) is served on
127.0.0.1 in a thread; Debian's chromium (Playwright, /usr/bin/chromium) logs in as the donor
and opens /map `--loads` times, each in a browser context of its own, without the base layer's
file (its request is refused, so only the markers are drawn), and with the CPU slowed
`--slowdown` times (DevTools Emulation.setCPUThrottlingRate: 1 is this machine, 4 about a
mid-range phone). Once the markers are on the map and painted, it reads DevTools
Performance.getMetrics: ScriptDuration (seconds running JavaScript) and TaskDuration (all the
main thread's work), and the number of DOM nodes the page holds (Nodes: a popup made up front
is a node whether shown or not). Prints the median of each.

    .venv/bin/python bench/map_script.py [--database /tmp/aidmatch-instructions.sqlite3]
        [--loads 7] [--slowdown 4]
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.instructions import prepared  # noqa: E402
from tests.browser.live import browser, chromium_available, log_in, serve  # noqa: E402


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="/tmp/aidmatch-instructions.sqlite3")
    parser.add_argument("--loads", type=int, default=7)
    parser.add_argument("--slowdown", type=float, default=4.0)
    return parser.parse_args()


def one_load(b, base_url: str, signed_in: dict, slowdown: float) -> dict:
    """Open /map once in a new browser context (a renderer of its own, the session's cookie
    copied in); its metrics once the markers are drawn and painted."""
    context = b.new_context(base_url=base_url, locale="en-US", storage_state=signed_in)
    page = context.new_page()
    page.route("**/static/geo/**", lambda route: route.abort())  # the markers alone
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": slowdown})
    page.goto("/map")
    # map.js adds the markers at once (no chunked loading): the first cluster on the map
    # means all of them are; then two frames, so that what they cost to paint is counted.
    page.wait_for_selector("#map .marker-cluster", timeout=120_000)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    markers = page.evaluate("() => document.querySelectorAll('#map .marker-cluster').length")
    context.close()
    return {
        "script_s": metrics["ScriptDuration"],
        "task_s": metrics["TaskDuration"],
        "nodes": metrics["Nodes"],
        "clusters": markers,
    }


def main() -> None:
    args = arguments()
    if not chromium_available():
        sys.exit("map_script: chromium is needed (apt-get install chromium)")
    database = Path(args.database).resolve()
    facts = prepared(database)
    from tests.conftest import make_test_app

    app = make_test_app(f"sqlite:///{database}", SERVER_NAME=None)
    runs = []
    with serve(app) as base_url, browser() as b:
        context = b.new_context(base_url=base_url, locale="en-US")
        log_in(context.new_page(), facts["emails"]["donor"])
        signed_in = context.storage_state()
        context.close()
        for _ in range(args.loads):
            runs.append(one_load(b, base_url, signed_in, args.slowdown))
    print(f"map.js drawing the donor's 2 000 markers; CPU slowed {args.slowdown:g}x; "
          f"median of {args.loads} loads")  # fmt: skip
    for name, label in (("script_s", "JavaScript s"), ("task_s", "main thread s")):
        print(f"{label:>16}: {statistics.median(r[name] for r in runs):.3f}")
    print(f"{'DOM nodes':>16}: {statistics.median(r['nodes'] for r in runs):.0f}")
    print(f"{'clusters drawn':>16}: {statistics.median(r['clusters'] for r in runs):.0f}")
    print("reproduce: .venv/bin/python bench/map_script.py " + shlex.join(sys.argv[1:]))


if __name__ == "__main__":
    main()
