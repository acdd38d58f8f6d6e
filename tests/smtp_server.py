"""A real SMTP server for the e-mail tests: aiosmtpd's Controller on 127.0.0.1 and a free port,
with a handler that records every message it accepts and can be told to refuse an address
(550) or to answer every recipient with a temporary error (421, 451).

Fixtures: ``smtp`` (the server, stopped after the test) and ``app`` (the test's app with
MAIL_SERVER/MAIL_PORT pointing at it, in place of conftest's); a test module imports both to
use them: ``from tests.smtp_server import mail_app_fixture, smtp_fixture  # noqa: F401``.
"""

from __future__ import annotations

import itertools
import socket
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import make_test_app, running


def free_port() -> int:
    """A TCP port nothing listens on (just now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    """One message the server accepted: the envelope and the bytes as sent."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)

    def part(self, content_type: str) -> str:
        """The decoded text of the text/plain or text/html part."""
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                return part.get_content()
        raise LookupError(content_type)

    def everything(self) -> str:
        """Headers, decoded parts and the raw bytes, as one text to search for leaks."""
        message = self.message
        parts = [p.get_content() for p in message.walk() if p.get_content_maintype() == "text"]
        headers = [f"{name}: {value}" for name, value in message.items()]
        return "\n".join([*headers, *parts, self.data.decode("utf-8", "replace")])


class Recorder:
    """aiosmtpd's handler: accept, refuse or put off recipients as told; record messages."""

    def __init__(self):
        self.received: list[Received] = []
        self.refused: dict[str, str] = {}  # address -> the reply to RCPT TO
        self.every_rcpt: str | None = None  # a reply to every RCPT TO ("451 ..."), or None
        self.sessions: set[int] = set()  # the numbers of the SMTP connections that sent mail
        self._numbers = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.refused.get(address.lower()) or self.every_rcpt
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        if not hasattr(session, "number"):
            session.number = next(self._numbers)
        self.sessions.add(session.number)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), data))
        return "250 Message accepted for delivery"


class SmtpServer:
    """The running server: its port, what it received, and how it answers."""

    def __init__(self):
        self.handler = Recorder()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def to(self, address: str) -> list[Received]:
        """The messages accepted for this address."""
        return [r for r in self.received if address in r.rcpt_tos]

    def refuse(self, address: str, reply: str = "550 5.1.1 No such user here") -> None:
        self.handler.refused[address.lower()] = reply

    def answer_every_rcpt(self, reply: str | None) -> None:
        """Answer every recipient with this ("421 ...", "451 ..."); None: accept again."""
        self.handler.every_rcpt = reply


@pytest.fixture(name="smtp")
def smtp_fixture():
    """The running server (stopped after the test)."""
    server = SmtpServer()
    server.controller.start()
    yield server
    server.controller.stop()


def app_on(database_url: str, **overrides):
    """An app on this test's database inside its context (cleaned up as conftest's app)."""
    return running(make_test_app(database_url, **overrides))


def mail_settings(port: int) -> dict:
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_TIMEOUT": 5}


@pytest.fixture(name="app")
def mail_app_fixture(database_url, smtp):
    """The application, sending e-mail to the test's SMTP server."""
    with app_on(database_url, **mail_settings(smtp.port)) as application:
        yield application
