"""Place search: by prefix, in Cyrillic or Latin, tolerant of one typo, biggest places first.

An in-memory index of every place's search keys (its Latin and Ukrainian names and the
alternate spellings, folded by aidmatch.places.text.fold) is built once per process from the
places table and reused. A query costs a bisect into the sorted keys, a short scan, and for
a typo a rapidfuzz pass over the keys that begin with the same letter. Nothing here touches
the network.

Staying current: each search reads the highest place id (an index lookup). Places added
after the index was built (ids above its highest) go into a small second index, rebuilt from
just those rows whenever they differ; a table that shrank below the index, or grew by a
lot, gets a full rebuild; load_places() drops the index when it changed rows, in its own
process only: app servers must be restarted after `flask places load` updated or deleted places
(README, Deploying).

Ranking: exact names first (a place's own name before another spelling of it, so the
villages called Олександрівка come before Donetsk, once called so too), then names that
begin with the query (own names before other spellings), then, when nothing is called
exactly so and too few begin so, names that begin one typo away from the query; within
each, the larger population first, then cities before villages, own points before
approximate ones. A query may narrow by region after a comma: "Олександрівка, Харківська".
"""

from __future__ import annotations

import gc
import heapq
import threading
import time
from bisect import bisect_left
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA
from sqlalchemy import func, select

from aidmatch.extensions import db
from aidmatch.places.models import Place
from aidmatch.places.text import fold

MAX_QUERY_LENGTH = 100
FUZZY_MIN_LENGTH = 4  # shorter queries match too much with a typo allowed
EXTRA_ROWS_MAX = 2000  # more new places than this: rebuild the whole index instead
_BIG_RANGE = 1500  # prefix ranges with more keys than this have their answers memoised
_KIND_ORDER = {"city": 0, "urban_settlement": 1, "settlement": 2, "village": 3}
_OBLAST_WORDS = {"oblast", "obl", "область", "обл", "region", "raion", "район"}
_TOP = "\U0010ffff"

# Tiers, best first: the whole name, the whole of another spelling ("Kharkov"), the name's
# beginning, another spelling's beginning, a beginning one typo away.
EXACT, EXACT_OTHER, PREFIX, PREFIX_OTHER, TYPO = range(5)

_COLUMNS = (
    Place.id,
    Place.name,
    Place.name_uk,
    Place.alt_names,
    Place.kind,
    Place.country,
    Place.oblast,
    Place.oblast_uk,
    Place.raion,
    Place.hromada,
    Place.approximate,
    Place.population,
)


