"""Plain records in and out of the matching engine, and their validation into columns.

A matching run (or the benchmark, or a test) builds ``NeedRecord`` and ``OfferRecord`` rows
with what is still *open* (quantity minus what active matches hold) and gets ``Proposal``
rows back. Nothing here knows about Flask or a database.

Before any matching, the rows are checked and turned into columns (numpy arrays sorted
by id, so that the order in which rows arrive never changes the result). A row that
cannot be matched is skipped with a reason, logged, and counted in the report; one bad
row never stops a run:

========================  ===============================================================
reason                    when
========================  ===============================================================
``bad_id``                the id is not an integer
``duplicate_id``          two rows of the same kind share an id (all of them are skipped:
                          keeping "the first" would depend on row order)
``unknown_category``      the category is not in the ancestry mapping
``unit_mismatch``         the row's unit differs from its category's unit (when known)
``no_coordinates``        lat/lon missing, not finite or out of range
``over_reserved``         quantity open/remaining < 0: active matches hold more than the
                          row has (old data); a coordinator should look at it
``no_quantity``           quantity open/remaining is 0
``bad_quantity``          quantity not a whole number
``bad_urgency``           urgency not one of critical, high, normal, low
``bad_radius``            delivery radius not a positive finite number (None = anywhere)
``bad_timestamp``         created_at is not a datetime / needed_by not a date
========================  ===============================================================
"""

from __future__ import annotations

import logging
import math
import operator
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from numbers import Integral
from typing import Any, NamedTuple

import numpy as np

log = logging.getLogger(__name__)

URGENCIES = ("critical", "high", "normal", "low")
_URGENCY_CODE = {u: i for i, u in enumerate(URGENCIES)}
NO_DEADLINE = -1  # needed_by ordinal when a need has no needed_by date


@dataclass(frozen=True, slots=True)
class NeedRecord:
    """An open need: quantity_open is what is not yet pledged by active matches."""

    id: int
    category_id: int
    unit: str
    quantity_open: int
    lat: float | None
    lon: float | None
    urgency: str
    needed_by: date | None
    created_at: datetime
    verified: bool


@dataclass(frozen=True, slots=True)
class OfferRecord:
    """An open offer: radius_km None means "can deliver anywhere"."""

    id: int
    category_id: int
    unit: str
    quantity_remaining: int
    lat: float | None
    lon: float | None
    radius_km: float | None
    organization_id: int | None


class Proposal(NamedTuple):
    """A proposed (or, from rank_*, possible) movement of goods from an offer to a need.

    ``parts`` are the weighted contributions of the score (they add up to ``score``);
    ``facts`` are the raw values behind them (distance_km, radius_km, urgency,
    days_waiting, days_left, verified, category_fit "same" or "general"), for explanations
    like "34 km, critical, waiting 9 days". A named tuple rather than a frozen dataclass: a run at N = 100 000
    builds ~85 000 of them, and a tuple is built about twice as fast.
    """

    need_id: int
    offer_id: int
    quantity: int
    distance_km: float
    score: float
    parts: dict[str, float]
    facts: dict[str, Any]

    def explanation(self) -> dict[str, Any]:
        """The JSON-ready explanation stored with a match: score, parts and facts."""
        return {"score": self.score, "parts": dict(self.parts), "facts": dict(self.facts)}


@dataclass(frozen=True, slots=True)
class SkippedRow:
    """A row the engine could not use, and why."""

    kind: str  # "need" or "offer"
    id: Any
    reason: str


@dataclass(slots=True)
class MatchReport:
    """What a run considered, skipped, produced, and how long each step took."""

    needs_in: int = 0
    offers_in: int = 0
    needs_considered: int = 0
    offers_considered: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)
    candidate_pairs: int = 0
    excluded_pairs: int = 0  # candidates dropped because they were in ``exclude``
    proposals: int = 0
    allocated_quantity: int = 0
    total_score: float = 0.0  # sum of quantity × score over the proposals
    allocator: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def skipped_counts(self) -> dict[str, int]:
        """Skipped rows counted by kind and reason, e.g. {"need:no_coordinates": 2}."""
        return dict(sorted(Counter(f"{s.kind}:{s.reason}" for s in self.skipped).items()))

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (skipped rows as counts plus the first 100 rows)."""
        return {
            "needs_in": self.needs_in,
            "offers_in": self.offers_in,
            "needs_considered": self.needs_considered,
            "offers_considered": self.offers_considered,
            "skipped_counts": self.skipped_counts,
            "skipped": [[s.kind, s.id, s.reason] for s in self.skipped[:100]],
            "candidate_pairs": self.candidate_pairs,
            "excluded_pairs": self.excluded_pairs,
            "proposals": self.proposals,
            "allocated_quantity": self.allocated_quantity,
            "total_score": round(self.total_score, 4),
            "allocator": self.allocator,
            "params": dict(self.params),
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Proposals (best score first) and the report of the run that made them."""

    proposals: list[Proposal]
    report: MatchReport


