"""Whole answers kept for the viewer who asked: a list page's own part, an API list's JSON.

A busy list (needs, offers, matches, the review queue and their API twins) costs its viewer
a few milliseconds of SQL and ten to forty of Python to draw 20 to 50 rows as that viewer
may see them. Asked again (a reload, the back button, a phone polling, a page of the list
revisited) with nothing written since, the same viewer gets the same rows: they are kept in
the shared cache (cache.remember), under the data's generation, so any committed write makes
them stale in every process at once.

What a kept answer depends on besides the data, the key always carries: the viewer (their
id: their role, organization and time zone are data), the language, the path with its query
string, the day (a posting past its date reads as expired), and what the caller adds. Time
alone changes a list of matches (a pending one lapses at its ``expires_at``): the caller
says for how long its answer holds (``seconds``), at most a minute, so the words of the time
left ("in 3 hours") are never more than a minute old.

A page is kept whole, with two marks: where the header's bell goes (it counts unread
notifications, which change without a new generation) and where a form's CSRF token goes;
both are filled for every answer, so no token is ever kept. A request with flashed messages
(right after a form was sent) is drawn afresh and keeps nothing. What a writing transaction
reads is never kept (cache.remember).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

from flask import current_app, g, render_template, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from aidmatch.cache import remember
from aidmatch.db import utcnow
from aidmatch.web.labels import language

# At most this long for what time alone changes (matches lapse, "in 3 hours" ages).
MAX_SECONDS = 300
TIME_SECONDS = 60
# Marks in a kept page: base.html draws `kept_bell` instead of the bell, and every form's
# CSRF field the token flask_wtf.csrf.generate_csrf finds in g.csrf_token. No stored text
# holds a NUL character (web/text.py refuses it), so a title cannot forge either.
BELL_MARK = Markup("\x00bell\x00")
CSRF_MARK = "\x00csrf\x00"


def _key_parts(parts: tuple) -> tuple:
    return (
        current_user.get_id(),
        language(),
        request.full_path,
        utcnow().date().isoformat(),  # the day postings are read against (postings/models.today)
        *parts,
    )


def kept_page(
    name: str,
    template: str,
    context: Callable[[], dict],
    parts: tuple = (),
    seconds: Callable[[dict], int] | None = None,
) -> str:
    """The page `template` draws with context(), kept for this viewer (see above). `parts`:
    what else the page depends on; `seconds(ctx)`: how long a page drawn from ctx holds
    (time alone changes it), at most MAX_SECONDS."""
    if session.get("_flashes"):  # drawn once with its messages, never kept
        return render_template(template, **context())

    def draw() -> tuple[str, int]:
        # before the context: a form takes its token when it is made, not when it is drawn
        g.csrf_token = CSRF_MARK
        try:
            ctx = context()
            page = render_template(template, kept_bell=BELL_MARK, **ctx)
        finally:
            g.pop("csrf_token", None)
        return page, min(seconds(ctx), MAX_SECONDS) if seconds else MAX_SECONDS

    page, _held = remember(f"page:{name}", _key_parts(parts), draw, lambda kept: kept[1])
    bell = current_app.jinja_env.get_template("_bell.html").render()
    return page.replace(BELL_MARK, bell).replace(CSRF_MARK, generate_csrf())


def held_until(when: datetime | None) -> int:
    """How many seconds something drawn now that time alone changes at `when` holds: until
    then, at most TIME_SECONDS (the words of the time left)."""
    if when is None:
        return TIME_SECONDS
    return max(0, min(TIME_SECONDS, int((when - utcnow()).total_seconds())))


def kept_json(name: str, compute: Callable[[], tuple[object, int]], parts: tuple = ()):
    """A JSON response of what compute() returns first (already dumped by its schema), kept
    for this viewer as its text and ETag (web/api.conditional_json answers If-None-Match
    with a 304) for as many seconds as it returns second (at most MAX_SECONDS)."""

    def draw() -> tuple[str, str, int]:
        value, seconds = compute()
        body = current_app.json.dumps(value) + "\n"
        etag = hashlib.sha1(body.encode(), usedforsecurity=False).hexdigest()  # an ETag
        return body, etag, min(seconds, MAX_SECONDS)

    body, etag, _held = remember(f"json:{name}", _key_parts(parts), draw, lambda v: v[2])
    return kept_text(body, etag)


def kept_text(body: str, etag: str | None = None):
    """A JSON response of text already encoded, with its ETag when known."""
    response = current_app.response_class(body, mimetype="application/json")
    if etag:
        response.set_etag(etag)
    return response
