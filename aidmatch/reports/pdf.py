"""A report as a PDF (fpdf2, pure Python), with DejaVu Sans embedded (reports/fonts, with its
licence) so that Ukrainian, English and German print the same, offline. The charts are drawn
with the PDF's own rectangles from the numbers the page's SVG shows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask_babel import force_locale
from flask_babel import gettext as _
from fpdf import FPDF

from aidmatch.web.charts import COLOURS
from aidmatch.web.i18n import local_date, local_datetime, local_number

FONTS = Path(__file__).parent / "fonts"
FONT = "DejaVu"


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


class ReportPDF(FPDF):
    """A4, DejaVu Sans, the page number in the footer."""

    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.set_text_color(90, 96, 104)
        self.cell(0, 6, f"{self.footer_text} · {self.page_no()}", align="C")


def report_title(report: dict) -> str:
    """The report's heading in the current language."""
    org = report["org"]
    if org is None:
        return _("Report of the whole network")
    return _("Report of %(org)s", org=org.name)


def period_words(report: dict) -> str:
    """ "From 1 Jan 2026 to 31 Mar 2026" in the current language."""
    period = report["period"]
    return _(
        "From %(start)s to %(end)s", start=local_date(period.start), end=local_date(period.end)
    )


def render_pdf(report: dict, progress: Callable[[int], None] | None = None) -> bytes:
    """The report (reports/report.make_report) as PDF bytes, in the report's language;
    progress(percent) is told as the sections are drawn (the network's report is a job)."""
    tell = progress or (lambda _percent: None)
    with force_locale(report["lang"]):
        pdf = ReportPDF(format="A4")
        pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
        pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        pdf.set_title(report_title(report))
        pdf.set_creator("aidmatch")
        pdf.footer_text = report_title(report)
        pdf.set_auto_page_break(True, margin=16)
        pdf.add_page()
        _heading(pdf, report)
        tell(20)
        _totals(pdf, report)
        _categories(pdf, report)
        tell(40)
        _oblasts(pdf, report)
        _shortfalls(pdf, report)
        tell(60)
        _months(pdf, report)
        tell(80)
        _money(pdf, report)
        tell(90)
        return bytes(pdf.output())


def _h1(pdf: FPDF, text: str) -> None:
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")


def _h2(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font(FONT, "B", 12)
    pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)


def _text(pdf: FPDF, text: str, size: int = 10) -> None:
    pdf.set_font(FONT, size=size)
    pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")


def _table(pdf: FPDF, header: list[str], rows: list[list[str]], widths: tuple) -> None:
    pdf.set_font(FONT, size=9)
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=5.5) as table:
        table.row(header)
        for row in rows:
            table.row(row)


def _heading(pdf: FPDF, report: dict) -> None:
    _h1(pdf, report_title(report))
    _text(pdf, period_words(report), 11)
    pdf.set_text_color(79, 86, 96)
    _text(
        pdf,
        _(
            "Deliveries and shipments count once they are published, at least %(days)s days "
            "later and by their week; this report counts what happened before %(cutoff)s. "
            "Places are named no finer than the oblast; groups only where they chose to be "
            "named, and never near the front.",
            days=report["delay_days"],
            cutoff=local_datetime(report["cutoff"]),
        ),
        8,
    )
    pdf.set_text_color(0, 0, 0)


def _totals(pdf: FPDF, report: dict) -> None:
    goods, words = report["goods"], report["totals_words"]
    _h2(pdf, _("Totals"))
    rows = [
        [_("Given (shipped)"), words["given"]],
        [_("Arrived (confirmed by the groups)"), words["arrived"]],
        [_("Deliveries"), local_number(goods["totals"]["deliveries"])],
        [_("Groups served"), local_number(goods["totals"]["groups"])],
    ]
    _table(pdf, [_("What"), _("How much")], rows, (90, 90))
    if goods["named_groups"]:
        _text(pdf, _("Groups named: %(names)s", names=", ".join(goods["named_groups"])), 9)


def _categories(pdf: FPDF, report: dict) -> None:
    goods = report["goods"]
    _h2(pdf, _("By category"))
    rows = [
        [r["name"], r["unit_label"], local_number(r["given"]), local_number(r["arrived"])]
        for r in goods["by_category"]
    ]
    if not rows:
        _text(pdf, _("Nothing was given or arrived in this period."))
        return
    _table(pdf, [_("Category"), _("Unit"), _("Given"), _("Arrived")], rows, (70, 30, 40, 40))


def _oblasts(pdf: FPDF, report: dict) -> None:
    goods = report["goods"]
    _h2(pdf, _("Where it arrived (oblasts)"))
    if not goods["by_oblast"]:
        _text(pdf, _("Nothing arrived in this period."))
        return
    rows = [
        [r["name"], local_number(r["deliveries"]), local_number(r["groups"]), r["quantity"]]
        for r in goods["by_oblast"]
    ]
    _table(
        pdf,
        [_("Oblast"), _("Deliveries"), _("Groups served"), _("Arrived")],
        rows,
        (60, 30, 30, 60),
    )


