"""Browser security headers on every response, set in one response hook.

A strict Content-Security-Policy (no ``unsafe-inline``, no ``unsafe-eval``: the templates
carry no inline script, style, ``style=`` or ``on*=`` attribute), no sniffing, no framing,
same-origin referrers, no powerful browser features, and HSTS in production only. The API
docs page (Swagger UI) gets the same policy plus ``data:`` images, which its stylesheet uses
for its icons.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request

HSTS = "max-age=31536000; includeSubDomains"
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer", "autoplay", "camera", "display-capture", "fullscreen", "geolocation",
        "gyroscope", "magnetometer", "microphone", "midi", "payment", "usb",
    )
)  # fmt: skip
# Pages whose vendored script needs a little more than the strict policy: endpoint -> extra
# img-src sources.
EXTRA_IMAGES = {"api_docs": ("data:",)}


def tile_origin(tile_url: str) -> str | None:
    """The CSP source of MAP_TILE_URL (the map's base tiles): its origin, with a Leaflet
    subdomain placeholder as a wildcard ("https://{s}.tile.example.org/..." gives
    "https://*.tile.example.org"); None when there are no tiles or no source can say it."""
    if not tile_url:
        return None
    try:
        parts = urlsplit(tile_url)
        port = parts.port
    except ValueError:
        return None
    hostname = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not hostname:
        return None
    first, _, rest = hostname.partition(".")
    if "{" in first and rest:
        hostname = f"*.{rest}"  # CSP allows a wildcard as the leftmost label only
    if not all(c.isalnum() or c in ".-*" for c in hostname) or "*" in hostname[1:]:
        return None
    return f"{parts.scheme}://{hostname}" + (f":{port}" if port is not None else "")


def content_security_policy(images: tuple[str, ...] = ()) -> str:
    """The CSP header value; images: further img-src sources (the tile server, data:)."""
    directives = {
        "default-src": ("'self'",),
        "script-src": ("'self'",),
        "style-src": ("'self'",),
        "img-src": ("'self'", *images),
        "connect-src": ("'self'",),
        "font-src": ("'self'",),
        "object-src": ("'none'",),
        "base-uri": ("'none'",),
        "form-action": ("'self'",),
        "frame-ancestors": ("'none'",),
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def security_headers(app: Flask) -> dict[str, dict[str, str]]:
    """The headers per policy name ("default" and each endpoint of EXTRA_IMAGES)."""
    tiles = tile_origin(app.config.get("MAP_TILE_URL", ""))
    base_images = (tiles,) if tiles else ()
    common = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if app.config.get("AIDMATCH_ENV") == "production":
        common["Strict-Transport-Security"] = HSTS
    policies = {
        "default": {**common, "Content-Security-Policy": content_security_policy(base_images)}
    }
    for endpoint, extra in EXTRA_IMAGES.items():
        policies[endpoint] = {
            **common,
            "Content-Security-Policy": content_security_policy((*base_images, *extra)),
        }
    return policies


def register_security_headers(app: Flask) -> None:
    """Set the security headers on every response of app (pages, API, static files, errors)."""
    policies = security_headers(app)

    @app.after_request
    def _security_headers(response):
        headers = policies.get(request.endpoint or "", policies["default"])
        # No view sets them (tests/test_security_headers.py finds each once on every
        # route): added, without looking for each first as update() would.
        response.headers.extend(headers)
        return response
