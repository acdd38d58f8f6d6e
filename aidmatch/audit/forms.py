"""The filters of the audit trail export (a GET form: no CSRF token)."""

from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import Optional


class AuditExportForm(FlaskForm):
    """Which events to export: one object type (or all), from and until a date (UTC)."""

    class Meta:
        csrf = False

    object_type = SelectField(_l("Object type"), validate_choice=False, default="")
    since = DateField(_l("From (date, UTC)"), validators=[Optional()])
    until = DateField(_l("Until (date, UTC, inclusive)"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formdata", request.args)
        super().__init__(*args, **kwargs)
