"""Rules shared by needs and offers: validating posted fields and placing them on the map.

Forms and API schemas only parse types; every rule about what may be posted lives here, once,
and reports its problems per field in the user's language.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from aidmatch.categories.models import Category
from aidmatch.db import is_id
from aidmatch.errors import ApiError
from aidmatch.extensions import db
from aidmatch.geo import coarse_point
from aidmatch.operations_errors import DomainError
from aidmatch.places.models import Place

MAX_QUANTITY = 1_000_000
IDEMPOTENCY_KEY_MAX = 128
TITLE_MAX = 200
TEXT_MAX = 5000
NOTE_MAX = 2000
MAX_RADIUS_KM = 5000


class FieldErrors:
    """Collects one message per field; raise_if_any() raises a 422 naming them all."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, message)

    def raise_if_any(self) -> None:
        if self.fields:
            raise ApiError(422, _("Please correct the marked fields."), dict(self.fields))


def clean_text(errors: FieldErrors, data: dict, field: str, max_len: int, required: bool) -> str:
    """A stripped string of at most max_len characters (required: not empty)."""
    value = data.get(field)
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(field, _("Must be text."))
        return ""
    value = value.strip()
    if required and not value:
        errors.add(field, _("This field is required."))
    elif len(value) > max_len:
        errors.add(field, _("At most %(max)d characters, please.", max=max_len))
    return value


def clean_quantity(errors: FieldErrors, value, field: str = "quantity") -> int | None:
    """A whole number from 1 to MAX_QUANTITY."""
    if isinstance(value, bool) or value is None or value == "":
        errors.add(field, _("Enter a quantity."))
        return None
    if isinstance(value, float):
        if not value.is_integer():
            errors.add(field, _("Quantities are whole numbers."))
            return None
        value = int(value)
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            errors.add(field, _("Quantities are whole numbers."))
            return None
    if not isinstance(value, int):
        errors.add(field, _("Quantities are whole numbers."))
        return None
    if value <= 0:
        errors.add(field, _("The quantity must be more than zero."))
        return None
    if value > MAX_QUANTITY:
        errors.add(field, _("The quantity may be at most %(max)d.", max=MAX_QUANTITY))
        return None
    return value


def clean_future_date(errors: FieldErrors, value, field: str, today: date) -> date | None:
    """An optional date that is not in the past."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            errors.add(field, _("Use a date like 2026-12-31."))
            return None
    if not isinstance(value, date):
        errors.add(field, _("Use a date like 2026-12-31."))
        return None
    if value < today:
        errors.add(field, _("The date may not be in the past."))
        return None
    return value


def clean_category(errors: FieldErrors, value) -> Category | None:
    """A category given by slug, id or object."""
    category = None
    if isinstance(value, Category):
        category = value
    elif isinstance(value, str) and value.strip():
        category = db.session.scalar(select(Category).where(Category.slug == value.strip()))
    elif is_id(value):
        category = db.session.get(Category, value)
    if category is None:
        errors.add("category", _("Choose a category from the list."))
    return category


def _float(value) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if result == result else None  # NaN is not a coordinate


def clean_location(errors: FieldErrors, data: dict) -> tuple[Place | None, float, float]:
    """The place and exact point: a place_id (point defaults to it) and/or lat and lon.

    With only lat and lon, the nearest place of the gazetteer names the settlement.
    """
    place = None
    place_id = data.get("place_id")
    if place_id not in (None, ""):
        try:
            place_id = int(place_id)
        except (TypeError, ValueError):
            place_id = None
        place = db.session.get(Place, place_id) if is_id(place_id) else None
        if place is None:
            errors.add("place_id", _("Choose a place from the list."))
            return None, 0.0, 0.0
    has_lat, has_lon = data.get("lat") not in (None, ""), data.get("lon") not in (None, "")
    if has_lat != has_lon:
        errors.add("lat" if not has_lat else "lon", _("Give both latitude and longitude."))
        return place, 0.0, 0.0
    if has_lat:
        lat, lon = _float(data.get("lat")), _float(data.get("lon"))
        if lat is None or not -90 <= lat <= 90:
            errors.add("lat", _("Latitude is a number from -90 to 90."))
        if lon is None or not -180 <= lon <= 180:
            errors.add("lon", _("Longitude is a number from -180 to 180."))
        if lat is None or lon is None or "lat" in errors.fields or "lon" in errors.fields:
            return place, 0.0, 0.0
        if place is None:
            place = nearest_place(lat, lon)
            if place is None:
                errors.add("place_id", _("No known place near this point: choose a place."))
        return place, lat, lon
    if place is None:
        errors.add("place_id", _("Choose a place from the list."))
        return None, 0.0, 0.0
    return place, place.lat, place.lon


def nearest_place(lat: float, lon: float) -> Place | None:
    """The gazetteer's nearest settlement to a point (searched in widening boxes)."""
    from aidmatch.geo import haversine_km

    for box in (0.1, 0.3, 1.0, 3.0):
        rows = db.session.scalars(
            select(Place).where(
                Place.lat.between(lat - box, lat + box), Place.lon.between(lon - box, lon + box)
            )
        ).all()
        if rows:
            return min(rows, key=lambda p: (haversine_km(lat, lon, p.lat, p.lon), p.id))
    return None


