"""Benchmark: bytes a browser transfers for the needs list, a need's page, the claim form and
the map.

Builds a throwaway database with the demo data (migrations, gazetteer, `flask seed-demo`,
`flask match run`), serves the app on 127.0.0.1 in a thread, logs in as a donor of a verified
collective and opens each page in Debian's chromium (Playwright, /usr/bin/chromium) twice in
one browser context: a first visit with an empty cache, then, after leaving for about:blank,
a repeat visit (a normal navigation that keeps the cache). The figure of each response is what
chromium received on the wire (DevTools Network.loadingFinished encodedDataLength: headers
plus the compressed body; 0 for a response served from the cache), summed into HTML, CSS, JS
and other. Budgets: under 100 KB on a first visit, under 20 KB on a repeat (1 KB = 1000
bytes). The map's base layer (static/geo/, fetched by map.js only after the page has loaded)
is counted apart ("base layer"), not in the page's total. Exits 1 when a page is over budget;
the last line is the figures as one JSON object.

    .venv/bin/python bench/page_weight.py [--lang uk|en|de]
        [--database-url postgresql://postgres@127.0.0.1:5432/test]

With a PostgreSQL URL it creates its own database on that server and drops it afterwards.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.live import CHROMIUM, browser, chromium_available, serve  # noqa: E402
from tests.conftest import scratch_database  # noqa: E402

KB = 1000
BUDGETS = {"first": 100 * KB, "repeat": 20 * KB}
KINDS = ("html", "css", "js", "other")
KIND_OF_TYPE = {"Document": "html", "Stylesheet": "css", "Script": "js"}
BASE_LAYER = "/static/geo/"  # the map's base layer, loaded after the page


def build_demo_app(database_url: str, lang: str):
    """The app on an empty database, filled with the demo data; every user speaks `lang`."""
    from aidmatch import create_app
    from aidmatch.auth.models import User
    from aidmatch.extensions import db

    app = create_app(
        {
            "AIDMATCH_ENV": "testing",
            "SECRET_KEY": "page-weight-" + "x" * 32,
            "DATABASE_URL": database_url,
            "RATELIMIT_STORAGE_URI": "memory://",
            "WTF_CSRF_ENABLED": True,  # as served: the forms carry their CSRF tokens
            "BABEL_DEFAULT_LOCALE": lang,
        }
    )
    runner = app.test_cli_runner()
    for args in (["db", "upgrade"], ["places", "load"], ["seed-demo"], ["match", "run"]):
        result = runner.invoke(args=args)
        if result.exit_code != 0:
            sys.exit(f"flask {' '.join(args)} failed:\n{result.output}{result.exception or ''}")
    with app.app_context():
        db.session.execute(db.update(User).values(language=lang))
        db.session.commit()
        db.session.remove()
    return app


def donor_login() -> str:
    """The demo login of the first donor collective that is verified."""
    from aidmatch.demo.data import DONOR_COLLECTIVES
    from aidmatch.demo.seeding import demo_email

    return demo_email(next(spec.handle for spec in DONOR_COLLECTIVES if spec.verified))


class Meter:
    """Bytes on the wire of every response a page receives, through a DevTools session."""

    def __init__(self, page):
        self.page = page
        self.kinds: dict[str, str] = {}
        self.bytes: dict[str, int] = {}
        self.encodings: dict[str, str] = {}
        self.failed: list[str] = []
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.loadingFailed", self._failed)

    def _response(self, params: dict) -> None:
        kind = KIND_OF_TYPE.get(params["type"], "other")
        if BASE_LAYER in params["response"]["url"]:
            kind = "base_layer"
        self.kinds[params["requestId"]] = kind
        headers = {k.lower(): v for k, v in params["response"]["headers"].items()}
        self.encodings[params["requestId"]] = headers.get("content-encoding", "identity")

    def _finished(self, params: dict) -> None:
        self.bytes[params["requestId"]] = int(params["encodedDataLength"])

    def _failed(self, params: dict) -> None:
        self.failed.append(f"{params['type']}: {params['errorText']}")

    def visit(self, url: str) -> dict:
        """Open url (a normal navigation); the bytes it transferred, by kind."""
        self.kinds.clear()
        self.bytes.clear()
        self.encodings.clear()
        self.failed.clear()
        response = self.page.goto(url, wait_until="networkidle")
        if response is None or response.status != 200:
            sys.exit(f"{url} answered {response and response.status}, not 200")
        if self.failed:  # e.g. a body chromium could not decode: its bytes would go uncounted
            sys.exit(f"{url}: requests failed: {'; '.join(self.failed)}")
        out = dict.fromkeys((*KINDS, "base_layer"), 0)
        for request_id, kind in self.kinds.items():
            out[kind] += self.bytes.get(request_id, 0)
        out["total"] = sum(out[k] for k in KINDS)
        out["requests"] = len(self.kinds)
        fetched = [r for r in self.kinds if self.bytes.get(r, 0) > 0]
        out["from_network"] = len(fetched)
        out["encodings"] = sorted({self.encodings[r] for r in fetched})
        self.page.goto("about:blank")
        return out


def measure(base_url: str, email: str, password: str) -> dict:
    """Each page's first and repeat visit, as a logged-in donor, in a fresh browser cache."""
    results = {}
    with browser() as b:
        login_context = b.new_context(base_url=base_url)
        page = login_context.new_page()
        page.goto("/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", password)
        page.click("main form button[type=submit]")
        page.wait_for_selector("form[action$='/logout']")
        page.goto("/needs")
        hrefs = page.eval_on_selector_all("main a[href]", "links => links.map(a => a.pathname)")
        need_path = next((h for h in hrefs if re.fullmatch(r"/needs/\d+", h)), None)
        if need_path is None:
            sys.exit("the needs list shows no need to open")
        state = login_context.storage_state()
        login_context.close()
        pages = {
            "needs_list": "/needs",
            "need": need_path,
            "claim_form": f"{need_path}/claim",
            "map": "/map",
        }
        for name, path in pages.items():
            context = b.new_context(base_url=base_url, storage_state=state)  # empty cache
            meter = Meter(context.new_page())
            first = meter.visit(base_url + path)
            repeat = meter.visit(base_url + path)
            context.close()
            results[name] = {"path": path, "first": first, "repeat": repeat}
    return results


