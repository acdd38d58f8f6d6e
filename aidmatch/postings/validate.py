"""The rules of the fields needs and offers share: forms and API schemas only parse types;
every rule about what may be posted lives here (or in a kind's own cleaner), once, and
reports its problems per field in the user's language.
"""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from aidmatch.categories.models import Category
from aidmatch.db import MAX_ID, is_id
from aidmatch.extensions import db
from aidmatch.places.models import Place
from aidmatch.refusals import Invalid
from aidmatch.web.text import search_terms, text_problem

MAX_QUANTITY = 1_000_000
IDEMPOTENCY_KEY_MAX = 128
TITLE_MAX = 200
TEXT_MAX = 5000
NOTE_MAX = 2000
MAX_RADIUS_KM = 5000


def invalid(message, fields: dict[str, str]) -> Invalid:
    """A refusal naming several fields, each with its own message."""
    return Invalid(message, fields={field: str(text) for field, text in fields.items()})


class FieldErrors:
    """Collects one message per field; raise_if_any() raises a 422 naming them all."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, message)

    def raise_if_any(self) -> None:
        if self.fields:
            raise invalid(_("Please correct the marked fields."), self.fields)


def check_texts(values: dict) -> None:
    """Refuse (422 naming each field) texts with a NUL character or a lone surrogate."""
    problems = {k: p for k, v in values.items() if isinstance(v, str) and (p := text_problem(v))}
    if problems:
        raise invalid(" ".join(problems.values()), problems)


def check_filters(filters, statuses) -> None:
    """Refuse (422, naming each field) a list's filters the database can't take: a status
    not among `statuses` (nor "all", which arrives as None), an id beyond the integer range,
    a NUL or a lone surrogate in a text filter; drop those characters from search words."""
    errors = FieldErrors()
    if filters.status is not None and filters.status not in statuses:
        errors.add("status", _("Choose a status from the list."))
    for name in ("category", "oblast", "urgency", "sort"):
        value = getattr(filters, name, None)
        problem = text_problem(value) if isinstance(value, str) else None
        if problem:
            errors.add(name, problem)
    for name, attr in (("organization", "organization_id"), ("near", "near_place_id")):
        value = getattr(filters, attr)
        if value not in (None, -1) and not is_id(value):  # -1: "mine" without an organization
            errors.add(name, _("No such id: ids are whole numbers from 1 to %(max)d.", max=MAX_ID))
    if errors.fields:
        raise invalid(" ".join(errors.fields.values()), errors.fields)
    filters.q = search_terms(filters.q)


def clean_text(errors: FieldErrors, data: dict, field: str, max_len: int, required: bool) -> str:
    """A stripped string of at most max_len characters (required: not empty), free of NUL
    characters and lone surrogates."""
    value = data.get(field)
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(field, _("Must be text."))
        return ""
    problem = text_problem(value)
    if problem:
        errors.add(field, problem)
        return ""
    value = value.strip()
    if required and not value:
        errors.add(field, _("This field is required."))
    elif len(value) > max_len:
        errors.add(field, _("At most %(max)d characters, please.", max=max_len))
    return value


def whole_number(value) -> int | None:
    """A whole number from an int, an integral float or a string of digits; None otherwise."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def clean_quantity(errors: FieldErrors, value, field: str = "quantity") -> int | None:
    """A whole number from 1 to MAX_QUANTITY."""
    if isinstance(value, bool) or value is None or value == "":
        errors.add(field, _("Enter a quantity."))
        return None
    number = whole_number(value)
    if number is None:
        errors.add(field, _("Quantities are whole numbers."))
    elif number <= 0:
        errors.add(field, _("The quantity must be more than zero."))
    elif number > MAX_QUANTITY:
        errors.add(field, _("The quantity may be at most %(max)d.", max=MAX_QUANTITY))
    else:
        return number
    return None


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


def clean_category(errors: FieldErrors, value, kept_id: int | None = None) -> Category | None:
    """A category given by slug, id or object; not a retired one, unless it is the one the
    posting has already (kept_id: an edit may keep it)."""
    category = None
    if isinstance(value, Category):
        category = value
    elif isinstance(value, str) and value.strip():
        category = db.session.scalar(select(Category).where(Category.slug == value.strip()))
    elif is_id(value):
        category = db.session.get(Category, value)
    if category is None:
        errors.add("category", _("Choose a category from the list."))
    elif category.retired_at is not None and category.id != kept_id:
        errors.add(
            "category",
            _("This category is no longer used for new needs and offers: choose another."),
        )
        return None
    return category


def _float(value) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if result == result else None  # NaN is not a coordinate


def clean_location(errors: FieldErrors, data: dict) -> tuple[Place | None, float, float, bool]:
    """The place, the point and whether the organization gave the point (point_set): a
    place_id (the point is then the place's centre, point_set False) and/or lat and lon
    (point_set True).

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
            return None, 0.0, 0.0, False
    has_lat, has_lon = data.get("lat") not in (None, ""), data.get("lon") not in (None, "")
    if has_lat != has_lon:
        errors.add("lat" if not has_lat else "lon", _("Give both latitude and longitude."))
        return place, 0.0, 0.0, False
    if has_lat:
        lat, lon = _float(data.get("lat")), _float(data.get("lon"))
        if lat is None or not -90 <= lat <= 90:
            errors.add("lat", _("Latitude is a number from -90 to 90."))
        if lon is None or not -180 <= lon <= 180:
            errors.add("lon", _("Longitude is a number from -180 to 180."))
        if lat is None or lon is None or "lat" in errors.fields or "lon" in errors.fields:
            return place, 0.0, 0.0, False
        if place is None:
            place = nearest_place(lat, lon)
            if place is None:
                errors.add("place_id", _("No known place near this point: choose a place."))
        return place, lat, lon, True
    if place is None:
        errors.add("place_id", _("Choose a place from the list."))
        return None, 0.0, 0.0, False
    return place, place.lat, place.lon, False


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


def clean_common(errors: FieldErrors, data: dict, given, current=None) -> dict:
    """The fields needs and offers share: title, description, category, quantity, location
    (current: the need or offer being edited, which may keep a retired category)."""
    out: dict = {}
    if given("title"):
        out["title"] = clean_text(errors, data, "title", TITLE_MAX, required=True)
    if given("description"):
        out["description"] = clean_text(errors, data, "description", TEXT_MAX, required=False)
    if given("category"):
        kept = current.category_id if current is not None else None
        out["category"] = clean_category(errors, data.get("category"), kept)
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


def clean_idempotency_key(value) -> str | None:
    """An Idempotency-Key (the API's header, or a form's one-time token): None when not given,
    else 1 to IDEMPOTENCY_KEY_MAX printable characters (422 otherwise). Claims use it too."""
    if value is None:
        return None
    key = value.strip() if isinstance(value, str) else ""
    if not key or len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise Invalid(
            _(
                "An Idempotency-Key is 1 to %(max)d printable characters.",
                max=IDEMPOTENCY_KEY_MAX,
            ),
            field="idempotency_key",
        )
    return key
