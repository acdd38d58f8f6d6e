"""Build static/geo/oblasts.geojson: approximate outlines of Ukraine's oblasts for the map.

Each outline is the convex hull of the oblast's settlements in the bundled gazetteer
(aidmatch/places/data/places.tsv.gz), coordinates rounded to 3 decimals. They are rough
(hulls of settlements, not borders) but let the map show where things are without tiles.

Usage: .venv/bin/python scripts/build_oblast_outlines.py
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from scipy.spatial import ConvexHull

from aidmatch.places.gazetteer import read_places

OUT = Path(__file__).resolve().parent.parent / "static" / "geo" / "oblasts.geojson"


def outlines() -> dict:
    """A GeoJSON FeatureCollection with one polygon per Ukrainian oblast."""
    points: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for place in read_places():
        if place["country"] == "UA" and place["oblast"]:
            key = (place["oblast"], place["oblast_uk"] or place["oblast"])
            points[key].append((place["lon"], place["lat"]))
    features = []
    for (name, name_uk), pts in sorted(points.items()):
        if len(set(pts)) < 3:
            continue
        hull = ConvexHull(pts)
        ring = [[round(pts[i][0], 3), round(pts[i][1], 3)] for i in hull.vertices]
        ring.append(ring[0])  # GeoJSON rings are closed (counter-clockwise from ConvexHull)
        features.append(
            {
                "type": "Feature",
                "properties": {"name": name, "name_uk": name_uk},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def main() -> None:
    data = outlines()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {len(data['features'])} outlines to {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