class PlaceIndex:
    """Sorted search keys of a set of places, with what ranking and filtering need."""

    def __init__(self, rows) -> None:
        # Rows as _COLUMNS, best first: a place's position in this order is its rank.
        decorated = sorted((_order(r), tuple(r)) for r in rows)
        places = [r for _, r in decorated]
        self.order: list[tuple] = [o for o, _ in decorated]
        self.ids: list[int] = [r[0] for r in places]
        self.country: list[str] = [r[5] for r in places]
        self.primary: list[tuple[str, ...]] = []
        self.region: list[tuple[str, ...]] = []
        self.oblast: list[tuple[str, ...]] = []
        owners: dict[str, list[int]] = defaultdict(list)
        folded: dict[str, str] = {}  # thousands of villages share a name

        def key_of(name: str) -> str:
            key = folded.get(name)
            if key is None:
                key = folded[name] = fold(name)
            return key

        for rank, r in enumerate(places):
            primary = tuple(k for k in (key_of(r[1]), key_of(r[2] or "")) if k)
            self.primary.append(primary)
            keys = set(primary)
            if r[3]:
                keys.update(key_of(a) for a in r[3].split("|"))
                keys.discard("")
            for key in keys:
                owners[key].append(rank)
            self.oblast.append(oblast_cores(r[6], r[7]))
            self.region.append(region_words(r[6], r[7], r[8], r[9], r[5]))
        self.keys: list[str] = sorted(owners)
        self.owners: list[tuple[int, ...]] = [tuple(owners[k]) for k in self.keys]  # ascending
        # For typos: the keys by first letter, shortest first, so that a query of n letters
        # only looks at keys of n - 1 letters or more.
        buckets: dict[str, list[int]] = defaultdict(list)
        for position, key in enumerate(self.keys):
            buckets[key[0]].append(position)
        self.buckets: dict[str, tuple[list[int], list[str], list[int]]] = {}
        for first, positions in buckets.items():
            positions.sort(key=lambda p: len(self.keys[p]))
            keys = [self.keys[p] for p in positions]
            self.buckets[first] = ([len(k) for k in keys], keys, positions)
        self._memo: OrderedDict[tuple, list[tuple]] = OrderedDict()
        self._memo_lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.ids)

    def find(self, query: str, limit: int = 10, country: str | None = None) -> list[tuple]:
        """The best places for a query as (tier, order, id), best first."""
        text, _, region = query.partition(",")
        key = fold(text)
        if not key or limit <= 0:
            return []
        region_words = tuple(fold(region).split())
        country = country.upper() if country else None
        lo = bisect_left(self.keys, key)
        hi = bisect_left(self.keys, key + _TOP, lo)
        memo_key = (key, limit, country) if hi - lo > _BIG_RANGE and not region_words else None
        if memo_key:
            with self._memo_lock:
                if memo_key in self._memo:
                    self._memo.move_to_end(memo_key)
                    return list(self._memo[memo_key])

        def wanted(rank: int) -> bool:
            if country and self.country[rank] != country:
                return False
            return not region_words or _covers(self.region[rank], region_words)

        best: dict[int, int] = {}
        for position in range(lo, hi):
            found = self.keys[position]
            tier = EXACT if found == key else PREFIX
            for rank in self.owners[position]:
                own = tier if found in self.primary[rank] else tier + 1
                if best.get(rank, TYPO + 1) > own and wanted(rank):
                    best[rank] = own
        exact = any(tier <= EXACT_OTHER for tier in best.values())
        if len(best) < limit and len(key) >= FUZZY_MIN_LENGTH and not exact:
            for position in self._near(key):
                for rank in self.owners[position]:
                    if rank not in best and wanted(rank):
                        best[rank] = TYPO
        chosen = heapq.nsmallest(limit, best, key=lambda rank: (best[rank], rank))
        result = [(best[rank], self.order[rank], self.ids[rank]) for rank in chosen]
        if memo_key:
            with self._memo_lock:
                self._memo[memo_key] = result
                if len(self._memo) > 2048:
                    self._memo.popitem(last=False)
        return list(result)

    def _near(self, key: str) -> set[int]:
        """Positions of keys whose beginning is one edit away from key (same first letter)."""
        bucket = self.buckets.get(key[0])
        if not bucket:
            return set()
        lengths, keys, positions = bucket
        n = len(key)
        start = bisect_left(lengths, n - 1)
        keys, positions = keys[start:], positions[start:]
        found: set[int] = set()
        for width in (n - 1, n, n + 1):
            heads = [k[:width] for k in keys]
            for _, _, i in process.extract(
                key, heads, scorer=OSA.distance, score_cutoff=1, limit=None
            ):
                found.add(positions[i])
        return found

    def named(self, name: str, oblast: str | None = None) -> list[tuple]:
        """Places called exactly name (in the oblast, if given) as (other, order, id)."""
        key = fold(name)
        position = bisect_left(self.keys, key)
        if not key or position == len(self.keys) or self.keys[position] != key:
            return []
        ranks = self.owners[position]
        if oblast:
            wanted = _oblast_core(oblast)
            ranks = tuple(
                r
                for r in ranks
                if any(
                    core.startswith(wanted) or wanted.startswith(core) for core in self.oblast[r]
                )
            )
        return [(key not in self.primary[r], self.order[r], self.ids[r]) for r in ranks]


