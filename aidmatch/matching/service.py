"""The matching engine against the database: coordinator runs and instant candidates.

The only DB-aware module of ``aidmatch.matching``: it loads open needs and offers as plain
records (one query each, columns, not ORM objects), calls the pure engine, and stores its
proposals through ``matches.operations.reserve``, the one way a match takes quantity.

**Runs.** ``run_matching`` is a job, not a request, so it manages its own transactions:

1. *start*: in one short transaction, serialised (PostgreSQL: an advisory transaction
   lock; SQLite: every transaction is ``BEGIN IMMEDIATE``), runs left ``running`` for more
   than ``RUN_STALE_AFTER`` are marked failed (a crashed run cannot block forever), a run
   whose scope overlaps a running one is refused (409), and the ``running`` row is
   committed, so a second start sees it;
2. *load* needs, offers, the category tree and the pairs not to propose (``NOT_AGAIN``:
   they have an active match, or a party declined, rejected or withdrew one), then
   commit (SQLite holds its write lock for a whole transaction);
3. *engine*: ``propose`` with no transaction open;
4. *store* each proposal, best first, in batches of ``STORE_BATCH`` committed one by one,
   through ``reserve(..., allow_partial=True)``: a claim that arrived meanwhile reduces or
   skips it, never over-allocates; a pair that got such a match meanwhile is skipped;
5. *finish*: counts, timings, status and the audit event ``matching.run``.

**Who is matched.** A run pairs only needs and offers of *verified* organizations: a
need of an unverified group is shown to no donor, and an unverified donor may not see
sensitive needs; proposals would reveal them. Such rows are counted as skipped
(``need:unverified_group``, ``offer:unverified_organization``) until a coordinator
verifies the organization.

**Where.** A run places each need at its coarse point, the one donors may know
(DESIGN.md, location privacy): a donor sees the proposals made to its offers before any
coordinator does, and if they depended on the exact point, a donor moving an offer's
radius between runs (or posting offers with several radii) would learn how far the group
is, to the kilometre. So a proposal's reach, distance and score are what its donor could
work out itself, and agree with the candidate lists donors see. Coordinators, who see the
exact points, check the route when they review.

**Scope.** ``--category C`` takes the needs of C and below, and the offers of C, below
and above it (an offer of a parent category covers a child's need); ``--oblast O`` takes
the needs placed in O and the offers from anywhere (donors deliver across oblasts). Two
scopes overlap when they could propose for the same need; runs over different oblasts may
run side by side and compete for the same offers, which ``reserve`` keeps consistent.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from flask import current_app
from flask_babel import format_decimal, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Float, and_, bindparam, exists, not_, or_, select, text, true
from sqlalchemy.orm import joinedload

from aidmatch.audit.operations import record
from aidmatch.categories.models import Category
from aidmatch.categories.operations import ancestor_ids, descendant_ids, get_by_slug
from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.geo import haversine_km, round_distance_km
from aidmatch.matches import operations as match_operations
from aidmatch.matches.models import (
    ACTIVE_MATCH_STATUSES,
    REFUSED_MATCH_STATUSES,
    Match,
    MatchingRun,
    MatchSource,
    MatchStatus,
    RunStatus,
)
from aidmatch.needs.models import Need, NeedStatus
from aidmatch.offers.models import Offer, OfferStatus
from aidmatch.operations_errors import DomainError
from aidmatch.orgs.models import Organization
from aidmatch.permissions import is_staff
from aidmatch.places.labels import UA_OBLASTS, find_oblast
from aidmatch.places.models import Place
from aidmatch.postings.queries import KM_PER_DEG_LAT, KM_PER_DEG_LON_EQUATOR

from . import (
    ALLOCATORS,
    NeedRecord,
    OfferRecord,
    Proposal,
    ScoreWeights,
    propose,
    rank_needs_for_offer,
    rank_offers_for_need,
)
from .scoring import PARTS

log = logging.getLogger(__name__)

RUN_STALE_AFTER = timedelta(minutes=30)
STORE_BATCH = 500
# Serialises run starts on PostgreSQL (pg_advisory_xact_lock key: "aidmatch" in ASCII).
RUN_LOCK_KEY = 0x6169646D61746368 & 0x7FFFFFFFFFFFFFFF
# Instant candidates: rows loaded per kind before ranking in Python, and the slack on the
# SQL distance (equirectangular, a few % off at long range) so nothing feasible is lost.
CANDIDATE_POOL = 60
NEED_POOL = 400
SQL_SLACK = 1.25
# A pair with a match in one of these is not proposed (again), by a run or as an instant
# candidate: the match holds goods already, or a party said no to it.
NOT_AGAIN = tuple(sorted(ACTIVE_MATCH_STATUSES | REFUSED_MATCH_STATUSES))


def engine_weights() -> ScoreWeights:
    """The score weights from the MATCH_* settings (defaults as in the engine)."""
    config = current_app.config
    defaults = ScoreWeights()
    return ScoreWeights(
        **{
            name: float(config.get(f"MATCH_WEIGHT_{name.upper()}", getattr(defaults, name)))
            for name in PARTS
        },
        deadline_horizon_days=float(
            config.get("MATCH_DEADLINE_HORIZON_DAYS", defaults.deadline_horizon_days)
        ),
        waiting_full_days=float(config.get("MATCH_WAITING_FULL_DAYS", defaults.waiting_full_days)),
        anywhere_reference_km=float(
            config.get("MATCH_ANYWHERE_REFERENCE_KM", defaults.anywhere_reference_km)
        ),
    )


# --------------------------------------------------------------------------- scope


@dataclass(frozen=True)
class RunScope:
    """What a run covers: a category branch and an oblast, or everything."""

    category: str | None = None
    oblast: str | None = None
    need_categories: frozenset[int] | None = None  # None: all
    offer_categories: frozenset[int] | None = None

    @property
    def key(self) -> str:
        """A short text of the scope, e.g. "category=tourniquets oblast=Kharkiv Oblast"."""
        parts = [f"category={self.category}" if self.category else "", ""]
        parts[1] = f"oblast={self.oblast}" if self.oblast else ""
        return " ".join(p for p in parts if p)[:200] or "all"

    def parameters(self) -> dict:
        """JSON for MatchingRun.parameters."""
        return {
            "category": self.category,
            "oblast": self.oblast,
            "need_categories": sorted(self.need_categories)
            if self.need_categories is not None
            else None,
            "offer_categories": sorted(self.offer_categories)
            if self.offer_categories is not None
            else None,
        }

    @classmethod
    def from_parameters(cls, params: dict | None) -> RunScope:
        """The scope a stored run covered (unknown or old rows count as everything)."""
        params = params or {}
        needs, offers = params.get("need_categories"), params.get("offer_categories")
        return cls(
            category=params.get("category"),
            oblast=params.get("oblast"),
            need_categories=frozenset(needs) if needs is not None else None,
            offer_categories=frozenset(offers) if offers is not None else None,
        )

    def overlaps(self, other: RunScope) -> bool:
        """Could both runs propose for the same need?"""
        if self.oblast and other.oblast and self.oblast != other.oblast:
            return False
        if self.need_categories is None or other.need_categories is None:
            return True
        return bool(self.need_categories & other.need_categories)


def resolve_scope(category_slug: str | None = None, oblast: str | None = None) -> RunScope:
    """The scope of a run from a category slug and an oblast name (422 if unknown).

    The oblast may be typed as people write it, in English or Ukrainian, with or without
    "Oblast" (``places.labels.find_oblast``), or be another region of the gazetteer by its
    exact name. An unknown value gets an error that lists the values that work.
    """
    category_slug = (category_slug or "").strip().lower() or None
    typed = (oblast or "").strip() or None
    need_categories = offer_categories = None
    if category_slug:
        category = get_by_slug(category_slug)
        if category is None:
            slugs = db.session.scalars(select(Category.slug).order_by(Category.slug)).all()
            raise DomainError(
                _l("There is no such category. Use one of: %(names)s.", names=", ".join(slugs)),
                field="category",
            )
        need_categories = frozenset(descendant_ids(category))
        offer_categories = need_categories | frozenset(ancestor_ids(category))
    oblast = find_oblast(typed) or typed
    if (
        oblast
        and db.session.scalar(select(Place.id).where(Place.oblast == oblast).limit(1)) is None
    ):
        raise DomainError(
            _l(
                "There is no such oblast. Use its name, e.g. %(example)s; one of: %(names)s.",
                example="Kharkiv Oblast, Kharkiv, Харківська",
                names=", ".join(en for en, _uk in UA_OBLASTS),
            ),
            field="oblast",
        )
    return RunScope(category_slug, oblast, need_categories, offer_categories)


# --------------------------------------------------------------------------- runs


def run_matching(
    actor,
    category_slug: str | None = None,
    oblast: str | None = None,
    allocator: str = "flow",
    *,
    now: datetime | None = None,
) -> MatchingRun:
    """Run the engine over a scope and store its proposals; the finished (or failed) run.

    Commits as it goes (see the module docstring): call it with no pending changes.
    Raises DomainError 422 for an unknown category, oblast or allocator and 409 when a run
    for an overlapping scope is already running.
    """
    if allocator not in ALLOCATORS:
        raise DomainError(_l("Unknown allocator: use flow or greedy."), field="allocator")
    scope = resolve_scope(category_slug, oblast)
    run = start_run(actor, scope, allocator)
    run_id = run.id
    started = time.perf_counter()
    try:
        _execute(run_id, scope, allocator, actor, now or utcnow(), started)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the run
        log.exception("matching run %s failed", run_id)
        db.session.rollback()
        _finish_failed(run_id, actor, f"{type(exc).__name__}: {exc}", started)
    return db.session.get(MatchingRun, run_id)


def start_run(actor, scope: RunScope, allocator: str) -> MatchingRun:
    """Insert and commit the ``running`` row, or refuse (409) if an overlapping run runs."""
    _lock_run_starts()
    now = utcnow()
    stale = db.session.scalars(
        select(MatchingRun).where(
            MatchingRun.status == RunStatus.RUNNING,
            MatchingRun.started_at < now - RUN_STALE_AFTER,
        )
    ).all()
    for old in stale:
        old.status = RunStatus.FAILED
        old.finished_at = now
        old.error = f"stale: no end recorded within {RUN_STALE_AFTER} (h:mm:ss)"
        record(None, "matching.run", old, before={"status": "running"}, after={"status": "failed"})
    running = db.session.scalars(
        select(MatchingRun).where(MatchingRun.status == RunStatus.RUNNING)
    ).all()
    for other in running:
        if scope.overlaps(RunScope.from_parameters(other.parameters)):
            db.session.commit()  # keep the stale runs marked
            raise DomainError(
                _l(
                    "Matching run #%(id)s (%(scope)s) is still running for an overlapping "
                    "scope. Wait until it finishes, then start again.",
                    id=other.id,
                    scope=other.scope,
                ),
                status=409,
                code="run_in_progress",
            )
    run = MatchingRun(
        started_by_id=getattr(actor, "id", None),
        parameters={**scope.parameters(), "allocator": allocator, "verified_only": True},
        scope=scope.key,
        status=RunStatus.RUNNING,
        started_at=now,
        skipped={},
        timings={},
    )
    db.session.add(run)
    db.session.commit()
    return run


def _lock_run_starts() -> None:
    """Serialise run starts until the end of this transaction."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": RUN_LOCK_KEY})
    else:  # SQLite: every transaction begins IMMEDIATE (aidmatch.db); make sure one is open
        db.session.execute(select(MatchingRun.id).limit(1))


