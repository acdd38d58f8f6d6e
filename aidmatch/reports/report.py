"""A whole report in one language: the goods part (queries + data), the money part
(funds.py, through money_section), its words and charts. The page (views.py) and the PDF (pdf.py) show the same dict."""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from aidmatch.db import utcnow
from aidmatch.money.amounts import money
from aidmatch.orgs.models import Organization
from aidmatch.reports import funds
from aidmatch.reports.data import build_report
from aidmatch.reports.period import Period
from aidmatch.reports.queries import cutoff, goods_records
from aidmatch.transparency.queries import categories, oblast_name
from aidmatch.web.charts import Series, column_chart
from aidmatch.web.i18n import local_month, local_number
from aidmatch.web.labels import unit_label

CAUSE_WORDS = {
    "on_route": _l("Lost on the way (legs of the route received short)"),
    "delivered_less": _l("Less arrived at the group than was shipped"),
    "cancelled": _l("Cancelled (the need was cancelled or the offer withdrawn)"),
    "withdrawn": _l("Withdrawn by the donor"),
    "expired": _l("Expired (not shipped in time)"),
    "disputed": _l("Receipt disputed by the group"),
}


def money_section(org: Organization | None, period: Period, lang: str) -> list[dict]:
    """The money part of the report: per currency, what the collective (or, for None, the
    network) pledged, what the groups confirmed they received and what it bought, per oblast,
    and the months that fell short (reports/funds.py); [] when no money was pledged."""
    parts = funds.money_section(org, period, cutoff(), lang, utcnow().date())
    labels = [local_month(month) for month in period.months()]
    for part in parts:
        currency = part["currency"]
        if not part["by_month"]:
            part["chart"] = None
            continue
        title = str(_l("Money per month, in %(currency)s", currency=currency))
        series = [
            Series(str(_l("Pledged")), part["by_month"]["pledged"]),
            Series(str(_l("Received")), part["by_month"]["received"]),
            Series(str(_l("Spent")), part["by_month"]["spent"]),
        ]

        def words(minor: int, currency=currency) -> str:
            return money(minor, currency)

        part["chart"] = {
            "title": title,
            "labels": labels,
            "series": series,
            "words": words,
            "svg": column_chart(f"chart-money-{currency}", title, labels, series, words),
        }
    return parts


def quantities(by_unit: dict[str, int]) -> str:
    """{"pcs": 1200, "kg": 40} as "1,200 pcs, 40 kg" in the current language."""
    return ", ".join(f"{local_number(q)} {unit_label(u)}" for u, q in by_unit.items()) or "0"


def make_report(org: Organization | None, period: Period, lang: str) -> dict:
    """The report of org (None: the whole network) over period, in lang (uk, en or de)."""
    with force_locale(lang):
        cats = categories(lang)
        records = goods_records(org, period)
        oblasts = {r.oblast for r in records}
        names = {o: oblast_name(o, lang) for o in oblasts}
        goods = build_report(records, period, cutoff(), cats, names)
        for row in goods["given"] + goods["arrived"] + goods["by_category"]:
            row["unit_label"] = unit_label(row["unit"])
        for row in goods["shortfalls"]:
            row["words"] = str(CAUSE_WORDS[row["cause"]])
            row["quantity"] = quantities(row["by_unit"])
        for row in goods["by_oblast"]:
            row["quantity"] = quantities(row["by_unit"])
        for row in goods["by_month"]:
            row["label"] = local_month(row["month"])
        charts = month_charts(goods)
        return {
            "org": org,
            "period": period,
            "lang": lang,
            "cutoff": cutoff(),
            "delay_days": current_app.config["TRANSPARENCY_DELAY_DAYS"],
            "goods": goods,
            "money": money_section(org, period, lang),
            "totals_words": {
                "given": quantities(goods["totals"]["given"]),
                "arrived": quantities(goods["totals"]["arrived"]),
            },
            "charts": charts,
        }


def month_charts(goods: dict) -> list[dict]:
    """One column chart per unit: given and arrived per month (only the current language's
    words; SVG for the page, the same numbers for the PDF's own drawing)."""
    labels = [row["label"] for row in goods["by_month"]]
    charts = []
    for unit in goods["units"]:
        given = [row["given"].get(unit, 0) for row in goods["by_month"]]
        arrived = [row["arrived"].get(unit, 0) for row in goods["by_month"]]
        title = str(_l("Per month, in %(unit)s", unit=unit_label(unit)))
        series = [Series(str(_l("Given")), given), Series(str(_l("Arrived")), arrived)]
        charts.append(
            {
                "unit": unit,
                "title": title,
                "labels": labels,
                "series": series,
                "svg": column_chart(f"chart-{unit}", title, labels, series, local_number),
            }
        )
    return charts
