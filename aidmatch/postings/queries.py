"""Browsing needs and offers: who may see which rows, filters, sorting, distances, pages.

One query builder serves the pages, the API and CSV export, so a privacy rule holds
everywhere at once. Which rows a viewer sees, and at which point distance filters and
"closest" sorting place them, the privacy policy says (privacy.Viewer.rows_clause and
filter_point: a "within N km" filter moved step by step must not reveal an exact point).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial

from flask_babel import gettext as _
from sqlalchemy import Select, and_, false, select
from sqlalchemy.orm import contains_eager, joinedload

from aidmatch.categories.operations import descendant_ids, get_by_slug
from aidmatch.db import is_id
from aidmatch.extensions import db
from aidmatch.places.models import Place
from aidmatch.postings.validate import check_filters
from aidmatch.privacy import viewer_for
from aidmatch.refusals import NotFound

KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON_EQUATOR = 111.320
MAX_WITHIN_KM = 2000


@dataclass
class Filters:
    """What a list of needs or offers is narrowed to and sorted by."""

    category: str | None = None
    oblast: str | None = None
    urgency: str | None = None  # needs only
    status: str | None = "open"
    organization_id: int | None = None
    near_place_id: int | None = None
    within_km: int | None = None
    q: str | None = None
    sort: str = "default"  # default (urgency for needs, newest for offers), newest, closest
    page: int = 1
    per_page: int = 50
    extra: dict = field(default_factory=dict)


def squared_km(lat_col, lon_col, lat0: float, lon0: float):
    """An SQL expression for the squared distance in km (equirectangular; < 1 % off within
    a few hundred km, which is what filters and sorting need) with no trigonometry in SQL."""
    kx = KM_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0))
    dx = (lon_col - lon0) * kx
    dy = (lat_col - lat0) * KM_PER_DEG_LAT
    return dx * dx + dy * dy


def within_box(lat_col, lon_col, lat0: float, lon0: float, km: float):
    """A bounding box around (lat0, lon0) that an index on (lat, lon) can serve."""
    dlat = km / KM_PER_DEG_LAT
    dlon = km / max(KM_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0)), 1.0)
    return and_(
        lat_col.between(lat0 - dlat, lat0 + dlat), lon_col.between(lon0 - dlon, lon0 + dlon)
    )


def base_query(model, viewer, *, sensitive_column=None, listing: bool = True) -> Select:
    """Rows of model the viewer may see, with their organization, place and category loaded
    (``listing``: a list's rows, or False for one row opened by its address)."""
    visible = viewer_for(viewer).rows_clause(
        model, sensitive_column=sensitive_column, listing=listing
    )
    return (
        select(model)
        .join(model.organization)
        .join(model.place)
        .where(visible)
        .options(
            contains_eager(model.organization),
            contains_eager(model.place),
            joinedload(model.category),
        )
    )


def apply_filters(stmt: Select, model, filters: Filters, viewer) -> tuple[Select, dict | None]:
    """Narrow and sort; returns the statement and the reference point of "near", if any."""
    if filters.category:
        category = get_by_slug(filters.category)
        ids = descendant_ids(category) if category else set()
        stmt = stmt.where(model.category_id.in_(ids) if ids else false())
    if filters.oblast:
        stmt = stmt.where(Place.oblast == filters.oblast)
    if filters.status:
        stmt = stmt.where(model.status_is(filters.status))
    if filters.organization_id:
        org_id = filters.organization_id
        stmt = stmt.where(model.organization_id == org_id if is_id(org_id) else false())
    if filters.q:
        escaped = filters.q.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        stmt = stmt.where(model.search_text.like(pattern, escape="\\"))
    near = None
    if filters.near_place_id:
        place = (
            db.session.get(Place, filters.near_place_id) if is_id(filters.near_place_id) else None
        )
        if place is not None:
            near = {"lat": place.lat, "lon": place.lon, "place": place}
            lat_col, lon_col = viewer_for(viewer).filter_point(model)
            distance2 = squared_km(lat_col, lon_col, place.lat, place.lon)
            if filters.within_km:
                km = float(min(filters.within_km, MAX_WITHIN_KM))
                stmt = stmt.where(
                    within_box(lat_col, lon_col, place.lat, place.lon, km), distance2 <= km * km
                )
            if filters.sort == "closest":
                stmt = stmt.order_by(distance2, model.id)
    return stmt, near


def run_page(stmt: Select, filters: Filters) -> dict:
    """One page of rows and the total: {"items", "page", "per_page", "total"}."""
    from aidmatch.web.api import paginate

    return paginate(stmt, filters.page, filters.per_page)


def kind_query(kind, viewer, listing: bool = True) -> Select:
    """Rows of a kind (need or offer) the viewer may see (sensitive needs to verified only)."""
    model = kind.model
    sensitive = model.sensitive if kind.sensitive else None
    return base_query(model, viewer, sensitive_column=sensitive, listing=listing)


def kind_select(kind, viewer, filters: Filters, listing: bool = True) -> Select:
    """The select for needs or offers the viewer may see, filtered and sorted as the kind
    sorts (by the distance from "near" when asked). Filters the database can't take are
    refused first (422 naming the field), for the API, the pages, the CSV and the map alike.
    ``listing``: False for one organization's rows on its page (the privacy policy's
    rows_clause: staff see a withdrawn organization's rows there)."""
    check_filters(filters, kind.status_labels)
    stmt, near = apply_filters(
        kind.narrow(kind_query(kind, viewer, listing), filters), kind.model, filters, viewer
    )
    return stmt if filters.sort == "closest" and near else kind.order(stmt, filters)


def list_page(kind, viewer, filters: Filters, listing: bool = True) -> dict:
    """One page of needs or offers for the viewer (those past their date read as expired;
    ``listing`` as kind_select takes it)."""
    return run_page(kind_select(kind, viewer, filters, listing), filters)


def find_visible(kind, viewer, obj_id):
    """The need or offer if the viewer may see it; a 404 refusal otherwise (its existence
    stays hidden). Reads only: one past its date reads as expired, nothing is stored."""
    obj = None
    if is_id(obj_id):
        stmt = kind_query(kind, viewer, listing=False).where(kind.model.id == obj_id)
        obj = db.session.scalar(stmt)
    if obj is None:
        raise NotFound(_("Not found"))
    return obj


def queries_for(kind) -> tuple:
    """A kind's queries, bound to it: (its select, one page, one visible row or a 404)."""
    return tuple(partial(query, kind) for query in (kind_select, list_page, find_visible))
