"""Enum values in words of the request's language, and that language: every domain imports
these (units, urgencies, need/offer/match statuses, oblasts, the category menu).

The maps are keyed by the enums' string values (a StrEnum member equals and hashes as its
value), so this module imports no domain model.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from aidmatch.extensions import db
from aidmatch.places import labels as place_labels

UNIT_LABELS = {"pcs": _l("pcs"), "kg": _l("kg"), "l": _l("l"), "EUR": _l("EUR")}
URGENCY_LABELS = {
    "critical": _l("critical"), "high": _l("high"), "normal": _l("normal"), "low": _l("low"),
}  # fmt: skip
NEED_STATUS_LABELS = {
    "open": _l("open"), "fulfilled": _l("fulfilled"), "cancelled": _l("cancelled"),
    "expired": _l("expired"),
}  # fmt: skip
OFFER_STATUS_LABELS = {
    "open": _l("open"), "exhausted": _l("exhausted"), "withdrawn": _l("withdrawn"),
    "expired": _l("expired"),
}  # fmt: skip
# A match's statuses: the active ones, then those that ended it.
MATCH_STATUS_LABELS = {
    "pending": _l("pending"), "confirmed": _l("confirmed"), "shipped": _l("shipped"),
    "delivered": _l("delivered"),
    "declined": _l("declined"), "rejected": _l("rejected"), "expired": _l("expired"),
    "withdrawn": _l("withdrawn"), "cancelled": _l("cancelled"),
}  # fmt: skip


def language() -> str:
    """The language of this request (uk, en or de), for names stored in three languages."""
    return str(get_locale() or "en")


def label_of(labels: dict, value) -> str:
    """A status (or other enum value) in words, from one of the label maps here."""
    label = labels.get(str(value)) if value is not None else None
    return str(value) if label is None else str(label)


def unit_label(unit) -> str:
    """A unit of quantity in words of the user's language (pcs, kg, l, EUR)."""
    return label_of(UNIT_LABELS, unit)


def urgency_label(urgency) -> str:
    """An urgency in the user's language."""
    return label_of(URGENCY_LABELS, urgency)


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as <option>s."""
    return [SelectChoice(value, label) for value, label in pairs]


def oblast_choices(lang: str | None = None) -> list[tuple[str, str]]:
    """The oblasts of Ukraine as (value the places table holds, label in the request's
    language), sorted as that language sorts."""
    return place_labels.oblast_choices()


@dataclass
class CategoryMenu:
    """The category tree as plain data for one language: <optgroup>s of a root and what is
    below it, and names and units by slug and by id (rows carry slugs)."""

    groups: list[dict]
    names: dict[str, str]
    units: dict[str, str]
    names_by_id: dict[int, str]


def category_menu(lang: str) -> CategoryMenu:
    """The whole tree in one query of plain columns (a list page renders it on every view,
    so it skips building ORM objects); deeper levels join their root's group."""
    from aidmatch.categories.models import Category

    name_column = {"uk": Category.name_uk, "de": Category.name_de}.get(lang, Category.name_en)
    rows = db.session.execute(
        select(
            Category.id,
            Category.slug,
            Category.parent_id,
            func.coalesce(func.nullif(name_column, ""), Category.name_en),
            Category.unit,
        ).order_by(Category.position, Category.slug)
    ).all()
    units = {unit: unit_label(unit) for unit in UNIT_LABELS}
    parent_of = {row[0]: row[2] for row in rows}

    def root_of(category_id: int) -> int:
        seen = set()
        while parent_of.get(category_id) is not None and category_id not in seen:
            seen.add(category_id)
            category_id = parent_of[category_id]
        return category_id

    groups: dict[int, dict] = {}
    for cid, slug, parent_id, name, unit in rows:
        if parent_id is None:
            groups[cid] = {"slug": slug, "name": name, "unit": units[str(unit)], "children": []}
    for cid, slug, parent_id, name, unit in rows:
        if parent_id is not None and root_of(cid) in groups:
            groups[root_of(cid)]["children"].append(
                {"slug": slug, "name": name, "unit": units[str(unit)]}
            )
    return CategoryMenu(
        groups=list(groups.values()),
        names={row[1]: row[3] for row in rows},
        units={row[1]: units[str(row[4])] for row in rows},
        names_by_id={row[0]: row[3] for row in rows},
    )
