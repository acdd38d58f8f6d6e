"""Forms of conversations: write a message, report one. They parse types only; the verbs
(conversations/operations.py) decide what may be sent and say why not."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField


class MessageForm(FlaskForm):
    """A message (on an offer, a donor's or coordinator's answer names the group)."""

    body = TextAreaField(_l("Your message"))
    group = HiddenField()


class ReportForm(FlaskForm):
    """Report a message to the coordinators, with an optional reason."""

    reason = StringField(_l("Why (optional)"))
