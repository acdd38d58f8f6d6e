"""The forms of a recurring offer on its page: make it repeat, change it, and the buttons
that pause, resume or stop it (a CSRF token only)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField

from aidmatch.web.labels import options

EVERY_CHOICES = (("month", _l("every month")), ("week", _l("every week")))


class RepeatForm(FlaskForm):
    """Make an offer repeat (every, quantity per period, start, end, carry-over)."""

    every = SelectField(_l("Repeats"), choices=options(EVERY_CHOICES), validate_choice=False)
    quantity = StringField(_l("Quantity each period"), render_kw={"inputmode": "numeric"})
    starts_on = StringField(_l("From"), render_kw={"type": "date"})
    ends_on = StringField(_l("Until (optional)"), render_kw={"type": "date"})
    carry_over = BooleanField(_l("What a period does not use is added to the next one"))

    def data_for_operation(self) -> dict:
        """The form as make_recurring takes it."""
        return {
            "every": self.every.data,
            "quantity": (self.quantity.data or "").strip(),
            "starts_on": (self.starts_on.data or "").strip(),
            "ends_on": (self.ends_on.data or "").strip(),
            "carry_over": bool(self.carry_over.data),
        }


class ChangeForm(FlaskForm):
    """Change a series from its next period on (quantity per period, end, carry-over)."""

    quantity = StringField(_l("Quantity each period"), render_kw={"inputmode": "numeric"})
    ends_on = StringField(_l("Until (optional)"), render_kw={"type": "date"})
    carry_over = BooleanField(_l("What a period does not use is added to the next one"))

    def data_for_operation(self) -> dict:
        """The form as change takes it."""
        return {
            "quantity": (self.quantity.data or "").strip(),
            "ends_on": (self.ends_on.data or "").strip(),
            "carry_over": bool(self.carry_over.data),
        }


class ButtonForm(FlaskForm):
    """Pause, resume or stop: nothing but the CSRF token."""