def _execute(
    run_id: int, scope: RunScope, allocator: str, actor, now: datetime, started: float
) -> None:
    """Load, propose, store and finish one run (see the module docstring)."""
    from aidmatch.needs.operations import expire_needs
    from aidmatch.offers.operations import expire_offers

    timings: dict[str, float] = {}
    lap = time.perf_counter()
    expire_needs(now.date())
    expire_offers(now.date())
    skipped: Counter[str] = Counter()
    needs = load_need_records(scope, skipped)
    offers = load_offer_records(scope, skipped)
    ancestry, units = category_catalog()
    exclude = pairs_not_to_propose(scope)
    db.session.commit()
    timings["load_s"] = time.perf_counter() - lap

    result = propose(
        needs,
        offers,
        ancestry,
        now,
        weights=engine_weights(),
        allocator=allocator,
        units=units,
        exclude=exclude,
        workers=int(current_app.config.get("MATCH_WORKERS", 1)),
    )
    report = result.report
    timings.update({f"engine_{k}": v for k, v in report.timings.items()})
    skipped.update(report.skipped_counts)
    if report.excluded_pairs:
        skipped["pair:already_matched"] += report.excluded_pairs

    lap = time.perf_counter()
    stored = store_proposals(run_id, result.proposals, actor, skipped)
    timings["store_s"] = time.perf_counter() - lap

    run = db.session.get(MatchingRun, run_id)
    run.status = RunStatus.FINISHED
    run.needs_considered = report.needs_considered
    run.offers_considered = report.offers_considered
    run.candidate_pairs = report.candidate_pairs
    run.proposals = stored
    run.skipped = dict(sorted(skipped.items()))
    run.seconds = round(time.perf_counter() - started, 3)
    run.timings = {k: round(v, 4) for k, v in timings.items()}
    run.parameters = {
        **run.parameters,
        "engine": report.params,
        "engine_proposals": report.proposals,
        "allocated_quantity": report.allocated_quantity,
        "total_score": round(report.total_score, 4),
        "skipped_rows": [[s.kind, s.id, s.reason] for s in report.skipped[:50]],
    }
    run.finished_at = utcnow()
    record(actor, "matching.run", run, before={"status": "running"}, after=run_summary(run))
    db.session.commit()
    log.info("matching run %s: %s", run_id, run_summary(run))


