"""Needs and offers as spreadsheet rows: the columns, a row read into a posting's data (a
category by its code or its name in uk, en or de; a place as the need form finds it), the
preview of every row with its problems (a place the form would ask about, among several of
the name, is the likeliest one, said so in the preview), storing the rows once, and the rows of an export.

Nothing here decides what may be posted: each row goes through the kit's validation
(operations.clean) for its preview and through the verb (operations.post) to be stored, so a
row is refused for the reasons, and in the words, of the form and the API. What is read here
is only how text in a cell means a value: yes/no, a date written 31.12.2026, an urgency in
words, the apostrophe CSV exports put before a formula (sheets.unsafe_cell).

Storing is idempotent: each row is posted with the key ``sheet:<token>:<row number>``, the
token drawn once for the preview, so a confirmation sent twice posts each row once (the
unique index of migration 0003 on the organization and the key).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date

from flask_babel import force_locale
from flask_babel import gettext as _

from aidmatch.categories.operations import categories_by_name, name_key
from aidmatch.db import utcnow
from aidmatch.places.labels import place_label
from aidmatch.postings.forms import lookup_place
from aidmatch.postings.kind import Kind
from aidmatch.postings.operations import clean, post_many
from aidmatch.postings.validate import TEXT_MAX
from aidmatch.privacy.policy import POINT_EXACT
from aidmatch.refusals import Invalid, Refusal
from aidmatch.web.labels import URGENCY_LABELS

LANGUAGES = ("uk", "en", "de")
COMMON = ("title", "description", "category", "quantity", "place", "oblast")
LOCATION = ("place_id", "lat", "lon", "point")
TRUE_WORDS = {"yes", "y", "true", "1", "x", "так", "т", "ja", "j", "wahr"}
FALSE_WORDS = {"", "no", "n", "false", "0", "ні", "н", "nein", "falsch"}
ANYWHERE_WORDS = {"", "anywhere", "будь-де", "überall", "uberall"}
_DOTTED_DATE = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")
# A value longer than any field takes is cut here (it is refused all the same): what a row
# carries into the preview's hidden field stays bounded.
CELL_MAX = TEXT_MAX + 1
# Where a validation message about a field is shown: the column it came from.
_COLUMN_OF = {"place_id": "place", "idempotency_key": "title"}


def import_columns(kind: Kind) -> tuple[str, ...]:
    """The columns an import reads, in a template's order."""
    return (*COMMON, *kind.sheet_columns, *LOCATION)


def export_columns(kind: Kind) -> tuple[str, ...]:
    """The columns of an export: every column an import reads, and what only shows
    (id, unit, counters, status, precision, organization, timestamps)."""
    head = ("id", "title", "description", "category", "unit", "quantity", *kind.counter_columns)
    where = ("place", "oblast", "place_id", "lat", "lon", "precision_km", "point")
    tail = ("status", "organization", "verified", "created_at")
    return (*head, *kind.sheet_columns, *where, *tail)


@dataclass
class Row:
    """One row of an upload: its number in the file (the header is row 1), what it says in
    the user's words (title, category, quantity, place) and its problems as
    (column, message), or the data it posts."""

    number: int
    cells: dict[str, str]
    data: dict = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)
    category: object = None
    place: object = None
    note: str = ""  # said about the place chosen among several of the same name

    @property
    def good(self) -> bool:
        """Can it be stored?"""
        return not self.problems


