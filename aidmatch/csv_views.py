"""Spreadsheet import and export pages for needs and offers (privacy rules apply)."""

from __future__ import annotations

import marshmallow as ma
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from aidmatch.csv_export import NEED_COLUMNS, OFFER_COLUMNS, export
from aidmatch.errors import ApiError
from aidmatch.extensions import db
from aidmatch.needs.csv_io import OPTIONAL, REQUIRED, import_needs
from aidmatch.needs.operations import can_post_need, needs_query
from aidmatch.offers.operations import can_post_offer, offers_query
from aidmatch.permissions import is_staff, require_login
from aidmatch.schemas import ListArgs, filters_from_args
from aidmatch.serialize import need_to_dict, offer_to_dict

bp = Blueprint("csv", __name__)


def _filters(**forced):
    schema = ListArgs()
    try:
        args = schema.load({k: v for k, v in request.args.items() if k in schema.fields})
    except ma.ValidationError as exc:
        fields = {k: " ".join(map(str, v)) for k, v in exc.normalized_messages().items()}
        raise ApiError(422, _("Some filters are not valid."), fields) from None
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


def _export(may_export_own: bool, query_for, to_dict, columns, filename: str):
    """Coordinators export everything the filters select; members only their own rows."""
    if is_staff(current_user):
        filters = _filters()
    elif may_export_own:
        filters = _filters(organization_id=current_user.organization_id)
    else:
        abort(403)
    text = export(current_user, query_for(current_user, filters), to_dict, columns)
    return _csv_response(text, filename)


@bp.get("/needs/export.csv")
@require_login
def export_needs():
    """Coordinators export needs (any filter); organizers export their own group's."""
    return _export(
        can_post_need(current_user), needs_query, need_to_dict, NEED_COLUMNS,
        "needs.csv",
    )  # fmt: skip


@bp.get("/offers/export.csv")
@require_login
def export_offers():
    """Coordinators export offers (any filter); donors export their own collective's."""
    return _export(
        can_post_offer(current_user), offers_query, offer_to_dict, OFFER_COLUMNS,
        "offers.csv",
    )  # fmt: skip


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
            except ApiError as exc:
                db.session.rollback()
                message, errors = exc.message, exc.fields
            else:
                db.session.commit()
                flash(_("%(n)d needs imported.", n=len(created)), "success")
                return redirect(url_for("csv.import_needs_page"))
    return render_template(
        "csv/import_needs.html",
        required=REQUIRED,
        optional=OPTIONAL,
        errors=errors,
        message=message,
    ), (422 if errors else 200)