def _finish_failed(run_id: int, actor, error: str, started: float) -> None:
    """Mark a run failed with its error text (in a transaction of its own)."""
    run = db.session.get(MatchingRun, run_id)
    run.status = RunStatus.FAILED
    run.error = error[:2000]
    run.seconds = round(time.perf_counter() - started, 3)
    run.finished_at = utcnow()
    record(actor, "matching.run", run, before={"status": "running"}, after=run_summary(run))
    db.session.commit()


def run_summary(run: MatchingRun) -> dict:
    """The figures of a run, as the API returns them and the audit event records them."""
    return {
        "id": run.id,
        "status": str(run.status),
        "scope": run.scope,
        "proposals": run.proposals,
        "needs_considered": run.needs_considered,
        "offers_considered": run.offers_considered,
        "candidate_pairs": run.candidate_pairs,
        "skipped": dict(run.skipped or {}),
        "seconds": run.seconds,
        "error": run.error,
    }


# --------------------------------------------------------------------------- loading


def category_catalog() -> tuple[dict[int, tuple[int, ...]], dict[int, str]]:
    """Every category's ancestors (nearest first) and unit, from one query."""
    rows = db.session.execute(select(Category.id, Category.parent_id, Category.unit)).all()
    parent = {cid: pid for cid, pid, _unit in rows}
    ancestry = {}
    for cid in parent:
        chain, current = [], parent[cid]
        while current is not None and current not in chain and current != cid:
            chain.append(current)
            current = parent.get(current)
        ancestry[cid] = tuple(chain)
    return ancestry, {cid: str(unit) for cid, _pid, unit in rows}


