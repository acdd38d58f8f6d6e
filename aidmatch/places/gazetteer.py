"""Loading the shipped gazetteer (data/places.tsv.gz) into the places table.

The file is built by scripts/build_gazetteer.py; loading it needs nothing but the file.
Rows are matched by code: new codes are inserted, changed rows updated, unchanged ones left
alone. Gazetteer places (codes UA... and GN...) that a newer file no longer holds are
deleted unless something (a need, an offer, an organization) points at them; places added
by other means (other codes) are never touched.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import delete, insert, select, update

from aidmatch.extensions import db
from aidmatch.places.models import Place

DATA_FILE = Path(__file__).resolve().parent / "data" / "places.tsv.gz"
CHUNK = 5000

_TEXT = ("name", "alt_names", "kind", "country")
_OPTIONAL_TEXT = ("name_uk", "oblast", "oblast_uk", "raion", "hromada", "hromada_code")
_FIELDS = (*_TEXT, *_OPTIONAL_TEXT, "lat", "lon", "approximate", "population")
GAZETTEER_CODE_PREFIXES = ("UA", "GN")


@dataclass(frozen=True)
class LoadResult:
    """What a load did: places in the file, inserted, updated, deleted (no longer listed)."""

    total: int
    inserted: int
    updated: int
    deleted: int = 0


def read_places(path: Path = DATA_FILE) -> list[dict]:
    """The rows of the data file, typed as the places table wants them (do not modify)."""
    stat = path.stat()
    return _read_places(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=1)
def _read_places(path: Path, _mtime_ns: int, _size: int) -> list[dict]:
    # Cached per file version: tests and `flask places load` read it more than once.
    with gzip.open(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        rows = []
        for row in csv.DictReader(text, delimiter="\t"):
            place = {"code": row["code"]}
            for key in _TEXT:
                place[key] = row[key]
            for key in _OPTIONAL_TEXT:
                place[key] = row[key] or None
            place["lat"] = float(row["lat"])
            place["lon"] = float(row["lon"])
            place["approximate"] = row["approximate"] == "1"
            place["population"] = int(row["population"])
            rows.append(place)
    return rows


def sync_places(path: Path = DATA_FILE) -> LoadResult:
    """Insert new and update changed places from the data file; flush, never commit."""
    rows = read_places(path)
    columns = [Place.id, Place.code, *(getattr(Place, f) for f in _FIELDS)]
    existing = {
        r[1]: (r[0], tuple(r[2:]))
        for r in db.session.execute(select(*columns).execution_options(yield_per=CHUNK))
    }
    new, changed = [], []
    for row in rows:
        current = existing.get(row["code"])
        if current is None:
            new.append(row)
        elif current[1] != tuple(row[f] for f in _FIELDS):
            changed.append({"id": current[0], **{f: row[f] for f in _FIELDS}})
    listed = {row["code"] for row in rows}
    gone = [
        place_id
        for code, (place_id, _) in existing.items()
        if code not in listed and code.startswith(GAZETTEER_CODE_PREFIXES)
    ]
    gone = sorted(set(gone) - _referenced(gone))
    for start in range(0, len(new), CHUNK):
        db.session.execute(insert(Place), [dict(r) for r in new[start : start + CHUNK]])
    for start in range(0, len(changed), CHUNK):
        db.session.execute(update(Place), changed[start : start + CHUNK])
    for start in range(0, len(gone), CHUNK):
        chunk = gone[start : start + CHUNK]
        db.session.execute(
            delete(Place).where(Place.id.in_(chunk)).execution_options(synchronize_session=False)
        )
    db.session.flush()
    if new or changed or gone:
        from aidmatch.places.search import invalidate_index

        invalidate_index()
    return LoadResult(len(rows), inserted=len(new), updated=len(changed), deleted=len(gone))


def _referenced(place_ids: list[int]) -> set[int]:
    """Those of place_ids that a row of any table points at (by a foreign key to places)."""
    found: set[int] = set()
    if not place_ids:
        return found
    for table in db.metadata.tables.values():
        for fk in table.foreign_keys:
            if fk.column.table is not Place.__table__:
                continue
            for start in range(0, len(place_ids), CHUNK):
                chunk = place_ids[start : start + CHUNK]
                found.update(db.session.scalars(select(fk.parent).where(fk.parent.in_(chunk))))
    return found


def load_places(path: Path = DATA_FILE) -> int:
    """Insert or update every place of the data file; return how many the file holds."""
    return sync_places(path).total