def kb(n: int) -> str:
    return f"{n / KB:6.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", default="uk", choices=["uk", "en", "de"])
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    if not chromium_available():
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium")

    from aidmatch.demo.seeding import DEMO_PASSWORD
    from aidmatch.extensions import db

    with scratch_database(args.database_url) as url:
        app = build_demo_app(url, args.lang)
        email = donor_login()
        with serve(app) as base_url:
            results = measure(base_url, email, DEMO_PASSWORD)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(f"database: {backend} with the demo data; viewer: {email} (donor, verified "
          f"collective), language {args.lang}; chromium {CHROMIUM}")  # fmt: skip
    print("KB on the wire (headers + compressed bodies; 1 KB = 1000 bytes)")
    print(f"{'page':<11} {'visit':<7}{'HTML':>7}{'CSS':>7}{'JS':>7}{'other':>7}{'total':>7}"
          f"{'budget':>8}  requests (from network: encodings)")  # fmt: skip
    over = []
    for name, figures in results.items():
        for visit in ("first", "repeat"):
            f = figures[visit]
            ok = f["total"] < BUDGETS[visit]
            if not ok:
                over.append(f"{name} {visit}")
            print(f"{name:<11} {visit:<7}{kb(f['html'])} {kb(f['css'])} {kb(f['js'])} "
                  f"{kb(f['other'])} {kb(f['total'])}  {BUDGETS[visit] // KB:>4} {'ok ' if ok else 'OVER'}"
                  f"  {f['requests']} ({f['from_network']}: {', '.join(f['encodings'])})"
                  + (f"; base layer {kb(f['base_layer'])} more" if f["base_layer"] else ""))  # fmt: skip
    print("over budget: " + (", ".join(over) if over else "none"))
    print(" ".join(["reproduce: .venv/bin/python bench/page_weight.py", *sys.argv[1:]]))
    summary = {
        "database": backend,
        "language": args.lang,
        "budget_bytes": BUDGETS,
        "pages": results,
        "over_budget": over,
    }
    print(json.dumps(summary, sort_keys=True))
    sys.exit(1 if over else 0)


if __name__ == "__main__":
    main()
