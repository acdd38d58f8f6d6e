"""Benchmark: what every test pays before its own work, making an app and drawing its pages.

Migrates a SQLite template once (as tests/conftest.py does), then, `--repeat` times: copies it,
makes a test app (tests/conftest.make_test_app) and draws `/`, `/login`, `/register` and
`/transparency`; prints the median and mean seconds, and those of making the app alone.

    .venv/bin/python bench/app_making.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import make_test_app, upgrade_and_load  # noqa: E402

PAGES = ("/", "/login", "/register", "/transparency")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        template, copy = Path(tmp) / "template.sqlite3", Path(tmp) / "test.sqlite3"
        upgrade_and_load(f"sqlite:///{template}")
        making, whole = [], []
        for _ in range(args.repeat + 1):  # the first warms the process up, and is dropped
            started = time.perf_counter()
            shutil.copyfile(template, copy)
            app = make_test_app(f"sqlite:///{copy}")
            made = time.perf_counter()
            client = app.test_client()
            for path in PAGES:
                if (status := client.get(path).status_code) != 200:
                    sys.exit(f"app_making: {path} answered {status}, not 200")
            making.append(made - started)
            whole.append(time.perf_counter() - started)
    for name, figures in (("copy and make the app", making), ("and draw 4 pages", whole)):
        figures = figures[1:]
        print(
            f"{name:<22} median {statistics.median(figures):.3f} s, "
            f"mean {statistics.mean(figures):.3f} s over {len(figures)}"
        )
    print("reproduce: .venv/bin/python bench/app_making.py " + shlex.join(sys.argv[1:]))


if __name__ == "__main__":
    main()
