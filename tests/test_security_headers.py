"""Browser security headers on every response: every GET route of the URL map as an anonymous
visitor and as a logged-in coordinator, a static file, errors; HSTS only in production; and
the templates hold nothing a strict CSP would block (inline script or style, on* handlers)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aidmatch.web.headers import tile_origin
from tests.conftest import make_test_app
from tests.factories import PASSWORD
from tests.test_reads_never_write import World, _urls

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def _directives(csp: str) -> dict[str, list[str]]:
    parts = [p.split() for p in csp.split(";") if p.strip()]
    return {p[0]: p[1:] for p in parts}


def check_headers(response, where: str) -> None:
    """The headers every response carries, and a CSP that allows nothing inline."""
    for name, value in EXPECTED.items():
        assert response.headers.getlist(name) == [value], f"{where}: {name}"  # once
    for name in ("Content-Security-Policy", "Permissions-Policy", "Cross-Origin-Opener-Policy"):
        assert len(response.headers.getlist(name)) == 1, f"{where}: {name} once"
    assert "geolocation=()" in response.headers.get("Permissions-Policy", ""), where
    csp = _directives(response.headers.get("Content-Security-Policy", ""))
    assert csp.get("frame-ancestors") == ["'none'"], where
    assert csp.get("default-src") == ["'self'"], where
    assert csp.get("script-src") == ["'self'"], where
    assert csp.get("style-src") == ["'self'"], where
    assert csp.get("object-src") == ["'none'"], where
    assert not any("unsafe" in s for sources in csp.values() for s in sources), where
    assert "Strict-Transport-Security" not in response.headers, where


@pytest.fixture
def world(app, client):
    return World(client)


@pytest.mark.parametrize("role", ["anonymous", "coordinator"])
def test_every_get_route_carries_the_security_headers(app, client, world, role):
    if role != "anonymous":
        response = client.post(
            "/login", data={"email": world.users[role].email, "password": PASSWORD}
        )
        assert response.status_code == 302
    headers = world._auth(role) if role != "anonymous" else {}
    urls = _urls(app, world)
    assert len(urls) > 40
    for url in urls:
        response = client.get(url, headers=headers if url.startswith("/api/") else {})
        check_headers(response, f"{role} GET {url} ({response.status_code})")


def test_static_files_errors_and_posts_carry_them_too(app, client):
    check_headers(client.get("/static/css/app.css"), "static")
    check_headers(client.get("/no/such/page"), "404 page")
    check_headers(client.get("/api/v1/needs/999999"), "API 401/404")
    check_headers(client.post("/login", data={"email": "x@example.org", "password": "x"}), "POST")


def test_only_the_docs_page_allows_data_images(app, client):
    docs = _directives(client.get("/api/v1/docs").headers["Content-Security-Policy"])
    home = _directives(client.get("/").headers["Content-Security-Policy"])
    assert docs["img-src"] == ["'self'", "data:"]
    assert home["img-src"] == ["'self'"]


def test_the_tile_server_may_serve_images(database_url):
    app = make_test_app(database_url, MAP_TILE_URL="https://tiles.example.org:8443/{z}/{x}/{y}.png")
    response = app.test_client().get("/")
    img = _directives(response.headers["Content-Security-Policy"])["img-src"]
    assert img == ["'self'", "https://tiles.example.org:8443"]
    assert tile_origin("javascript:alert(1)") is None
    assert tile_origin("") is None
    assert (
        tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == "https://*.tile.example.org"
    )
    assert tile_origin("https://t.example.org;script-src *") is None
    assert tile_origin("http://a{s}b{r}/{z}.png") is None


def test_hsts_only_in_production(database_url):
    app = make_test_app(database_url, AIDMATCH_ENV="production")
    response = app.test_client().get("/static/css/app.css")
    assert response.headers.getlist("Strict-Transport-Security") == [
        "max-age=31536000; includeSubDomains"
    ]


INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE
)


def test_templates_have_nothing_inline_a_strict_csp_blocks():
    # templates/email/ are e-mails: mail clients read them, where inline styles are the only
    # styles there are, and no page of the site is made of them.
    found = [
        f"{path.relative_to(TEMPLATES)}:{n}: {line.strip()[:80]}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        if path.relative_to(TEMPLATES).parts[0] != "email"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if INLINE.search(line)
    ]
    assert found == []
