"""The whole network's report as a PDF, made on the job queue (``reports.network_pdf``): the
page asks for it (a queued ReportFile, the job enqueued once that commits), the worker claims
it, writes its progress in short commits of their own, and stores the PDF; the file's page
shows the progress (reloading itself, no script) and then the download."""

from __future__ import annotations

import logging

from sqlalchemy import update

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.jobs.queue import after_commit, task
from aidmatch.reports.models import FileStatus, ReportFile
from aidmatch.reports.pdf import render_pdf
from aidmatch.reports.period import Period
from aidmatch.reports.report import make_report

log = logging.getLogger(__name__)
JOB = "reports.network_pdf"


def request_network_pdf(user, period: Period, lang: str) -> ReportFile:
    """Queue the network's report over period in lang (flushed; the job runs once the caller
    commits)."""
    file = ReportFile(
        requested_by_id=user.id, period_start=period.start, period_end=period.end, language=lang
    )
    db.session.add(file)
    db.session.flush()
    after_commit(JOB, file.id)
    return file


def _set_progress(file_id: int, percent: int) -> None:
    db.session.execute(update(ReportFile).where(ReportFile.id == file_id).values(progress=percent))
    db.session.commit()


@task(JOB)
def make_network_pdf(file_id: int) -> None:
    """Claim the queued file (a conditional UPDATE: a job handed out twice runs once), draw the
    report and store its PDF; a failure is stored with its reason."""
    claimed = db.session.execute(
        update(ReportFile)
        .where(ReportFile.id == file_id, ReportFile.status == FileStatus.QUEUED)
        .values(status=FileStatus.RUNNING, progress=5)
    ).rowcount
    db.session.commit()
    if not claimed:
        return
    file = db.session.get(ReportFile, file_id)
    try:
        report = make_report(None, Period(file.period_start, file.period_end), file.language)
        _set_progress(file_id, 15)
        body = render_pdf(report, progress=lambda p: _set_progress(file_id, 15 + p * 80 // 100))
    except Exception as exc:
        log.exception("the network report %s failed", file_id)
        db.session.rollback()
        db.session.execute(
            update(ReportFile)
            .where(ReportFile.id == file_id)
            .values(
                status=FileStatus.FAILED,
                error=type(exc).__name__,  # the page says what to do, in the reader's words
                finished_at=utcnow(),
            )
        )
        return
    file = db.session.get(ReportFile, file_id)
    file.pdf = body
    file.status = FileStatus.DONE
    file.progress = 100
    file.finished_at = utcnow()
