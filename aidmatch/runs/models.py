"""A matching run: who started it, its scope and parameters, its stage, counts and timings."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from aidmatch.db import UTCDateTime, str_enum, utcnow
from aidmatch.extensions import db


class RunStatus(StrEnum):
    QUEUED = "queued"  # enqueued on the job queue, no worker has taken it yet
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


class MatchingRun(db.Model):
    __tablename__ = "matching_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    parameters: Mapped[dict] = mapped_column(JSON, default=dict)
    scope: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[RunStatus] = mapped_column(
        str_enum(RunStatus, "status"), default=RunStatus.RUNNING
    )
    needs_considered: Mapped[int] = mapped_column(default=0)
    offers_considered: Mapped[int] = mapped_column(default=0)
    candidate_pairs: Mapped[int] = mapped_column(default=0)
    proposals: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[dict] = mapped_column(JSON, default=dict)
    timings: Mapped[dict] = mapped_column(JSON, default=dict)
    seconds: Mapped[float | None]
    # Progress while it runs: the stage (loading, candidates, allocation, storing), how much
    # of it is done out of how much, and when its worker last said it is alive.
    stage: Mapped[str | None] = mapped_column(String(20))
    progress_done: Mapped[int] = mapped_column(default=0, server_default="0")
    progress_total: Mapped[int] = mapped_column(default=0, server_default="0")
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def skipped_rows(self) -> list[dict]:
        """The first rows the engine skipped (kept in ``parameters``): kind, id, reason."""
        rows = (self.parameters or {}).get("skipped_rows") or []
        return [{"kind": kind, "id": row_id, "reason": reason} for kind, row_id, reason in rows]

    def __repr__(self) -> str:
        return f"<MatchingRun {self.id} {self.status} proposals={self.proposals}>"
