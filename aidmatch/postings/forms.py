"""The forms needs and offers share: the posting form's common fields, the place box, the
filters of a list, and a reason to end one.

Forms only parse types; every rule about what may be posted lives in the operations
(postings.validate and the kinds' cleaners), whose per-field messages the views put next to
these fields. Field names therefore equal the operations' data keys.
"""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from aidmatch.places.labels import oblast_choices, place_label
from aidmatch.places.lookup import (  # noqa: F401 (the place box's names, as they were here)
    PLACE_CHOICES,
    PlaceLookup,
    chosen_place,
    find_places,
    lookup_place,
    names_place,
    place_by_id,
    place_names,
)
from aidmatch.places.models import Place
from aidmatch.web.labels import options

MAX_PER_PAGE = 200


class PostingForm(FlaskForm):
    """Fields needs and offers share. Quantity and coordinates stay text: the operation says
    what is wrong with them, in the same words as the API."""

    title = StringField(_l("Title"))
    description = TextAreaField(_l("Description"))
    category = StringField(_l("Category"))  # a <select> of category_menu(), drawn by hand
    quantity = StringField(_l("Quantity"), render_kw={"inputmode": "numeric"})
    place_name = StringField(_l("Place"))
    place_id = HiddenField()
    lat = StringField(_l("Latitude"), render_kw={"inputmode": "decimal"})
    lon = StringField(_l("Longitude"), render_kw={"inputmode": "decimal"})
    # The one-time token of a new need's or offer's form (drawn with the form, kept when it
    # is shown again with errors): sent twice, it posts once. Unused when editing.
    idempotency_key = HiddenField()

    def common_data(self) -> dict:
        """The shared fields as an operation's data dict (place_id set by the view)."""
        return {
            "title": self.title.data or "",
            "description": self.description.data or "",
            "category": self.category.data or "",
            "quantity": self.quantity.data,
            "lat": self.lat.data or None,
            "lon": self.lon.data or None,
        }

    def add_errors(self, fields: dict[str, str]) -> None:
        """Put an operation's per-field messages next to the fields (place_id: the place;
        a message about a hidden field goes above the form)."""
        for name, message in fields.items():
            field = self.place_name if name == "place_id" else self._fields.get(name)
            if field is None or field.type == "HiddenField":
                self.form_errors.append(message)
            else:
                field.errors = [*field.errors, message]


def date_error_fields(form: FlaskForm, names: tuple[str, ...]) -> None:
    """Replace WTForms' "Not a valid date value" with a message saying what to type."""
    for name in names:
        field = form[name]
        if field.errors:
            field.errors = [_("Use a date like 2026-12-31.")]


def first_place(text: str | None, place_id) -> Place | None:
    """The place a filter means: a chosen id (that the text still names), else the best hit
    of the typed name."""
    from aidmatch.places.search import search

    text = (text or "").strip()
    place = chosen_place(text, place_id)
    if place is not None:
        return place
    hits = search(text, limit=1)
    return hits[0] if hits else None


def _positive_int(value, default, maximum: int):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return number if 1 <= number <= maximum else default


class ListForm(FlaskForm):
    """The filters of a list of needs or offers: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(_l("Words in the title or description"))
    category = StringField(_l("Category"))  # a <select> of category_menu(), drawn by hand
    oblast = SelectField(_l("Oblast"), validate_choice=False)
    status = SelectField(_l("Status"), validate_choice=False, default="open")
    organization = HiddenField()
    mine = BooleanField(_l("Only my organization's"))
    near_name = StringField(_l("Near a place"))
    near = HiddenField()
    within_km = StringField(_l("Within (km)"), render_kw={"inputmode": "numeric"})
    sort = SelectField(_l("Sort"), validate_choice=False, default="default")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formdata", request.args)
        super().__init__(*args, **kwargs)

    def set_choices(self, lang: str, statuses: dict, sorts: list) -> None:
        """Fill the selects: oblasts of Ukraine, statuses and sort orders."""
        self.oblast.choices = options([("", _("All oblasts")), *oblast_choices()])
        self.status.choices = options(
            [*[(str(s), label) for s, label in statuses.items()], ("all", _("any status"))]
        )
        self.sort.choices = options(sorts)

    def organization_id(self) -> int | None:
        """?mine=y (the user's own organization) or ?organization=<id>."""
        if self.mine.data or self.organization.data == "mine":
            self.mine.data = True
            return current_user.organization_id or -1
        return _positive_int(self.organization.data, None, 2**31 - 1)

    def filters(self, per_page_default: int = 20, **extra):
        """listing.Filters from the form, and the place measured from; problems with the
        place or the km are put next to those fields (the list is then shown unfiltered by
        distance)."""
        from aidmatch.postings.queries import MAX_WITHIN_KM, Filters

        near_place = None
        if (self.near_name.data or "").strip() or self.near.data:
            near_place = first_place(self.near_name.data, self.near.data)
            if near_place is None:
                name = (self.near_name.data or "").strip()
                self.near_name.errors = [_("No place called “%(name)s” is known.", name=name)]
            else:
                self.near.data = str(near_place.id)
                self.near_name.data = place_label(near_place)
        within_km = None
        if (self.within_km.data or "").strip():
            within_km = _positive_int(self.within_km.data, None, MAX_WITHIN_KM)
            if within_km is None:
                self.within_km.errors = [
                    _("A whole number of km from 1 to %(max)d.", max=MAX_WITHIN_KM)
                ]
        sorts = {choice.value for choice in self.sort.choices}
        sort = self.sort.data if self.sort.data in sorts else "default"
        if (within_km or sort == "closest") and near_place is None and not self.near_name.errors:
            self.near_name.errors = [_("Name the place to measure from.")]
        status = self.status.data or "open"
        filters = Filters(
            category=self.category.data or None,
            oblast=self.oblast.data or None,
            status=None if status == "all" else status,
            organization_id=self.organization_id(),
            near_place_id=near_place.id if near_place else None,
            within_km=within_km if near_place else None,
            q=(self.q.data or "").strip()[:200] or None,
            sort=sort,
            page=_positive_int(request.args.get("page"), 1, 100_000),
            per_page=_positive_int(request.args.get("per_page"), per_page_default, MAX_PER_PAGE),
            **extra,
        )
        return filters, near_place


class ReasonForm(FlaskForm):
    """Cancel a need or withdraw an offer, with an optional reason."""

    reason = TextAreaField(_l("Reason (optional)"), validators=[Length(max=2000)])
