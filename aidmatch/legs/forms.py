"""The forms of a shipment's route on the match page: hand over, confirm a leg."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length

from aidmatch.legs.models import CARRIER_MAX, TRACKING_MAX
from aidmatch.matches.rules import NOTE_MAX


class HandOverForm(FlaskForm):
    """The holder hands the goods over to the next organization."""

    to_org_id = SelectField(_l("To"), validate_choice=False)
    quantity_sent = StringField(
        _l("Quantity handed over"), render_kw={"inputmode": "numeric", "size": 8}
    )
    carrier = StringField(_l("Carrier (optional)"), validators=[Length(max=CARRIER_MAX)])
    tracking = StringField(_l("Tracking (optional)"), validators=[Length(max=TRACKING_MAX)])


class LegReceiptForm(FlaskForm):
    """The receiver of a leg: how much arrived, and a note."""

    quantity_received = StringField(
        _l("Quantity received"), render_kw={"inputmode": "numeric", "size": 8}
    )
    note = TextAreaField(_l("Note"), validators=[Length(max=NOTE_MAX)])