def _shortfalls(pdf: FPDF, report: dict) -> None:
    goods = report["goods"]
    _h2(pdf, _("Shortfalls and their causes"))
    if not goods["shortfalls"]:
        _text(pdf, _("No shortfalls in this period."))
        return
    rows = [[r["words"], local_number(r["count"]), r["quantity"]] for r in goods["shortfalls"]]
    _table(pdf, [_("Cause"), _("Matches"), _("Quantity")], rows, (100, 25, 55))


def _money(pdf: FPDF, report: dict) -> None:
    """The money part (reports/funds.money_section), a section per currency."""
    if not report["money"]:
        return
    _h2(pdf, _("Money"))
    _text(
        pdf,
        _(
            "Pledged: the months of confirmed pledges due in this period. Received: what the "
            "groups confirmed in it. What the money bought is each group's report for the need, "
            "which other collectives may have funded too. aidmatch never holds, moves or "
            "processes money."
        ),
        8,
    )
    for part in report["money"]:
        _h2(pdf, _("Money in %(currency)s", currency=part["currency"]))
        rows = [
            [_("Pledged"), part["pledged"]],
            [_("Received (confirmed by the groups)"), part["received"]],
            [_("Spent (reported by the groups)"), part["spent"]],
            [_("Groups it reached"), part["groups"]],
        ]
        _table(pdf, [_("What"), _("How much")], rows, (90, 90))
        if part["named_groups"]:
            _text(pdf, _("Groups named: %(names)s", names=", ".join(part["named_groups"])), 9)
        if part["oblasts"]:
            pdf.ln(2)
            rows = [[r["name"], r["groups"], r["received"], r["spent"]] for r in part["oblasts"]]
            header = [_("Oblast"), _("Groups"), _("Received"), _("Spent")]
            _table(pdf, header, rows, (60, 30, 45, 45))
        _h2(pdf, _("What the money bought"))
        if part["bought"]:
            rows = [
                [r["week"], r["oblast"], r["group"] or "—",
                 r["what"] or _("(a sensitive need: not shown)"), r["amount"]]
                for r in part["bought"]
            ]  # fmt: skip
            header = [_("Week of"), _("Oblast"), _("Group"), _("What"), _("Amount")]
            _table(pdf, header, rows, (25, 35, 35, 50, 35))
        else:
            _text(pdf, _("No purchase reported for this period yet."))
        _h2(pdf, _("Months that fell short"))
        if part["shortfalls"]:
            rows = [[r["words"], r["count"], r["amount"]] for r in part["shortfalls"]]
            _table(pdf, [_("Cause"), _("Months"), _("Amount")], rows, (100, 25, 55))
        else:
            _text(pdf, _("No month fell short in this period."))
        if part["chart"]:
            if pdf.get_y() > 200:
                pdf.add_page()
            _h2(pdf, part["chart"]["title"])
            _draw_columns(pdf, part["chart"])


def _months(pdf: FPDF, report: dict) -> None:
    for chart in report["charts"]:
        if pdf.get_y() > 200:
            pdf.add_page()
        _h2(pdf, chart["title"])
        _draw_columns(pdf, chart)


def _draw_columns(pdf: FPDF, chart: dict) -> None:
    """The chart's columns (given, arrived) per month, 60 mm high, with their numbers."""
    left, width, height = pdf.l_margin, pdf.epw, 60.0
    top = pdf.get_y() + 4
    base = top + height
    labels, series = chart["labels"], chart["series"]
    words = chart.get("words", local_number)
    peak = max((v for s in series for v in s.values), default=0)
    slot = width / max(1, len(labels))
    bar = min(14.0, (slot - 4) / max(1, len(series)))
    pdf.set_draw_color(138, 144, 153)
    pdf.line(left, base, left + width, base)
    pdf.set_font(FONT, size=7)
    for i, label in enumerate(labels):
        x0 = left + i * slot + (slot - bar * len(series)) / 2
        for j, s in enumerate(series):
            value = s.values[i]
            h = value / peak * (height - 6) if peak else 0
            pdf.set_fill_color(*_rgb(COLOURS[j % len(COLOURS)]))
            pdf.rect(x0 + j * bar, base - h, bar - 0.8, max(h, 0.2), style="F")
            if value:
                pdf.set_xy(x0 + j * bar - 4, base - h - 4)
                pdf.cell(bar + 8, 4, words(value), align="C")
        pdf.set_xy(left + i * slot, base + 1)
        pdf.cell(slot, 4, label, align="C")
    y = base + 7
    for j, s in enumerate(series):
        pdf.set_fill_color(*_rgb(COLOURS[j % len(COLOURS)]))
        pdf.rect(left, y + 1, 3, 3, style="F")
        pdf.set_xy(left + 5, y)
        pdf.cell(60, 5, s.name)
        y += 5
    pdf.set_xy(left, y + 2)
