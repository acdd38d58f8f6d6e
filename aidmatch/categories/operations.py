"""Reading the category tree: the tree itself, a branch's ids for filters, ancestors for matching.

The tree is small (under a hundred rows), so the walks load every (id, parent_id) pair in one
query and follow them in Python: one round trip, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Row, func, select
from sqlalchemy.orm import selectinload

from aidmatch.categories.models import Category
from aidmatch.extensions import db


def _category_id(category: Category | int) -> int:
    return category if isinstance(category, int) else category.id


def category_parents() -> dict[int, int | None]:
    """The whole tree as {id: parent_id}, in one query (for ancestors_in and root_in)."""
    return dict(db.session.execute(select(Category.id, Category.parent_id)).all())


def category_tree() -> list[Category]:
    """The root categories in order of position, each with its children loaded, also in order."""
    return list(
        db.session.scalars(
            select(Category)
            .where(Category.parent_id.is_(None))
            .options(selectinload(Category.children, recursion_depth=-1))
            .order_by(Category.position, Category.slug)
        )
    )


def descendant_ids(category: Category | int) -> set[int]:
    """The ids of a category and of everything below it (a filter on a parent includes them)."""
    root = _category_id(category)
    children: dict[int, list[int]] = {}
    for child, parent in category_parents().items():
        if parent is not None:
            children.setdefault(parent, []).append(child)
    found, stack = {root}, [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def ancestor_ids(category: Category | int) -> list[int]:
    """The ids above a category, nearest first, itself excluded (an offer there covers it)."""
    return ancestors_in(category_parents(), _category_id(category))


def ancestors_in(parents: Mapping[int, int | None], category_id: int) -> list[int]:
    """The ids above a category in a loaded map of parents, nearest first, itself excluded;
    the walk stops where a chain would come back on itself."""
    found: list[int] = []
    current = parents.get(category_id)
    while current is not None and current not in found and current != category_id:
        found.append(current)
        current = parents.get(current)
    return found


def root_in(parents: Mapping[int, int | None], category_id: int) -> int:
    """The root above a category in a loaded map of parents (itself if it is a root)."""
    chain = ancestors_in(parents, category_id)
    return chain[-1] if chain else category_id


def named_categories(lang: str) -> list[Row]:
    """Every category as plain columns (id, slug, parent_id, name, unit, retired_at), in menu
    order, its name in ``lang`` (English where that is empty): one query, no ORM objects.
    Retired ones too: old needs and offers still name them."""
    name_column = {"uk": Category.name_uk, "de": Category.name_de}.get(lang, Category.name_en)
    return db.session.execute(
        select(
            Category.id,
            Category.slug,
            Category.parent_id,
            func.coalesce(func.nullif(name_column, ""), Category.name_en),
            Category.unit,
            Category.retired_at,
        ).order_by(Category.position, Category.slug)
    ).all()


def get_by_slug(slug: str) -> Category | None:
    """The category with this slug, or None."""
    return db.session.scalar(select(Category).where(Category.slug == slug))


def name_key(text: str) -> str:
    """A category name or code as typed, compared without case and extra spaces."""
    return " ".join((text or "").split()).casefold()


def categories_by_name() -> dict[str, Category]:
    """Every category under its code (slug) and its names in uk, en and de (name_key), for
    reading a name typed in any of the three languages; one query. A code wins over a name,
    a category in use over a retired one of the same name, then an earlier one (menu order)
    over a later one."""
    found: dict[str, Category] = {}
    in_use_first = (Category.retired_at.is_not(None), Category.position, Category.slug)
    rows = list(db.session.scalars(select(Category).order_by(*in_use_first)))
    for category in rows:
        found[name_key(category.slug)] = category
    for category in rows:
        for name in (category.name_uk, category.name_en, category.name_de):
            if name:
                found.setdefault(name_key(name), category)
    return found
