"""The forms of a shipment's route on the match page: hand over, confirm a leg."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length

from aidmatch.legs.models import CARRIER_MAX, TRACKING_MAX
from aidmatch.matches.rules import NOTE_MAX
from aidmatch.refusals import Invalid
from aidmatch.web.i18n import select_timezone

# What a browser's datetime-local box sends (with or without seconds), and what a person types
# where the browser has no such box.
TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M")


class HandOverForm(FlaskForm):
    """The holder hands the goods over to the next organization."""

    to_org_id = SelectField(_l("To"), validate_choice=False)
    quantity_sent = StringField(
        _l("Quantity handed over"), render_kw={"inputmode": "numeric", "size": 8}
    )
    carrier = StringField(_l("Carrier (optional)"), validators=[Length(max=CARRIER_MAX)])
    tracking = StringField(_l("Tracking (optional)"), validators=[Length(max=TRACKING_MAX)])
    # The browser's date-and-time box (a plain text box where it has none), in the user's
    # time zone; empty: now. parse_handed_over_at reads it.
    handed_over_at = StringField(
        _l("Handed over at (optional)"), render_kw={"type": "datetime-local"}
    )


class LegReceiptForm(FlaskForm):
    """The receiver of a leg: how much arrived, and a note."""

    quantity_received = StringField(
        _l("Quantity received"), render_kw={"inputmode": "numeric", "size": 8}
    )
    note = TextAreaField(_l("Note"), validators=[Length(max=NOTE_MAX)])


def parse_handed_over_at(field) -> datetime | None:
    """The hand-over's time typed in the form, in the user's time zone, as UTC; None when
    left empty (now). Invalid when it is no date and time."""
    text = (field.data or "").strip()
    if not text:
        return None
    for pattern in TIME_FORMATS:
        try:
            local = datetime.strptime(text, pattern)
        except ValueError:
            continue
        return local.replace(tzinfo=ZoneInfo(select_timezone())).astimezone(UTC)
    raise Invalid(_("Enter a date and time, like 2026-12-06 14:30."), "handed_over_at")
