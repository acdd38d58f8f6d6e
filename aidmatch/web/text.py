"""Text the databases can store and search words they can take: the one check for pages,
the API, CSV and the map feed (PostgreSQL refuses a NUL character, both databases a lone
surrogate)."""

from __future__ import annotations

from flask_babel import gettext as _

SEARCH_MAX = 200


def text_problem(value: str) -> str | None:
    """Why a text can't be stored (a NUL character or a lone surrogate), else None: both
    databases refuse the second, PostgreSQL the first. Pages, the API, the CSV export and the
    map feed all ask this."""
    if "\x00" in value:
        return _("Text may not contain NUL characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("Text may not contain unpaired surrogates (invalid Unicode).")
    return None


def search_terms(value) -> str | None:
    """Search words as typed, NUL characters and lone surrogates dropped, at most
    SEARCH_MAX characters; None when nothing is left."""
    if not isinstance(value, str):
        return None
    kept = value.replace("\x00", "").encode("utf-8", "ignore").decode("utf-8")
    return kept.strip()[:SEARCH_MAX] or None
