"""Places and oblasts as the reader's language names them.

The gazetteer holds a Latin name and a Ukrainian one for each place and its oblast. A
Ukrainian page shows the Ukrainian names (Харків, Харківська область); other languages the
Latin ones, with the oblast written as the language does: "Kharkiv Oblast", "Oblast Kharkiv".
Pages (as Jinja globals), the map's data and the place box's suggestions all name places
through these functions; filters, the places table, the JSON API's place fields and the CSV
exports keep the gazetteer's own (English) names.

A place may be a Place or a mapping with the same keys (serialize.need_to_dict's "place").
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

# The oblasts (and the two cities with oblast status, and Crimea) as the gazetteer names
# them: a fixed list, so a list page does not scan the places table for them. A test checks
# it against the shipped data file.
UA_OBLASTS = (
    ("Autonomous Republic of Crimea", "Автономна Республіка Крим"),
    ("Cherkasy Oblast", "Черкаська область"),
    ("Chernihiv Oblast", "Чернігівська область"),
    ("Chernivtsi Oblast", "Чернівецька область"),
    ("Dnipropetrovsk Oblast", "Дніпропетровська область"),
    ("Donetsk Oblast", "Донецька область"),
    ("Ivano-Frankivsk Oblast", "Івано-Франківська область"),
    ("Kharkiv Oblast", "Харківська область"),
    ("Kherson Oblast", "Херсонська область"),
    ("Khmelnytskyi Oblast", "Хмельницька область"),
    ("Kirovohrad Oblast", "Кіровоградська область"),
    ("Kyiv", "Київ"),
    ("Kyiv Oblast", "Київська область"),
    ("Luhansk Oblast", "Луганська область"),
    ("Lviv Oblast", "Львівська область"),
    ("Mykolaiv Oblast", "Миколаївська область"),
    ("Odesa Oblast", "Одеська область"),
    ("Poltava Oblast", "Полтавська область"),
    ("Rivne Oblast", "Рівненська область"),
    ("Sevastopol", "Севастополь"),
    ("Sumy Oblast", "Сумська область"),
    ("Ternopil Oblast", "Тернопільська область"),
    ("Vinnytsia Oblast", "Вінницька область"),
    ("Volyn Oblast", "Волинська область"),
    ("Zakarpattia Oblast", "Закарпатська область"),
    ("Zaporizhzhia Oblast", "Запорізька область"),
    ("Zhytomyr Oblast", "Житомирська область"),
)
OBLAST_UK = dict(UA_OBLASTS)
OBLAST_SUFFIX = " Oblast"
# Regions whose English name is not "<name> Oblast" and reads differently in other languages.
REGION_NAMES = {"Autonomous Republic of Crimea": _l("Autonomous Republic of Crimea")}
# Ukrainian alphabetical order (Python's code point order puts І and Є before А).
_UK_ALPHABET = "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"
_UK_ORDER = {letter: i for i, letter in enumerate(_UK_ALPHABET)}


def _language() -> str:
    return str(get_locale() or "en")


def _get(place, key: str):
    if isinstance(place, Mapping):
        return place.get(key)
    return getattr(place, key, None)


def oblast_label(oblast: str | None, oblast_uk: str | None = None) -> str:
    """An oblast in the reader's language, from the gazetteer's English name (and its
    Ukrainian one, if known): "Харківська область", "Kharkiv Oblast", "Oblast Kharkiv"."""
    if not oblast:
        return oblast_uk or ""
    if _language() == "uk":
        return oblast_uk or OBLAST_UK.get(oblast) or oblast
    if oblast.endswith(OBLAST_SUFFIX):
        # TRANSLATORS: an oblast of Ukraine by its Latin name, e.g. "Kharkiv Oblast".
        return _("%(name)s Oblast", name=oblast.removesuffix(OBLAST_SUFFIX))
    return str(REGION_NAMES.get(oblast, oblast))


def find_oblast(text: str | None) -> str | None:
    """The gazetteer's (English) name of the oblast a person typed, or None: "Kharkiv Oblast",
    "kharkiv", "Харківська область" and "харківська" all give "Kharkiv Oblast"."""
    wanted = " ".join((text or "").split()).casefold()
    if not wanted:
        return None
    for en, uk in UA_OBLASTS:  # whole names first: "Kyiv" is the city, not the oblast
        if wanted in (en.casefold(), uk.casefold()):
            return en
    for en, uk in UA_OBLASTS:
        short = (en.removesuffix(OBLAST_SUFFIX), uk.removesuffix(" область"))
        if wanted in (s.casefold() for s in short):
            return en
    return None


def place_name(place) -> str:
    """A place's own name in the reader's language: Ukrainian on Ukrainian pages."""
    if place is None:
        return ""
    name = _get(place, "name") or ""
    if _language() == "uk":
        return _get(place, "name_uk") or name
    return name


def place_label(place) -> str:
    """A place and its oblast in the reader's language: "Зоряне, Харківська область",
    "Zoriane, Oblast Kharkiv"; a city with oblast status once: "Київ"."""
    name = place_name(place)
    if place is None or not _get(place, "oblast"):
        return name
    region = oblast_label(_get(place, "oblast"), _get(place, "oblast_uk"))
    return name if region == name else f"{name}, {region}"


def point_words(location: Mapping, place) -> str:
    """Where a need or offer is, in words, from the location the privacy policy gives a
    viewer (privacy.Viewer.point): "Centre of Kramatorsk (no exact point given)" when its
    organization gave only the settlement (to every viewer), "Exact point: 48.73812,
    37.58431", or "Within about 10 km of 48.74, 37.58"."""
    if location.get("kind") == "settlement_centre":
        return _("Centre of %(place)s (no exact point given)", place=place_name(place))
    lat, lon = location["lat"], location["lon"]
    if location.get("precision_km") == 0:
        return _("Exact point: %(lat)s, %(lon)s", lat=f"{lat:.5f}", lon=f"{lon:.5f}")
    return _(
        "Within about %(km)d km of %(lat)s, %(lon)s",
        km=location["precision_km"],
        lat=f"{lat:.2f}",
        lon=f"{lon:.2f}",
    )


def oblast_choices() -> list[tuple[str, str]]:
    """The oblasts of Ukraine as (English name, the value filters take; label in the reader's
    language), in the alphabetical order of that language."""
    pairs = [(en, oblast_label(en, uk)) for en, uk in UA_OBLASTS]
    if _language() == "uk":
        return sorted(pairs, key=lambda pair: sort_key(pair[1]))
    return sorted(pairs)  # by the Latin name itself, not by "Oblast ..." in German


def sort_key(text: str) -> tuple[int, ...]:
    """A key that sorts Ukrainian words alphabetically (Latin ones after them)."""
    return tuple(_UK_ORDER.get(ch, 100 + ord(ch)) for ch in text.lower())


def register_globals(app) -> None:
    """Jinja globals that name places in the request's language: {{ place_label(need.place) }},
    {{ place_name(place) }}, {{ oblast_label(row.oblast) }}, {{ point_words(item.location,
    item.place) }}."""
    app.jinja_env.globals.update(
        place_label=place_label,
        place_name=place_name,
        oblast_label=oblast_label,
        point_words=point_words,
    )


def resolve_oblasts(names) -> frozenset[str]:
    """The gazetteer's names of the oblasts named (as typed, in any of our languages);
    ValueError naming the first one that names no oblast."""
    found = set()
    for name in names:
        oblast = find_oblast(name)
        if oblast is None:
            raise ValueError(name)
        found.add(oblast)
    return frozenset(found)
