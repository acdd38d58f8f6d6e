"""A report PDF made by the job queue (the whole network's: too long for a request), kept with
its progress until it is downloaded."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from aidmatch.db import UTCDateTime, str_enum, utcnow
from aidmatch.extensions import db

# A network report takes seconds to minutes; one not made within this was lost with its worker.
STALE_AFTER = timedelta(minutes=30)


class FileStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ReportFile(db.Model):
    """The PDF of the network's report over a period, in a language, asked for by a person."""

    __tablename__ = "report_files"
    __table_args__ = (
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_percent"),
        CheckConstraint("period_start <= period_end", name="period_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[FileStatus] = mapped_column(
        str_enum(FileStatus, "report_file_status"), default=FileStatus.QUEUED
    )
    progress: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def status_at(self, now: datetime) -> FileStatus:
        """The status as read at now: a file still queued or running STALE_AFTER after it was
        asked for reads as failed (its worker died), without a write."""
        waiting = self.status in (FileStatus.QUEUED, FileStatus.RUNNING)
        if waiting and self.created_at < now - STALE_AFTER:
            return FileStatus.FAILED
        return FileStatus(self.status)

    def __repr__(self) -> str:
        return f"<ReportFile {self.id} {self.period_start}..{self.period_end} {self.status}>"
