"""A report's figures: a pure function over the records of reports/queries.py (no database,
no request). Quantities are summed per category and per unit (pieces and kilograms do not add
up); months are those of each event's week (its Monday, as the transparency page dates it),
kept inside the period; nothing after the publication cutoff counts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from aidmatch.reports.period import Period
from aidmatch.reports.queries import GoodsRecord
from aidmatch.transparency.queries import monday

# Why less arrived than was promised, in the order a report lists them.
CAUSES = ("on_route", "delivered_less", "cancelled", "withdrawn", "expired", "disputed")


def _month(moment: datetime, period: Period) -> str:
    """The month of the event's week (its Monday), inside the period."""
    day = max(monday(moment.date()), period.start)
    return f"{day.year:04d}-{day.month:02d}"


def _add(table: dict, key, unit: str, quantity: int) -> None:
    entry = table.setdefault(key, {})
    entry[unit] = entry.get(unit, 0) + quantity


def _units(table: Mapping[str, int]) -> dict[str, int]:
    return dict(sorted(table.items()))


def build_report(
    records: Iterable[GoodsRecord],
    period: Period,
    cutoff: datetime,
    categories: Mapping[int, Any],
    oblast_names: Mapping[str | None, str] | None = None,
) -> dict:
    """The goods part of a report: given (shipped) and arrived (delivered) per category and
    unit, arrivals per oblast with their groups, the number of groups, the groups that may be
    named, shortfalls by cause, and per-month series. categories: id -> an object with .name,
    .unit (transparency.queries.CategoryInfo); oblast_names: the oblasts' names to show."""
    since, until = period.since, min(period.until, cutoff)

    def counted(moment: datetime | None) -> bool:
        return moment is not None and since <= moment < until

    given: dict[int, int] = {}
    arrived: dict[int, int] = {}
    deliveries: dict[int, int] = {}
    oblasts: dict[str | None, dict] = {}
    groups: set[int] = set()
    named: set[str] = set()
    shortfalls: dict[str, dict] = {cause: {"count": 0, "by_unit": {}} for cause in CAUSES}
    months = {m: {"given": {}, "arrived": {}} for m in period.months()}

    def short(cause: str, unit: str, quantity: int) -> None:
        entry = shortfalls[cause]
        entry["count"] += 1
        entry["by_unit"][unit] = entry["by_unit"].get(unit, 0) + quantity

    units: dict[int, str] = {}
    for r in records:
        units[r.category_id] = r.unit
        if counted(r.shipped_at):
            given[r.category_id] = given.get(r.category_id, 0) + r.quantity
            _add(months[_month(r.shipped_at, period)], "given", r.unit, r.quantity)
        if r.status == "delivered" and counted(r.delivered_at):
            received = r.quantity_received or 0
            arrived[r.category_id] = arrived.get(r.category_id, 0) + received
            deliveries[r.category_id] = deliveries.get(r.category_id, 0) + 1
            _add(months[_month(r.delivered_at, period)], "arrived", r.unit, received)
            place = oblasts.setdefault(
                r.oblast, {"oblast": r.oblast, "deliveries": 0, "by_unit": {}, "groups": set()}
            )
            place["deliveries"] += 1
            place["by_unit"][r.unit] = place["by_unit"].get(r.unit, 0) + received
            place["groups"].add(r.group_id)
            groups.add(r.group_id)
            if r.group_name:
                named.add(r.group_name)
            lost = r.quantity - received
            on_route = min(lost, r.leg_shortfall)
            if on_route > 0:
                short("on_route", r.unit, on_route)
            if lost - on_route > 0:
                short("delivered_less", r.unit, lost - on_route)
        if r.ended_at is not None and counted(r.ended_at) and r.status in CAUSES:
            short(r.status, r.unit, r.quantity)
        if counted(r.disputed_at):
            short("disputed", r.unit, r.quantity_received or 0)

    def per_category(table: dict[int, int]) -> list[dict]:
        rows = []
        for cid, quantity in table.items():
            info = categories.get(cid)
            rows.append(
                {
                    "category_id": cid,
                    "name": info.name if info else "?",
                    "unit": units.get(cid, info.unit if info else ""),
                    "quantity": quantity,
                    "deliveries": deliveries.get(cid, 0),
                }
            )
        return sorted(rows, key=lambda row: (row["name"], row["unit"]))

    names = oblast_names or {}
    by_oblast = sorted(
        (
            {
                "oblast": o["oblast"],
                "name": names.get(o["oblast"], o["oblast"] or "—"),
                "deliveries": o["deliveries"],
                "by_unit": _units(o["by_unit"]),
                "groups": len(o["groups"]),
            }
            for o in oblasts.values()
        ),
        key=lambda row: (-row["deliveries"], row["name"]),
    )
    totals_given: dict[str, int] = {}
    totals_arrived: dict[str, int] = {}
    for row in per_category(given):
        totals_given[row["unit"]] = totals_given.get(row["unit"], 0) + row["quantity"]
    for row in per_category(arrived):
        totals_arrived[row["unit"]] = totals_arrived.get(row["unit"], 0) + row["quantity"]
    by_category = [
        {
            **row,
            "given": given.get(row["category_id"], 0),
            "arrived": arrived.get(row["category_id"], 0),
        }
        for row in per_category({cid: 0 for cid in set(given) | set(arrived)})
    ]
    return {
        "by_category": by_category,
        "given": per_category(given),
        "arrived": per_category(arrived),
        "totals": {
            "given": _units(totals_given),
            "arrived": _units(totals_arrived),
            "deliveries": sum(deliveries.values()),
            "groups": len(groups),
        },
        "by_oblast": by_oblast,
        "named_groups": sorted(named),
        "shortfalls": [
            {"cause": cause, "count": s["count"], "by_unit": _units(s["by_unit"])}
            for cause, s in shortfalls.items()
            if s["count"]
        ],
        "by_month": [
            {"month": m, "given": _units(v["given"]), "arrived": _units(v["arrived"])}
            for m, v in months.items()
        ],
        "units": sorted(set(totals_given) | set(totals_arrived)),
    }
