"""Which oblasts of Ukraine border which (the two cities with oblast status and Crimea among
them, named as the gazetteer names them: places/labels.UA_OBLASTS). Data, in one place: the
vouching rule (orgs/vouches.py: vouchers in the same or a neighbouring oblast) reads it.

Read off the map's own base layer (static/geo/ukraine.geojson, Natural Earth's borders): two
regions border each other when their outlines share a stretch of border. Kyiv city lies inside
Kyiv Oblast and borders it alone; Sevastopol borders Crimea alone. tests/test_vouches.py checks
the table against the shipped map and a few known pairs.
"""

from __future__ import annotations

BORDERS: dict[str, tuple[str, ...]] = {
    "Autonomous Republic of Crimea": ("Kherson Oblast", "Sevastopol"),
    "Cherkasy Oblast": ("Kirovohrad Oblast", "Kyiv Oblast", "Poltava Oblast", "Vinnytsia Oblast"),
    "Chernihiv Oblast": ("Kyiv Oblast", "Poltava Oblast", "Sumy Oblast"),
    "Chernivtsi Oblast": (
        "Ivano-Frankivsk Oblast",
        "Khmelnytskyi Oblast",
        "Ternopil Oblast",
        "Vinnytsia Oblast",
    ),
    "Dnipropetrovsk Oblast": (
        "Donetsk Oblast",
        "Kharkiv Oblast",
        "Kherson Oblast",
        "Kirovohrad Oblast",
        "Mykolaiv Oblast",
        "Poltava Oblast",
        "Zaporizhzhia Oblast",
    ),
    "Donetsk Oblast": (
        "Dnipropetrovsk Oblast",
        "Kharkiv Oblast",
        "Luhansk Oblast",
        "Zaporizhzhia Oblast",
    ),
    "Ivano-Frankivsk Oblast": (
        "Chernivtsi Oblast",
        "Lviv Oblast",
        "Ternopil Oblast",
        "Zakarpattia Oblast",
    ),
    "Kharkiv Oblast": (
        "Dnipropetrovsk Oblast",
        "Donetsk Oblast",
        "Luhansk Oblast",
        "Poltava Oblast",
        "Sumy Oblast",
    ),
    "Kherson Oblast": (
        "Autonomous Republic of Crimea",
        "Dnipropetrovsk Oblast",
        "Mykolaiv Oblast",
        "Zaporizhzhia Oblast",
    ),
    "Khmelnytskyi Oblast": (
        "Chernivtsi Oblast",
        "Rivne Oblast",
        "Ternopil Oblast",
        "Vinnytsia Oblast",
        "Zhytomyr Oblast",
    ),
    "Kirovohrad Oblast": (
        "Cherkasy Oblast",
        "Dnipropetrovsk Oblast",
        "Mykolaiv Oblast",
        "Odesa Oblast",
        "Poltava Oblast",
        "Vinnytsia Oblast",
    ),
    "Kyiv": ("Kyiv Oblast",),
    "Kyiv Oblast": (
        "Cherkasy Oblast",
        "Chernihiv Oblast",
        "Kyiv",
        "Poltava Oblast",
        "Vinnytsia Oblast",
        "Zhytomyr Oblast",
    ),
    "Luhansk Oblast": ("Donetsk Oblast", "Kharkiv Oblast"),
    "Lviv Oblast": (
        "Ivano-Frankivsk Oblast",
        "Rivne Oblast",
        "Ternopil Oblast",
        "Volyn Oblast",
        "Zakarpattia Oblast",
    ),
    "Mykolaiv Oblast": (
        "Dnipropetrovsk Oblast",
        "Kherson Oblast",
        "Kirovohrad Oblast",
        "Odesa Oblast",
    ),
    "Odesa Oblast": ("Kirovohrad Oblast", "Mykolaiv Oblast", "Vinnytsia Oblast"),
    "Poltava Oblast": (
        "Cherkasy Oblast",
        "Chernihiv Oblast",
        "Dnipropetrovsk Oblast",
        "Kharkiv Oblast",
        "Kirovohrad Oblast",
        "Kyiv Oblast",
        "Sumy Oblast",
    ),
    "Rivne Oblast": (
        "Khmelnytskyi Oblast",
        "Lviv Oblast",
        "Ternopil Oblast",
        "Volyn Oblast",
        "Zhytomyr Oblast",
    ),
    "Sevastopol": ("Autonomous Republic of Crimea",),
    "Sumy Oblast": ("Chernihiv Oblast", "Kharkiv Oblast", "Poltava Oblast"),
    "Ternopil Oblast": (
        "Chernivtsi Oblast",
        "Ivano-Frankivsk Oblast",
        "Khmelnytskyi Oblast",
        "Lviv Oblast",
        "Rivne Oblast",
    ),
    "Vinnytsia Oblast": (
        "Cherkasy Oblast",
        "Chernivtsi Oblast",
        "Khmelnytskyi Oblast",
        "Kirovohrad Oblast",
        "Kyiv Oblast",
        "Odesa Oblast",
        "Zhytomyr Oblast",
    ),
    "Volyn Oblast": ("Lviv Oblast", "Rivne Oblast"),
    "Zakarpattia Oblast": ("Ivano-Frankivsk Oblast", "Lviv Oblast"),
    "Zaporizhzhia Oblast": ("Dnipropetrovsk Oblast", "Donetsk Oblast", "Kherson Oblast"),
    "Zhytomyr Oblast": (
        "Khmelnytskyi Oblast",
        "Kyiv Oblast",
        "Rivne Oblast",
        "Vinnytsia Oblast",
    ),
}


def neighbours(oblast: str | None) -> frozenset[str]:
    """The oblasts that border this one (none for a name the table does not know)."""
    return frozenset(BORDERS.get(oblast or "", ()))


def near(a: str | None, b: str | None) -> bool:
    """The same oblast, or two that border each other."""
    return bool(a and b) and (a == b or b in neighbours(a))


def near_pairs() -> list[tuple[str, str]]:
    """Every (oblast, oblast) pair that is near (the same, or neighbours), both ways round:
    what SQL compares a pair of oblasts against."""
    pairs = [(name, name) for name in BORDERS]
    pairs += [(name, other) for name, others in BORDERS.items() for other in others]
    return sorted(pairs)
