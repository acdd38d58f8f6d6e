"""Reports that donors and funders read: /reports/org/<id> (a donor organization's members and
staff) and /reports/network (staff), as a page made for printing and as a PDF, in uk, en or
de (?lang=, else the reader's language), over ?from=&to= (the current quarter by default)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.orgs.models import Organization
from aidmatch.orgs.sections import org_page_section
from aidmatch.permissions import (
    can_see_network_report,
    can_see_org_report,
    deny_unless,
    require_login,
)
from aidmatch.refusals import Invalid, NotFound
from aidmatch.reports.job import request_network_pdf
from aidmatch.reports.models import FileStatus, ReportFile
from aidmatch.reports.pdf import render_pdf
from aidmatch.reports.period import Period, current_quarter, parse_period
from aidmatch.reports.report import make_report
from aidmatch.web.labels import language

bp = Blueprint("reports", __name__, url_prefix="/reports")


@org_page_section
def report_link(org, _viewer) -> dict:
    """The organization's page links its report for those who may read it."""
    allowed = can_see_org_report(current_user, org)
    return {"report_url": url_for("reports.org_report", org_id=org.id) if allowed else None}


def report_language() -> str:
    """?lang= when it is one of ours (else refused), the reader's language otherwise."""
    return _language_in(request.args)


def _report_org(org_id: int) -> Organization:
    org = db.session.get(Organization, org_id)
    if org is None:
        raise NotFound(_l("There is no such organization."))
    deny_unless(can_see_org_report(current_user, org))
    return org


def _page(org: Organization | None) -> str:
    lang = report_language()
    try:
        period, error = parse_period(request.args), None
    except Invalid as refusal:
        period, error = None, refusal
    with force_locale(lang):
        if error is not None:
            return render_template(
                "reports/report.html",
                report=None,
                org=org,
                error=error,
                period=current_quarter(),
                asked=request.args,
                lang=lang,
            ), 422
        report = make_report(org, period, lang)
        return render_template(
            "reports/report.html", report=report, org=org, error=None, period=period,
            asked=request.args, lang=lang,
        )  # fmt: skip


def _pdf(org: Organization | None, name: str):
    lang = report_language()
    try:
        period = parse_period(request.args)
    except Invalid:
        return _page(org)  # the page's refusal (422), in the report's language, no PDF
    body = render_pdf(make_report(org, period, lang))
    return Response(
        body,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f"inline; filename={pdf_name(name, period, lang)}",
            "Cache-Control": "private, no-store",
        },
    )


def pdf_name(name: str, period: Period, lang: str) -> str:
    """aidmatch-report-<name>-<from>-<to>-<lang>.pdf"""
    return f"aidmatch-report-{name}-{period.start}-{period.end}-{lang}.pdf"


@bp.get("/org/<int:org_id>")
@require_login
def org_report(org_id: int):
    """A donor organization's report as a page made for printing."""
    org = _report_org(org_id)
    result = _page(org)
    db.session.rollback()  # read only
    return result


@bp.get("/org/<int:org_id>.pdf")
@require_login
def org_report_pdf(org_id: int):
    """A donor organization's report as a PDF (small: drawn at once)."""
    org = _report_org(org_id)
    response = _pdf(org, f"org{org.id}")
    db.session.rollback()
    return response


@bp.get("/network")
@require_login
def network_report():
    """The report over the whole network (staff) as a page made for printing."""
    deny_unless(can_see_network_report(current_user))
    result = _page(None)
    db.session.rollback()
    return result


@bp.post("/network.pdf")
@require_login
def network_pdf():
    """Ask for the network's report as a PDF: made on the job queue; its page follows it."""
    deny_unless(can_see_network_report(current_user))
    lang = _language_in(request.form)
    period = parse_period(request.form)
    file = request_network_pdf(current_user, period, lang)
    return redirect(url_for("reports.file_page", file_id=file.id), 303)


def _language_in(values) -> str:
    asked = values.get("lang") or language()
    if asked not in current_app.config["LANGUAGES"]:
        raise Invalid(_l("Choose a language: uk, en or de."), field="lang")
    return asked


def _file(file_id: int) -> ReportFile:
    deny_unless(can_see_network_report(current_user))
    file = db.session.get(ReportFile, file_id)
    if file is None:
        raise NotFound(_l("There is no such report."))
    return file


@bp.get("/files/<int:file_id>")
@require_login
def file_page(file_id: int):
    """How far the network's PDF got (the page reloads itself until it is done), then its link."""
    file = _file(file_id)
    period = Period(file.period_start, file.period_end)
    status = file.status_at(utcnow())
    result = render_template(
        "reports/file.html", file=file, status=status, period=period, Status=FileStatus
    )
    db.session.rollback()
    return result


@bp.get("/files/<int:file_id>.pdf")
@require_login
def file_pdf(file_id: int):
    """The network's PDF once the job made it."""
    file = _file(file_id)
    if file.status != FileStatus.DONE or file.pdf is None:
        raise NotFound(_l("The report is not ready yet."))
    period = Period(file.period_start, file.period_end)
    response = Response(
        file.pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f"inline; filename={pdf_name('network', period, file.language)}",
            "Cache-Control": "private, no-store",
        },
    )
    db.session.rollback()
    return response
