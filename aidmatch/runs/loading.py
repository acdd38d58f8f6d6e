"""A run's input: open needs and offers of a scope as plain records, and the pairs not to
propose.

**Who is matched.** A run pairs only needs and offers of *verified* organizations: a
need of an unverified group is shown to no donor, and an unverified donor may not see
sensitive needs; proposals would reveal them. Such rows are counted as skipped
(``need:unverified_group``, ``offer:unverified_organization``) until a coordinator
verifies the organization.

**Where.** A run places each need and each offer at its coarse point, the one the other
side may know (DESIGN.md, location privacy): a donor sees the proposals made to its offers
before any coordinator does, and if they depended on the exact point, a donor moving an
offer's radius between runs (or posting offers with several radii) would learn how far the
group is, to the kilometre; a group moving its need would learn the same of the offer. So a
proposal's reach, distance and score are what either side could work out itself, and agree
with the candidate lists they see. Coordinators, who see the exact points, check the route
when they review.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from sqlalchemy import Select, select

from aidmatch.candidates.inputs import NOT_AGAIN
from aidmatch.categories.models import Category
from aidmatch.engine import NeedRecord, OfferRecord
from aidmatch.extensions import db
from aidmatch.matches.models import Match
from aidmatch.needs.models import Need, NeedStatus
from aidmatch.offers.models import Offer, OfferStatus
from aidmatch.orgs.models import Organization
from aidmatch.places.models import Place
from aidmatch.runs.scope import RunScope


def load_need_records(scope: RunScope, skipped: Counter) -> list[NeedRecord]:
    """Open needs in the scope with something left to cover, as plain records.

    Fully pledged needs are left out; over-reserved ones (old data) are loaded, so that the
    engine skips and counts them; needs of unverified groups are counted and left out.
    Each need is at its coarse point (see "Where" in the module docstring).
    """
    columns = (Need.public_lat, Need.public_lon, Need.urgency, Need.needed_by, Need.created_at)
    stmt = _open_rows(Need, NeedStatus.OPEN, Need.pledged, *columns)
    if scope.need_categories is not None:
        stmt = stmt.where(Need.category_id.in_(sorted(scope.need_categories)))
    if scope.oblast:
        stmt = stmt.join(Place, Place.id == Need.place_id).where(Place.oblast == scope.oblast)
    return [
        NeedRecord(nid, cid, unit, left, lat, lon, str(urgency), needed_by, created, True)
        for nid, cid, unit, left, lat, lon, urgency, needed_by, created in _verified(
            stmt, skipped, "need:unverified_group"
        )
    ]


def load_offer_records(scope: RunScope, skipped: Counter) -> list[OfferRecord]:
    """Open offers with something remaining, compatible with the scope, as plain records."""
    columns = (Offer.public_lat, Offer.public_lon, Offer.delivery_radius_km, Offer.organization_id)
    stmt = _open_rows(Offer, OfferStatus.OPEN, Offer.allocated, *columns)
    if scope.offer_categories is not None:
        stmt = stmt.where(Offer.category_id.in_(sorted(scope.offer_categories)))
    return [OfferRecord(*row) for row in _verified(stmt, skipped, "offer:unverified_organization")]


def _open_rows(model, open_status, held, *columns) -> Select:
    """Open needs or offers that are not fully held (``held`` is pledged or allocated): id,
    category, unit, what is left, then ``columns``, and last whether the organization is
    verified."""
    return (
        select(
            model.id,
            model.category_id,
            Category.unit,
            model.quantity - held - model.proposed,
            *columns,
            Organization.verified_at.is_not(None),
        )
        .join(Category, Category.id == model.category_id)
        .join(Organization, Organization.id == model.organization_id)
        .where(model.status_is(open_status), held != model.quantity)
    )


def _verified(stmt: Select, skipped: Counter, reason: str) -> Iterator[tuple]:
    """The rows of verified organizations, the unit as a string and without the verified
    column; the others are counted under ``reason``."""
    for oid, cid, unit, *rest, verified in db.session.execute(stmt):
        if not verified:
            skipped[reason] += 1
            continue
        yield (oid, cid, str(unit), *rest)


def pairs_not_to_propose(scope: RunScope) -> set[tuple[int, int]]:
    """(need id, offer id) of open needs in the scope whose match is active or was refused."""
    stmt = (
        select(Match.need_id, Match.offer_id)
        .join(Need, Need.id == Match.need_id)
        .where(
            Match.status.in_(NOT_AGAIN),
            Match.offer_id.is_not(None),
            Need.status_is(NeedStatus.OPEN),
        )
    )
    if scope.need_categories is not None:
        stmt = stmt.where(Need.category_id.in_(sorted(scope.need_categories)))
    return {(n, o) for n, o in db.session.execute(stmt)}
