"""Whole answers kept for the viewer who asked: a list page's own part, an API list's JSON.

A busy list (needs, offers, matches, the review queue and their API twins) costs its viewer
a few milliseconds of SQL and ten to forty of Python to draw 20 to 50 rows as that viewer
may see them. Asked again (a reload, the back button, a phone polling, a page of the list
revisited) with nothing written since, the same viewer gets the same rows: they are kept in
the shared cache (cache.remember), under the data's generation, so any committed write makes
them stale in every process at once (the worker that read or made one also holds it in its
memory, under the same key: cache.py).

What a kept answer depends on besides the data, the key always carries: the viewer (their
id: their role, organization and time zone are data), the language, the path with its query
string, the day (a posting past its date reads as expired), and what the caller adds. Time
alone changes a list of matches (a pending one lapses at its ``expires_at``): the caller
says for how long its answer holds (``seconds``: until the first listed match lapses or
runs out of time to ship, at most a minute), so what else time changes on such a list (the
words of the time left, the "soon" badge, when "extend" opens) is at most a minute late.
For visitors without an account, only what they ask without a query string is kept (one
answer per language); nothing on the files backend (_key); every answer holds at most
MAX_SECONDS.

A page is kept whole, with two marks: where the header's bell goes (it counts unread
notifications, which change without a new generation) and where a form's CSRF token goes;
both are filled for every answer, so no token is ever kept. A request with flashed messages
(right after a form was sent) is drawn afresh and keeps nothing. What a writing transaction
reads is never kept (cache.remember).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from datetime import datetime

from flask import current_app, g, render_template, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from aidmatch.cache import remember
from aidmatch.db import utcnow
from aidmatch.web.labels import language
from aidmatch.web.static_assets import kept_packed, send_packed

# How long a kept answer holds at most (what is kept for nobody in a while costs memory);
# what time alone changes (matches lapse, "in 3 hours" ages) holds at most TIME_SECONDS.
MAX_SECONDS = 120
TIME_SECONDS = 60
# Marks in a kept page: base.html draws `kept_bell` instead of the bell, every form's CSRF
# field the token flask_wtf.csrf.generate_csrf finds in g.csrf_token, and a form's one-time
# key (one_time_key) a mark each answer fills with a new key of its own. No stored text
# holds a NUL character (web/text.py refuses it), so a title cannot forge any of them.
BELL_MARK = Markup("\x00bell\x00")
CSRF_MARK = "\x00csrf\x00"
KEY_MARK = "\x00key\x00"


def one_time_key() -> str:
    """A random token for a form that must be taken once (an idempotency key); in a page
    being kept, a mark that every answer fills with a fresh one, so two drawings of a kept
    page never share a key."""
    return KEY_MARK if g.get("kept_drawing") else secrets.token_urlsafe(24)


def _filled(page: str) -> str:
    """A kept page for this answer: the asker's bell and CSRF token, fresh one-time keys."""
    if BELL_MARK in page:
        page = page.replace(BELL_MARK, current_app.jinja_env.get_template("_bell.html").render())
    if CSRF_MARK in page:
        page = page.replace(CSRF_MARK, generate_csrf())
    if KEY_MARK in page:
        page = re.sub(KEY_MARK, lambda _m: secrets.token_urlsafe(24), page)
    return page


def _key(parts: tuple) -> tuple | None:
    """What this request's answer is kept under (with the generation: cache.remember), or
    None when nothing is kept: for a visitor without an account who sent a query string
    (anyone could fill the cache with pages of made-up ones; without one, a page is kept
    once per language for every visitor), and on the files backend (a directory of whole
    pages, pruned by reading every file, is slower than drawing them)."""
    if current_app.config["CACHE_BACKEND"] == "files":
        return None
    if request.query_string and not current_user.is_authenticated:
        return None
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
    key = _key(parts)
    if key is None or session.get("_flashes"):  # flashed messages: drawn once, never kept
        return render_template(template, **context())

    def draw() -> tuple[str, int]:
        # before the context: a form takes its token when it is made, not when it is drawn
        g.csrf_token, g.kept_drawing = CSRF_MARK, True
        try:
            ctx = context()
            page = render_template(template, kept_bell=BELL_MARK, **ctx)
        finally:
            g.pop("csrf_token", None)
            g.pop("kept_drawing", None)
        return page, min(seconds(ctx), MAX_SECONDS) if seconds else MAX_SECONDS

    # "page2": a visitor's page has no CSRF mark in its footer; the code before kept pages
    # as "page" (a deploy one server at a time: neither serves the other's)
    page, _held = remember(f"page2:{name}", key, draw, lambda kept: kept[1], local=True)
    return _filled(page)


def held_until(when: datetime | None) -> int:
    """How many seconds something drawn now that time alone changes at `when` holds: until
    then, at most TIME_SECONDS (the words of the time left)."""
    if when is None:
        return TIME_SECONDS
    return max(0, min(TIME_SECONDS, int((when - utcnow()).total_seconds())))


def kept_json(name: str, compute: Callable[[], tuple[object, int]], parts: tuple = ()):
    """A JSON response of what compute() returns first (already dumped by its schema), kept
    for this viewer as its text, that text compressed (web/static_assets.kept_packed)
    and its ETag (web/api.conditional_json answers If-None-Match with a 304) for as many
    seconds as it returns second (at most MAX_SECONDS)."""

    def draw() -> tuple[bytes, str, int]:
        value, seconds = compute()
        body = (current_app.json.dumps(value) + "\n").encode()
        etag = hashlib.sha1(body, usedforsecurity=False).hexdigest()  # an ETag
        return body, etag, min(seconds, MAX_SECONDS)

    key = _key(parts)
    if key is None:
        body, etag, _held = draw()
        return kept_text(body, etag)

    def keep() -> tuple:
        body, etag, seconds = draw()
        return body, etag, seconds, *kept_packed(body)

    # "json3": (text, ETag, seconds, one copy per KEPT_ENCODINGS); the code before kept (text,
    # gzip copy, ETag, seconds) as "json2" (a deploy one server at a time: neither reads the
    # other's)
    body, etag, _held, *packed = remember(f"json3:{name}", key, keep, lambda v: v[2], local=True)
    return send_packed(kept_text(body, etag), tuple(packed), etag)


def kept_text(body: str | bytes, etag: str | None = None):
    """A JSON response of text already encoded, with its ETag when known."""
    response = current_app.response_class(body, mimetype="application/json")
    if etag:
        response.set_etag(etag)
    return response
