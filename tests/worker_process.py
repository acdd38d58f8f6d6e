"""A real job worker (`flask jobs worker`) in a process of its own, on the test's database and
a queue both processes share (a SQLite file, or Redis in .ci/run's PostgreSQL pass), for the
tests that kill it or let it run a whole story."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def queue_settings(tmp_path: Path) -> dict:
    """Settings of a queue two processes can share: Redis when the run has one
    (TEST_REDIS_URL), else a SQLite file in the test's folder."""
    redis_url = os.environ.get("TEST_REDIS_URL")
    if redis_url:
        return {
            "JOBS_BACKEND": "redis",
            "REDIS_URL": redis_url,
            "JOBS_NAME": f"aidmatch-worker-{uuid.uuid4().hex}",
        }
    return {"JOBS_BACKEND": "sqlite", "JOBS_SQLITE_PATH": str(tmp_path / "jobs.sqlite3")}


class Worker:
    """`flask jobs worker` with the app's settings; started, killed and stopped by the test."""

    def __init__(self, app, tmp_path: Path, **settings):
        keys = ("SECRET_KEY", "JOBS_BACKEND", "JOBS_NAME", "JOBS_SQLITE_PATH", "REDIS_URL")
        env = {key: str(app.config[key]) for key in keys if app.config.get(key)}
        env |= {key: str(value) for key, value in settings.items()}
        self.env = {
            **os.environ,
            **env,
            "AIDMATCH_ENV": "testing",
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "FLASK_APP": "app.py",
            "BABEL_DEFAULT_LOCALE": "en",
        }
        self.log = tmp_path / "worker.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 (our own CLI)
                [sys.executable, "-m", "flask", "jobs", "worker", "--workers", "1"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def kill(self) -> None:
        """SIGKILL: no clean-up, no last commit."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def wait_until(done: Callable[[], bool], what: str, worker: Worker, timeout: float = 90) -> None:
    """Wait for another process to bring something about (checked every tenth of a second),
    or fail with the worker's log."""
    pause = threading.Event()
    for _ in range(int(timeout * 10)):
        if done():
            return
        assert worker.process is None or worker.process.poll() is None, worker.output()
        pause.wait(0.1)
    raise AssertionError(f"timed out waiting for {what}; worker log:\n{worker.output()}")
