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
brotli- and gzip-compressed too (kept_packed), and sent so to whoever accepts either
(send_packed).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import stat
from pathlib import Path

import brotli
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


# The encodings a kept JSON answer is kept in besides its plain text, smallest first: brotli
# (every browser over HTTPS) and gzip (every client that compresses); zstd only new browsers
# take. Compressed once and sent many times, brotli at quality 5: as quick as gzip's level 6,
# and the map's 800 KB of markers go out as 79 KB, not 96 KB.
KEPT_ENCODINGS = ("br", "gzip")
KEPT_BROTLI_QUALITY = 5


def kept_packed(body: bytes) -> tuple[bytes | None, ...]:
    """`body` compressed once in each of KEPT_ENCODINGS, for keeping beside it (Flask-Compress
    would compress an 800 KB map feed again for every answer); None for an encoding
    Flask-Compress's settings do not let JSON go out in (COMPRESS_ALGORITHM,
    COMPRESS_MIMETYPES), and for every one below COMPRESS_MIN_SIZE."""
    compress = current_app.extensions["compress"]
    if (
        len(body) < current_app.config["COMPRESS_MIN_SIZE"]
        or "application/json" not in compress.compress_mimetypes_set
    ):
        return (None,) * len(KEPT_ENCODINGS)
    packs = {
        "br": lambda: brotli.compress(
            body, quality=KEPT_BROTLI_QUALITY, lgwin=current_app.config["COMPRESS_BR_WINDOW"]
        ),
        # mtime=0: the same body packs to the same bytes in every process
        "gzip": lambda: gzip.compress(
            body, compresslevel=current_app.config["COMPRESS_LEVEL"], mtime=0
        ),
    }
    return tuple(
        packs[name]() if name in compress.enabled_algorithms else None for name in KEPT_ENCODINGS
    )


def send_packed(response, packed: tuple[bytes | None, ...], etag: str | None):
    """The kept response sent in the kept encoding the request prefers (by its q-values; of
    equal ones the smaller), if it accepts any (Flask-Compress then leaves it alone: it has a
    Content-Encoding), its ETag told apart from the plain one's as Flask-Compress tells its
    own apart; else plain, for Flask-Compress to compress in another encoding the request
    accepts, if any."""
    accepted = request.accept_encodings
    offers = [
        (accepted[name], -rank, name, data)
        for rank, (name, data) in enumerate(zip(KEPT_ENCODINGS, packed, strict=True))
        if data is not None and accepted[name] > 0
    ]
    if not offers:
        return response
    _quality, _rank, name, data = max(offers)
    response.set_data(data)
    response.headers["Content-Encoding"] = name
    response.vary.add("Accept-Encoding")
    if etag:
        response.set_etag(f"{etag}:{name}")
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
    carry `Vary: Cookie` (Flask adds it whenever the session is read, as every page that
    shows who is signed in does), which would make a browser fetch them again when the
    cookie changes.

    Signed as Flask signs it (HMAC-SHA1, the same cookies), by OpenSSL's HMAC: Flask names
    SHA-1 through a function of its own, which makes Python's hmac compute it in Python; and
    with one signer per set of keys, not a new one for every request."""

    digest_method = staticmethod(hashlib.sha1)

    def __init__(self) -> None:
        self._signers: dict[tuple, object] = {}

    def get_signing_serializer(self, app: Flask):
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if (signer := self._signers.get(keys)) is None:
            signer = self._signers[keys] = super().get_signing_serializer(app)
        return signer

    def save_session(self, app, session, response) -> None:
        if request.endpoint != "static":
            super().save_session(app, session, response)


class PackedCompress(Compress):
    """Flask-Compress, passing by at once a response already compressed (a kept answer in its
    kept encoding: send_packed, which said Vary: Accept-Encoding itself). Flask-Compress would
    read the request's Accept-Encoding and add to Vary first, only to leave it as it is."""

    def after_request(self, response):
        if "Content-Encoding" in response.headers:
            return response
        return super().after_request(response)


def register_static_assets(app: Flask) -> None:
    """Fingerprint static URLs, set cache headers, and compress responses."""
    for key, value in COMPRESS_DEFAULTS.items():
        app.config.setdefault(key, value)
    # One Compress per app: it keeps the app's settings on itself (so not in extensions.py).
    app.extensions["compress"] = PackedCompress(app)
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
            response.headers["Cache-Control"] = "private, no-cache"  # as cache_control writes it
        return response