def load_need_records(scope: RunScope, skipped: Counter) -> list[NeedRecord]:
    """Open needs in the scope with something left to cover, as plain records.

    Fully pledged needs are left out; over-reserved ones (old data) are loaded, so that the
    engine skips and counts them; needs of unverified groups are counted and left out.
    Each need is at its coarse point (see "Where" in the module docstring).
    """
    stmt = (
        select(
            Need.id,
            Need.category_id,
            Category.unit,
            Need.quantity - Need.pledged,
            Need.public_lat,
            Need.public_lon,
            Need.urgency,
            Need.needed_by,
            Need.created_at,
            Organization.verified_at.is_not(None),
        )
        .join(Category, Category.id == Need.category_id)
        .join(Organization, Organization.id == Need.organization_id)
        .where(Need.status == NeedStatus.OPEN, Need.pledged != Need.quantity)
    )
    if scope.need_categories is not None:
        stmt = stmt.where(Need.category_id.in_(sorted(scope.need_categories)))
    if scope.oblast:
        stmt = stmt.join(Place, Place.id == Need.place_id).where(Place.oblast == scope.oblast)
    records = []
    for nid, cid, unit, left, lat, lon, urgency, needed_by, created, verified in db.session.execute(
        stmt
    ):
        if not verified:
            skipped["need:unverified_group"] += 1
            continue
        records.append(
            NeedRecord(nid, cid, str(unit), left, lat, lon, str(urgency), needed_by, created, True)
        )
    return records


def load_offer_records(scope: RunScope, skipped: Counter) -> list[OfferRecord]:
    """Open offers with something remaining, compatible with the scope, as plain records."""
    stmt = (
        select(
            Offer.id,
            Offer.category_id,
            Category.unit,
            Offer.quantity - Offer.allocated,
            Offer.lat,
            Offer.lon,
            Offer.delivery_radius_km,
            Offer.organization_id,
            Organization.verified_at.is_not(None),
        )
        .join(Category, Category.id == Offer.category_id)
        .join(Organization, Organization.id == Offer.organization_id)
        .where(Offer.status == OfferStatus.OPEN, Offer.allocated != Offer.quantity)
    )
    if scope.offer_categories is not None:
        stmt = stmt.where(Offer.category_id.in_(sorted(scope.offer_categories)))
    records = []
    for oid, cid, unit, left, lat, lon, radius, org_id, verified in db.session.execute(stmt):
        if not verified:
            skipped["offer:unverified_organization"] += 1
            continue
        records.append(OfferRecord(oid, cid, str(unit), left, lat, lon, radius, org_id))
    return records


def pairs_not_to_propose(scope: RunScope) -> set[tuple[int, int]]:
    """(need id, offer id) of open needs in the scope whose match is active or was refused."""
    stmt = (
        select(Match.need_id, Match.offer_id)
        .join(Need, Need.id == Match.need_id)
        .where(
            Match.status.in_(NOT_AGAIN),
            Match.offer_id.is_not(None),
            Need.status == NeedStatus.OPEN,
        )
    )
    if scope.need_categories is not None:
        stmt = stmt.where(Need.category_id.in_(sorted(scope.need_categories)))
    return {(n, o) for n, o in db.session.execute(stmt)}


# --------------------------------------------------------------------------- storing


def store_proposals(run_id: int, proposals: list[Proposal], actor, skipped: Counter) -> int:
    """Reserve the proposals, best first, in committed batches; how many were stored."""
    stored = 0
    for start in range(0, len(proposals), STORE_BATCH):
        batch = proposals[start : start + STORE_BATCH]
        stored += _store_batch(run_id, batch, actor, skipped)
        db.session.commit()
    return stored


