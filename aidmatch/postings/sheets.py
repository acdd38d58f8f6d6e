"""Spreadsheet files, CSV and XLSX: reading an upload into rows of text, writing rows out.

Reading knows nothing of needs or offers: it finds the header (names folded to lower case),
keeps the columns asked for and returns each non-empty row as {column: value}, with a
refusal in the user's language for a file that is not a spreadsheet, too big, empty, or
has too many rows. An XLSX is told apart by its content (a ZIP), not by its name; its
first sheet is read, formulas as the values the spreadsheet program last computed.

Writing neutralises formulas: in CSV, a text beginning with = + - @ (or a tab, a return)
gets a leading apostrophe, which reading takes off again (so a round trip keeps the text);
in XLSX every text cell is a string cell, never a formula. A file written with HXL tags
(postings/hxl.py) has its hashtag row under the header; reading skips that row.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import ngettext

from aidmatch.postings.validate import invalid

MAX_ROWS = 1000
MAX_BYTES = 2 * 1024 * 1024
MAX_XLSX_UNPACKED = 40 * 1024 * 1024  # what a 2 MB workbook may unpack to (a ZIP bomb: refused)
CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_HASHTAG = re.compile(r"^#[a-z][a-z0-9_]*(\s*\+\s*[a-z][a-z0-9_]*)*$", re.IGNORECASE)


def safe_cell(value):
    """Neutralise spreadsheet formulas (CSV injection): a text beginning with = + - @ (or an
    apostrophe before one of them, so that reading gives it back whole) gets an apostrophe."""
    if isinstance(value, str) and (
        value[:1] in _FORMULA_STARTS or (value[:1] == "'" and value[1:2] in _FORMULA_STARTS)
    ):
        return "'" + value
    return value


def unsafe_cell(value: str) -> str:
    """The text safe_cell was given back (its apostrophe taken off)."""
    if value[:1] == "'" and value[1:2] in (*_FORMULA_STARTS, "'"):
        return value[1:]
    return value


def _too_big():
    return invalid(_("The file is too large: at most 2 MB."), {"file": _("The file is too large.")})


def _not_a_sheet():
    message = _(
        "This is not a spreadsheet we can read: upload a CSV or an XLSX file (save an old"
        " .xls file as XLSX first)."
    )
    return invalid(message, {"file": message})


def _empty():
    message = _("The file is empty: the first row names the columns, each row below is one.")
    return invalid(message, {"file": message})


def _text(value) -> str:
    """A cell as text: dates as 2026-12-31, whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip()


def _csv_lines(raw: bytes):
    if b"\x00" in raw[:8192]:  # binary: an image, a PDF, an old .xls
        raise _not_a_sheet()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        message = _('The file is not UTF-8 text. Save it as "CSV UTF-8" and upload it again.')
        raise invalid(message, {"file": message}) from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        for values in csv.reader(io.StringIO(text), dialect):
            yield [unsafe_cell(v.strip()) for v in values]
    except csv.Error:
        raise _not_a_sheet() from None


def _xlsx_lines(raw: bytes):
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise _not_a_sheet() from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise _too_big()
    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        sheet = book.worksheets[0] if book.worksheets else None
    except Exception:  # noqa: BLE001 - openpyxl's parse errors share no base: not a workbook
        raise _not_a_sheet() from None
    if sheet is None:
        raise _empty()
    try:
        for values in sheet.iter_rows(values_only=True):
            yield [_text(v) for v in values]
    except Exception:  # noqa: BLE001 - a broken sheet part, found while reading it
        raise _not_a_sheet() from None
    finally:
        book.close()


def is_xlsx(raw: bytes) -> bool:
    """Is this upload a workbook (a ZIP archive) rather than text?"""
    return raw[:4] == b"PK\x03\x04"


def is_hashtag_row(values: list[str]) -> bool:
    """Is this row an HXL hashtag row ("#item+name", "#adm1+code", blanks)?"""
    filled = [v.strip() for v in values if v and v.strip()]
    return bool(filled) and all(_HASHTAG.match(v) for v in filled)


def read_rows(
    raw: bytes, columns: tuple[str, ...], required: tuple[str, ...] = ()
) -> list[tuple[int, dict[str, str]]]:
    """The rows of a CSV or XLSX upload as (row number, {column: text}) for the columns asked
    for that the header (its first non-empty row) has; blank rows skipped, numbers as a
    spreadsheet program shows them. 422 with a message for the file field when it is too
    big, not a spreadsheet, empty, lacks a required column, or is longer than MAX_ROWS."""
    if len(raw) > MAX_BYTES:
        raise _too_big()
    if not raw.strip():
        raise _empty()
    lines = enumerate(_xlsx_lines(raw) if is_xlsx(raw) else _csv_lines(raw), start=1)
    header: list[str] = []
    for _number, values in lines:
        if any(values):
            header = [v.strip().lower() for v in values]
            break
    missing = [name for name in required if name not in header]
    if header and missing:
        message = ngettext(
            "The first row names the columns: the column %(columns)s is missing.",
            "The first row names the columns: the columns %(columns)s are missing.",
            len(missing),
            columns=", ".join(missing),
        )
        raise invalid(message, {"file": message})
    wanted = [(i, name) for i, name in enumerate(header) if name in columns]
    rows: list[tuple[int, dict[str, str]]] = []
    for number, values in lines:
        if not any(values) or (not rows and is_hashtag_row(values)):
            continue  # blank, or an HXL export's hashtag row under the header
        if len(rows) == MAX_ROWS:
            message = _("At most %(n)d rows per file: split it in several.", n=MAX_ROWS)
            raise invalid(message, {"file": message})
        rows.append((number, {name: values[i] if i < len(values) else "" for i, name in wanted}))
    if not rows:
        raise _empty()
    return rows


def write_csv(columns: tuple[str, ...], rows, tags: dict[str, str] | None = None) -> bytes:
    """CSV bytes (UTF-8 with a BOM, so spreadsheet programs read it so) with a header row and,
    given tags ({column: HXL hashtag}), the HXL hashtag row under it (hxl.py)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    if tags is not None:
        writer.writerow([tags.get(c, "") for c in columns])
    for row in rows:
        writer.writerow([safe_cell(row.get(c, "")) for c in columns])
    return out.getvalue().encode("utf-8-sig")


def write_xlsx(
    sheets: list[tuple[str, tuple[str, ...], list]], tags: dict[str, str] | None = None
) -> bytes:
    """An XLSX workbook of sheets given as (title, header, rows: dicts or lists), every text a
    string cell (never a formula); given tags, the first sheet's HXL hashtag row under its
    header."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    book = openpyxl.Workbook(write_only=True)
    for number, (title, header, rows) in enumerate(sheets):
        sheet = book.create_sheet(title[:31])
        tags = tags if number == 0 else None

        def cells(values, sheet=sheet):
            out = []
            for value in values:
                if isinstance(value, float) and float(f"{value:.16g}") != value:
                    value = repr(value)  # openpyxl writes 16 digits; a 17th would be lost
                cell = WriteOnlyCell(sheet, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # a text beginning with "=" stays text
                out.append(cell)
            return out

        sheet.append(cells(header))
        if tags is not None:
            sheet.append(cells([tags.get(c, "") for c in header]))
        for row in rows:
            values = [row.get(c) for c in header] if isinstance(row, dict) else row
            sheet.append(cells(values))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
