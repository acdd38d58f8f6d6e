"""The public transparency page (no login): what was delivered, charts, tables and the ledger."""

from __future__ import annotations

import csv
import io
import math

from flask import Blueprint, Response, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from aidmatch.extensions import db
from aidmatch.postings.sheets import safe_cell as _safe
from aidmatch.transparency.dataset import MIN_HROMADA_DELIVERIES, dataset_csv
from aidmatch.transparency.queries import (
    ledger_all,
    ledger_page,
    publication_parts,
    published,
    summary,
)
from aidmatch.web.charts import Series, column_chart, month_range
from aidmatch.web.i18n import local_month, local_number
from aidmatch.web.kept import kept_page
from aidmatch.web.labels import language, unit_label

bp = Blueprint("transparency", __name__, url_prefix="/transparency")

LEDGER_PER_PAGE = 50
LEDGER_PREVIEW = 10
LEDGER_COLUMNS = (
    "date", "category", "category_name", "parent_category", "oblast", "quantity", "unit", "group",
)  # fmt: skip


def _page_number() -> int:
    try:
        page = int(request.args.get("page", 1))
    except (TypeError, ValueError):
        return 1
    return page if 1 <= page <= 100_000 else 1


def quantities(by_unit: dict) -> str:
    """{"pcs": 1200, "kg": 40} as "1,200 pcs, 40 kg" in the user's language."""
    return ", ".join(f"{local_number(q)} {unit_label(u)}" for u, q in by_unit.items()) or "0"


@bp.context_processor
def _helpers() -> dict:
    return {
        "quantities": quantities,
        "unit_label": unit_label,
        "min_hromada_deliveries": MIN_HROMADA_DELIVERIES,
    }


@bp.get("")
def index():
    """Aggregates as bar charts and tables, and the latest deliveries."""
    lang = language()

    def draw() -> str:
        data = summary(lang)
        latest = ledger_page(lang, 1, LEDGER_PREVIEW)
        charts = chart_rows(data)
        return render_template(
            "transparency/_content.html",
            summary=data,
            latest=latest,
            charts=charts,
            month_charts=month_charts(data),
        )

    # The content is the same for every visitor in this language: drawn once and kept until
    # a write or until the publication cutoff moves (transparency/queries.published); the
    # whole page is kept per visitor the same way (web/kept.py).
    # Markup: the text is this app's own template (_content.html) as Jinja drew it, every
    # value in it escaped then; nothing a visitor sent is in it.
    page = kept_page(
        "transparency",
        "transparency/index.html",
        lambda: {"content": Markup(published(lang, "page", draw))},  # nosec B704
        parts=publication_parts(lang),
    )
    db.session.rollback()  # read only
    return page


def month_charts(data: dict) -> list[dict]:
    """A column chart per unit of the quantities received per month (the published months
    only: the same delay and weeks as the rest of the page); months without a delivery in
    between are drawn as empty columns."""
    months = [row["month"] for row in data["by_month"]]
    months = month_range(months[0], months[-1]) if months else []
    by_month = {row["month"]: row["quantity_by_unit"] for row in data["by_month"]}
    units = sorted({u for row in data["by_month"] for u in row["quantity_by_unit"]})
    labels = [local_month(m) for m in months]
    charts = []
    for unit in units:
        title = _("Received per month, in %(unit)s", unit=unit_label(unit))
        values = [by_month.get(m, {}).get(unit, 0) for m in months]
        svg = column_chart(
            f"chart-month-{unit}", title, labels, [Series(_("Received"), values)], local_number
        )
        charts.append({"unit": unit, "title": title, "svg": svg})
    return charts


def chart_rows(data: dict) -> dict[str, list[dict]]:
    """The bars of the three charts (number of deliveries; quantities of different units do
    not share a scale): by top-level category, by oblast, by month."""
    roots: dict[str, int] = {}
    for row in data["by_category"]:
        roots[row["parent_name"]] = roots.get(row["parent_name"], 0) + row["deliveries"]
    return {
        "category": [
            {"label": name, "value": n}
            for name, n in sorted(roots.items(), key=lambda item: (-item[1], item[0]))
        ],
        "oblast": [{"label": r["name"], "value": r["deliveries"]} for r in data["by_oblast"]],
        "month": [
            {"label": local_month(r["month"]), "value": r["deliveries"]} for r in data["by_month"]
        ],
    }


@bp.get("/ledger")
def ledger():
    """The anonymised ledger of deliveries, newest first, paginated."""
    page = ledger_page(language(), _page_number(), LEDGER_PER_PAGE)
    page["pages"] = max(1, math.ceil(page["total"] / page["per_page"]))
    db.session.rollback()
    return render_template(
        "transparency/ledger.html",
        page=page,
        page_url=lambda n: url_for("transparency.ledger", page=n),
    )


@bp.get("/ledger.csv")
def ledger_csv():
    """The whole ledger as CSV (spreadsheet formulas neutralised)."""
    rows = ledger_all(language())
    db.session.rollback()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(LEDGER_COLUMNS)
    for row in rows:
        values = (
            row["date"].isoformat() if row["date"] else "",
            row["category"],
            row["category_name"],
            row["parent_name"],
            row["oblast"],
            row["quantity"],
            row["unit"],
            row["group"] or "",
        )
        writer.writerow([_safe(v) for v in values])
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=aidmatch-deliveries.csv"},
    )


@bp.get("/deliveries.hxl.csv")
def deliveries_hxl():
    """The public dataset: deliveries per hromada (or oblast) and month, as CSV with HXL
    hashtags (transparency/dataset.py)."""
    lang = language()
    # The same for everyone in this language until a write or the cutoff moves (as the page).
    body = published(lang, "dataset", lambda: dataset_csv(lang))
    db.session.rollback()  # read only
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=aidmatch-deliveries.hxl.csv"},
    )