def place_point(obj, place: Place, lat: float, lon: float) -> None:
    """Set the place, exact point and coarse public point of a need or offer."""
    obj.place = place
    obj.lat, obj.lon = lat, lon
    obj.public_lat, obj.public_lon, _precision = coarse_point(lat, lon)


def refresh_search_text(obj) -> None:
    """Keep the case-folded text that free-text search matches against in step."""
    obj.search_text = f"{obj.title or ''}\n{obj.description or ''}".casefold()


def insert_posting(
    obj, place: Place, lat: float, lon: float, actor, action: str, fields: tuple[str, ...]
) -> None:
    """Place a new need or offer, index its text, insert it and audit its creation (with the
    Idempotency-Key it was posted under)."""
    from aidmatch.audit.operations import record

    place_point(obj, place, lat, lon)
    refresh_search_text(obj)
    db.session.add(obj)
    db.session.flush()
    after = {**snapshot(obj, fields), "idempotency_key": obj.idempotency_key}
    record(actor, action, obj, after=after)


def snapshot(obj, fields: tuple[str, ...]) -> dict:
    """The values of some fields, for the audit trail's before/after."""
    return {field: getattr(obj, field) for field in fields}


def set_quantity(obj, quantity: int, held: str) -> None:
    """Change a need's or offer's quantity in one conditional UPDATE: never below what its
    matches hold (`held` is "pledged" or "allocated"), even with a claim landing meanwhile."""
    from sqlalchemy import update

    from aidmatch.db import utcnow

    model = type(obj)
    held_column = getattr(model, held)
    changed = db.session.execute(
        update(model)
        .where(model.id == obj.id, held_column <= quantity)
        .values(quantity=quantity, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(obj, ["quantity", held])
    if not changed:
        n = getattr(obj, held)
        raise ApiError(
            422,
            _("%(n)d are already pledged: the quantity cannot be less.", n=n),
            {"quantity": _("At least %(n)d (already pledged).", n=n)},
        )


def audit_changes(actor, action: str, obj, before: dict, fields: tuple[str, ...]) -> None:
    """Record an update with only the fields that changed (nothing when none did)."""
    from aidmatch.audit.operations import record

    after = snapshot(obj, fields)
    changed = [k for k in fields if after[k] != before[k]]
    if changed:
        record(
            actor,
            action,
            obj,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )


def clean_common(errors: FieldErrors, data: dict, given) -> dict:
    """The fields needs and offers share: title, description, category, quantity, location."""
    out: dict = {}
    if given("title"):
        out["title"] = clean_text(errors, data, "title", TITLE_MAX, required=True)
    if given("description"):
        out["description"] = clean_text(errors, data, "description", TEXT_MAX, required=False)
    if given("category"):
        out["category"] = clean_category(errors, data.get("category"))
    if given("quantity"):
        out["quantity"] = clean_quantity(errors, data.get("quantity"))
    if any(given(f) for f in ("place_id", "lat", "lon")):
        location = {f: data.get(f) for f in ("place_id", "lat", "lon")}
        out["location"] = clean_location(errors, location)
    return out


def clean_kept_or_future_date(errors: FieldErrors, data: dict, field: str, current, today):
    """A date that is not in the past, except an unchanged one kept on edit."""
    value = data.get(field)
    if value is not None and value == current:
        return current
    return clean_future_date(errors, value, field, today)


def expire_stale(model, date_column, action: str, today: date, ids: list[int] | None) -> int:
    """Mark open needs or offers whose date has passed as expired (all, or among ids)."""
    from sqlalchemy import update

    from aidmatch.audit.operations import record
    from aidmatch.db import utcnow

    stmt = select(model.id).where(model.status == "open", date_column < today)
    if ids is not None:
        if not ids:
            return 0
        stmt = stmt.where(model.id.in_(ids))
    stale = list(db.session.scalars(stmt))
    if not stale:
        return 0
    db.session.execute(
        update(model)
        .where(model.id.in_(stale), model.status == "open")
        .values(status="expired", updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    for obj in db.session.scalars(select(model).where(model.id.in_(stale))):
        db.session.refresh(obj, ["status"])
        record(None, action, obj, before={"status": "open"}, after={"status": "expired"})
    return len(stale)


def end_posting(obj, actor, new_status, from_statuses: tuple, action: str, reason: str, refusal):
    """Cancel a need or withdraw an offer, and cancel its matches not yet shipped.

    The status changes by one conditional UPDATE (so two concurrent cancellations, or a
    cancellation racing a claim, resolve in the database), in the transaction that also
    cancels the matches and writes the audit event. `refusal(status)` words the 409 when the
    object is no longer in one of from_statuses. Returns how many matches were cancelled.
    """
    from sqlalchemy import update

    from aidmatch.audit.operations import record
    from aidmatch.db import utcnow
    from aidmatch.matches.operations import cancel_active_matches, lock_for_cancellation

    model = type(obj)
    target = {"need": obj} if model.__tablename__ == "needs" else {"offer": obj}
    # Lock in the global order (needs, then the offer) before touching the row, as claims do.
    lock_for_cancellation(**target)
    before = {"status": obj.status}
    changed = db.session.execute(
        update(model)
        .where(model.id == obj.id, model.status.in_(from_statuses))
        .values(status=new_status, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(obj, ["status"])
    if not changed:
        raise ApiError(409, refusal(obj.status))
    cancelled = cancel_active_matches(actor, reason=reason or action, **target)
    record(
        actor,
        action,
        obj,
        before=before,
        after={"status": obj.status, "reason": reason, "matches_cancelled": cancelled},
    )
    return cancelled


# --- posting once: the Idempotency-Key of needs, offers (and claims) --------------------------


def clean_idempotency_key(value) -> str | None:
    """An Idempotency-Key (the API's header, or a form's one-time token): None when not given,
    else 1 to IDEMPOTENCY_KEY_MAX printable characters (422 otherwise). Claims use it too."""
    if value is None:
        return None
    key = value.strip() if isinstance(value, str) else ""
    if not key or len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise DomainError(
            _(
                "An Idempotency-Key is 1 to %(max)d printable characters.",
                max=IDEMPOTENCY_KEY_MAX,
            ),
            field="idempotency_key",
        )
    return key


@dataclass(frozen=True)
class Posted:
    """A need or offer, and whether this call made it (False: its Idempotency-Key had made it
    before, and it is returned as it is now)."""

    obj: Any
    created: bool


class KeyReused(DomainError):
    """409: an Idempotency-Key that already made a need or offer came with other content.
    existing_id names what the key made (a form leads there instead of failing)."""

    def __init__(self, message, existing_id: int):
        super().__init__(message, field="idempotency_key", status=409)
        self.existing_id = existing_id


def find_posting(model, org, key: str | None):
    """The need or offer (by model) an organization already made with this key, if any."""
    if not key or org is None:
        return None
    return db.session.scalar(
        select(model).where(model.organization_id == org.id, model.idempotency_key == key)
    )


def request_digest(sent: dict) -> str:
    """A fingerprint of what a request asked to post (its cleaned values), kept with the row:
    a repeat of the key is compared with what the first request sent, not with the row as
    later edits left it."""
    text = json.dumps(sent, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def post_once(
    model, org, key: str | None, make: Callable[[str | None], Any], sent: dict, refusal
) -> Posted:
    """Make a need or offer once per key: make(digest) adds and flushes a row carrying key and
    the digest of `sent` (what this request asks to post), unless the organization already
    has a row with that key; that row is then returned if it was made from the same content
    (even if edited since), else refused (409, with `refusal` as the message).

    Two requests with the same key at once: the unique index on (organization_id,
    idempotency_key) lets one insert through; the other fails inside a savepoint (only that
    attempt is undone) and finds the winner's row. On PostgreSQL the loser's insert waits for
    the winner's commit; on SQLite BEGIN IMMEDIATE already queued it behind the winner.
    """
    digest = request_digest(sent) if key is not None else None
    existing = find_posting(model, org, key)
    if existing is None:
        if key is None:
            return Posted(make(None), created=True)
        try:
            with db.session.begin_nested():
                return Posted(make(digest), created=True)
        except IntegrityError:
            existing = find_posting(model, org, key)
            if existing is None:
                raise
    if existing.idempotency_digest != digest:
        raise KeyReused(refusal, existing.id)
    return Posted(existing, created=False)
