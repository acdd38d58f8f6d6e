"""CSV export of needs and offers, from the rows as a viewer may see them (privacy applied)."""

from __future__ import annotations

import csv
import io

NEED_COLUMNS = (
    "id", "title", "category", "unit", "quantity", "pledged", "proposed", "delivered", "open",
    "urgency", "needed_by", "status", "place", "oblast", "lat", "lon", "precision_km", "point",
    "organization", "verified", "sensitive", "delivery_note", "created_at",
)  # fmt: skip
OFFER_COLUMNS = (
    "id", "title", "category", "unit", "quantity", "allocated", "proposed", "remaining",
    "delivery_radius_km", "available_until", "status", "place", "oblast", "lat", "lon",
    "precision_km", "point", "organization", "verified", "created_at",
)  # fmt: skip
MAX_EXPORT_ROWS = 50_000


def _safe(value):
    """Neutralise spreadsheet formulas (CSV injection): a leading = + - @ becomes text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _flat(d: dict) -> dict:
    flat = dict(d)
    flat["place"] = d["place"]["name"]
    flat["oblast"] = d["place"]["oblast"] or ""
    flat.update(d["location"])
    flat["point"] = d["location"]["kind"]  # exact, settlement_centre or area (privacy.Viewer.point)
    flat["organization"] = d["organization"]["name"]
    flat["verified"] = "yes" if d["organization"]["verified"] else "no"
    if "sensitive" in d:
        flat["sensitive"] = "yes" if d["sensitive"] else "no"
    for key in ("needed_by", "available_until", "created_at"):
        if key in flat:
            flat[key] = flat[key].isoformat() if flat[key] else ""
    if flat.get("delivery_radius_km", 0) is None:
        flat["delivery_radius_km"] = "anywhere"
    return {k: _safe(v) for k, v in flat.items()}


def to_csv(dicts, columns: tuple[str, ...]) -> str:
    """CSV text with a header row; fields a viewer may not see are simply absent (blank)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", restval="")
    writer.writeheader()
    for d in dicts:
        writer.writerow(_flat(d))
    return out.getvalue()


def export(viewer, query, to_dict, columns: tuple[str, ...]) -> str:
    """Run a needs or offers query for a viewer and render it as CSV, in chunks of rows."""
    from aidmatch.extensions import db
    from aidmatch.privacy import viewer_for

    rows = list(db.session.scalars(query.limit(MAX_EXPORT_ROWS)).unique())
    dicts = []
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        exact = viewer_for(viewer).exact_ids(chunk)
        dicts.extend(to_dict(obj, viewer, exact=obj.id in exact) for obj in chunk)
    return to_csv(dicts, columns)