def _store_batch(run_id: int, batch: list[Proposal], actor, skipped: Counter) -> int:
    """One batch: load its needs and offers, skip pairs matched meanwhile, reserve the rest."""
    need_ids = sorted({p.need_id for p in batch})
    offer_ids = sorted({p.offer_id for p in batch})
    # needs, then offers, in id order: the order every match verb locks in (PostgreSQL)
    match_operations.lock_for_update(need_ids, offer_ids)
    needs = {n.id: n for n in db.session.scalars(select(Need).where(Need.id.in_(need_ids)))}
    offers = {
        o.id: o
        for o in db.session.scalars(
            select(Offer).where(Offer.id.in_(offer_ids)).options(joinedload(Offer.organization))
        )
    }
    taken = set(
        db.session.execute(
            select(Match.need_id, Match.offer_id).where(
                Match.need_id.in_(need_ids),
                Match.offer_id.in_(offer_ids),
                Match.status.in_(NOT_AGAIN),
            )
        ).all()
    )
    run = db.session.get(MatchingRun, run_id)
    stored = 0
    for proposal in batch:
        pair = (proposal.need_id, proposal.offer_id)
        if pair in taken:
            skipped["pair:already_matched"] += 1
            continue
        need, offer = needs.get(proposal.need_id), offers.get(proposal.offer_id)
        if (
            need is None
            or offer is None
            or need.status != NeedStatus.OPEN
            or offer.status != OfferStatus.OPEN
        ):
            skipped["proposal:closed_meanwhile"] += 1
            continue
        try:  # reserve refuses before it writes anything, so no savepoint is needed
            match = match_operations.reserve(
                need,
                offer,
                offer.organization,
                proposal.quantity,
                source=MatchSource.ENGINE,
                actor=actor,
                run=run,
                distance_km=proposal.distance_km,
                score=proposal.score,
                explanation=proposal.explanation(),
                allow_partial=True,
            )
        except DomainError as err:
            log.info("matching run %s: proposal %s refused: %s", run_id, pair, err.message)
            skipped["proposal:refused"] += 1
            continue
        if match is None:
            skipped["proposal:reserved_meanwhile"] += 1
            continue
        if match.quantity < proposal.quantity:
            skipped["proposal:reduced_meanwhile"] += 1
        taken.add(pair)
        stored += 1
    return stored


# --------------------------------------------------------------------------- candidates


def _sql_squared_km(lat_col, lon_col):
    """Squared equirectangular km from the bound point (:lat0, :lon0), :kx km per degree of
    longitude there (as aidmatch.listing.squared_km, with parameters so the statement is
    built once and its compiled form cached)."""
    dx = (lon_col - bindparam("lon0", type_=Float)) * bindparam("kx", type_=Float)
    dy = (lat_col - bindparam("lat0", type_=Float)) * KM_PER_DEG_LAT
    return dx * dx + dy * dy


def _point_params(lat: float, lon: float) -> dict:
    return {"lat0": lat, "lon0": lon, "kx": KM_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat))}


def _visibility(model, staff: bool, sensitive: bool):
    """visible_to() with the viewer's organization as parameters (see aidmatch.listing)."""
    if staff:
        return true()
    own = model.organization_id == bindparam("viewer_org")
    public = Organization.verified_at.is_not(None)
    if sensitive:
        public = and_(
            public, or_(bindparam("viewer_verified", type_=Boolean), model.sensitive.is_(False))
        )
    return or_(own, public)


def _viewer_params(viewer) -> dict:
    org = getattr(viewer, "organization", None)
    return {
        "viewer_org": getattr(viewer, "organization_id", None) or 0,
        "viewer_verified": bool(org is not None and org.verified_at is not None),
    }


def _top_then_details(model, inner, key, columns: tuple) -> object:
    """Rank ids in a subquery that touches only the model's table (and organizations, for
    visibility), then fetch the columns of those few: the place and the match check are
    joined for at most the pool, not for every row scanned."""
    top = inner.add_columns(key.label("rank_key")).subquery("top")
    matched = exists().where(
        (Match.offer_id == model.id) if model is Offer else (Match.need_id == model.id),
        (Match.need_id == bindparam("need_id"))
        if model is Offer
        else (Match.offer_id == bindparam("offer_id")),
        Match.status.in_(NOT_AGAIN),
    )
    return (
        select(*columns)
        .select_from(top)
        .join(model, model.id == top.c.id)
        .join(Organization, Organization.id == model.organization_id)
        .join(Place, Place.id == model.place_id)
        .where(not_(matched))
        .order_by(top.c.rank_key, model.id)
    )


@cache
def _offer_statements(staff: bool) -> tuple:
    """The two selects of plausible offers for a need: (within their radius, "anywhere")."""
    d2 = _sql_squared_km(Offer.lat, Offer.lon)
    inner = (
        select(Offer.id)
        .join(Organization, Organization.id == Offer.organization_id)
        .where(
            Offer.status == OfferStatus.OPEN,
            Offer.allocated < Offer.quantity,
            Offer.category_id.in_(bindparam("categories", expanding=True)),
            Offer.organization_id != bindparam("need_org"),
            _visibility(Offer, staff, sensitive=False),
        )
    )
    columns = (
        Offer.id,
        Offer.title,
        Offer.category_id,
        Offer.quantity - Offer.allocated,
        Offer.lat,
        Offer.lon,
        Offer.public_lat,
        Offer.public_lon,
        Offer.delivery_radius_km,
        Offer.organization_id,
        Organization.name,
        Organization.verified_at.is_not(None),
        Place.name,
        Place.oblast,
        Place.name_uk,
        Place.oblast_uk,
    )
    radius = Offer.delivery_radius_km
    reach = radius * radius * (SQL_SLACK * SQL_SLACK)
    closeness_key = d2 / (radius * radius)
    local = (
        inner.where(radius.is_not(None), d2 <= reach)
        .order_by(closeness_key, Offer.id)
        .limit(bindparam("pool"))
    )
    anywhere = inner.where(radius.is_(None)).order_by(d2, Offer.id).limit(bindparam("pool"))
    return (
        _top_then_details(Offer, local, closeness_key, columns),
        _top_then_details(Offer, anywhere, d2, columns),
    )


