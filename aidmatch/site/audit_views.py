"""The audit trail for coordinators: a filter form and the CSV export."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, Response, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from aidmatch.audit.forms import AuditExportForm
from aidmatch.audit.models import AuditEvent
from aidmatch.auth.models import User
from aidmatch.extensions import db
from aidmatch.permissions import require_staff
from aidmatch.postings.forms import date_error_fields
from aidmatch.postings.sheets import safe_cell as _safe
from aidmatch.web.labels import options

bp = Blueprint("audit", __name__, url_prefix="/audit")

MAX_EXPORT_ROWS = 100_000
COLUMNS = ("time", "actor", "action", "object_type", "object_id", "before", "after")
# The tables audit events name, as the filter shows them (the value stays the table's name).
OBJECT_TYPE_LABELS = {
    "needs": _l("Needs"),
    "offers": _l("Offers"),
    "matches": _l("Matches"),
    "matching_runs": _l("Matching runs"),
    "organizations": _l("Organizations"),
    "invites": _l("Invite codes"),
    "users": _l("Users"),
    "api_tokens": _l("API tokens"),
    "categories": _l("Categories"),
}


def _form() -> AuditExportForm:
    form = AuditExportForm()
    types = db.session.scalars(select(AuditEvent.object_type).distinct()).all()
    labelled = sorted((t, str(OBJECT_TYPE_LABELS.get(t, t))) for t in types)
    form.object_type.choices = options([("", _("all")), *labelled])
    form.validate()
    date_error_fields(form, ("since", "until"))
    return form


def _midnight(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def events_query(object_type: str | None, since=None, until=None):
    """Events with their actor's email, oldest first, filtered by type and by date (UTC)."""
    stmt = (
        select(AuditEvent, User.email)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .order_by(AuditEvent.id)
    )
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if since:
        stmt = stmt.where(AuditEvent.created_at >= _midnight(since))
    if until:
        stmt = stmt.where(AuditEvent.created_at < _midnight(until + timedelta(days=1)))
    return stmt


def _json(value) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)


def to_csv(rows) -> str:
    """The events as CSV; every cell that a spreadsheet would run as a formula is made text."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for event, email in rows:
        values = (
            event.created_at.isoformat(),
            email or "",
            event.action,
            event.object_type,
            event.object_id,
            _json(event.before),
            _json(event.after),
        )
        writer.writerow([_safe(v) for v in values])
    return out.getvalue()


@bp.get("")
@require_staff
def index():
    """The export form: object type and dates."""
    form = _form()
    db.session.rollback()
    return render_template("audit/index.html", form=form)


@bp.get("/export.csv")
@require_staff
def export_csv():
    """The audit trail as CSV (time, actor, action, object type and id, before, after)."""
    form = _form()
    if form.errors:
        db.session.rollback()
        return render_template("audit/index.html", form=form), 400
    stmt = events_query(form.object_type.data or None, form.since.data, form.until.data)
    # Read everything at once and end the transaction before writing: on SQLite every
    # transaction holds the write lock, so streaming from an open one would stall writers.
    rows = db.session.execute(stmt.limit(MAX_EXPORT_ROWS)).all()
    body = to_csv(rows)
    db.session.rollback()
    name = "aidmatch-audit"
    if form.object_type.data:
        name += "-" + "".join(c for c in form.object_type.data if c.isalnum() or c == "_")
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}.csv"},
    )
