"""Pages that belong to no single domain: home, health check, language switch, the icon, and
the service worker with its offline page (static/js/sw.js: a phone that keeps working
offline)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import text

from aidmatch.auth.links import safe_next
from aidmatch.extensions import csrf, db
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


# What the service worker keeps from its installation on: the offline page and the files
# the field's pages load (by their fingerprinted URLs, so a new version of a file is a new worker).
PRECACHED_STATIC = (
    "css/app.css",
    "js/offline.js",
    "js/drafts.js",
    "js/place-autocomplete.js",
    "favicon.ico",
)


@bp.get("/sw.js")
def service_worker():
    """static/js/sw.js, served at the root so that its scope covers every page (a worker's
    scope is at most the folder it is served from; Service-Worker-Allowed says so too). It
    starts with the URLs it precaches, so a changed static file changes the worker's bytes and
    browsers install the new one. Never cached by the browser's HTTP cache (no-store): the
    browser checks for a new worker at each visit."""
    precache = [url_for("core.offline_page")] + [
        url_for("static", filename=name) for name in PRECACHED_STATIC
    ]
    source = Path(current_app.static_folder, "js", "sw.js").read_text(encoding="utf-8")
    body = f"var PRECACHE = {json.dumps(precache)};\n{source}"
    response = Response(body, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/offline")
def offline_page():
    """What the service worker shows for a page this phone has not kept, without connection
    (precached at its installation: the same for everyone, nothing of any user on it)."""
    return render_template("offline.html")


@bp.post("/language")
@csrf.exempt
def set_language():
    """Switch the interface language for this session (and the user's setting). A visitor
    without an account sends no CSRF token, so the public pages' language form needs none
    and reading them sets no cookie at all; the form must come from one of our own pages
    (its Origin, else its Referer): another site's would replace the session of a
    signed-in user, whose cookie a cross-site POST does not carry (SameSite=Lax), with a
    visitor's. A signed-in user's form carries a token, checked here: it changes their
    account. (Both only with CSRF on, as Flask-WTF's own check: it is off in most tests.)"""
    if current_app.config["WTF_CSRF_ENABLED"]:
        if current_user.is_authenticated:
            csrf.protect()
        elif not _from_our_pages():
            raise CSRFError("The form came from another site.")  # logged; the page: expired
    language = request.form.get("language", "")
    if language in current_app.config["LANGUAGES"]:
        session["language"] = language
        if current_user.is_authenticated:
            current_user.language = language
    return redirect(safe_next(request.form.get("next")) or url_for("core.index"))


def _from_our_pages() -> bool:
    """Does the request say it was sent from a page of this host (Origin, else Referer)? The
    host Flask-WTF's own referrer check over HTTPS compares too (WTF_CSRF_SSL_STRICT), so a
    deployment whose forms work passes this."""
    source = request.headers.get("Origin") or request.headers.get("Referer") or ""
    return urlsplit(source).netloc == request.host
