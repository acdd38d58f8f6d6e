"""Forms of the needs pages: a need's own fields and filters (the shared ones are in
postings/forms.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField, TextAreaField
from wtforms.validators import Optional

from aidmatch.postings.forms import ListForm, PostingForm
from aidmatch.web.labels import URGENCY_LABELS, options

NEED_SORTS = [
    ("default", _l("Most urgent first")),
    ("newest", _l("Newest first")),
    ("closest", _l("Closest to the place")),
]


class NeedForm(PostingForm):
    """Post or edit a need."""

    urgency = SelectField(
        _l("Urgency"),
        choices=options(URGENCY_LABELS.items()),
        default="normal",
        validate_choice=False,
    )
    needed_by = DateField(
        _l("Needed by"),
        validators=[Optional()],
        render_kw={"placeholder": "2026-12-31"},
    )
    delivery_note = TextAreaField(_l("Delivery note (private)"))
    sensitive = BooleanField(_l("Sensitive: list only to verified organizations"))

    def data_for_operation(self) -> dict:
        """The form as create_need/update_need take it."""
        return {
            **self.common_data(),
            "urgency": self.urgency.data,
            "needed_by": self.needed_by.data,
            "delivery_note": self.delivery_note.data or "",
            "sensitive": bool(self.sensitive.data),
        }


class NeedListForm(ListForm):
    """The filters of the needs list: those of every list, plus urgency."""

    urgency = SelectField(
        _l("Urgency"),
        choices=options([("", _l("Any urgency")), *URGENCY_LABELS.items()]),
        validate_choice=False,
    )
