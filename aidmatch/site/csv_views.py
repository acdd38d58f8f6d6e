"""Spreadsheet import and export pages for needs and offers (privacy rules apply)."""

from __future__ import annotations

from functools import partial

import marshmallow as ma
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from aidmatch.extensions import db
from aidmatch.needs.csv_io import OPTIONAL, REQUIRED, import_needs
from aidmatch.needs.kind import NEED
from aidmatch.needs.operations import can_post_need
from aidmatch.offers.kind import OFFER
from aidmatch.permissions import is_staff, require_login
from aidmatch.postings.args import filters_from_args
from aidmatch.postings.csv_export import NEED_COLUMNS, OFFER_COLUMNS, export
from aidmatch.postings.queries import kind_select
from aidmatch.refusals import Invalid, Refusal
from aidmatch.web.schemas import ListArgs

bp = Blueprint("csv", __name__)


def _filters(**forced):
    schema = ListArgs()
    try:
        args = schema.load({k: v for k, v in request.args.items() if k in schema.fields})
    except ma.ValidationError as exc:
        fields = {k: " ".join(map(str, v)) for k, v in exc.normalized_messages().items()}
        raise Invalid(_("Some filters are not valid."), fields=fields) from None
    filters = filters_from_args(args)
    for key, value in forced.items():
        setattr(filters, key, value)
    return filters


def _csv_response(text: str, filename: str) -> Response:
    return Response(
        text.encode("utf-8-sig"),  # with BOM, so spreadsheet programs read UTF-8
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _export(kind, columns: tuple[str, ...]):
    """Coordinators export everything the filters select; members of an organization that
    posts this kind export their own rows (organizers their group's needs, donors their
    collective's offers); others get 403, before the filters are read."""
    if is_staff(current_user):
        filters = _filters()
    elif kind.may_post(current_user.organization):
        filters = _filters(organization_id=current_user.organization_id)
    else:
        abort(403)
    query = kind_select(kind, current_user, filters)
    return _csv_response(export(current_user, query, kind.to_dict, columns), f"{kind.plural}.csv")


for _kind, _columns in ((NEED, NEED_COLUMNS), (OFFER, OFFER_COLUMNS)):
    bp.add_url_rule(
        f"/{_kind.plural}/export.csv",
        f"export_{_kind.plural}",
        require_login(partial(_export, _kind, _columns)),
    )


@bp.route("/needs/import", methods=["GET", "POST"])
@require_login
def import_needs_page():
    """Organizers upload a CSV of needs: all rows are imported, or none with every error."""
    if not can_post_need(current_user):
        abort(403)
    errors: dict = {}
    message = None
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            errors = {"file": _("Choose a CSV file.")}
        else:
            try:
                created = import_needs(current_user.organization, upload.read(), current_user)
            except Refusal as exc:
                db.session.rollback()
                message, errors = exc.message, exc.fields
            else:
                flash(_("%(n)d needs imported.", n=len(created)), "success")
                return redirect(url_for("csv.import_needs_page"))
    return render_template(
        "csv/import_needs.html",
        required=REQUIRED,
        optional=OPTIONAL,
        errors=errors,
        message=message,
    ), (422 if errors else 200)
