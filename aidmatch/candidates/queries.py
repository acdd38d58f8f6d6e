"""The SQL behind instant candidates: plausible offers for a need, plausible needs for an
offer, built once per kind of viewer, with parameters."""

from __future__ import annotations

import math
from functools import cache

from sqlalchemy import Boolean, Float, and_, bindparam, exists, not_, or_, select

from aidmatch.candidates.inputs import NOT_AGAIN
from aidmatch.matches.models import Match
from aidmatch.needs.models import Need, NeedStatus
from aidmatch.offers.models import Offer, OfferStatus
from aidmatch.orgs.models import Organization
from aidmatch.places.models import Place
from aidmatch.postings.queries import KM_PER_DEG_LAT, KM_PER_DEG_LON_EQUATOR
from aidmatch.privacy.policy import in_play

# Instant candidates: rows loaded per kind before ranking in Python, and the slack on the
# SQL distance (equirectangular, a few % off at long range) so nothing feasible is lost.
CANDIDATE_POOL = 60
NEED_POOL = 400
SQL_SLACK = 1.25


def _sql_squared_km(lat_col, lon_col):
    """Squared equirectangular km from the bound point (:lat0, :lon0), :kx km per degree of
    longitude there (as aidmatch.postings.queries.squared_km, with parameters so the statement is
    built once and its compiled form cached)."""
    dx = (lon_col - bindparam("lon0", type_=Float)) * bindparam("kx", type_=Float)
    dy = (lat_col - bindparam("lat0", type_=Float)) * KM_PER_DEG_LAT
    return dx * dx + dy * dy


def point_params(lat: float, lon: float) -> dict:
    """The statements' parameters of the point distances are measured from."""
    return {"lat0": lat, "lon0": lon, "kx": KM_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat))}


def _visibility(model, staff: bool, sensitive: bool):
    """visible_to() with the viewer's organization as parameters (see aidmatch.postings.queries)."""
    if staff:
        return in_play()  # a suspended or rejected organization's rows are no candidates
    own = model.organization_id == bindparam("viewer_org")
    public = Organization.verified_at.is_not(None)
    if sensitive:
        public = and_(
            public, or_(bindparam("viewer_verified", type_=Boolean), model.sensitive.is_(False))
        )
    return or_(own, public)


def viewer_params(viewer) -> dict:
    """The statements' parameters of the viewer's organization (for the visibility check)."""
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


def _plausible(model, open_status, held, other_org: str, staff: bool, sensitive: bool):
    """The ids of open needs or offers with something left (``held`` below the quantity), of
    the bound categories, not of the other side's organization, visible to the viewer."""
    return (
        select(model.id)
        .join(Organization, Organization.id == model.organization_id)
        .where(
            model.status == open_status,
            # read as expired once past its date (reads never store it): the cached
            # statement takes the day as a parameter
            or_(
                getattr(model, model.due_column).is_(None),
                getattr(model, model.due_column) >= bindparam("today"),
            ),
            held < model.quantity,
            model.category_id.in_(bindparam("categories", expanding=True)),
            model.organization_id != bindparam(other_org),
            _visibility(model, staff, sensitive),
        )
    )


def _columns(model, held, left: str, *own) -> tuple:
    """What a candidate row carries, by name: the need's or offer's id, title, category,
    what is left (labelled ``left``), both points, the kind's ``own`` columns, then its
    organization and place."""
    return (
        model.id,
        model.title,
        model.category_id,
        (model.quantity - held).label(left),
        model.lat,
        model.lon,
        model.public_lat,
        model.public_lon,
        *own,
        model.organization_id,
        Organization.name.label("org_name"),
        Organization.verified_at.is_not(None).label("org_verified"),
        Place.name.label("place_name"),
        Place.oblast,
        Place.name_uk,
        Place.oblast_uk,
    )


@cache
def offer_statements(staff: bool) -> tuple:
    """The two selects of plausible offers for a need: (within their radius, "anywhere").

    Offers are placed at their exact point for staff and at their coarse one for everyone
    else: a group moving its need would otherwise see a donor's offer appear exactly when its
    true distance falls within the radius (hubs and warehouses are targets too)."""
    lat, lon = (Offer.lat, Offer.lon) if staff else (Offer.public_lat, Offer.public_lon)
    d2 = _sql_squared_km(lat, lon)
    inner = _plausible(Offer, OfferStatus.OPEN, Offer.allocated, "need_org", staff, False)
    columns = _columns(Offer, Offer.allocated, "remaining", Offer.delivery_radius_km)
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
def need_statements(staff: bool, bounded: bool) -> tuple:
    """The two selects of plausible needs for an offer: (most urgent, nearest).

    Needs are placed at their exact point for staff and at their coarse one for everyone
    else: the donor sets the offer's radius, and a need that shows up from exactly 67 km
    would give its exact distance away (DESIGN.md, location privacy).
    """
    lat, lon = (Need.lat, Need.lon) if staff else (Need.public_lat, Need.public_lon)
    d2 = _sql_squared_km(lat, lon)
    inner = _plausible(Need, NeedStatus.OPEN, Need.pledged, "offer_org", staff, True)
    if bounded:  # a box an index on (lat, lon) can serve, then the distance itself
        inner = inner.where(
            lat.between(bindparam("lat_lo"), bindparam("lat_hi")),
            lon.between(bindparam("lon_lo"), bindparam("lon_hi")),
            d2 <= bindparam("reach2"),
        )
    columns = _columns(Need, Need.pledged, "open", Need.urgency, Need.needed_by, Need.created_at)
    urgent = inner.order_by(Need.urgency_rank, Need.needed_by_or_last(), Need.id).limit(
        bindparam("pool")
    )
    nearest = inner.order_by(d2, Need.id).limit(bindparam("pool"))
    return (
        _top_then_details(Need, urgent, Need.urgency_rank, columns),
        _top_then_details(Need, nearest, d2, columns),
    )
