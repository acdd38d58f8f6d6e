"""The seeded category tree (migration 0002) and the read helpers of categories.operations."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from aidmatch.categories.models import Category, Unit
from aidmatch.categories.operations import (
    ancestor_ids,
    ancestors_in,
    category_tree,
    descendant_ids,
    get_by_slug,
    named_categories,
    root_in,
)
from aidmatch.extensions import db
from tests.conftest import make_test_app

REQUIRED_TOP_LEVEL = {
    "tactical-medicine",
    "medical",
    "energy",
    "water",
    "food",
    "hygiene",
    "shelter",
    "clothing",
    "communications",
    "vehicles",
    "tools",
    "evacuation",
    "funds",
}


def _all() -> list[Category]:
    return list(db.session.scalars(sa.select(Category)))


def _children(category: Category) -> list[Category]:
    return [c for c in _all() if c.parent_id == category.id]


def test_required_top_level_categories_exist(app):
    roots = {c.slug for c in _all() if c.parent_id is None}
    assert REQUIRED_TOP_LEVEL - roots == set()


def test_every_category_has_a_unit_and_three_names(app):
    categories = _all()
    assert len(categories) == 82  # as seeded by the migrations
    for category in categories:
        assert category.unit in set(Unit), category
        assert category.name_uk.strip() and category.name_en.strip() and category.name_de.strip()
        # The Ukrainian name is written in Cyrillic, and is not the English one.
        assert any("\u0400" <= ch <= "\u04ff" for ch in category.name_uk), category
        assert category.name_uk != category.name_en


def test_slugs_are_unique_and_the_tree_is_two_levels(app):
    categories = _all()
    slugs = [c.slug for c in categories]
    assert len(slugs) == len(set(slugs))
    by_id = {c.id: c for c in categories}
    for category in categories:
        if category.parent_id is not None:
            assert by_id[category.parent_id].parent_id is None, category
    siblings = Counter((c.parent_id, c.position) for c in categories)
    assert max(siblings.values()) == 1  # an unambiguous order among siblings


def test_units_fit_what_is_counted(app):
    unit = {c.slug: c.unit for c in _all()}
    assert unit["funds"] == Unit.EUR
    assert unit["fuel"] == unit["drinking-water"] == unit["water"] == Unit.L
    assert unit["food"] == unit["canned-food"] == Unit.KG
    assert unit["energy"] == unit["generators"] == unit["tourniquets"] == Unit.PCS
    # A parent counts in the unit most of its children use.
    for parent in [c for c in _all() if c.parent_id is None]:
        children = _children(parent)
        if children:
            counts = Counter(c.unit for c in children)
            assert counts[parent.unit] == max(counts.values()), parent


def test_category_tree_orders_roots_and_children_by_position(app):
    tree = category_tree()
    assert [c.slug for c in tree][:3] == ["tactical-medicine", "medical", "energy"]
    assert all(c.parent_id is None for c in tree)
    assert [c.position for c in tree] == sorted(c.position for c in tree)
    energy = next(c for c in tree if c.slug == "energy")
    assert [c.slug for c in energy.children][:2] == ["generators", "power-stations"]
    assert [c.position for c in energy.children] == sorted(c.position for c in energy.children)
    assert sum(1 + len(c.children) for c in tree) == len(_all())


def test_descendant_ids_include_the_category_and_its_children(app):
    energy = get_by_slug("energy")
    expected = {energy.id} | {c.id for c in _children(energy)}
    assert descendant_ids(energy) == expected
    assert descendant_ids(energy.id) == expected
    fuel = get_by_slug("fuel")
    assert fuel.id in expected
    assert descendant_ids(fuel) == {fuel.id}


def test_ancestor_ids_go_up_nearest_first(app):
    energy, fuel = get_by_slug("energy"), get_by_slug("fuel")
    assert ancestor_ids(fuel) == [energy.id]
    assert ancestor_ids(fuel.id) == [energy.id]
    assert ancestor_ids(energy) == []


def test_walks_over_a_loaded_map_of_parents():
    parents = {1: None, 2: 1, 3: 2, 4: None, 5: 6, 6: 5}  # 5 and 6: a loop (bad data)
    assert ancestors_in(parents, 3) == [2, 1]
    assert ancestors_in(parents, 1) == [] and ancestors_in(parents, 99) == []
    assert (root_in(parents, 3), root_in(parents, 2), root_in(parents, 4)) == (1, 1, 4)
    assert ancestors_in(parents, 5) == [6]  # stops before coming back to itself
    assert root_in(parents, 5) == 6


def test_named_categories_in_a_language_in_menu_order(app):
    fuel = get_by_slug("fuel")
    rows = {row.slug: row for row in named_categories("uk")}
    assert tuple(rows["fuel"]) == (fuel.id, "fuel", fuel.parent_id, "Пальне", fuel.unit, None)
    assert {row.slug: row[3] for row in named_categories("fr")}["fuel"] == "Fuel"
    roots = [row.slug for row in named_categories("en") if row.parent_id is None]
    assert roots == [c.slug for c in category_tree()]


def test_get_by_slug_and_names_in_three_languages(app):
    fuel = get_by_slug("fuel")
    assert (fuel.name("uk"), fuel.name("en"), fuel.name("de")) == ("Пальне", "Fuel", "Kraftstoff")
    assert fuel.name("fr") == "Fuel"
    assert get_by_slug("no-such-category") is None


def test_seed_migration_keeps_existing_rows_and_downgrade_removes_only_its_own(
    empty_database_url,
):
    app = make_test_app(empty_database_url)
    table = db.metadata.tables["categories"]
    with app.app_context():
        upgrade(revision="0001")
        with db.engine.begin() as conn:
            conn.execute(
                table.insert(),
                [
                    dict(slug="energy", name_uk="Енергія", name_en="Power", name_de="Strom",
                         unit="pcs", position=5),
                    dict(slug="local-extra", name_uk="Інше", name_en="Other", name_de="Anderes",
                         unit="pcs", position=999),
                ],
            )  # fmt: skip
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(sa.select(table.c.id, table.c.slug, table.c.parent_id)).all()
            energy = conn.execute(sa.select(table).where(table.c.slug == "energy")).one()
        slugs = Counter(slug for _id, slug, _parent in rows)
        assert max(slugs.values()) == 1
        assert energy.name_en == "Power"  # an existing row is left as it was
        fuel_parent = next(parent for _id, slug, parent in rows if slug == "fuel")
        assert fuel_parent == energy.id  # and the seeded children hang under it

        downgrade(revision="0001")
        with db.engine.connect() as conn:
            left = list(conn.scalars(sa.select(table.c.slug)))
        assert left == ["local-extra"]
        downgrade(revision="base")
        db.engine.dispose()
