"""Forms of the admins' category pages: a new category, and one category's names and parent."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField

from aidmatch.categories.editing import NAME_MAX, SLUG_MAX
from aidmatch.web.labels import UNIT_LABELS, options


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class CategoryForm(FlaskForm):
    """Names in the three languages and the parent; the verbs check every value
    (categories/editing.py), so the page and its refusals say the same."""

    name_uk = StringField(_l("Name in Ukrainian"), filters=[_strip])
    name_en = StringField(_l("Name in English"), filters=[_strip])
    name_de = StringField(_l("Name in German"), filters=[_strip])
    parent = SelectField(_l("Parent category"), validate_choice=False, default="")

    def names(self) -> dict[str, str]:
        """{"uk": ..., "en": ..., "de": ...} as typed."""
        return {lang: getattr(self, f"name_{lang}").data or "" for lang in ("uk", "en", "de")}


class NewCategoryForm(CategoryForm):
    slug = StringField(
        _l("Code"), filters=[_strip], render_kw={"maxlength": SLUG_MAX, "autocapitalize": "off"}
    )
    unit = SelectField(_l("Unit"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit.choices = options(UNIT_LABELS.items())


NAME_ATTRS = {"maxlength": NAME_MAX}
