"""Benchmark: the CPU instructions one request of each busy page costs, counted by valgrind.

bench/load.py measures requests per second, which a busy machine (a test suite, another
benchmark) changes from one run to the next. This counts instructions instead
(`valgrind --tool=callgrind`), the same for the same code and data whatever else the machine
does, so a change to the per-request code can be measured before and after on any machine.

The database is bench/load.py's (bench/load_setup.prepare: the demo, 100 000 needs, 50 000
offers, 36 000 lapsed and 200 fresh proposals), filled once into a SQLite file and kept
(`--database`, reused when it exists). Each page then runs in its own process under
callgrind: the app as production configures it (AIDMATCH_ENV=production, Redis database 15
for the shared cache and limits, flushed first), the role logged in through the login form
(or its bearer token for the API), three requests to warm up, then `--requests` requests
inside `operator.call`, the only stretch callgrind counts (`--toggle-collect`).

    .venv/bin/python bench/instructions.py [--database /tmp/aidmatch-instructions.sqlite3]
        [--pages REGEX] [--requests 10] [--redis-url redis://127.0.0.1:6379/15] [--cpu]

Prints, per page, millions of instructions per request, and the minimal page's figure over
the page's (bench/minimal_app.py, as bench/load.py's ratio of requests per second: 0.5x costs
twice the floor's instructions). Needs valgrind (Debian's package) and a Redis server. A
page takes about a minute under callgrind on an idle machine.

``--cpu`` measures the CPU time the same requests cost instead (user and system, without
valgrind; 3 000 of them unless ``--requests`` says otherwise): what instructions do not show,
the kernel's part (a socket's round trip to the shared cache) and the processor's waits. It
varies with what else the machine does, as bench/load.py's figures do.

    .venv/bin/python bench/instructions.py --cpu --pages '^map data packed'
"""

from __future__ import annotations

import argparse
import json
import operator
import os
import re
import resource
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import PAGES  # noqa: E402

COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")
CPU = re.compile(r"^CPU (\{.*\})$", re.M)
MINIMAL = "minimal"  # the child's role that serves bench/minimal_app.py, the floor


def arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="/tmp/aidmatch-instructions.sqlite3")
    parser.add_argument("--pages", default="", help="regex over 'name role path'")
    parser.add_argument(
        "--requests", type=int, help="requests counted per page (10; with --cpu, 3000)"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--cpu", action="store_true", help="CPU time, not instructions")
    parser.add_argument("--child", nargs=2, metavar=("ROLE", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--encoding", default="", help=argparse.SUPPRESS)  # the child's
    args = parser.parse_args(argv)
    if args.requests is None:
        args.requests = 3000 if args.cpu else 10
    return args


def minimal_database(database: str | Path) -> Path:
    """The minimal app's SQLite file beside the database (bench/minimal_app.py)."""
    database = Path(database)
    return database.with_name(f"{database.stem}-minimal.sqlite3")


def prepared(database: Path) -> dict:
    """The logins and tokens of the filled database, filling it (and the minimal app's)
    first if it is not there."""
    minimal = minimal_database(database)
    if not minimal.exists():
        from bench import minimal_app

        minimal_app.fill(f"sqlite:///{minimal}")
    facts = database.with_suffix(".json")
    if not (database.exists() and facts.exists()):
        from bench.load_setup import prepare

        database.unlink(missing_ok=True)
        done = prepare(f"sqlite:///{database}", 100_000, 50_000, 36_000, 200)
        facts.write_text(json.dumps({"emails": done.emails, "tokens": done.tokens}))
    return json.loads(facts.read_text())


def child(args: argparse.Namespace) -> None:
    """In the process callgrind watches: serve `requests` GETs of one page as one role."""
    import redis

    from aidmatch import create_app
    from tests.factories import PASSWORD

    role, path = args.child
    if role == MINIMAL:
        os.environ["MINIMAL_DATABASE_URL"] = f"sqlite:///{minimal_database(args.database)}"
        from bench import minimal_app

        client = minimal_app.create_app().test_client()
        for _ in range(3):
            if (status := client.get(path).status_code) != 200:
                sys.exit(f"instructions: the minimal page answered {status}, not 200")
        counted(args, lambda: [client.get(path).status_code for _ in range(args.requests)])
        return
    facts = json.loads(Path(args.database).with_suffix(".json").read_text())
    redis.Redis.from_url(args.redis_url).flushdb()
    os.environ.update(
        AIDMATCH_ENV="production", SECRET_KEY=secrets.token_hex(32),
        DATABASE_URL=f"sqlite:///{args.database}", REDIS_URL=args.redis_url,
    )  # fmt: skip
    client = create_app().test_client()
    headers = {"X-Forwarded-Proto": "https"}
    if path.startswith("/api/") and role in facts["tokens"]:
        headers["Authorization"] = f"Bearer {facts['tokens'][role]}"
    elif role in facts["emails"]:
        form = client.get("/login", headers=headers, base_url="https://localhost").text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
        answer = client.post(
            "/login",
            data={"email": facts["emails"][role], "password": PASSWORD, "csrf_token": token},
            headers={**headers, "Referer": "https://localhost/login"},
            base_url="https://localhost",
        )
        if answer.status_code not in (302, 303):
            sys.exit(f"instructions: the {role} could not log in ({answer.status_code})")

    asked = {**headers, "Accept-Encoding": args.encoding} if args.encoding else headers

    def get() -> int:
        return client.get(path, headers=asked, base_url="https://localhost").status_code

    for _ in range(3):
        if (status := get()) != 200:
            sys.exit(f"instructions: {path} as the {role} answered {status}, not 200")
    counted(args, lambda: [get() for _ in range(args.requests)])


def counted(args: argparse.Namespace, requests) -> None:
    """Run the requests where they are counted: inside operator.call for callgrind, or
    between two readings of the process's CPU time (--cpu), printed for the parent."""
    if not args.cpu:
        operator.call(requests)
        return
    before = resource.getrusage(resource.RUSAGE_SELF)
    requests()
    after = resource.getrusage(resource.RUSAGE_SELF)
    spent = {"user": after.ru_utime - before.ru_utime, "system": after.ru_stime - before.ru_stime}
    print("CPU " + json.dumps(spent))


def measure(args: argparse.Namespace, role: str, path: str, encoding: str = "") -> tuple:
    """Millions of instructions one request of `path` as `role` costs (asking for `encoding`);
    with --cpu, its milliseconds of CPU time, user and system: (total, user, system)."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            sys.executable, __file__,
            "--database", args.database, "--requests", str(args.requests),
            "--redis-url", args.redis_url, "--encoding", encoding, "--child", role, path,
        ]  # fmt: skip
        if args.cpu:
            command.append("--cpu")
        else:
            command[:0] = ["valgrind", "--tool=callgrind", "--toggle-collect=_operator_call",
                           f"--callgrind-out-file={tmp}/callgrind.out"]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    found = (CPU if args.cpu else COLLECTED).search(done.stdout if args.cpu else done.stderr)
    if done.returncode or not found:
        sys.exit(f"instructions: {path} failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    if args.cpu:
        spent = {k: v * 1000 / args.requests for k, v in json.loads(found.group(1)).items()}
        return spent["user"] + spent["system"], spent["user"], spent["system"]
    return (int(found.group(1)) / args.requests / 1e6,)


def main() -> None:
    args = arguments()
    if args.child:
        child(args)
        return
    if not args.cpu and not shutil.which("valgrind"):
        sys.exit("instructions: valgrind is needed (apt-get install valgrind)")
    args.database = str(Path(args.database).resolve())
    prepared(Path(args.database))
    pattern = re.compile(args.pages or ".")
    unit, width = (
        ("ms CPU/request (user+system)", 28) if args.cpu else ("M instructions/request", 22)
    )
    print(f"{'page':<18} {'role':<12} {'path':<34} {unit:>{width}} {'ratio':>6}")
    floor = None
    for page in PAGES:
        minimal = page.name == "minimal"
        if not minimal and not pattern.search(f"{page.name} {page.role} {page.path}"):
            continue
        figure, *parts = measure(args, MINIMAL if minimal else page.role, page.path, page.encoding)
        floor = figure if minimal else floor
        shown = f"{figure:.3f} ({parts[0]:.3f}+{parts[1]:.3f})" if parts else f"{figure:.2f}"
        print(
            f"{page.name:<18} {page.role:<12} {page.path:<34} {shown:>{width}} {floor / figure:>5.2f}x",
            flush=True,
        )
    print("\nreproduce: .venv/bin/python bench/instructions.py " + shlex.join(sys.argv[1:]))


if __name__ == "__main__":
    main()