@cache
def _need_statements(staff: bool, bounded: bool) -> tuple:
    """The two selects of plausible needs for an offer: (most urgent, nearest).

    Needs are placed at their exact point for staff and at their coarse one for everyone
    else: the donor sets the offer's radius, and a need that shows up from exactly 67 km
    would give its exact distance away (DESIGN.md, location privacy).
    """
    lat, lon = (Need.lat, Need.lon) if staff else (Need.public_lat, Need.public_lon)
    d2 = _sql_squared_km(lat, lon)
    inner = (
        select(Need.id)
        .join(Organization, Organization.id == Need.organization_id)
        .where(
            Need.status == NeedStatus.OPEN,
            Need.pledged < Need.quantity,
            Need.category_id.in_(bindparam("categories", expanding=True)),
            Need.organization_id != bindparam("offer_org"),
            _visibility(Need, staff, sensitive=True),
        )
    )
    if bounded:  # a box an index on (lat, lon) can serve, then the distance itself
        inner = inner.where(
            lat.between(bindparam("lat_lo"), bindparam("lat_hi")),
            lon.between(bindparam("lon_lo"), bindparam("lon_hi")),
            d2 <= bindparam("reach2"),
        )
    columns = (
        Need.id,
        Need.title,
        Need.category_id,
        Need.quantity - Need.pledged,
        Need.lat,
        Need.lon,
        Need.public_lat,
        Need.public_lon,
        Need.urgency,
        Need.needed_by,
        Need.created_at,
        Need.organization_id,
        Organization.name,
        Organization.verified_at.is_not(None),
        Place.name,
        Place.oblast,
        Place.name_uk,
        Place.oblast_uk,
    )
    urgent = inner.order_by(
        Need.urgency_rank, Need.needed_by.is_(None), Need.needed_by, Need.id
    ).limit(bindparam("pool"))
    nearest = inner.order_by(d2, Need.id).limit(bindparam("pool"))
    return (
        _top_then_details(Need, urgent, Need.urgency_rank, columns),
        _top_then_details(Need, nearest, d2, columns),
    )


def _may_see_exact(viewer, obj) -> bool:
    """Staff and the owning organization see the exact point (a confirmed partner does too
    elsewhere; candidates stay on the coarse point for them, which is stricter)."""
    return is_staff(viewer) or obj.organization_id == getattr(viewer, "organization_id", None)


def candidates_for_need(need: Need, viewer, limit: int = 5, *, now: datetime | None = None):
    """The best offers the viewer may see that could cover this need, with explanations.

    SQL loads only plausible rows: open offers with something remaining, of the need's
    category or an ancestor, visible to the viewer, not already matched with the need; of
    those with a radius, the ones reaching the need, nearest relative to their radius first
    (the order of their closeness); of the "anywhere" ones, the nearest. Python ranks them
    by the engine's score. The statements are built once, with parameters. The need is at
    its exact point for those who may see it, at its coarse one for everyone else.
    """
    if need.status != NeedStatus.OPEN or need.quantity - need.pledged <= 0:
        return []
    ancestry, units = category_catalog()
    staff = is_staff(viewer)
    # Which offers reach the need is decided at the point the viewer may know: a donor
    # moving its own offer's radius must not find where the need's exact point is.
    subject_exact = _may_see_exact(viewer, need)
    subject_point = _point(need, subject_exact)
    params = {
        **_point_params(*subject_point),
        **({} if staff else _viewer_params(viewer)),
        "need_id": need.id,
        "need_org": need.organization_id,
        "categories": [need.category_id, *ancestry.get(need.category_id, ())],
        "pool": max(CANDIDATE_POOL, limit * 4),
    }
    local, anywhere = _offer_statements(staff)
    rows = [*db.session.execute(local, params), *db.session.execute(anywhere, params)]
    by_id = {row[0]: row for row in rows}
    records = [
        OfferRecord(r[0], r[2], units.get(r[2], ""), r[3], r[4], r[5], r[8], r[9]) for r in rows
    ]
    weights = engine_weights()
    ranked = rank_offers_for_need(
        _need_record(need, units, subject_point),
        records,
        ancestry,
        now or utcnow(),
        limit,
        weights=weights,
        units=units,
    )
    viewer_org = getattr(viewer, "organization_id", None)
    items = []
    for proposal in ranked:
        row = by_id[proposal.offer_id]
        exact = staff or row[9] == viewer_org
        candidate_point = (row[4], row[5]) if exact else (row[6], row[7])
        explanation = _shown_explanation(
            proposal, subject_exact and exact, subject_point, candidate_point, weights
        )
        items.append(
            {
                "offer_id": row[0],
                "title": row[1],
                "organization": {"id": row[9], "name": row[10], "verified": bool(row[11])},
                "place": {
                    "name": row[12],
                    "oblast": row[13],
                    "name_uk": row[14],
                    "oblast_uk": row[15],
                },
                "remaining": row[3],
                "unit": units.get(row[2], ""),
                "delivery_radius_km": row[8],
                "quantity": proposal.quantity,
                "distance_km": explanation["facts"]["distance_km"],
                "score": explanation["score"],
                "explanation": explanation,
            }
        )
    return items


