"""Benchmark of a spreadsheet import: 1 000 rows of needs, as CSV and as XLSX.

Creates a fresh SQLite database in a temporary directory (or uses the EMPTY database given
with --database-url), migrates it, loads the shipped places, makes a frontline group and its
organizer, then imports --rows rows as a browser would, through the app (test client, CSRF
off): the upload and its preview (POST /needs/spreadsheets/preview), then the confirmation
(POST /needs/spreadsheets/import), once from a CSV file and once from an XLSX file. The rows
name their categories in uk, en and de or by code, their places by their Ukrainian or Latin
names (one in five with a typo, as the need form forgives), and differ in every column.

The place index is built once per process before the timed imports (reported apart: an app
server builds it at its first place search). The goal is under 5 s per import of 1 000 rows,
preview and confirmation together: then an import stays in the request.

Run:  .venv/bin/python bench/import.py [--rows 1000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import time
from datetime import date, timedelta
from html import unescape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import scratch_database  # noqa: E402

TOWNS = ["Харків", "Kramatorsk", "Краматорськ", "Dnipro", "Запоріжжя", "Sumy", "Херсон", "Lviv"]
TYPOS = ["Краматорк", "Kharkov", "Zaporizhia", "Dnepr", "Сумми"]


def rows(count: int, categories) -> list[list]:
    """count rows of needs (header first) that differ in every column."""
    header = ["title", "description", "category", "quantity", "place", "oblast", "urgency",
              "needed_by", "sensitive", "delivery_note"]  # fmt: skip
    today = date.today()
    out = [header]
    for i in range(count):
        category = categories[i % len(categories)]
        named = (category.slug, category.name_uk, category.name_en, category.name_de)[i % 4]
        place = TYPOS[i % len(TYPOS)] if i % 5 == 0 else TOWNS[i % len(TOWNS)]
        due = (today + timedelta(days=1 + i % 90)).isoformat() if i % 3 else ""
        out.append(
            [f"Need {i}", f"Row {i}: what it is for", named, 1 + i % 500, place, "",
             ("critical", "high", "normal", "low")[i % 4], due, "yes" if i % 7 == 0 else "no",
             f"Gate {i}"]
        )  # fmt: skip
    return out


def as_csv(table: list[list]) -> bytes:
    import csv

    out = io.StringIO()
    csv.writer(out).writerows(table)
    return out.getvalue().encode("utf-8")


def as_xlsx(table: list[list]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    for row in table:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def main() -> None:
    """Set up, import the CSV and the XLSX, print the times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--database-url", default="", help="an EMPTY database to use instead")
    args = parser.parse_args()
    os.environ.setdefault("AIDMATCH_ENV", "testing")
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from aidmatch import create_app
    from aidmatch.categories.models import Category
    from aidmatch.extensions import db
    from aidmatch.needs.models import Need
    from aidmatch.permissions import Role
    from aidmatch.places import search as places_search
    from aidmatch.places.gazetteer import sync_places
    from tests.factories import PASSWORD, make_user

    with scratch_database(args.database_url) as url:
        app = create_app(
            {
                "AIDMATCH_ENV": "testing",
                "DATABASE_URL": url,
                "SECRET_KEY": "bench-" + "x" * 40,
                "RATELIMIT_STORAGE_URI": "memory://",
                "WTF_CSRF_ENABLED": False,
            }
        )
        with app.app_context():
            upgrade()
            sync_places()
            user = make_user(Role.ORGANIZER, language="uk")
            categories = list(db.session.scalars(select(Category).order_by(Category.id)))
            db.session.commit()
            email = user.email
            started = time.perf_counter()
            places_search.get_indexes()
            index_seconds = time.perf_counter() - started
            table = rows(args.rows, categories)
            db.session.remove()
        client = app.test_client()
        client.post("/login", data={"email": email, "password": PASSWORD})
        results = []
        for fmt, body in (("csv", as_csv(table)), ("xlsx", as_xlsx(table))):
            started = time.perf_counter()
            preview = client.post(
                "/needs/spreadsheets/preview",
                data={"file": (io.BytesIO(body), f"needs.{fmt}")},
                content_type="multipart/form-data",
            )
            previewed = time.perf_counter()
            html = preview.get_data(as_text=True)
            found = re.search(r'name="payload" value="([^"]+)"', html)
            if preview.status_code != 200 or not found:
                sys.exit(f"import: the preview of the {fmt} file answered {preview.status_code}")
            problems = html.count('class="has-error"')
            confirm = client.post(
                "/needs/spreadsheets/import",
                data={"payload": unescape(found.group(1)), "mode": "all"},
            )
            done = time.perf_counter()
            if confirm.status_code != 302:
                sys.exit(
                    f"import: the confirmation of the {fmt} file answered {confirm.status_code}"
                )
            results.append((fmt, len(body), previewed - started, done - previewed, problems))
        with app.app_context():
            stored = db.session.scalar(select(func.count()).select_from(Need))
            db.engine.dispose()

    print(f"database: {url.split('://')[0]}{' (temporary)' if not args.database_url else ''}")
    print(f"place index build (once per process, before the imports): {index_seconds:.2f} s")
    for fmt, size, preview_s, confirm_s, problems in results:
        total = preview_s + confirm_s
        verdict = "under" if total < 5 else "OVER"
        print(
            f"{fmt:<4} {args.rows} rows ({size / 1024:.0f} KB): preview {preview_s:.2f} s, "
            f"confirm {confirm_s:.2f} s, total {total:.2f} s ({verdict} the 5 s goal; "
            f"{problems} rows with problems)"
        )
    print(f"needs stored: {stored}")
    database = f" --database-url {args.database_url}" if args.database_url else ""
    print(f"reproduce: .venv/bin/python bench/import.py --rows {args.rows}{database}")


if __name__ == "__main__":
    main()
