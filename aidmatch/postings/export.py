"""Needs and offers out to spreadsheets (CSV, XLSX), and the import's template: the rows a
viewer may see, each as the privacy policy shows it to them (serialize.py's dicts)."""

from __future__ import annotations

from flask_babel import gettext as _

from aidmatch.categories.operations import named_categories
from aidmatch.extensions import db
from aidmatch.postings.hxl import hxl_columns, hxl_row, shared_row
from aidmatch.postings.kind import Kind
from aidmatch.postings.sheet_rows import export_columns, flat, import_columns
from aidmatch.postings.sheets import write_csv, write_xlsx
from aidmatch.privacy import viewer_for
from aidmatch.web.labels import unit_label

MAX_EXPORT_ROWS = 50_000
CHUNK = 500


def exported_rows(viewer, query, kind: Kind) -> list[dict]:
    """A needs or offers query run for a viewer: each row's values (privacy applied), read
    in chunks (one privacy query per chunk)."""
    found = list(db.session.scalars(query.limit(MAX_EXPORT_ROWS)).unique())
    rows = []
    for start in range(0, len(found), CHUNK):
        chunk = found[start : start + CHUNK]
        exact = viewer_for(viewer).exact_ids(chunk)
        rows.extend(flat(kind.to_dict(obj, viewer, exact=obj.id in exact)) for obj in chunk)
    return rows


def hxl_rows(viewer, query, kind: Kind) -> list[dict]:
    """A needs or offers query run for a viewer, each row as its HXL export shows it
    (postings/hxl.py: coarse places, no sensitive need, names only where a shared file may
    name them)."""
    policy = viewer_for(viewer)
    found = db.session.scalars(query.limit(MAX_EXPORT_ROWS)).unique()
    return [hxl_row(kind, obj, policy) for obj in found if shared_row(obj, policy)]


def export(viewer, query, kind: Kind, fmt: str, hxl: bool = False) -> bytes:
    """The query's rows as a CSV or XLSX file (fmt "csv" or "xlsx"); a field the viewer may
    not see is blank. With hxl, the HXL export: its columns, with their hashtags under the
    header."""
    if hxl:
        columns, tags = hxl_columns(kind)
        rows = hxl_rows(viewer, query, kind)
    else:
        columns, tags, rows = export_columns(kind), None, exported_rows(viewer, query, kind)
    if fmt == "xlsx":
        return write_xlsx([(kind.plural, columns, rows)], tags)
    return write_csv(columns, rows, tags)


def template(kind: Kind, lang: str, fmt: str) -> bytes:
    """An empty import file: the header row; an XLSX also has a second sheet of the
    categories (code, name, unit) in the user's language."""
    columns = import_columns(kind)
    if fmt == "csv":
        return write_csv(columns, [])
    categories = [
        [slug, name, unit_label(unit)]
        for _id, slug, _parent, name, unit, retired_at in named_categories(lang)
        if retired_at is None  # a retired category takes no new posting
    ]
    header = (_("category (code)"), _("name"), _("unit"))
    return write_xlsx([(kind.plural, columns, []), (_("Categories"), header, categories)])
