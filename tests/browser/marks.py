"""The marks every browser test carries: slow (skip locally with -m "not slow"), and skipped
where Debian's chromium is not installed."""

from __future__ import annotations

import pytest

from tests.browser.live import CHROMIUM, chromium_available

SLOW_BROWSER = [
    pytest.mark.slow,  # a server and chromium: skip locally with -m "not slow"
    pytest.mark.skipif(
        not chromium_available(), reason=f"{CHROMIUM} is not installed (apt-get install chromium)"
    ),
]
