"""The public dataset of deliveries per hromada and month, as CSV with HXL hashtags
(/transparency/deliveries.hxl.csv): what the humanitarian clusters' tools read (HDX, the HXL
Proxy, libhxl), built from the transparency page's published deliveries and nothing more.

- Timing: only deliveries the page publishes (queries.delivered: the transparency delay, whole
  weeks), each in the month of its week's Monday (as the page's chart by month): never a day.
- Places: a hromada (OCHA adm3, places/pcodes.py) at the finest, with its oblast (adm1) and
  raion (adm2). A hromada with fewer than MIN_HROMADA_DELIVERIES deliveries in a month, and
  every place in a front-line oblast (FRONT_OBLASTS), is counted in its oblast's row instead
  (adm2 and adm3 blank): the oblast, which the page shows every count of, is the coarsest
  level and the one the page publishes. Places outside Ukraine are counted by country.
- Groups: named only where the page's ledger names them (privacy/names.may_name: opted in,
  not a sensitive need, not a front-line oblast); each row lists the names of such groups
  it counts.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func

from aidmatch.categories.models import Category
from aidmatch.extensions import db
from aidmatch.matches.models import Match
from aidmatch.needs.models import Need
from aidmatch.orgs.models import Organization
from aidmatch.places.models import Place
from aidmatch.places.pcodes import pcodes
from aidmatch.postings.sheets import write_csv
from aidmatch.privacy.names import may_name
from aidmatch.transparency.queries import categories, delivered, week_of

MIN_HROMADA_DELIVERIES = 3
COLUMNS = (
    ("month", "#date+reported"),
    ("country", "#country+code"),
    ("adm1_code", "#adm1+code"),
    ("adm1_name", "#adm1+name"),
    ("adm2_code", "#adm2+code"),
    ("adm3_code", "#adm3+code"),
    ("adm3_name", "#adm3+name"),
    ("category", "#item+type"),
    ("category_name", "#item+type+name"),
    ("unit", "#item+unit"),
    ("quantity", "#item+num"),
    ("deliveries", "#indicator+num+deliveries"),
    ("groups", "#org+name"),
)


def _where(country, oblast, code, hromada):
    """A place group's cell: (country, adm1, adm1 name, adm2, adm3, adm3 name)."""
    codes = pcodes(code) if country == "UA" else None
    if codes is None:
        return (country or "", "", "", "", "", "")
    return ("UA", codes.adm1, oblast or "", codes.adm2, codes.adm3, hromada or oblast or "")


def _coarse(where) -> tuple:
    """The same place's oblast row (raion and hromada blank)."""
    return (*where[:3], "", "", "")


def dataset_rows(lang: str) -> list[dict]:
    """The published deliveries per month, hromada (or oblast) and category, oldest first."""
    front = set(current_app.config["FRONT_OBLASTS"])
    week = week_of(Match.delivered_at)
    prefix = func.substr(Place.code, 1, 9)
    key = (week, Place.country, Place.oblast, prefix, Need.category_id, Category.unit)
    rows = db.session.execute(
        delivered()
        .with_only_columns(
            *key,
            func.min(Place.code),
            func.max(Place.hromada),
            func.count(Match.id),
            func.coalesce(func.sum(Match.quantity_received), 0),
        )
        .group_by(*key)
    ).all()
    named = db.session.execute(
        delivered()
        .join(Organization, Organization.id == Need.organization_id)
        .where(Organization.public_name.is_(True), Need.sensitive.is_(False))
        .with_only_columns(*key, Organization.name)
        .distinct()
    ).all()

    cells: dict[tuple, dict] = {}  # (month, where, category id, unit) -> figures
    per_place: dict[tuple, int] = {}  # (month, where) -> deliveries
    found = []
    for week_start, country, oblast, pre, category_id, unit, code, hromada, n, q in rows:
        month, where = str(week_start)[:7], _where(country, oblast, code, hromada)
        found.append((month, where, oblast, pre, category_id, str(unit), int(n), int(q)))
        per_place[(month, where)] = per_place.get((month, where), 0) + int(n)

    def cell_of(month, where, oblast) -> tuple:
        small = per_place.get((month, where), 0) < MIN_HROMADA_DELIVERIES
        return (
            (month, _coarse(where)) if where[4] and (small or oblast in front) else (month, where)
        )

    place_of = {}  # (month, country, oblast, prefix) -> the cell's (month, where)
    for month, where, oblast, pre, category_id, unit, n, q in found:
        at = cell_of(month, where, oblast)
        place_of[(month, where[0], oblast, pre)] = at
        entry = cells.setdefault((*at, category_id, unit), {"deliveries": 0, "quantity": 0})
        entry["deliveries"] += n
        entry["quantity"] += q
        entry.setdefault("groups", set())
    for week_start, country, oblast, pre, category_id, unit, name in named:
        if not may_name(True, False, oblast):
            continue
        at = place_of.get((str(week_start)[:7], country or "", oblast, pre))
        if at is not None and (*at, category_id, str(unit)) in cells:
            cells[(*at, category_id, str(unit))]["groups"].add(name)

    cats = categories(lang)
    out = []
    for (month, where, category_id, unit), entry in sorted(cells.items(), key=_order):
        info = cats.get(category_id)
        country, adm1, adm1_name, adm2, adm3, adm3_name = where
        out.append(
            {
                "month": month,
                "country": country,
                "adm1_code": adm1,
                "adm1_name": adm1_name,
                "adm2_code": adm2,
                "adm3_code": adm3,
                "adm3_name": adm3_name,
                "category": info.slug if info else "",
                "category_name": info.name if info else "",
                "unit": unit,
                "quantity": entry["quantity"],
                "deliveries": entry["deliveries"],
                "groups": "; ".join(sorted(entry["groups"])),
            }
        )
    return out


def _order(item) -> tuple:
    (month, where, category_id, unit), _entry = item
    return (month, where, category_id or 0, unit)


def dataset_csv(lang: str) -> bytes:
    """The dataset as CSV: the header, the HXL hashtag row, one row per cell."""
    columns = tuple(c for c, _tag in COLUMNS)
    return write_csv(columns, dataset_rows(lang), dict(COLUMNS))
