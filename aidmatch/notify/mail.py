"""The e-mail channel: SMTP through Flask-Mailman (MAIL_* settings; no MAIL_SERVER: off).

``reachable``: e-mail is on and the user's address has not bounced. ``send`` writes the e-mail
(notify/mail_message.py) and hands it to the mail server on one connection per job (a
``deliver`` batch), opened on first use and closed when the job's app context ends.

What the server answers decides what the outbox does next:
- 5xx to the recipient (RCPT): the address bounces. ``Permanent``; the user's
  ``email_bounced_at`` is set, /account says so, and no more e-mail is written for them until
  they ask to try again there (only the owner may: not a password reset, which anyone can ask
  for; so a bounced address gets no reset link either);
- 4xx (421 closing, 451 try later...), a refused or timed-out connection (MAIL_TIMEOUT), a
  dropped one, any other answer of the server: ``Transient``, retried with backoff, then
  failed and listed for admins on /admin/deliveries;
- 5xx to the message itself (DATA): ``Permanent`` (the same e-mail would be refused again),
  the address is not marked.

Asking for a password reset (auth/reset.py) enqueues the job ``auth.reset_request`` with the
address, whatever it is; the job runs here: for an active account whose address e-mail
reaches, it tells a password_reset notification, whose e-mail carries a link with a token made
when it is sent; for any other address it does nothing.
"""

from __future__ import annotations

import contextlib
import smtplib

from flask import appcontext_tearing_down, current_app, g

from aidmatch.auth.models import User
from aidmatch.auth.operations import find_user
from aidmatch.auth.reset import RESET_REQUEST_JOB
from aidmatch.db import utcnow
from aidmatch.extensions import mail
from aidmatch.jobs.queue import task
from aidmatch.notify.mail_message import compose
from aidmatch.notify.models import Channel, Delivery
from aidmatch.notify.outbox import Permanent, Sender, Transient, register_sender, tell


def enabled() -> bool:
    """Whether this server sends e-mail at all (MAIL_SERVER set)."""
    return bool(current_app.config.get("MAIL_SERVER"))


def reachable(user: User) -> bool:
    """E-mail is on, and this user's address has not bounced."""
    return enabled() and bool(user.email) and user.email_bounced_at is None


def _backend():
    """This job's connection to the mail server (not opened yet on first use)."""
    backend = g.get("mail_backend")
    if backend is None:
        # "smtp" unless the app says otherwise: Flask-Mailman would pick its in-memory
        # backend in testing mode, and the tests talk to a real SMTP server.
        backend = mail.get_connection(backend=current_app.config.get("MAIL_BACKEND") or "smtp")
        g.mail_backend = backend
    return backend


def _drop(backend) -> None:
    """Forget a connection after a fault: the next e-mail opens a new one."""
    with contextlib.suppress(Exception):  # the server went away mid-answer: nothing to close
        backend.close()
    backend.connection = None


@appcontext_tearing_down.connect
def _close_connection(_app, **_extra) -> None:
    backend = g.pop("mail_backend", None)
    if backend is not None:
        _drop(backend)


def _reply(text) -> str:
    """A server's answer as text, for last_error (it never holds the message)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(str(text).split())[:300]


def _hand_over(backend, message) -> None:
    """Send on the job's connection; a kept connection the server closed meanwhile is opened
    again once."""
    fresh = backend.open()
    try:
        backend.send_messages([message])
    except smtplib.SMTPServerDisconnected:
        if fresh:
            raise
        _drop(backend)
        backend.open()
        backend.send_messages([message])


def send(delivery: Delivery, user: User) -> None:
    """Send one notification's e-mail; raise Transient or Permanent as the server answers."""
    if not enabled():
        raise Permanent("e-mail is off on this server (no MAIL_SERVER)")
    if user.email_bounced_at is not None:
        raise Permanent("the address bounced before; e-mail to it is stopped")
    down = g.get("mail_server_down")
    if down:  # this job found the server unreachable: the rest of its batch waits with it
        raise Transient(down)
    backend = _backend()
    message = compose(delivery.notification, user)
    try:
        _hand_over(backend, message)
    except smtplib.SMTPRecipientsRefused as exc:
        _drop(backend)
        code, reply = next(iter(exc.recipients.values()), (0, b""))
        error = f"SMTP {code} to the recipient: {_reply(reply)}"
        if code >= 500:
            user.email_bounced_at = utcnow()
            raise Permanent(error) from None
        raise Transient(error) from None
    except smtplib.SMTPResponseException as exc:  # MAIL FROM, DATA, login, greeting
        _drop(backend)
        error = f"SMTP {exc.smtp_code}: {_reply(exc.smtp_error)}"
        if exc.smtp_code >= 500 and isinstance(exc, smtplib.SMTPDataError):
            raise Permanent(error) from None
        raise Transient(error) from None
    except OSError as exc:  # refused, timed out, disconnected (smtplib's errors are OSErrors)
        _drop(backend)
        error = f"mail server unreachable: {type(exc).__name__}: {_reply(exc) or 'no answer'}"
        # Waiting MAIL_TIMEOUT again for each e-mail of the batch would hold the worker up.
        g.mail_server_down = error
        raise Transient(error) from None


register_sender(Channel.EMAIL, Sender(reachable, send))


@task(RESET_REQUEST_JOB)
def tell_reset(email: str) -> None:
    """A password reset was asked for this address: e-mail a link to its account, if it is
    active and e-mail reaches it. A bounced address stays bounced (only its owner may try it
    again, from /account), and gets nothing."""
    user = find_user(email) if email else None
    if user is not None and user.active and reachable(user):
        tell([user], "password_reset")
