"""Nothing committed is lost, nothing rolled back is told: a real worker is killed (SIGKILL) in
the middle of a batch of e-mails and started again; every committed notification reaches the
SMTP server once, none of a rolled-back change does."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from aidmatch.extensions import db
from aidmatch.notify.models import Delivery, DeliveryStatus
from aidmatch.notify.outbox import tell
from aidmatch.permissions import Role
from tests.factories import make_org, make_user
from tests.smtp_server import Recorder, SmtpServer, app_on, mail_settings
from tests.worker_process import Worker, queue_settings, wait_until

pytestmark = pytest.mark.slow

TOLD = 60  # committed: three transactions of 20
HOLD_AT = 30  # the SMTP server holds the 30th recipient until the worker is dead


class Gate(Recorder):
    """Accepts like Recorder, but holds one RCPT TO until told, so the test can kill the
    worker while it waits for the answer: in the middle of its batch."""

    def __init__(self, hold_at: int):
        super().__init__()
        self.hold_at = hold_at
        self.rcpts = 0
        self.reached = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpts += 1
        if self.rcpts == self.hold_at:
            self.reached.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
            return "451 4.3.0 Try again later"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


@pytest.fixture
def gate():
    server = SmtpServer()
    server.handler = Gate(HOLD_AT)
    server.controller = Controller(server.handler, hostname="127.0.0.1", port=server.port)
    server.controller.start()
    yield server
    server.handler.release.set()
    server.controller.stop()


def deliveries(status: DeliveryStatus) -> int:
    """How many deliveries the worker left in this status (read in a transaction ended at
    once: on SQLite every transaction holds the write lock the worker needs)."""
    count = db.session.scalar(
        select(func.count()).select_from(Delivery).where(Delivery.status == status)
    )
    db.session.rollback()
    return count


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    database_url, gate, tmp_path
):
    settings = {**mail_settings(gate.port), **queue_settings(tmp_path)}
    with app_on(database_url, **settings) as app:
        org = make_org("Kill test group")
        told = [make_user(Role.ORGANIZER, org=org) for _ in range(TOLD)]
        silent = [make_user(Role.ORGANIZER, org=org) for _ in range(10)]
        db.session.commit()
        params = {"organization": org.name}
        for start in range(0, TOLD, 20):  # three changes, each committed with its notices
            tell(told[start : start + 20], "org_verified", params=params, organization=org)
            db.session.commit()
        tell(silent, "org_verified", params=params, organization=org)  # a change rolled back
        db.session.rollback()
        assert deliveries(DeliveryStatus.PENDING) == TOLD

        # Claims of a dead worker are stale at once, so that its successor's sweep at start
        # takes them back (the default waits NOTIFY_CLAIM_STALE_SECONDS=300).
        worker = Worker(app, tmp_path, NOTIFY_CLAIM_STALE_SECONDS=0, **settings)
        try:
            worker.start()
            assert gate.handler.reached.wait(timeout=90), worker.output()
            worker.kill()
            gate.handler.release.set()
            sent_before = deliveries(DeliveryStatus.SENT)
            in_flight = deliveries(DeliveryStatus.SENDING)
            assert sent_before == HOLD_AT - 1  # each sent e-mail recorded as it went
            assert in_flight >= 1  # the batch the worker died in, still claimed

            worker.start()
            wait_until(lambda: deliveries(DeliveryStatus.SENT) == TOLD, "every e-mail", worker)
        finally:
            worker.stop()

        received = Counter(rcpt for message in gate.received for rcpt in message.rcpt_tos)
        duplicates = sum(n - 1 for n in received.values())
        print(
            f"\nworker killed after {sent_before} of {TOLD} e-mails, {in_flight} in flight; "
            f"after restart: {len(received)} addresses reached, {duplicates} duplicates"
        )
        assert duplicates == 0
        assert set(received) == {user.email for user in told}
        assert not {user.email for user in silent} & set(received)
        assert deliveries(DeliveryStatus.FAILED) == 0
