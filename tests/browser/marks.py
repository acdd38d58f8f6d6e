"""The marks every browser test carries: slow (skip locally with -m "not slow"), and skipped
where Debian's chromium is not installed; and MARKUP_ONLY, for a test of markup alone."""

from __future__ import annotations

import os

import pytest

from tests.browser.live import CHROMIUM, chromium_available

SLOW_BROWSER = [
    pytest.mark.slow,  # a server and chromium: skip locally with -m "not slow"
    pytest.mark.skipif(
        not chromium_available(), reason=f"{CHROMIUM} is not installed (apt-get install chromium)"
    ),
]

# A test of markup and styles alone (layout at phone widths, axe): the same on every
# database, so the SQLite run covers it and the PostgreSQL run of CI saves its time.
MARKUP_ONLY = pytest.mark.skipif(
    os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="the pages' markup does not depend on the database (checked on SQLite)",
)
