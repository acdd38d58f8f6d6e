"""OCHA P-codes of a Ukrainian place, derived from its KATOTTG code (nothing stored).

The codifier's code is ``UA`` + 17 digits: ОО (level 1: oblast, the Autonomous Republic of
Crimea, or a city with special status), РР (level 2: raion), ГГГ (level 3: hromada), ППП
(level 4: settlement), then a unique number. OCHA's common operational dataset of
administrative boundaries for Ukraine (COD-AB, HDX "cod-ab-ukr", built on the same codifier)
takes its prefixes as P-codes: adm1 ``UA`` + ОО (4 characters), adm2 adm1 + РР (6), adm3
adm2 + ГГГ (9). The hromada ``UA05020030000031457`` is ``UA05``, ``UA0502``, ``UA0502003``,
and so is every settlement in it (``UA05020030010063857``).

The two cities with special status have no raion nor hromada in the codifier (Kyiv is
``UA80000000000093317``, Sevastopol ``UA85000000000065278``); OCHA gives each one unit at
every level, with the same prefixes: Kyiv ``UA80``, ``UA8000``, ``UA8000000``; Sevastopol
``UA85``, ``UA8500``, ``UA8500000``. Crimea is ``UA01``.

ISO 3166-2:UA numbers five level-1 units differently from the codifier and OCHA: Crimea
UA-43 (P-code UA01), Kyiv UA-30 (UA80), Sevastopol UA-40 (UA85), Luhansk Oblast UA-09
(UA44) and Chernivtsi Oblast UA-77 (UA73); the other oblasts share their two digits
(Kharkiv Oblast: UA-63, UA63). ``iso_3166_2`` gives the ISO code; a P-code is never one.

Places outside Ukraine (``GN<geonames id>``) and any code not of the codifier's shape have
no P-codes (None).
"""

from __future__ import annotations

import re
from typing import NamedTuple

_KATOTTG = re.compile(r"^UA(\d{2})(\d{2})(\d{3})\d{10}$")

# Level-1 units whose ISO 3166-2 number is not the codifier's (KATOTTG and OCHA) one.
_ISO_DIFFERS = {"01": "43", "80": "30", "85": "40", "44": "09", "73": "77"}


class PCodes(NamedTuple):
    """The OCHA P-codes of a place: adm1 (oblast), adm2 (raion), adm3 (hromada)."""

    adm1: str
    adm2: str
    adm3: str


def pcodes(code: str | None) -> PCodes | None:
    """The adm1, adm2 and adm3 P-codes of a KATOTTG code (a settlement's, a hromada's or a
    city with special status'); None for anything else (a foreign place's ``GN`` code)."""
    found = _KATOTTG.match((code or "").strip().upper())
    if found is None:
        return None
    oblast, raion, hromada = found.groups()
    adm1 = f"UA{oblast}"
    return PCodes(adm1, adm1 + raion, adm1 + raion + hromada)


def iso_3166_2(code: str | None) -> str | None:
    """The ISO 3166-2 code of the place's level-1 unit ("UA-63"), from its KATOTTG code or
    its adm1 P-code; None for a place outside Ukraine."""
    text = (code or "").strip().upper()
    found = re.fullmatch(r"UA(\d{2})", text)
    if found is None:
        codes = pcodes(text)
        found = re.fullmatch(r"UA(\d{2})", codes.adm1) if codes else None
    if found is None:
        return None
    digits = found.group(1)
    return f"UA-{_ISO_DIFFERS.get(digits, digits)}"