def candidates_for_offer(offer: Offer, viewer, limit: int = 5, *, now: datetime | None = None):
    """The best needs the viewer may see that this offer could cover, with explanations.

    SQL loads open needs with something open, of the offer's category or below it, visible
    to the viewer (sensitive ones only to verified organizations), not already matched with
    the offer, within the offer's radius (a box, then the distance; from each need's exact
    point for staff, its coarse one for everyone else): the most urgent ones and the
    nearest ones, up to ``NEED_POOL`` each; Python ranks them by the engine's score.
    """
    if offer.status != OfferStatus.OPEN or offer.quantity - offer.allocated <= 0:
        return []
    ancestry, units = category_catalog()
    staff = is_staff(viewer)
    params = {
        **_point_params(offer.lat, offer.lon),
        **({} if staff else _viewer_params(viewer)),
        "offer_id": offer.id,
        "offer_org": offer.organization_id,
        "categories": sorted(_descendants(ancestry, offer.category_id)),
        "pool": max(NEED_POOL, limit * 4),
    }
    bounded = offer.delivery_radius_km is not None
    if bounded:
        reach = float(offer.delivery_radius_km) * SQL_SLACK
        dlat = reach / KM_PER_DEG_LAT
        dlon = reach / max(params["kx"], 1.0)
        params.update(
            lat_lo=offer.lat - dlat,
            lat_hi=offer.lat + dlat,
            lon_lo=offer.lon - dlon,
            lon_hi=offer.lon + dlon,
            reach2=reach * reach,
        )
    rows = {}
    for stmt in _need_statements(staff, bounded):
        for row in db.session.execute(stmt, params):
            rows[row[0]] = row
    at = (4, 5) if staff else (6, 7)  # the need's exact or coarse point, as in the SQL
    records = [
        NeedRecord(
            r[0],
            r[2],
            units.get(r[2], ""),
            r[3],
            r[at[0]],
            r[at[1]],
            str(r[8]),
            r[9],
            r[10],
            bool(r[13]),
        )
        for r in rows.values()
    ]
    subject = OfferRecord(
        offer.id,
        offer.category_id,
        units.get(offer.category_id, ""),
        offer.quantity - offer.allocated,
        offer.lat,
        offer.lon,
        offer.delivery_radius_km,
        offer.organization_id,
    )
    weights = engine_weights()
    ranked = rank_needs_for_offer(
        subject, records, ancestry, now or utcnow(), limit, weights=weights, units=units
    )
    subject_exact = _may_see_exact(viewer, offer)
    subject_point = _point(offer, subject_exact)
    viewer_org = getattr(viewer, "organization_id", None)
    items = []
    for proposal in ranked:
        row = rows[proposal.need_id]
        exact = staff or row[11] == viewer_org
        candidate_point = (row[4], row[5]) if exact else (row[6], row[7])
        explanation = _shown_explanation(
            proposal, subject_exact and exact, subject_point, candidate_point, weights
        )
        items.append(
            {
                "need_id": row[0],
                "title": row[1],
                "organization": {"id": row[11], "name": row[12], "verified": bool(row[13])},
                "place": {
                    "name": row[14],
                    "oblast": row[15],
                    "name_uk": row[16],
                    "oblast_uk": row[17],
                },
                "open": row[3],
                "unit": units.get(row[2], ""),
                "urgency": str(row[8]),
                "needed_by": row[9],
                "quantity": proposal.quantity,
                "distance_km": explanation["facts"]["distance_km"],
                "score": explanation["score"],
                "explanation": explanation,
            }
        )
    return items


def _descendants(ancestry: dict[int, tuple[int, ...]], category_id: int) -> set[int]:
    """A category and every category below it, from the ancestry map."""
    return {c for c, above in ancestry.items() if c == category_id or category_id in above}


def _need_record(need: Need, units: dict[int, str], point: tuple[float, float]) -> NeedRecord:
    """A need (ORM) as the engine's record, placed at the given (exact or coarse) point."""
    return NeedRecord(
        need.id,
        need.category_id,
        units.get(need.category_id, ""),
        need.quantity - need.pledged,
        *point,
        str(need.urgency),
        need.needed_by,
        need.created_at,
        need.organization.verified_at is not None,
    )


def _point(obj, exact: bool) -> tuple[float, float]:
    """The point of a need or offer as a viewer may know it: exact or the coarse one."""
    return (obj.lat, obj.lon) if exact else (obj.public_lat, obj.public_lon)


