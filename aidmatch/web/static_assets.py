"""Light pages on a weak connection: fingerprinted static files, cache headers, compression.

Every `url_for('static', filename=...)` gets `?v=<first 12 hex digits of the file's
SHA-256>`. A static request carrying the file's current fingerprint is cached for a year as
immutable (a changed file gets a new URL); without it, or with a stale one, the browser
revalidates each time (`no-cache` and an ETag, so an unchanged file costs a 304). Every other
response (pages, the API's JSON, map markers, CSV exports) may be per user and, unless its
view says otherwise, is `private, no-cache`: a shared proxy never stores it, and a browser
asks again before reusing it (never `no-store`, so a browser keeps typed form values on
Back). Responses are compressed (zstd, brotli, gzip or deflate, as the client accepts) by
Flask-Compress, each answer again; a JSON answer kept for many requests (web/kept.py) is kept
gzip-compressed too (kept_packed), and sent so to whoever accepts gzip (send_packed).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import stat
from pathlib import Path

from flask import Flask, current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_compress import Compress
from werkzeug.security import safe_join

IMMUTABLE_MAX_AGE = 365 * 24 * 3600
FINGERPRINT_ARG = "v"
FINGERPRINT_LENGTH = 12

COMPRESS_DEFAULTS = {
    # Below this a response is sent as is: the gzip header and the CPU cost outweigh it.
    "COMPRESS_MIN_SIZE": 1024,
    "COMPRESS_MIMETYPES": [
        "text/html",
        "text/css",
        "text/plain",
        "text/csv",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/geo+json",
        "application/problem+json",
        "image/svg+xml",
    ],
}


# The encoding a kept JSON answer is kept in besides its plain text: every client that
# compresses accepts gzip (brotli only over HTTPS in some browsers, zstd only in new ones).
KEPT_ENCODING = "gzip"


def _packs() -> bool:
    """Whether Flask-Compress's settings let JSON go out gzipped (COMPRESS_ALGORITHM,
    COMPRESS_MIMETYPES)."""
    compress = current_app.extensions["compress"]
    return (
        KEPT_ENCODING in compress.enabled_algorithms
        and "application/json" in compress.compress_mimetypes_set
    )


def kept_packed(body: bytes) -> bytes | None:
    """`body` compressed once for keeping beside it (Flask-Compress would compress an 800 KB
    map feed again for every answer), or None when it is below COMPRESS_MIN_SIZE or JSON is
    not to be gzipped."""
    if len(body) < current_app.config["COMPRESS_MIN_SIZE"] or not _packs():
        return None
    # mtime=0: the same body packs to the same bytes in every process
    return gzip.compress(body, compresslevel=current_app.config["COMPRESS_LEVEL"], mtime=0)


def send_packed(response, packed: bytes | None, etag: str | None):
    """The kept response sent compressed when the request accepts gzip (Flask-Compress then
    leaves it alone: it has a Content-Encoding), its ETag told apart from the plain one's as
    Flask-Compress tells its own apart; else plain, for Flask-Compress to compress in another
    encoding the request accepts, if any."""
    if packed is None or request.accept_encodings[KEPT_ENCODING] <= 0:
        return response
    response.set_data(packed)
    response.headers["Content-Encoding"] = KEPT_ENCODING
    response.vary.add("Accept-Encoding")
    if etag:
        response.set_etag(f"{etag}:{KEPT_ENCODING}")
    return response


class Fingerprints:
    """Content hashes of the files in a static folder, each computed once per version."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = str(folder)
        # filename -> ((mtime_ns, size), digest): a file edited in place gets a new digest.
        self._cache: dict[str, tuple[tuple[int, int], str]] = {}

    def digest(self, filename: str) -> str | None:
        """The file's fingerprint, or None when there is no such file in the folder."""
        path = safe_join(self.folder, filename)
        if path is None:
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        version = (st.st_mtime_ns, st.st_size)
        cached = self._cache.get(filename)
        if cached is not None and cached[0] == version:
            return cached[1]
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:FINGERPRINT_LENGTH]
        self._cache[filename] = (version, digest)
        return digest


class StaticlessSessionInterface(SecureCookieSessionInterface):
    """Flask's cookie session, left alone by static files: they neither set the cookie nor
    carry `Vary: Cookie` (Flask adds it whenever the session is read, as Flask-Login does
    after every request), which would make a browser fetch them again when the cookie changes."""

    def save_session(self, app, session, response) -> None:
        if request.endpoint != "static":
            super().save_session(app, session, response)


def register_static_assets(app: Flask) -> None:
    """Fingerprint static URLs, set cache headers, and compress responses."""
    for key, value in COMPRESS_DEFAULTS.items():
        app.config.setdefault(key, value)
    # One Compress per app: it keeps the app's settings on itself (so not in extensions.py).
    app.extensions["compress"] = Compress(app)
    if not app.has_static_folder:
        return
    fingerprints = Fingerprints(app.static_folder)
    app.extensions["static_fingerprints"] = fingerprints

    @app.url_defaults
    def _add_fingerprint(endpoint: str, values: dict) -> None:
        if endpoint != "static" or FINGERPRINT_ARG in values or "filename" not in values:
            return
        digest = fingerprints.digest(values["filename"])
        if digest:
            values[FINGERPRINT_ARG] = digest

    serve_static = app.view_functions["static"]

    def static(filename: str):
        """Flask's static view; a request with the file's current fingerprint is immutable.

        Range requests get the whole file: Flask-Compress would compress a 206 body while its
        Content-Range still counts the plain bytes (a broken answer), and our files are small.
        """
        request.environ.pop("HTTP_RANGE", None)
        response = serve_static(filename=filename)
        version = request.args.get(FINGERPRINT_ARG)
        if (
            response.status_code in (200, 304)
            and version
            and version == fingerprints.digest(filename)
        ):
            response.cache_control.no_cache = None
            response.cache_control.public = True
            response.cache_control.max_age = IMMUTABLE_MAX_AGE
            response.cache_control.immutable = True
        return response

    app.view_functions["static"] = static
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = StaticlessSessionInterface()

    @app.after_request
    def _dynamic_is_private(response):
        if request.endpoint != "static" and "Cache-Control" not in response.headers:
            response.cache_control.private = True
            response.cache_control.no_cache = True
        return response
