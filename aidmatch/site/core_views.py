"""Pages that belong to no single domain: home, health check, language switch, the icon."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy import text

from aidmatch.auth.links import safe_next
from aidmatch.extensions import db
from aidmatch.site.home import home_context

bp = Blueprint("core", __name__)


@bp.get("/")
def index():
    """A home page per role: what needs my attention."""
    if not current_user.is_authenticated:
        return render_template("home/anonymous.html")
    return render_template("home/home.html", **home_context(current_user))


@bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 when it does not."""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception as exc:  # the point is to report any failure, not to raise it
        current_app.logger.warning("health check failed: %s", exc)
        db.session.rollback()
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}, 200


@bp.get("/favicon.ico")
def favicon():
    """The site's icon where browsers look for it without a <link rel=icon> (static/favicon.ico:
    our own, blue over yellow), kept by browsers for a day."""
    return send_from_directory(
        current_app.static_folder, "favicon.ico", mimetype="image/x-icon", max_age=86400
    )


@bp.post("/language")
def set_language():
    """Switch the interface language for this session (and the user's setting)."""
    language = request.form.get("language", "")
    if language in current_app.config["LANGUAGES"]:
        session["language"] = language
        if current_user.is_authenticated:
            current_user.language = language
    return redirect(safe_next(request.form.get("next")) or url_for("core.index"))
