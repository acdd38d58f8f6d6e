"""The webhook Telegram posts updates to, and linking a chat from /account
(templates/telegram/_account.html is the account page's Telegram section)."""

from __future__ import annotations

import hmac
import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from aidmatch.extensions import csrf
from aidmatch.permissions import require_login
from aidmatch.telegram import api, linking
from aidmatch.telegram.updates import handle_update

log = logging.getLogger(__name__)

bp = Blueprint("telegram", __name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@bp.app_context_processor
def _helpers() -> dict:
    return {"telegram_account": account_status}


def account_status() -> dict:
    """What the account page says of Telegram for the current user (reads only)."""
    user = current_user
    return {
        "configured": api.configured(),
        "linked": getattr(user, "telegram_chat_id", None) is not None,
        "lost_at": getattr(user, "telegram_lost_at", None),
    }


def deep_link(code: str) -> str | None:
    """The t.me link that opens the bot and sends it /start <code> (None without
    TELEGRAM_BOT_USERNAME)."""
    username = (current_app.config.get("TELEGRAM_BOT_USERNAME") or "").lstrip("@")
    return f"https://t.me/{username}?start={code}" if username else None


@bp.post("/account/telegram/link")
@require_login
def link():
    """Make a one-time code and show how to send it to the bot."""
    if not api.configured():
        flash(_("Telegram is off on this server."), "error")
        return redirect(url_for("auth.account"))
    code, _row = linking.new_code(current_user._get_current_object())
    return render_template(
        "telegram/link.html",
        code=code,
        deep_link=deep_link(code),
        username=(current_app.config.get("TELEGRAM_BOT_USERNAME") or "").lstrip("@"),
        minutes=int(linking.CODE_TTL.total_seconds() // 60),
    )


@bp.post("/account/telegram/unlink")
@require_login
def unlink():
    """Forget the chat linked to this account."""
    user = current_user._get_current_object()
    if linking.unlink(user, user, "account"):
        flash(_("Telegram is unlinked: nothing is sent there any more."), "ok")
    return redirect(url_for("auth.account"))


@bp.post("/telegram/webhook")
@csrf.exempt
def webhook():
    """An update from Telegram. 404 when the bot or its webhook is off; 403 unless Telegram's
    secret header carries TELEGRAM_WEBHOOK_SECRET (never in the URL: paths land in access
    logs); 400 for a body that is not a JSON object; else 200, also for an update we ignore or
    failed on (logged): Telegram would otherwise send it again and again, holding back the
    updates behind it."""
    expected = current_app.config.get("TELEGRAM_WEBHOOK_SECRET")
    if not api.configured() or not expected:
        abort(404)
    given = request.headers.get(SECRET_HEADER)
    if given is None or not hmac.compare_digest(given.encode(), expected.encode()):
        log.warning("Telegram webhook called without the right secret from %s", request.remote_addr)
        abort(403)
    update = request.get_json(silent=True)
    if not isinstance(update, dict):
        abort(400)
    try:
        handle_update(update)
    except Exception:
        log.exception("Telegram update %s failed", update.get("update_id"))
    return jsonify({"ok": True})
