"""The server's half of static/js/drafts.js: telling the browser that a form's draft was sent.

A form marked data-draft="<user>:<form>" keeps what is typed in this device's storage until it
is sent. Once the server has taken it, the page the user lands on carries the form's id
(base.html: data-drafts-sent), and drafts.js deletes the draft there and then, so what was
typed (a delivery note, an exact point) stays on the device no longer than needed.
"""

from __future__ import annotations

from flask import flash
from flask_login import current_user

# A flash category that base.html turns into data-drafts-sent, never into text.
DRAFT_SENT = "draft-sent"


def draft_sent(form: str) -> None:
    """The draft of this form ("need:new", "need:12", "claim:7", ...) was sent and taken."""
    flash(f"{current_user.id}:{form}", DRAFT_SENT)
