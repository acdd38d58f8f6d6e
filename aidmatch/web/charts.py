"""Column charts per month drawn by the server as inline SVG: no script, no CDN, printable.

The chart's <title> and <desc> carry its numbers for screen readers (each page also shows them
in a table); every text in it is escaped here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# Colours readable in print and by people who do not tell red from green.
COLOURS = ("#0b57a4", "#e08a00", "#5b8c2a", "#7a3e9d")


def month_range(first: str, last: str) -> list[str]:
    """Every month from first to last ("YYYY-MM", both included), oldest first."""
    out, (year, month) = [], (int(first[:4]), int(first[5:7]))
    end = (int(last[:4]), int(last[5:7]))
    while (year, month) <= end:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


@dataclass(frozen=True)
class Series:
    """One kind of column: its name (in the legend) and a value per month."""

    name: str
    values: Sequence[int]


def column_chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    words: Callable[[int], str] = str,
) -> Markup:
    """Columns per month (labels), one per series side by side, scaled to the largest value;
    words(n) writes a number for the description and the column's label."""
    width, height, top, bottom, left = 320, 170, 14, 40, 4
    plot_h = height - top - bottom
    n = max(1, len(labels))
    slot = (width - left) / n
    bar = max(2.0, min(28.0, (slot - 6) / max(1, len(series))))
    peak = max((v for s in series for v in s.values), default=0)
    parts = [
        f'<svg role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'viewBox="0 0 {width} {height + 16 * len(series)}" width="100%" '
        'preserveAspectRatio="xMinYMin meet" font-family="system-ui, sans-serif" '
        'class="chart-columns">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
    ]
    described = "; ".join(
        f"{label}: " + ", ".join(f"{s.name} {words(s.values[i])}" for s in series)
        for i, label in enumerate(labels)
    )
    parts.append(f'<desc id="{chart_id}-desc">{escape(described)}</desc>')
    baseline = top + plot_h
    parts.append(
        f'<line x1="{left}" y1="{baseline}" x2="{width}" y2="{baseline}" stroke="#8a9099"/>'
    )
    for i, label in enumerate(labels):
        x0 = left + i * slot + (slot - bar * len(series)) / 2
        for j, s in enumerate(series):
            value = s.values[i]
            h = (value / peak * plot_h) if peak else 0
            x = x0 + j * bar
            colour = COLOURS[j % len(COLOURS)]
            parts.append(
                f'<rect x="{x:.1f}" y="{baseline - h:.1f}" width="{bar - 1:.1f}" '
                f'height="{max(h, 0.5):.1f}" fill="{colour}"/>'
            )
            if value:
                parts.append(
                    f'<text x="{x + (bar - 1) / 2:.1f}" y="{baseline - h - 2:.1f}" font-size="8" '
                    f'text-anchor="middle" fill="#1b1f23">{escape(words(value))}</text>'
                )
        parts.append(
            f'<text x="{left + i * slot + slot / 2:.1f}" y="{baseline + 12}" font-size="9" '
            f'text-anchor="middle" fill="#4f5660">{escape(label[:14])}</text>'
        )
    for j, s in enumerate(series):  # the legend
        y = height + 4 + 16 * j
        colour = COLOURS[j % len(COLOURS)]
        parts.append(f'<rect x="{left}" y="{y - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(
            f'<text x="{left + 14}" y="{y}" font-size="10" fill="#1b1f23">{escape(s.name)}</text>'
        )
    parts.append("</svg>")
    # Markup: every text above went through escape(); the rest are numbers and our own tags.
    return Markup("".join(parts))  # nosec B704
