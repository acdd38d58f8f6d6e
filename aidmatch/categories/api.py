"""/api/v1/categories: the category tree, flat, with units and names in the caller's language."""

from __future__ import annotations

import marshmallow as ma
from flask_babel import get_locale
from sqlalchemy import select
from sqlalchemy.orm import aliased

from aidmatch.categories.models import Category
from aidmatch.extensions import db
from aidmatch.web.api import make_blueprint

blp = make_blueprint(
    "api_categories", __name__, tag="Categories", url_prefix="/categories", description="Categories"
)


class CategoryOut(ma.Schema):
    slug = ma.fields.String()
    name = ma.fields.String()
    parent = ma.fields.String(allow_none=True, metadata={"description": "parent's slug"})
    unit = ma.fields.String()


class CategoryList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CategoryOut))


@blp.route("", methods=["GET"])
@blp.response(200, CategoryList)
def list_():
    """Every category a new need or offer may take (public; retired ones are left out):
    slug, name, parent slug and unit."""
    language = str(get_locale() or "en")
    parent = aliased(Category)
    rows = db.session.execute(
        select(Category, parent.slug)
        .outerjoin(parent, Category.parent_id == parent.id)
        .where(Category.retired_at.is_(None))
        .order_by(Category.parent_id.is_not(None), Category.position, Category.slug)
    ).all()
    items = [
        {"slug": c.slug, "name": c.name(language), "parent": p, "unit": str(c.unit)}
        for c, p in rows
    ]
    return {"items": items}
