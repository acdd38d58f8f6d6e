"""The inbox pages: /notifications (newest first, marking read, opening what a notification is
about), the bell's count in every page's header, and /account/notifications (the choices).

No GET here writes: opening a notification is a small POST form that marks it read and
redirects to what it is about; the plain link beside it only goes there.
"""

from __future__ import annotations

import logging
import math

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from aidmatch.auth.links import safe_next
from aidmatch.notify import inbox, preferences
from aidmatch.permissions import require_login

log = logging.getLogger(__name__)

bp = Blueprint("notify", __name__)

PER_PAGE = 20


def bell_count() -> int | None:
    """The unread count for the header's bell (base.html): one COUNT for a logged-in user,
    nothing for anyone else; None when the database cannot answer (an error page)."""
    if not current_user or not current_user.is_authenticated:
        return None
    try:
        return inbox.unread_count(current_user.id)
    except SQLAlchemyError:
        log.warning("the bell could not count unread notifications", exc_info=True)
        return None


def register_globals(app) -> None:
    """unread_notifications() for the header of every page."""
    app.jinja_env.globals.update(unread_notifications=bell_count)


def _language() -> str:
    return str(get_locale() or "en")


def _page_number() -> int:
    try:
        page = int(request.args.get("page", 1))
    except (TypeError, ValueError):
        return 1
    return page if 1 <= page <= 100_000 else 1


@bp.get("/notifications", endpoint="inbox")
@require_login
def show_inbox():
    """The user's notifications, newest first, a page at a time."""
    page = inbox.inbox_page(current_user.id, _page_number(), PER_PAGE)
    page["pages"] = max(1, math.ceil(page["total"] / page["per_page"]))
    language = _language()
    page["items"] = inbox.describe_all(page["items"], language)
    unread = inbox.unread_count(current_user.id)
    return render_template(
        "notify/inbox.html",
        page=page,
        unread=unread,
        bell_unread=unread,  # base.html's bell counts no second time
        here=request.full_path.rstrip("?"),
        page_url=lambda n: url_for("notify.inbox", page=n),
    )


def _back() -> str:
    return safe_next(request.form.get("next")) or url_for("notify.inbox")


@bp.post("/notifications/<int:note_id>/read")
@require_login
def read(note_id: int):
    """Mark one notification read, and go back to where the button was."""
    inbox.mark_read(inbox.get_own(current_user.id, note_id))
    return redirect(_back())


@bp.post("/notifications/<int:note_id>/open")
@require_login
def open_note(note_id: int):
    """Mark one notification read and go to what it is about (the inbox if it names
    nothing that still exists)."""
    note = inbox.get_own(current_user.id, note_id)
    inbox.mark_read(note)
    path = inbox.describe(note, _language())["path"]
    return redirect(safe_next(path) or _back())


@bp.post("/notifications/read-all")
@require_login
def read_all():
    """Mark every unread notification read."""
    marked = inbox.mark_all_read(current_user.id)
    if marked:
        flash(
            ngettext(
                "%(num)d notification marked read.", "%(num)d notifications marked read.", marked
            ),
            "ok",
        )
    return redirect(_back())


@bp.route("/account/notifications", methods=["GET", "POST"], endpoint="preferences")
@require_login
def choices_page():
    """Which kinds of notification come by e-mail and by Telegram (the inbox shows all)."""
    user = current_user._get_current_object()
    if request.method == "POST":
        wanted = {
            (spec.name, channel): f"{spec.name}:{channel}" in request.form
            for spec in preferences.choosable(user)
            for channel in preferences.CHANNELS
        }
        preferences.save(user, wanted)
        flash(_("Your notification choices are saved."), "ok")
        return redirect(url_for("notify.preferences"))
    lines = preferences.table(user)
    rows: dict[str, dict] = {}
    for line in lines:
        row = rows.setdefault(line["kind"], {"kind": line["kind"], "label": line["label"]})
        row[line["channel"]] = line["enabled"]
    return render_template(
        "notify/preferences.html",
        rows=list(rows.values()),
        channels=preferences.channels(user),
    )
