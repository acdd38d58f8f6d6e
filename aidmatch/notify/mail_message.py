"""A notification as an e-mail: plain text and light HTML (templates/email/notification.*:
inline styles, no images, nothing fetched from elsewhere) in the recipient's language, with the
link, and for a kind one may turn off a footer link and the RFC 8058 one-click headers.

The words are notify/messages.render's, as on every channel: a category, a quantity, a
settlement or oblast, a typed reason, a link; never a point, a note, a contact or a title.
"""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_mailman import EmailMultiAlternatives

from aidmatch.auth.models import User
from aidmatch.auth.reset import make_reset_token
from aidmatch.notify.kinds import KINDS, chosen_as
from aidmatch.notify.messages import render
from aidmatch.notify.models import Notification
from aidmatch.notify.unsubscribe import unsubscribe_token


def external_url(endpoint: str, **values) -> str:
    """An absolute link on PUBLIC_URL (an e-mail is written with no request to take it from)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["PUBLIC_URL"] + path


def unsubscribe_url(user: User, kind: str) -> str:
    """The one-click link that turns this kind off on e-mail for this user."""
    return external_url("mail.unsubscribe", token=unsubscribe_token(user, kind))


def compose(note: Notification, user: User) -> EmailMultiAlternatives:
    """The e-mail of this notification to this user."""
    language = str(user.language)  # a StrEnum: "uk"
    message = render(note, language)
    spec = KINDS[note.kind]
    if note.kind == "password_reset":
        # The token is made now, for this e-mail only: the database never holds it.
        link = external_url("auth.reset", token=make_reset_token(user))
    else:
        link = message.url
    # A summary is turned off with the kind it sums up (notify/kinds.py, follows).
    chosen = KINDS[chosen_as(note.kind)]
    unsubscribe = unsubscribe_url(user, chosen.name) if spec.optional else None
    with force_locale(language):
        context = {
            "language": language,
            "subject": message.subject,
            "text": message.text,
            "link": link,
            "action": _("Choose a new password") if note.kind == "password_reset" else _("Open"),
            "unsubscribe": unsubscribe,
            "kind_label": str(chosen.label),
            "account_url": external_url("auth.account"),
        }
        text = render_template("email/notification.txt", **context)
        html = render_template("email/notification.html", **context)
    headers = {"Content-Language": language, "Auto-Submitted": "auto-generated"}
    if unsubscribe:
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=text,
        from_email=current_app.config["MAIL_DEFAULT_SENDER"],
        to=[user.email],
        headers=headers,
    )
    email.attach_alternative(html, "text/html")
    return email
