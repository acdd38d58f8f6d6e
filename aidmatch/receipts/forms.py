"""The receipt form signed through a slip's link, and the group's dispute form."""

from __future__ import annotations

import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, MultipleFileField, RadioField, StringField, TextAreaField

from aidmatch.receipts.models import Condition

CONDITIONS = (
    (Condition.FULL.value, _l("All of it arrived")),
    (Condition.LESS.value, _l("Less arrived")),
    (Condition.DAMAGED.value, _l("Some of it arrived damaged")),
)


def new_form_key() -> str:
    """A random one-time token put into a receipt form when it is drawn: sent twice (a double
    tap, or the phone's outbox sending again what it kept offline), it stores once."""
    return secrets.token_urlsafe(24)


class SignForm(FlaskForm):
    """What arrived, a note, up to three photos, and the signer's name."""

    # The one-time token static/js/offline.js keys its outbox by (the name every form of the
    # outbox uses); stored as the receipt's form_key.
    idempotency_key = HiddenField()
    condition = RadioField(_l("What arrived"), choices=CONDITIONS, default=Condition.FULL.value)
    quantity_received = StringField(
        _l("Quantity received"), render_kw={"inputmode": "numeric", "size": 8}
    )
    note = TextAreaField(_l("Note (optional)"))
    photos = MultipleFileField(_l("Photos (up to 3, optional)"), render_kw={"accept": "image/*"})
    signer_name = StringField(_l("Your name"), render_kw={"autocomplete": "name"})


class DisputeForm(FlaskForm):
    """The group says the receipt is wrong."""

    reason = TextAreaField(_l("What is wrong with this receipt?"))


class SlipForm(FlaskForm):
    """Make the slip (and its receipt link)."""