class Reader:
    """Reads the rows of one upload: the category names and the places are looked up once
    per distinct value."""

    def __init__(self, kind: Kind) -> None:
        self.kind = kind
        self.categories = categories_by_name()
        self.urgencies = _urgency_words()
        self.places: dict[tuple, object] = {}
        self.today = utcnow().date()

    def place(self, text: str, oblast: str, place_id: str):
        """The need form's lookup of a typed place (one typo forgiven), narrowed by oblast."""
        key = (text, oblast, place_id)
        if key not in self.places:
            typed = f"{text}, {oblast}" if text and oblast else text
            self.places[key] = lookup_place(typed, place_id or None)
        return self.places[key]

    def read(self, number: int, cells: dict[str, str]) -> Row:
        """A row's cells as a posting's data, checked by the kit's validation."""
        row = Row(number, cells)
        data = {c: cells.get(c, "") for c in ("title", "description", "quantity")}
        data.update({c: cells.get(c, "") for c in self.kind.sheet_columns})
        self._category(row, data)
        self._place(row, data)
        self._own(row, data)
        try:
            clean(self.kind, data, self.today, partial=False)
        except Invalid as exc:
            told = {column for column, _message in row.problems}
            for name, message in (exc.fields or {"title": exc.message}).items():
                column = _COLUMN_OF.get(name, name)
                if column not in told:  # an unknown category or place was said already
                    row.problems.append((column, message))
        row.data = data
        return row

    def _category(self, row: Row, data: dict) -> None:
        typed = row.cells.get("category", "")
        row.category = self.categories.get(name_key(typed))
        if row.category is None:
            if typed:
                message = _(
                    "No category is called “%(name)s”: write a name or code from the list"
                    " of categories.",
                    name=typed,
                )
            else:
                message = _("Write a category: a name or code from the list of categories.")
            row.problems.append(("category", message))
        data["category"] = row.category

    def _place(self, row: Row, data: dict) -> None:
        cells = row.cells
        point = cells.get("point", "").strip().lower()
        if point in ("", POINT_EXACT):  # an export's settlement centre or area is no point
            data["lat"], data["lon"] = cells.get("lat", ""), cells.get("lon", "")
        text, oblast, place_id = (cells.get(c, "") for c in ("place", "oblast", "place_id"))
        if not text and not place_id:
            if not data.get("lat"):
                row.problems.append(("place", _("Write the settlement.")))
            return
        found = self.place(text, oblast, place_id)
        if found.place is not None:
            row.place, data["place_id"] = found.place, found.place.id
        elif found.candidates:  # the form asks which; the preview shows the likeliest
            row.place, data["place_id"] = found.candidates[0], found.candidates[0].id
            others = "; ".join(place_label(p) for p in found.candidates[1:4])
            row.note = _(
                "Other places have this name too (%(places)s): write the oblast in the"
                " oblast column to choose one of them.",
                places=others,
            )
        else:
            row.problems.append(("place", found.error))

    def _own(self, row: Row, data: dict) -> None:
        for column in ("needed_by", "available_until"):
            if column in data:
                data[column] = _iso_date(data[column])
        if "urgency" in data:
            typed = name_key(data["urgency"])
            data["urgency"] = self.urgencies.get(typed, typed)
        if "sensitive" in data:
            typed = name_key(data["sensitive"])
            if typed not in TRUE_WORDS | FALSE_WORDS:
                row.problems.append(("sensitive", _("Write yes or no.")))
            data["sensitive"] = typed in TRUE_WORDS
        if "delivery_radius_km" in data and name_key(data["delivery_radius_km"]) in ANYWHERE_WORDS:
            data["delivery_radius_km"] = None


def _urgency_words() -> dict[str, str]:
    """An urgency as typed in any language (its code, or its word in uk, en or de)."""
    words = {code: code for code in URGENCY_LABELS}
    for language in LANGUAGES:
        with force_locale(language):
            words.update({name_key(str(label)): code for code, label in URGENCY_LABELS.items()})
    return words


def _iso_date(text: str) -> str:
    """31.12.2026 or 31/12/2026 (day first, as uk and de write it) as 2026-12-31; any other
    text as it is, for the validation to judge."""
    found = _DOTTED_DATE.match(text.strip())
    if not found:
        return text
    day, month, year = (int(g) for g in found.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return text


def preview(kind: Kind, rows: list[tuple[int, dict[str, str]]]) -> list[Row]:
    """Every row (number, cells) read and checked, nothing stored."""
    reader = Reader(kind)
    return [
        reader.read(number, {k: v[:CELL_MAX] for k, v in cells.items()}) for number, cells in rows
    ]


def new_token() -> str:
    """The token of one preview: its rows' idempotency keys begin with it."""
    return secrets.token_urlsafe(16)


@dataclass
class Stored:
    """What storing did: rows posted now, rows a confirmation sent before had posted, and
    rows left out (their problems)."""

    created: list = field(default_factory=list)
    again: list = field(default_factory=list)
    skipped: list[Row] = field(default_factory=list)


def store(kind: Kind, org, actor, rows: list[Row], token: str, everything: bool) -> Stored:
    """Post the good rows, each once (key sheet:<token>:<row>), through the kit's verb for
    many (operations.post_many: post()'s checks, rows and audit); with everything, post
    nothing unless every row is good (the caller's transaction rolls back when problems
    remain: a row refused on the way, too, is reported as a problem)."""
    stored = Stored(skipped=[r for r in rows if not r.good])
    if everything and stored.skipped:
        return stored
    good = [r for r in rows if r.good]
    items = [(r.data, f"sheet:{token}:{r.number}") for r in good]
    for row, answer in zip(good, post_many(kind, org, items, actor), strict=True):
        if isinstance(answer, Refusal):
            for name, message in (answer.fields or {"title": answer.message}).items():
                row.problems.append((_COLUMN_OF.get(name, name), message))
            stored.skipped.append(row)
        else:
            (stored.created if answer.created else stored.again).append(answer.obj)
    return stored


def flat(d: dict) -> dict:
    """An exported need or offer (its dict as the viewer may see it) as one row's values."""
    row = dict(d)
    row["place"] = d["place"]["name"]
    row["oblast"] = d["place"]["oblast"] or ""
    row["place_id"] = d["place"]["id"]
    row.update(d["location"])
    row["point"] = d["location"]["kind"]  # exact, settlement_centre or area (Viewer.point)
    row["organization"] = d["organization"]["name"]
    row["verified"] = "yes" if d["organization"]["verified"] else "no"
    if "sensitive" in d:
        row["sensitive"] = "yes" if d["sensitive"] else "no"
    for key in ("needed_by", "available_until", "created_at"):
        if key in row:
            row[key] = row[key].isoformat() if row[key] else ""
    if "delivery_radius_km" in row and row["delivery_radius_km"] is None:
        row["delivery_radius_km"] = "anywhere"
    return row
