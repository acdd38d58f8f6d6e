"""What was delivered, in aggregate and as an anonymised ledger (the public transparency page).

Every figure is a GROUP BY over delivered matches, the same on SQLite and PostgreSQL; only
the two date expressions (the UTC month of a delivery, days between two timestamps) differ by
dialect. No group is named unless it opted in (Organization.public_name), and never for a
sensitive need nor in an oblast near the front (FRONT_OBLASTS); places go no finer than the
oblast (the HXL dataset, transparency/dataset.py, goes to the hromada only where a month
holds enough of its deliveries). Timing is location too: a delivery is counted only once the whole week it happened in
is TRANSPARENCY_DELAY_DAYS past (weeks are published at once), and dated by its week (the
Monday of its ISO week, UTC), never by its day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

from flask import current_app
from sqlalchemy import distinct, extract, func, select

from aidmatch.cache import remember
from aidmatch.categories.models import Category
from aidmatch.categories.operations import named_categories, root_in
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.needs.models import Need
from aidmatch.orgs.models import Organization
from aidmatch.places.labels import oblast_label
from aidmatch.places.models import Place
from aidmatch.privacy.names import may_name
from aidmatch.web.labels import unit_label

MAX_LEDGER_EXPORT = 50_000


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _utc(column):
    """A timestamp column as UTC wall time (PostgreSQL's timestamptz follows the session zone)."""
    return func.timezone("UTC", column) if _dialect() == "postgresql" else column


def days_between(later, earlier):
    """SQL for the days (fractional) from earlier to later."""
    if _dialect() == "postgresql":
        return extract("epoch", later - earlier) / 86400.0
    return func.julianday(later) - func.julianday(earlier)


def week_of(column):
    """SQL for the Monday of a timestamp's ISO week (UTC), as text "YYYY-MM-DD"."""
    if _dialect() == "postgresql":
        return func.to_char(func.date_trunc("week", _utc(column)), "YYYY-MM-DD")
    # Back six days, then forward to the next Monday (or stay on it): the week's Monday.
    return func.date(column, "-6 days", "weekday 1")


def monday(day: date) -> date:
    """The Monday of day's ISO week."""
    return day - timedelta(days=day.weekday())


def publication_cutoff() -> datetime:
    """Deliveries before this time are public: the start (Monday 00:00 UTC) of the week that
    was TRANSPARENCY_DELAY_DAYS ago. Whole weeks are published at once, so a delivery shows
    up at least the delay after it happened and someone watching the ledger every day still
    learns only its week, never its day. A delay of 0 publishes at once (dates still by week)."""
    delay = current_app.config["TRANSPARENCY_DELAY_DAYS"]
    if delay == 0:
        return utcnow()
    start = monday((utcnow() - timedelta(days=delay)).date())
    return datetime.combine(start, time.min, tzinfo=UTC)


def delivered():
    """FROM delivered matches old enough to publish (TRANSPARENCY_DELAY_DAYS), joined to their
    need and the need's place and category."""
    return (
        select()
        .select_from(Match)
        .join(Need, Need.id == Match.need_id)
        .join(Place, Place.id == Need.place_id)
        .join(Category, Category.id == Need.category_id)
        .where(
            Match.status == MatchStatus.DELIVERED,
            Match.delivered_at.is_not(None),
            Match.delivered_at < publication_cutoff(),
        )
    )


@dataclass(frozen=True)
class CategoryInfo:
    """A category as the page names it: its slug, name, unit and top-level ancestor."""

    slug: str
    name: str
    unit: str
    root_id: int


def categories(lang: str) -> dict[int, CategoryInfo]:
    """Every category by id, with its name in lang and its root (one query: the tree is small)."""
    rows = named_categories(lang)
    parent_of = {cid: parent_id for cid, _slug, parent_id, _name, _unit, *_ in rows}
    return {
        cid: CategoryInfo(slug, name, str(unit), root_in(parent_of, cid))
        for cid, slug, _p, name, unit, *_ in rows
    }


def oblast_name(oblast: str | None, lang: str) -> str:
    """An oblast (the gazetteer's English name) in the request's language, which lang names:
    "Харківська область", "Kharkiv Oblast", "Oblast Kharkiv"."""
    return oblast_label(oblast) if oblast else "—"


def _unit_totals(pairs) -> dict[str, int]:
    totals: dict[str, int] = {}
    for unit, quantity in pairs:
        totals[str(unit)] = totals.get(str(unit), 0) + int(quantity or 0)
    return dict(sorted(totals.items()))


def median_days_to_delivery() -> float | None:
    """The median of days from a need being posted to a delivery on it, read with at most two
    rows fetched (ORDER BY with OFFSET at the middle), not every duration."""
    n = db.session.scalar(delivered().with_only_columns(func.count(Match.id)))
    if not n:
        return None
    days = days_between(Match.delivered_at, Need.created_at)
    middle = db.session.scalars(
        delivered()
        .with_only_columns(days)
        .where(Match.delivered_at.is_not(None))
        .order_by(days)
        .offset((n - 1) // 2)
        .limit(1 if n % 2 else 2)
    ).all()
    if not middle:
        return None
    return round(sum(float(d) for d in middle) / len(middle), 1)


def summary(lang: str) -> dict:
    """Totals, by category, by oblast and by month, groups served and the median time to
    delivery; quantities are summed per unit (pieces and kilograms do not add up)."""
    cats = categories(lang)
    quantity = func.coalesce(func.sum(Match.quantity_received), 0)
    count = func.count(Match.id)

    # Totals.
    unit_rows = db.session.execute(
        delivered().with_only_columns(Category.unit, count, quantity).group_by(Category.unit)
    ).all()
    totals_row = db.session.execute(
        delivered().with_only_columns(
            count, func.count(distinct(Need.organization_id)), func.count(distinct(Need.id))
        )
    ).one()
    deliveries, groups_served, needs_served = (int(v or 0) for v in totals_row)

    # By category (leaf), with its top-level category.
    by_category = []
    rows = db.session.execute(
        delivered().with_only_columns(Need.category_id, count, quantity).group_by(Need.category_id)
    ).all()
    for cid, n, q in rows:
        info = cats.get(cid)
        if info is None:
            continue
        root = cats[info.root_id]
        by_category.append(
            {
                "category": info.slug,
                "name": info.name,
                "parent": root.slug if info.root_id != cid else None,
                "parent_name": root.name,
                "unit": info.unit,
                "deliveries": int(n),
                "quantity": int(q),
            }
        )
    by_category.sort(key=lambda r: (-r["deliveries"], r["parent_name"], r["name"]))

    # By oblast.
    oblasts: dict[str | None, dict] = {}
    rows = db.session.execute(
        delivered()
        .with_only_columns(Place.oblast, Category.unit, count, quantity)
        .group_by(Place.oblast, Category.unit)
    ).all()
    for oblast, unit, n, q in rows:
        entry = oblasts.setdefault(
            oblast,
            {
                "oblast": oblast,
                "name": oblast_name(oblast, lang),
                "deliveries": 0,
                "quantity_by_unit": {},
                "groups_served": 0,
            },
        )
        entry["deliveries"] += int(n)
        entry["quantity_by_unit"] = _unit_totals([*entry["quantity_by_unit"].items(), (unit, q)])
    groups = db.session.execute(
        delivered()
        .with_only_columns(Place.oblast, func.count(distinct(Need.organization_id)))
        .group_by(Place.oblast)
    ).all()
    for oblast, n in groups:
        if oblast in oblasts:
            oblasts[oblast]["groups_served"] = int(n)
    by_oblast = sorted(oblasts.values(), key=lambda r: (-r["deliveries"], r["name"]))

    # By month of the delivery's week (its Monday, as the ledger dates it), oldest first.
    week = week_of(Match.delivered_at)
    months: dict[str, dict] = {}
    rows = db.session.execute(
        delivered()
        .with_only_columns(week, Category.unit, count, quantity)
        .group_by(week, Category.unit)
    ).all()
    for week_start, unit, n, q in rows:
        key = str(week_start)[:7]
        entry = months.setdefault(key, {"month": key, "deliveries": 0, "quantity_by_unit": {}})
        entry["deliveries"] += int(n)
        entry["quantity_by_unit"] = _unit_totals([*entry["quantity_by_unit"].items(), (unit, q)])
    by_month = [months[k] for k in sorted(months)]

    return {
        "totals": {
            "deliveries": deliveries,
            "needs_served": needs_served,
            "groups_served": groups_served,
            "quantity_by_unit": _unit_totals((u, q) for u, _n, q in unit_rows),
        },
        "by_category": by_category,
        "by_oblast": by_oblast,
        "by_month": by_month,
        "groups_served": groups_served,
        "median_days_to_delivery": median_days_to_delivery(),
    }


def ledger_query():
    """The deliveries, newest week first, as plain columns (no need title, no place below
    oblast); within a week by the match's id, not by the hour of delivery."""
    week = week_of(Match.delivered_at)
    return (
        delivered()
        .join(Organization, Organization.id == Need.organization_id)
        .with_only_columns(
            week,
            Need.category_id,
            Place.oblast,
            Match.quantity_received,
            Category.unit,
            Need.sensitive,
            Organization.public_name,
            Organization.name,
        )
        .order_by(week.desc(), Match.id.desc())
    )


def ledger_row(row, cats: dict[int, CategoryInfo], lang: str) -> dict:
    """One delivery as the public may see it: dated by its week's Monday; the group's name
    only where may_name allows."""
    week, category_id, oblast, quantity, unit, sensitive, public_name, org_name = row
    info = cats.get(category_id)
    root = cats.get(info.root_id) if info else None
    return {
        "date": monday(date.fromisoformat(str(week)[:10])) if week else None,
        "category": info.slug if info else "",
        "category_name": info.name if info else "",
        "parent_name": root.name if root and root is not info else "",
        "oblast": oblast or "",
        "oblast_name": oblast_name(oblast, lang),
        "quantity": int(quantity or 0),
        "unit": str(unit),
        "unit_label": unit_label(unit),
        "group": org_name if may_name(public_name, sensitive, oblast) else None,
    }


def ledger_page(lang: str, page: int, per_page: int) -> dict:
    """One page of the ledger: {"items", "page", "per_page", "total"}."""
    from aidmatch.web.api import paginate

    cats = categories(lang)
    result = paginate(ledger_query(), page, per_page, scalars=False)
    result["items"] = [ledger_row(row, cats, lang) for row in result["items"]]
    return result


T = TypeVar("T")


def published(lang: str, name: str, compute: Callable[[], T]) -> T:
    """What compute() reads of the published deliveries (the page's figures, its latest
    rows, the summary API), kept in the shared cache per language until the publication
    cutoff moves or any write commits (cache.remember): a confirmed delivery, a group's
    choice to be named, a renamed category."""
    return remember(f"transparency:{name}", publication_parts(lang), compute)


def publication_parts(lang: str) -> tuple:
    """What the published figures depend on besides the data: the language, the publication
    cutoff and the front-line oblasts (the hromada rule)."""
    delay = current_app.config["TRANSPARENCY_DELAY_DAYS"]
    # A delay of 0 publishes at once: the cutoff is now, and only the generation says when.
    cutoff = publication_cutoff().isoformat() if delay else "at once"
    return (lang, cutoff, current_app.config["FRONT_OBLASTS"])


def ledger_all(lang: str) -> list[dict]:
    """The whole ledger (bounded), for the CSV download."""
    cats = categories(lang)
    rows = db.session.execute(ledger_query().limit(MAX_LEDGER_EXPORT))
    return [ledger_row(row, cats, lang) for row in rows]