# --------------------------------------------------------------------------- columns


@dataclass(slots=True)
class Catalog:
    """Categories as small integers: ``group`` keys of (category, unit), ancestry by key."""

    ancestry: Mapping[Any, tuple[Any, ...]]
    units: Mapping[Any, str] | None

    def known(self, category_id: Any) -> bool:
        """Whether a category id appears in the ancestry mapping."""
        return category_id in self.ancestry

    def compatible_categories(self, category_id: Any) -> tuple[Any, ...]:
        """The need's category and its ancestors: the categories of offers that may cover it."""
        return (category_id, *self.ancestry.get(category_id, ()))

    def depths(self, categories: list[Any]) -> np.ndarray:
        """Each (known) category's depth in the tree: 0 for a root, its ancestors' count."""
        depth = {c: len(a) for c, a in self.ancestry.items()}
        return np.fromiter(
            map(depth.__getitem__, categories), dtype=np.int16, count=len(categories)
        )


@dataclass(slots=True)
class NeedTable:
    """Valid needs as columns, sorted by id."""

    ids: np.ndarray  # int64
    category: list[Any]
    unit: list[str]
    quantity: np.ndarray  # int64
    lat: np.ndarray
    lon: np.ndarray
    urgency: np.ndarray  # int8 index into URGENCIES
    needed_by: np.ndarray  # int64 proleptic ordinal, NO_DEADLINE when none
    created_ts: np.ndarray  # float64 POSIX seconds
    verified: np.ndarray  # bool
    depth: np.ndarray  # int16, the category's depth in the tree (0: a root)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(slots=True)
class OfferTable:
    """Valid offers as columns, sorted by id; radius is +inf for "anywhere"."""

    ids: np.ndarray
    category: list[Any]
    unit: list[str]
    quantity: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    radius: np.ndarray  # float64 km, inf = anywhere
    depth: np.ndarray  # int16, the category's depth in the tree (0: a root)

    def __len__(self) -> int:
        return len(self.ids)


