"""The category tree as a menu in the request's language (the <select>s of list pages, forms
and the map)."""

from __future__ import annotations

from dataclasses import dataclass

from aidmatch.categories.operations import ancestors_in, named_categories, root_in
from aidmatch.web.labels import UNIT_LABELS, unit_label


@dataclass
class CategoryMenu:
    """The category tree as plain data for one language: <optgroup>s of a root and what is
    below it, and names and units by slug and by id (rows carry slugs)."""

    groups: list[dict]
    names: dict[str, str]
    units: dict[str, str]
    names_by_id: dict[int, str]


def category_menu(lang: str, keep: int | None = None) -> CategoryMenu:
    """The whole tree in one query of plain columns (a list page renders it on every view,
    so it skips building ORM objects); deeper levels join their root's group. Retired
    categories are offered nowhere (but `keep`, the category a need or offer being edited
    has) and still named (names, units, names_by_id: old rows show them)."""
    everything = named_categories(lang)
    parent_of = {row[0]: row[2] for row in everything}
    kept = {keep, *ancestors_in(parent_of, keep)} if keep is not None else set()
    rows = [row[:5] for row in everything if row[5] is None or row[0] in kept]
    units = {unit: unit_label(unit) for unit in UNIT_LABELS}

    def root_of(category_id: int) -> int:
        return root_in(parent_of, category_id)

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
        names={row[1]: row[3] for row in everything},
        units={row[1]: units[str(row[4])] for row in everything},
        names_by_id={row[0]: row[3] for row in everything},
    )
