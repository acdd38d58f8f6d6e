"""What admins do to the category tree (/admin/categories): add, rename in uk/en/de, move
under another parent, retire and restore. Verbs: they check, change rows, flush and audit;
never commit.

Retiring never deletes: old needs, offers and matches keep their category and show its name;
a retired category is offered for no new posting (categories.menu, postings/validate.py
refuse it), and what lies below it retires with it. A write to the categories table renews
the shared cache's generation on commit (cache.py), so nothing keeps the old tree.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from aidmatch.audit.operations import record
from aidmatch.categories.models import Category, Unit
from aidmatch.categories.operations import ancestors_in, category_parents, descendant_ids
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.refusals import Conflict, Invalid

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SLUG_MAX = 64
NAME_MAX = 120
LANGUAGES = ("uk", "en", "de")


def _clean_names(names: dict) -> dict[str, str]:
    """The three names, spaces tidied; each required, at most NAME_MAX characters."""
    cleaned, problems = {}, {}
    for lang in LANGUAGES:
        value = " ".join(str(names.get(lang) or "").split())
        if not value:
            problems[f"name_{lang}"] = _l("Enter the name in this language.")
        elif len(value) > NAME_MAX:
            problems[f"name_{lang}"] = _l("Use at most %(num)d characters.", num=NAME_MAX)
        cleaned[lang] = value
    if problems:
        raise Invalid(_l("Some names are missing or too long."), fields=problems)
    return cleaned


def _check_parent(category: Category | None, parent: Category | None) -> None:
    """A parent that is active and not the category itself nor anything below it."""
    if parent is None:
        return
    if parent.retired:
        raise Invalid(_l("This category is retired: choose an active parent."), field="parent")
    if category is not None and parent.id in descendant_ids(category):
        raise Invalid(
            _l("A category cannot move under itself or under a category below it."),
            field="parent",
        )


def _last_position(parent: Category | None) -> int:
    siblings = select(func.max(Category.position)).where(
        Category.parent_id.is_(None) if parent is None else Category.parent_id == parent.id
    )
    return (db.session.scalar(siblings) or 0) + 1


def add_category(actor, slug: str, names: dict, unit, parent: Category | None) -> Category:
    """A new category at the end of its parent's children (or of the roots)."""
    slug = (slug or "").strip().lower()
    if not slug or len(slug) > SLUG_MAX or not SLUG.fullmatch(slug):
        raise Invalid(
            _l("Use lower-case Latin letters, digits and hyphens, like sleeping-bags."),
            field="slug",
        )
    cleaned = _clean_names(names)
    try:
        unit = Unit(unit)
    except ValueError:
        raise Invalid(_l("Choose a unit from the list."), field="unit") from None
    _check_parent(None, parent)
    if db.session.scalar(select(Category.id).where(Category.slug == slug)) is not None:
        raise Conflict(_l("A category with this code exists already."), field="slug")
    category = Category(
        slug=slug,
        parent=parent,
        name_uk=cleaned["uk"],
        name_en=cleaned["en"],
        name_de=cleaned["de"],
        unit=unit,
        position=_last_position(parent),
    )
    db.session.add(category)
    db.session.flush()
    record(
        actor,
        "category.create",
        category,
        after={"slug": slug, "parent_id": category.parent_id, "unit": unit, **cleaned},
    )
    return category


def rename_category(actor, category: Category, names: dict) -> bool:
    """New names in uk, en and de; whether any changed."""
    cleaned = _clean_names(names)
    before = {lang: getattr(category, f"name_{lang}") for lang in LANGUAGES}
    if cleaned == before:
        return False
    for lang, value in cleaned.items():
        setattr(category, f"name_{lang}", value)
    db.session.flush()
    changed = [lang for lang in LANGUAGES if cleaned[lang] != before[lang]]
    record(
        actor,
        "category.rename",
        category,
        before={f"name_{lang}": before[lang] for lang in changed},
        after={f"name_{lang}": cleaned[lang] for lang in changed},
    )
    return True


def move_category(actor, category: Category, parent: Category | None) -> bool:
    """Put the category (and what is below it) under another parent, or make it a root;
    a move into its own branch is refused (no cycles). Whether it moved."""
    new_parent_id = parent.id if parent is not None else None
    if new_parent_id == category.parent_id:
        return False
    _check_parent(category, parent)
    before = category.parent_id
    category.parent = parent
    category.position = _last_position(parent)
    db.session.flush()
    # The tree stays a tree: no chain comes back on itself (the check above makes sure).
    assert category.id not in ancestors_in(category_parents(), category.id)
    record(
        actor, "category.move", category, before={"parent_id": before},
        after={"parent_id": new_parent_id},
    )  # fmt: skip
    return True


def retire_category(actor, category: Category) -> list[Category]:
    """Retire a category and every active one below it; the ones retired now."""
    if category.retired:
        raise Conflict(_l("This category is retired already."), code="conflict")
    now = utcnow()
    below = descendant_ids(category)
    retired = list(
        db.session.scalars(
            select(Category)
            .where(Category.id.in_(below), Category.retired_at.is_(None))
            .order_by(Category.id)
        )
    )
    for row in retired:
        row.retired_at = now
    db.session.flush()
    for row in retired:
        record(actor, "category.retire", row, before={"retired_at": None},
               after={"retired_at": now})  # fmt: skip
    return retired


def restore_category(actor, category: Category) -> None:
    """Offer a retired category again (only itself; its parent must be active)."""
    if not category.retired:
        raise Conflict(_l("This category is in use already."), code="conflict")
    if category.parent is not None and category.parent.retired:
        raise Conflict(
            _l("Its parent category is retired: restore the parent first."), code="conflict"
        )
    before = category.retired_at
    category.retired_at = None
    db.session.flush()
    record(actor, "category.restore", category, before={"retired_at": before},
           after={"retired_at": None})  # fmt: skip
