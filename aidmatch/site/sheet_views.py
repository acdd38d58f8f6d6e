"""Spreadsheets of needs and offers: one page per kind (/needs/spreadsheets,
/offers/spreadsheets) to download a template, import a CSV or XLSX through a preview of
every row, and export CSV or XLSX (privacy rules apply).

The preview stores nothing. Its rows travel to the confirmation in a hidden field, signed
with the app's secret key (itsdangerous, compressed) for the user and the kind who previewed
them and valid for a day: no upload in the session cookie, nothing kept on the server
between the two requests (so nothing to clean up, and any app server takes the
confirmation). The confirmation reads the rows again through the same checks, so a row is
judged by the rules of the moment it is stored; each is posted with an idempotency key made
of the preview's token and its row number, so a confirmation sent twice posts once.

1 000 rows are read, checked and stored well within a request (bench/import.py: about 2 s,
preview and confirmation, on the busy 2-core machine; the goal is 5 s), so an import runs in
the request, not as a job.
"""

from __future__ import annotations

from functools import partial

import marshmallow as ma
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from aidmatch.categories.menu import category_menu
from aidmatch.extensions import db
from aidmatch.needs.kind import NEED
from aidmatch.offers.kind import OFFER
from aidmatch.permissions import deny_unless, is_staff, require_login
from aidmatch.postings.args import filters_from_args
from aidmatch.postings.export import export, template
from aidmatch.postings.queries import kind_select
from aidmatch.postings.sheet_rows import import_columns, new_token, preview, store
from aidmatch.postings.sheets import CSV_TYPE, XLSX_TYPE, read_rows
from aidmatch.refusals import Invalid
from aidmatch.transparency.deliveries import deliveries_csv
from aidmatch.web.labels import language
from aidmatch.web.schemas import ListArgs

bp = Blueprint("sheets", __name__)
KINDS = {NEED.plural: NEED, OFFER.plural: OFFER}
REQUIRED = ("title", "category", "quantity")
PREVIEW_MAX_AGE = 24 * 3600
# The hidden field a browser sends back (Flask's MAX_FORM_MEMORY_SIZE is 500 000 bytes).
PAYLOAD_MAX = 480_000
TYPES = {"csv": CSV_TYPE, "xlsx": XLSX_TYPE}


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


def _file(body: bytes, filename: str, fmt: str) -> Response:
    return Response(
        body,
        mimetype=TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'},
    )


def may_import(kind) -> bool:
    """Members of an organization that posts this kind (organizers: needs; donors: offers)."""
    return kind.may_post(current_user.organization)


def may_export(kind) -> bool:
    """Coordinators and admins (every row the filters select), and members of an organization
    that posts this kind (its own rows)."""
    return is_staff(current_user) or may_import(kind)


def _export(kind, fmt: str):
    """The rows the filters select that the user may export, as CSV or XLSX (?hxl=1: the
    HXL export, postings/hxl.py); 403 (before the filters are read) for anyone else."""
    deny_unless(may_export(kind))
    if is_staff(current_user):
        filters = _filters()
    else:
        filters = _filters(organization_id=current_user.organization_id)
    query = kind_select(kind, current_user, filters)
    hxl = request.args.get("hxl") in ("1", "on", "true", "yes")
    name = f"{kind.plural}-hxl" if hxl else kind.plural
    return _file(export(current_user, query, kind, fmt, hxl=hxl), name, fmt)


@bp.get("/matches/deliveries.csv")
@require_login
def deliveries():
    """The deliveries the user may export (staff: all; others: their organization's), as CSV;
    ?hxl=1: the HXL file, published deliveries only (transparency/deliveries.py)."""
    deny_unless(is_staff(current_user) or current_user.organization_id is not None)
    hxl = request.args.get("hxl") in ("1", "on", "true", "yes")
    body = deliveries_csv(current_user, hxl)
    db.session.rollback()  # read only
    return _file(body, "deliveries-hxl" if hxl else "deliveries", "csv")


def _template(kind, fmt: str):
    """An empty file to fill in (XLSX: with the categories on a second sheet)."""
    deny_unless(may_import(kind))
    return _file(template(kind, language(), fmt), f"{kind.plural}-template", fmt)


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="aidmatch.sheet-import")


