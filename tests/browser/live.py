"""A real HTTP server and Debian's chromium for the browser tests and scripts/screenshots.

No browser is ever downloaded: Playwright drives the chromium package at CHROMIUM
(.ci/run installs it when missing).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 10_000


@contextmanager
def serve_test_app(app) -> Iterator[str]:
    """Serve a test's app (see serve); afterwards close its sessions and connections and
    forget the place index, which knew this test's places under ids the next test reuses."""
    from aidmatch.extensions import db
    from aidmatch.places.search import invalidate_index

    try:
        with serve(app) as base_url:
            yield base_url
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        invalidate_index()


def chromium_available() -> bool:
    return os.access(CHROMIUM, os.X_OK)


@contextmanager
def serve(app) -> Iterator[str]:
    """Serve the app on 127.0.0.1 at a free port in a thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@contextmanager
def browser() -> Iterator:
    """Headless chromium from the Debian package, through Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def new_page(b, base_url: str, locale: str = "en-US", javascript: bool = True):
    """A page in a fresh browser context (its own cookies and cache) on the live server."""
    context = b.new_context(base_url=base_url, locale=locale, java_script_enabled=javascript)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context.new_page()


def log_in(page, email: str, password: str | None = None) -> None:
    """Log in through the login form (the factories' password unless another is given)."""
    from tests.factories import PASSWORD

    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password or PASSWORD)
    page.click("main form button[type=submit]")
    # attached, not visible: on a phone the logout button waits in the folded menu
    page.wait_for_selector("form[action$='/logout']", state="attached")