def _order(row: tuple) -> tuple:
    """Sort key of a place row: bigger first, then cities, own points, name, id."""
    return (-row[11], _KIND_ORDER.get(row[4], 9), bool(row[10]), row[1], row[0])


@lru_cache(maxsize=8192)
def oblast_cores(*names: str | None) -> tuple[str, ...]:
    """The folded cores of an oblast's names, shared by its thousands of places."""
    return tuple(core for core in (_oblast_core(n) for n in names if n) if core)


@lru_cache(maxsize=8192)
def region_words(*names: str | None) -> tuple[str, ...]:
    """Folded words of a place's oblast, raion, hromada and country."""
    return tuple(fold(" ".join(n for n in names if n)).split())


def _oblast_core(value: str) -> str:
    """ "Kharkiv Oblast", "Харківська обл." -> "kharkiv", "харківська"."""
    return " ".join(w for w in fold(value).split() if w not in _OBLAST_WORDS)


def _covers(words: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    """Whether every wanted word begins some word of a place's region."""
    return all(any(w.startswith(x) for w in words) for x in wanted)


@dataclass
class _Cache:
    base: PlaceIndex
    top: int | None  # the highest id the base holds
    extra_rows: list = field(default_factory=list)
    extra: PlaceIndex | None = None


_lock = threading.Lock()
_cache: _Cache | None = None
last_build_seconds = 0.0


def _build(rows) -> PlaceIndex:
    # Some hundred thousand small objects, none cyclic: the collector would only rescan
    # them again and again while they are made.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return PlaceIndex(rows)
    finally:
        if collecting:
            gc.enable()


def get_indexes() -> list[PlaceIndex]:
    """The indexes that cover the places table now: the main one and that of newer places."""
    global _cache, last_build_seconds
    top = db.session.execute(select(func.max(Place.id))).scalar()
    with _lock:
        cache = _cache
        stale = cache is None or (top or 0) < (cache.top or 0)
        if not stale and top != cache.top:
            extra_rows = db.session.execute(
                select(*_COLUMNS).where(Place.id > (cache.top or 0)).order_by(Place.id)
            ).all()
            if len(extra_rows) > EXTRA_ROWS_MAX:
                stale = True
            elif extra_rows != cache.extra_rows:
                cache.extra_rows, cache.extra = extra_rows, PlaceIndex(extra_rows)
        if stale:
            started = time.perf_counter()
            rows = db.session.connection().execute(select(*_COLUMNS)).all()
            cache = _cache = _Cache(_build(rows), max((r[0] for r in rows), default=None))
            last_build_seconds = time.perf_counter() - started
        return (
            [cache.base] if cache.extra is None or top == cache.top else [cache.base, cache.extra]
        )


def invalidate_index() -> None:
    """Forget the index, so the next search rebuilds it (load_places calls this)."""
    global _cache
    with _lock:
        _cache = None


def _places(ids: list[int]) -> list[Place]:
    if not ids:
        return []
    found = {p.id: p for p in db.session.scalars(select(Place).where(Place.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def search(query: str, limit: int = 10, country: str | None = None) -> list[Place]:
    """Places whose name begins with query (Cyrillic or Latin, one typo allowed), best first."""
    query = (query or "")[:MAX_QUERY_LENGTH]
    if limit <= 0 or not fold(query.partition(",")[0]):
        return []
    hits = [hit for index in get_indexes() for hit in index.find(query, limit, country)]
    return _places([place_id for _, _, place_id in heapq.nsmallest(limit, hits)])


def resolve(name: str, oblast: str | None = None) -> Place | None:
    """The place called exactly name (in that oblast, if given); the most populous one."""
    if not name or not fold(name):
        return None
    hits = [hit for index in get_indexes() for hit in index.named(name, oblast)]
    return db.session.get(Place, min(hits)[2]) if hits else None
