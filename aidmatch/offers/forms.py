"""Forms of the offers pages: an offer's own fields (the shared ones are in
postings/forms.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, StringField
from wtforms.validators import Optional

from aidmatch.postings.forms import PostingForm

OFFER_SORTS = [
    ("default", _l("Newest first")),
    ("closest", _l("Closest to the place")),
]


class OfferForm(PostingForm):
    """Post or edit an offer."""

    delivery_radius_km = StringField(_l("Delivery radius (km)"), render_kw={"inputmode": "numeric"})
    available_until = DateField(
        _l("Available until"), validators=[Optional()], render_kw={"placeholder": "2026-12-31"}
    )

    def data_for_operation(self) -> dict:
        """The form as create_offer/update_offer take it (empty radius: anywhere)."""
        return {
            **self.common_data(),
            "delivery_radius_km": (self.delivery_radius_km.data or "").strip() or None,
            "available_until": self.available_until.data,
        }
