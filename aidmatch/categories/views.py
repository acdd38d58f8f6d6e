"""/admin/categories: the category tree for admins: add a category, rename it in uk/en/de,
move it under another parent, retire or restore it (categories/editing.py's verbs)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from aidmatch.categories.editing import (
    add_category,
    move_category,
    rename_category,
    restore_category,
    retire_category,
)
from aidmatch.categories.forms import NAME_ATTRS, CategoryForm, NewCategoryForm
from aidmatch.categories.models import Category
from aidmatch.categories.operations import category_tree, descendant_ids
from aidmatch.extensions import db
from aidmatch.permissions import Role, require_role
from aidmatch.refusals import Refusal
from aidmatch.web.errors import put_on_form
from aidmatch.web.labels import language, options, unit_label

bp = Blueprint("admin_categories", __name__, url_prefix="/admin/categories")


def _flat(tree: list[Category], depth: int = 0) -> list[tuple[Category, int]]:
    """The tree in menu order, each category with its depth."""
    rows = []
    for category in tree:
        rows.append((category, depth))
        rows.extend(_flat(category.children, depth + 1))
    return rows


def _parent_choices(rows, lang: str, leave_out: set[int] = frozenset()) -> list:
    """Where a category may go: no parent, or an active category outside its own branch."""
    pairs = [("", _("— none (a top-level category) —"))]
    pairs += [
        (str(c.id), "\u2003" * depth + c.name(lang))
        for c, depth in rows
        if not c.retired and c.id not in leave_out
    ]
    return options(pairs)


def _parent_of(form: CategoryForm) -> Category | None:
    """The chosen parent (None: top level); a value naming no category is refused."""
    value = form.parent.data or ""
    if not value:
        return None
    parent = db.session.get(Category, int(value)) if value.isdigit() else None
    if parent is None:
        form.parent.errors = [*form.parent.errors, _("Choose a category from the list.")]
    return parent


@bp.route("", methods=["GET", "POST"])
@require_role(Role.ADMIN)
def index():
    """The tree (retired categories marked) and the form that adds one."""
    lang = language()
    tree = category_tree()
    rows = _flat(tree)
    form = NewCategoryForm()
    form.parent.choices = _parent_choices(rows, lang)
    if request.method == "POST" and form.validate_on_submit():
        parent = _parent_of(form)
        if not form.parent.errors:
            try:
                category = add_category(
                    current_user._get_current_object(),
                    form.slug.data,
                    form.names(),
                    form.unit.data,
                    parent,
                )
            except Refusal as err:
                db.session.rollback()
                put_on_form(form, err)
            else:
                flash(_("The category %(name)s is added.", name=category.name(lang)), "ok")
                return redirect(url_for("admin_categories.index"))
    return render_template(
        "admin/categories.html",
        tree=tree,
        form=form,
        lang=lang,
        unit_label=unit_label,
        name_attrs=NAME_ATTRS,
    ), (422 if form.errors or form.form_errors else 200)


@bp.route("/<int:category_id>", methods=["GET", "POST"])
@require_role(Role.ADMIN)
def edit(category_id: int):
    """One category: its names in uk, en and de and its parent."""
    category = db.get_or_404(Category, category_id)
    lang = language()
    rows = _flat(category_tree())
    form = CategoryForm(
        formdata=request.form if request.method == "POST" else None,
        name_uk=category.name_uk,
        name_en=category.name_en,
        name_de=category.name_de,
        parent=str(category.parent_id or ""),
    )
    form.parent.choices = _parent_choices(rows, lang, leave_out=descendant_ids(category))
    if request.method == "POST" and form.validate_on_submit():
        parent = _parent_of(form)
        if not form.parent.errors:
            actor = current_user._get_current_object()
            try:
                renamed = rename_category(actor, category, form.names())
                moved = move_category(actor, category, parent)
            except Refusal as err:
                db.session.rollback()
                put_on_form(form, err)
            else:
                if renamed or moved:
                    flash(_("Your changes are saved."), "ok")
                return redirect(url_for("admin_categories.index"))
    return render_template(
        "admin/category.html", category=category, form=form, lang=lang, name_attrs=NAME_ATTRS
    ), (422 if form.errors or form.form_errors else 200)


def _act(category_id: int, verb, done: str):
    category = db.get_or_404(Category, category_id)
    name = category.name(language())
    try:
        verb(current_user._get_current_object(), category)
    except Refusal as err:
        db.session.rollback()
        flash(err.message, "error")
    else:
        flash(done % {"name": name}, "ok")
    return redirect(url_for("admin_categories.index"))


@bp.post("/<int:category_id>/retire")
@require_role(Role.ADMIN)
def retire(category_id: int):
    """Retire a category (and what is below it): no new posting takes it; old ones keep it."""
    return _act(
        category_id,
        retire_category,
        _("%(name)s is retired: new needs and offers can no longer choose it."),
    )


@bp.post("/<int:category_id>/restore")
@require_role(Role.ADMIN)
def restore(category_id: int):
    """Offer a retired category again."""
    return _act(category_id, restore_category, _("%(name)s is offered again."))
