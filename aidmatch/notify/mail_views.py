"""The e-mail channel's pages: the one-click unsubscribe link (no login; the signed token is
the authority), and /account's button to try a bounced address again."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from aidmatch.extensions import csrf
from aidmatch.notify.kinds import KINDS
from aidmatch.notify.unsubscribe import read_unsubscribe_token, resume_email, stop_email
from aidmatch.permissions import require_login
from aidmatch.refusals import Refusal

bp = Blueprint("mail", __name__)


def _refused(err: Refusal):
    return render_template("notify/unsubscribe.html", refused=err.message), 404


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str):
    """What the link turns off, and one button to do it (a GET changes nothing: mail
    scanners open links)."""
    try:
        _user, kind = read_unsubscribe_token(token)
    except Refusal as err:
        return _refused(err)
    return render_template("notify/unsubscribe.html", token=token, kind_label=KINDS[kind].label)


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # the token is the authority; mail clients post here (RFC 8058) with no session
def unsubscribe_confirm(token: str):
    """Turn that kind off on e-mail; also the RFC 8058 one-click POST
    (body ``List-Unsubscribe=One-Click``), which needs no more than the token either."""
    try:
        user, kind = read_unsubscribe_token(token)
    except Refusal as err:
        return _refused(err)
    stop_email(user, kind)
    return render_template("notify/unsubscribe.html", done=True, kind_label=KINDS[kind].label)


@bp.post("/account/email/retry")
@require_login
def retry_email():
    """Try the user's address again after it bounced."""
    resume_email(current_user._get_current_object())
    flash(
        _("E-mail to your address is on again. If it bounces again, this page will say so."), "ok"
    )
    return redirect(url_for("auth.account"))