def _shown_explanation(
    proposal: Proposal,
    exact: bool,
    subject: tuple[float, float],
    candidate: tuple[float, float],
    weights: ScoreWeights,
) -> dict:
    """The explanation as this viewer may see it, with a ``text`` in words.

    Someone who may not see both exact points gets the distance between the points they
    know (the coarse one of the other side), rounded to 5 km, and a closeness part (and
    score) recomputed from it: the exact part and the public radius would give away the
    exact distance.
    """
    explanation = proposal.explanation()
    if not exact:
        facts, parts = explanation["facts"], explanation["parts"]
        shown = round_distance_km(haversine_km(*subject, *candidate))
        facts["distance_km"] = shown
        facts["distance_rounded"] = True
        reference = facts.get("radius_km") or weights.anywhere_reference_km
        closeness = min(1.0, max(0.0, 1.0 - shown / reference))
        parts["closeness"] = round(weights.closeness * closeness, 4)
        explanation["score"] = round(sum(parts.values()), 4)
    explanation["text"] = explanation_text(explanation["facts"])
    return explanation


# --------------------------------------------------------------------------- words

URGENCY_WORDS = {
    "critical": _l("critical"),
    "high": _l("high urgency"),
    "normal": _l("normal urgency"),
    "low": _l("low urgency"),
}


def explanation_text(facts: dict[str, Any] | None) -> str:
    """An explanation's facts in words: "34 km, critical, waiting 9 days, 5 days left"."""
    facts = facts or {}
    words = []
    distance = facts.get("distance_km")
    if isinstance(distance, int | float) and math.isfinite(distance):
        # Numbers as the reader's language writes them: 3,5 km; 1 250 km.
        if facts.get("distance_rounded"):
            words.append(str(_l("about %(km)s km", km=format_decimal(round(distance)))))
        elif distance < 10:
            words.append(str(_l("%(km)s km", km=format_decimal(distance, "0.0"))))
        else:
            words.append(str(_l("%(km)s km", km=format_decimal(round(distance)))))
    if facts.get("urgency") in URGENCY_WORDS:
        words.append(str(URGENCY_WORDS[facts["urgency"]]))
    waiting = facts.get("days_waiting")
    if isinstance(waiting, int) and waiting >= 1:
        words.append(ngettext("waiting %(num)d day", "waiting %(num)d days", waiting))
    left = facts.get("days_left")
    if isinstance(left, int):
        if left < 0:
            words.append(ngettext("%(num)d day overdue", "%(num)d days overdue", -left))
        elif left == 0:
            words.append(str(_l("needed today")))
        else:
            words.append(ngettext("%(num)d day left", "%(num)d days left", left))
    if facts.get("verified") is False:
        words.append(str(_l("group not verified")))
    return ", ".join(words)


# --------------------------------------------------------------------------- donor's view


def proposals_awaiting_donor(offer: Offer, viewer) -> list[dict]:
    """Engine proposals on this offer that wait for the donor's answer, best score first.

    For the offer's own organization (and staff). Distances are shown as the donor may know
    them: from the offer to the need's coarse point, rounded to 5 km, until confirmed.
    """
    rows = db.session.scalars(
        select(Match)
        .where(
            Match.offer_id == offer.id,
            Match.status == MatchStatus.PENDING,
            Match.source == MatchSource.ENGINE,
            Match.donor_accepted_at.is_(None),
        )
        .options(joinedload(Match.need).joinedload(Need.organization))
        .order_by(Match.score.desc(), Match.id)
    ).all()
    staff = is_staff(viewer)
    items = []
    for match in rows:
        need = match.need
        facts = dict((match.explanation or {}).get("facts") or {})
        if staff:
            distance = match.distance_km
        else:
            distance = round_distance_km(
                haversine_km(offer.lat, offer.lon, need.public_lat, need.public_lon)
            )
            facts["distance_km"], facts["distance_rounded"] = distance, True
        items.append(
            {
                "id": match.id,
                "need_id": need.id,
                "title": need.title,
                "organization": {
                    "id": need.organization.id,
                    "name": need.organization.name,
                    "verified": need.organization.verified_at is not None,
                },
                "quantity": match.quantity,
                "unit": str(offer.category.unit),
                "distance_km": distance,
                "score": match.score,
                "text": explanation_text(facts),
                "expires_at": match.expires_at,
            }
        )
    return items


def recent_runs(limit: int = 20) -> list[MatchingRun]:
    """The latest matching runs, newest first."""
    return list(
        db.session.scalars(select(MatchingRun).order_by(MatchingRun.id.desc()).limit(limit))
    )


def run_proposals(run_id: int) -> list[Match]:
    """The matches a run created, best score first, with their need, offer and donor."""
    return list(
        db.session.scalars(
            select(Match)
            .where(Match.run_id == run_id)
            .options(
                joinedload(Match.need).joinedload(Need.organization),
                joinedload(Match.need).joinedload(Need.category),
                joinedload(Match.offer),
                joinedload(Match.organization),
            )
            .order_by(Match.score.desc(), Match.id)
        )
    )


__all__ = [
    "RunScope",
    "pairs_not_to_propose",
    "candidates_for_need",
    "candidates_for_offer",
    "category_catalog",
    "engine_weights",
    "explanation_text",
    "load_need_records",
    "load_offer_records",
    "proposals_awaiting_donor",
    "recent_runs",
    "resolve_scope",
    "run_matching",
    "run_proposals",
    "start_run",
    "store_proposals",
]
