"""Needs from and to spreadsheets (CSV): import all rows or none; export with privacy applied.

Import header (first row; column order free, names case-insensitive; `,` or `;` separated,
UTF-8 with or without BOM): required `title, category, quantity, place`; optional
`description, urgency, needed_by, oblast, lat, lon, delivery_note, sensitive`.
`category` is a slug (see /api/v1/categories), `place` a settlement name (with `oblast` to
tell apart places of the same name), `needed_by` like 2026-12-31, `sensitive` yes/no.
A file exported here carries a `point` column: a row whose point is `settlement_centre` (the
group gave no point of its own) imports without its lat and lon, so it stays so.
"""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _

from aidmatch.extensions import db
from aidmatch.needs.operations import create_need
from aidmatch.postings.validate import invalid
from aidmatch.refusals import Refusal

REQUIRED = ("title", "category", "quantity", "place")
OPTIONAL = (
    "description",
    "urgency",
    "needed_by",
    "oblast",
    "lat",
    "lon",
    "delivery_note",
    "sensitive",
)
MAX_ROWS = 1000
MAX_BYTES = 2 * 1024 * 1024
TRUE_WORDS = {"yes", "y", "true", "1", "так", "ja", "x"}
FALSE_WORDS = {"", "no", "n", "false", "0", "ні", "nein"}


def _decode(raw: bytes) -> str:
    if len(raw) > MAX_BYTES:
        raise invalid(_("The file is too large: at most 2 MB."), {"file": _("Too large.")})
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise invalid(
            _('The file is not UTF-8 text. Save it as "CSV UTF-8" and upload it again.'),
            {"file": _("Not UTF-8.")},
        ) from None


def _rows(text: str) -> tuple[list[str], list[dict]]:
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise invalid(_("The file is empty."), {"file": _("Empty.")}) from None
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise invalid(
            _("Missing column(s): %(cols)s.", cols=", ".join(missing)),
            {"file": _("Missing column(s): %(cols)s.", cols=", ".join(missing))},
        )
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        rows.append(
            {name: (values[i].strip() if i < len(values) else "") for i, name in enumerate(names)}
        )
        if len(rows) > MAX_ROWS:
            raise invalid(
                _("At most %(n)d rows per file.", n=MAX_ROWS), {"file": _("Too many rows.")}
            )
    if not rows:
        raise invalid(_("The file has a header but no rows."), {"file": _("No rows.")})
    return names, rows


def import_needs(org, raw: bytes, actor) -> list:
    """Create one need per row, or none: every row is validated, errors name row and field.

    Rows are created in savepoints so that all errors are found in one pass; if any row
    failed, everything is rolled back by raising (the caller's transaction ends in rollback).
    """
    from aidmatch.places.search import resolve

    _names, rows = _rows(_decode(raw))
    errors: dict[str, str] = {}
    created = []
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        data = {k: row.get(k, "") for k in REQUIRED + OPTIONAL}
        if row.get("point", "").lower() == "settlement_centre":  # our own export's words
            data["lat"] = data["lon"] = ""
        sensitive = data.pop("sensitive").lower()
        if sensitive not in TRUE_WORDS | FALSE_WORDS:
            errors[f"row {number}: sensitive"] = _("Write yes or no.")
            continue
        data["sensitive"] = sensitive in TRUE_WORDS
        data["urgency"] = data["urgency"].lower() or "normal"
        place_name, oblast = data.pop("place"), data.pop("oblast")
        place = resolve(place_name, oblast or None) if place_name else None
        if place is None:
            errors[f"row {number}: place"] = _("Unknown place %(name)s.", name=place_name or "—")
            continue
        data["place_id"] = place.id
        nested = db.session.begin_nested()
        try:
            created.append(create_need(org, data, actor))
            nested.commit()
        except Refusal as exc:
            nested.rollback()
            for field, message in (exc.fields or {"_": exc.message}).items():
                errors[f"row {number}: {field}"] = str(message)
    if errors:
        raise invalid(
            _("Nothing was imported: %(n)d problem(s) in the file.", n=len(errors)),
            errors,
        )
    return created