def _page(kind, status: int = 200, **context):
    context.setdefault("rows", None)
    context.setdefault("errors", {})
    context.setdefault("message", None)
    rows = context["rows"]
    good = sum(1 for r in rows if r.good) if rows is not None else 0
    menu = category_menu(language())
    return render_template(
        "sheets/page.html",
        kind=kind.name,
        plural=kind.plural,
        columns=import_columns(kind),
        required=REQUIRED,
        may_import=may_import(kind),
        may_export=may_export(kind),
        menu=menu,
        good=good,
        bad=(len(rows) - good) if rows is not None else 0,
        **context,
    ), status


def _sheet_page(kind):
    """The page: template, upload, export."""
    deny_unless(may_export(kind))
    return _page(kind)


def _preview(kind):
    """Read an upload and show every row with its problems; nothing is stored."""
    deny_unless(may_import(kind))
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        message = _("Choose a CSV or XLSX file.")
        return _page(kind, 422, errors={"file": message}, message=message)
    try:
        rows = preview(kind, read_rows(upload.read(), import_columns(kind), REQUIRED))
    except Invalid as exc:
        return _page(kind, 422, errors=exc.fields, message=exc.message)
    payload = _signer().dumps(
        {
            "kind": kind.name,
            "user": current_user.id,
            "token": new_token(),
            "rows": [[r.number, r.cells] for r in rows],
        }
    )
    if len(payload) > PAYLOAD_MAX:
        message = _("These rows hold too much text to import at once: split the file in two.")
        return _page(kind, 422, errors={"file": message}, message=message)
    return _page(kind, rows=rows, payload=payload, filename=upload.filename)


def _confirm(kind):
    """Store the previewed rows: all of them or none, or only the good ones."""
    deny_unless(may_import(kind))
    try:
        sent = _signer().loads(request.form.get("payload", ""), max_age=PREVIEW_MAX_AGE)
    except BadSignature:
        sent = None
    if not sent or sent.get("kind") != kind.name or sent.get("user") != current_user.id:
        message = _("This preview is too old or was not made for you: upload the file again.")
        return _page(kind, 422, errors={"file": message}, message=message)
    rows = preview(kind, [(number, cells) for number, cells in sent["rows"]])
    everything = request.form.get("mode") != "good"
    done = store(kind, current_user.organization, current_user, rows, sent["token"], everything)
    again = {"payload": request.form["payload"], "mode": request.form.get("mode")}
    if everything and done.skipped:
        # Nothing stored (a row refused while storing is undone by the 422's rollback).
        message = ngettext(
            "Nothing was imported: %(num)d row has a problem.",
            "Nothing was imported: %(num)d rows have problems.",
            len(done.skipped),
        )
        return _page(kind, 422, rows=rows, message=message, **again)
    if done.created:
        flash(kind_words(kind, len(done.created)), "success")
    if done.again:
        flash(
            ngettext(
                "%(num)d row had been imported already (this page was sent before).",
                "%(num)d rows had been imported already (this page was sent before).",
                len(done.again),
            ),
            "info",
        )
    if done.skipped:
        flash(
            ngettext(
                "%(num)d row with a problem was left out.",
                "%(num)d rows with problems were left out.",
                len(done.skipped),
            ),
            "warning",
        )
    return redirect(url_for(f"{kind.plural}.index", organization="mine"))


def kind_words(kind, n: int) -> str:
    """How many needs or offers were imported, in the user's language."""
    if kind is NEED:
        return ngettext("%(num)d need imported.", "%(num)d needs imported.", n)
    return ngettext("%(num)d offer imported.", "%(num)d offers imported.", n)


for _plural, _kind in KINDS.items():
    _routes = (
        ("spreadsheets", "page", _sheet_page, ["GET"]),
        ("spreadsheets/preview", "preview", _preview, ["POST"]),
        ("spreadsheets/import", "confirm", _confirm, ["POST"]),
        ("export.csv", "export_csv", partial(_export, fmt="csv"), ["GET"]),
        ("export.xlsx", "export_xlsx", partial(_export, fmt="xlsx"), ["GET"]),
        ("spreadsheets/template.csv", "template_csv", partial(_template, fmt="csv"), ["GET"]),
        ("spreadsheets/template.xlsx", "template_xlsx", partial(_template, fmt="xlsx"), ["GET"]),
    )
    for _path, _name, _view, _methods in _routes:
        bp.add_url_rule(
            f"/{_plural}/{_path}",
            f"{_name}_{_plural}",
            require_login(partial(_view, _kind)),
            methods=_methods,
        )