def as_utc(moment: datetime) -> datetime:
    """A timezone-aware UTC datetime (naive values, as SQLite returns them, are UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _float_column(values: list[Any]) -> np.ndarray:
    """Floats with None (or anything unusable) as NaN."""
    try:
        return np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        return np.array([_to_float(v) for v in values], dtype=np.float64)


def _to_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _mask(test: Any, *columns: list[Any]) -> np.ndarray:
    """Boolean column of test(*values); values that make the test raise count as False."""
    n = len(columns[0])
    try:
        return np.fromiter(map(test, *columns), dtype=bool, count=n)
    except (TypeError, ValueError, AttributeError):
        pass  # an odd value somewhere: test the rows one by one below

    def safe(*values: Any) -> bool:
        try:
            return bool(test(*values))
        except (TypeError, ValueError, AttributeError):
            return False

    return np.fromiter(map(safe, *columns), dtype=bool, count=n)


def _is_int(value: Any) -> bool:
    return type(value) is int or (isinstance(value, Integral) and not isinstance(value, bool))


def _urgency_code(value: Any) -> int:
    """Index of an urgency in URGENCIES, -1 when it is not one."""
    return _URGENCY_CODE.get(value, -1) if isinstance(value, str) else -1


def _timestamp(moment: Any) -> float:
    """POSIX seconds of a datetime (naive = UTC); NaN for anything else."""
    if not isinstance(moment, datetime):
        return math.nan
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _ordinal(day: Any) -> float:
    """Proleptic ordinal of a date (a datetime counts by its date); NaN if not a date."""
    if day is None:
        return NO_DEADLINE
    return day.toordinal() if isinstance(day, date) else math.nan


class _Checks:
    """Reason per row, first failing check wins (checks are added in priority order)."""

    def __init__(self, n: int) -> None:
        self.code = np.zeros(n, dtype=np.int16)
        self.names: list[str] = [""]

    def fail(self, mask: np.ndarray, reason: str) -> None:
        self.names.append(reason)
        self.code[(self.code == 0) & mask] = len(self.names) - 1

    def good(
        self, kind: str, rows: list[Any], ids: np.ndarray, skipped: list[SkippedRow]
    ) -> np.ndarray:
        """Log and collect the failed rows; indices of the good ones in ascending id order."""
        for i in np.flatnonzero(self.code):
            reason = self.names[self.code[i]]
            log.warning("matching: skipped %s %r: %s", kind, rows[i].id, reason)
            skipped.append(SkippedRow(kind, rows[i].id, reason))
        good = np.flatnonzero(self.code == 0)
        return good[np.argsort(ids[good], kind="stable")]


@dataclass(slots=True)
class _Checked:
    """Needs or offers with the checks they share applied; kind-specific checks follow."""

    rows: list[Any]
    checks: _Checks
    ids: np.ndarray
    quantity: np.ndarray
    lat: np.ndarray
    lon: np.ndarray

    def good(self, kind: str, skipped: list[SkippedRow]) -> tuple[np.ndarray, dict[str, Any]]:
        """Indices of the valid rows in ascending id order, and the shared columns of those."""
        good = self.checks.good(kind, self.rows, self.ids, skipped)
        return good, {
            "ids": self.ids[good],
            "category": [self.rows[i].category_id for i in good],
            "unit": [self.rows[i].unit for i in good],
            "quantity": self.quantity[good].astype(np.int64),
            "lat": self.lat[good],
            "lon": self.lon[good],
        }


def _common_checks(rows: list[Any], quantities: list[Any], catalog: Catalog) -> _Checked:
    """Checks shared by needs and offers (id, category, unit, point, quantity)."""
    n = len(rows)
    quantity = _float_column(quantities)
    checks = _Checks(n)
    raw_ids = [r.id for r in rows]
    int_id = _mask(_is_int, raw_ids)
    if int_id.all():
        ids = np.array(raw_ids, dtype=np.int64)
    else:
        ids = np.array(
            [int(i) if ok else 0 for i, ok in zip(raw_ids, int_id, strict=True)], np.int64
        )
    checks.fail(~int_id, "bad_id")
    _, inverse, counts = np.unique(
        np.where(int_id, ids, np.iinfo(np.int64).min), return_inverse=True, return_counts=True
    )
    checks.fail(int_id & (counts[inverse] > 1), "duplicate_id")
    categories = [r.category_id for r in rows]
    known = _mask(catalog.known, categories)
    checks.fail(~known, "unknown_category")
    if catalog.units is not None:
        units = catalog.units
        expected = [units.get(c) if known[i] else None for i, c in enumerate(categories)]
        actual = [r.unit for r in rows]
        checks.fail(~_mask(operator.eq, expected, actual), "unit_mismatch")
    lat = _float_column([r.lat for r in rows])
    lon = _float_column([r.lon for r in rows])
    with np.errstate(invalid="ignore"):
        point_ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
        checks.fail(~point_ok, "no_coordinates")
        checks.fail(~(np.isfinite(quantity) & (quantity == np.floor(quantity))), "bad_quantity")
        checks.fail(quantity < 0, "over_reserved")
        checks.fail(~(quantity > 0), "no_quantity")
    return _Checked(rows, checks, ids, quantity, lat, lon)


def need_table(
    rows: Sequence[NeedRecord], catalog: Catalog, skipped: list[SkippedRow]
) -> NeedTable:
    """Validate needs into columns sorted by id; bad rows go to ``skipped``."""
    rows = list(rows)
    checked = _common_checks(rows, [r.quantity_open for r in rows], catalog)
    urgency = np.array([_urgency_code(r.urgency) for r in rows], dtype=np.int8)
    checked.checks.fail(urgency < 0, "bad_urgency")
    created = np.array([_timestamp(r.created_at) for r in rows], dtype=np.float64)
    needed_by = np.array([_ordinal(r.needed_by) for r in rows], dtype=np.float64)
    checked.checks.fail(np.isnan(created) | np.isnan(needed_by), "bad_timestamp")
    good, shared = checked.good("need", skipped)
    return NeedTable(
        **shared,
        urgency=urgency[good],
        needed_by=needed_by[good].astype(np.int64),
        created_ts=created[good],
        verified=np.array([bool(rows[i].verified) for i in good], dtype=bool),
        depth=catalog.depths(shared["category"]),
    )


def offer_table(
    rows: Sequence[OfferRecord], catalog: Catalog, skipped: list[SkippedRow]
) -> OfferTable:
    """Validate offers into columns sorted by id; bad rows go to ``skipped``."""
    rows = list(rows)
    checked = _common_checks(rows, [r.quantity_remaining for r in rows], catalog)
    radius = _float_column([math.inf if r.radius_km is None else r.radius_km for r in rows])
    with np.errstate(invalid="ignore"):
        checked.checks.fail(~(radius > 0), "bad_radius")
    good, shared = checked.good("offer", skipped)
    return OfferTable(**shared, radius=radius[good], depth=catalog.depths(shared["category"]))
