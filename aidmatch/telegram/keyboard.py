"""The buttons under a message: for each button its kind names (notify/kinds.py), the one this
recipient may press now, as the lifecycle table says (matches/lifecycle.py ``available``) or,
for a need, as the needs' rules say. One tap where one tap is enough: accept, decline, approve,
"the full quantity arrived", keep open, close; a link to the page where more must be typed (a
reason to reject, a partial receipt, a new quantity).

Link buttons are made only for a public address: Telegram refuses buttons that lead to
localhost or a private network (a development PUBLIC_URL); the message's text carries the
link anyway.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from aidmatch.extensions import db
from aidmatch.matches import lifecycle
from aidmatch.matches.models import Match
from aidmatch.needs.models import Need
from aidmatch.needs.operations import can_edit_need
from aidmatch.notify.messages import Message
from aidmatch.notify.models import Notification
from aidmatch.postings.models import OPEN
from aidmatch.telegram.signing import Press, sign

MATCH_VERBS = ("accept", "decline", "approve")  # a tap runs the verb as the page does
NEED_VERBS = ("keep_open", "close_need")  # the answers to "still needed?"


def labels() -> dict[str, str]:
    """The words on the one-tap buttons, in the current language."""
    return {
        "accept": _("Accept"),
        "decline": _("Decline"),
        "approve": _("Approve"),
        "confirm_delivery": _("All of it arrived"),
        "keep_open": _("Still needed"),
        "close_need": _("Received elsewhere: close it"),
    }


def is_public(url: str | None) -> bool:
    """Whether Telegram takes this address on a link button (not localhost, not a private or
    loopback address)."""
    if not url:
        return False
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." in host
    return address.is_global


def page_url(endpoint: str, **values) -> str:
    """The absolute address of a page (PUBLIC_URL: a job has no request to take it from)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["PUBLIC_URL"] + path


def _match_buttons(user, match: Match, names, now: datetime) -> tuple[list, list]:
    slugs = lifecycle.available(user, match, now)
    words, page = labels(), page_url("matches.detail", match_id=match.id)
    taps, links = [], []
    for name in names:
        if name in MATCH_VERBS and name in slugs:
            taps.append((words[name], sign(user.id, name, match.id)))
        elif name == "reject" and "reject" in slugs:
            links.append((_("Reject (give a reason)"), page))
        elif name == "confirm_delivery" and "confirm-delivery" in slugs:
            taps.append((words[name], sign(user.id, name, match.id)))
            links.append((_("Less arrived"), page))
    return taps, links


def _need_buttons(user, need: Need, names) -> tuple[list, list]:
    if need.effective_status != OPEN or not can_edit_need(user, need):
        return [], []
    words = labels()
    taps = [(words[name], sign(user.id, name, need.id)) for name in names if name in NEED_VERBS]
    links = [(_("Change the quantity"), page_url("needs.edit", need_id=need.id))] if taps else []
    return taps, links


def keyboard(note: Notification, message: Message, user, now: datetime):
    """The inline keyboard of this notification for its recipient now (None: no buttons).
    Call it in the recipient's language."""
    taps, links = [], []
    if note.match_id and any(name not in NEED_VERBS for name in message.buttons):
        match = db.session.get(Match, note.match_id)
        if match is not None:
            taps, links = _match_buttons(user, match, message.buttons, now)
    if note.need_id and any(name in NEED_VERBS for name in message.buttons):
        need = db.session.get(Need, note.need_id)
        if need is not None:
            more_taps, more_links = _need_buttons(user, need, message.buttons)
            taps, links = taps + more_taps, links + more_links
    if message.url:
        links.insert(0, (_("Open in aidmatch"), message.url))
    return markup(taps, links)


def markup(taps: list[tuple[str, str]], links: list[tuple[str, str]]):
    """One-tap buttons two to a row, then the link buttons one to a row."""
    rows = [
        [InlineKeyboardButton(text, callback_data=data) for text, data in taps[i : i + 2]]
        for i in range(0, len(taps), 2)
    ]
    rows += [[InlineKeyboardButton(text, url=url)] for text, url in links if is_public(url)]
    return InlineKeyboardMarkup(rows) if rows else None


def after_press(press: Press):
    """The keyboard left under a message once one of its buttons was pressed: a link to the
    match or need (None: none)."""
    if press.verb in NEED_VERBS:
        url = page_url("needs.detail", need_id=press.target_id)
    else:
        url = page_url("matches.detail", match_id=press.target_id)
    return markup([], [(_("Open in aidmatch"), url)])
