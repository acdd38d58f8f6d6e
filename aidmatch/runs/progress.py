"""A running matching run's signs of life: its stage and progress (``Reporter``, written in
the run's own transaction, so each write is also a heartbeat) and a heartbeat thread
(``Heartbeat``) for the stretches when nothing else writes (the engine computing).
``runs.sweep`` (job.py) fails a run whose heartbeat stops."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import update

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.runs.models import MatchingRun, RunStatus

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = 10  # seconds between two heartbeats of a running run
# What a run's progress callback is told: the stage, how much of it is done, out of how much.
Progress = Callable[[str, int, int], None]


class RunLost(Exception):
    """The run was marked failed while it ran (its heartbeat was taken for dead)."""


class Reporter:
    """Writes a run's stage and progress (and so its heartbeat) and tells ``show``."""

    def __init__(self, run_id: int, show: Progress | None) -> None:
        self.run_id, self.show = run_id, show

    def stage(self, name: str, total: int = 0) -> None:
        """A new stage begins: written in a short commit of its own."""
        self.write(name, 0, total)
        db.session.commit()

    def write(self, name: str, done: int, total: int) -> None:
        """Write the progress in the current transaction (RunLost if the run is not running)."""
        written = db.session.execute(
            update(MatchingRun)
            .where(MatchingRun.id == self.run_id, MatchingRun.status == RunStatus.RUNNING)
            .values(stage=name, progress_done=done, progress_total=total, heartbeat_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if written != 1:
            raise RunLost(f"run {self.run_id} was marked failed while it ran")
        if self.show is not None:
            self.show(name, done, total)


class Heartbeat:
    """A thread writing the run's ``heartbeat_at`` every HEARTBEAT_EVERY seconds, each in a
    transaction of one UPDATE on a connection of its own, while the run runs (also while the
    engine computes, when nothing else writes)."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.engine = db.engine
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"run-{run_id}-heartbeat")

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stopped.set()
        self.thread.join()

    def _beat(self) -> None:
        table = MatchingRun.__table__
        while not self.stopped.wait(HEARTBEAT_EVERY):
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        update(table)
                        .where(table.c.id == self.run_id, table.c.status == RunStatus.RUNNING)
                        .values(heartbeat_at=utcnow())
                    )
            except Exception:  # noqa: BLE001 - the next beat tries again
                log.warning("matching run %s: heartbeat not written", self.run_id, exc_info=True)
