"""Place-name text: Ukrainian national transliteration and the folding search keys use."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Resolution of the Cabinet of Ministers of Ukraine No. 55 of 27 January 2010: the letter
# table, with the forms є/ї/й/ю/я take at the start of a word kept apart.
_KMU = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "h",
    "ґ": "g",
    "д": "d",
    "е": "e",
    "є": "ie",
    "ж": "zh",
    "з": "z",
    "и": "y",
    "і": "i",
    "ї": "i",
    "й": "i",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ь": "",
    "ю": "iu",
    "я": "ia",
}
_KMU_WORD_START = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}
APOSTROPHES = "'’ʼ`´‘ʹ"
_APOSTROPHE_SET = frozenset(APOSTROPHES)

_LATIN_MARKED = re.compile(r"[\u00c0-\u024f\u1e00-\u1eff]")
_COMBINING = re.compile(r"[\u0300-\u036f]")
_APOSTROPHE_RE = re.compile("[" + APOSTROPHES + "]")
# Latin letters that carry no combining mark to strip but are typed without one; and ё.
_UNMARKED = {"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i"}
_SEPARATORS = re.compile(r"[\s\-‐‑–—_.,;:/()\"«»]+")


@lru_cache(maxsize=4096)
def _plain_latin(char: str) -> str:
    if char in _UNMARKED:
        return _UNMARKED[char]
    return _COMBINING.sub("", unicodedata.normalize("NFD", char))


def transliterate(text: str) -> str:
    """Ukrainian Cyrillic to Latin by the national system (KMU resolution No. 55, 2010)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        low = char.lower()
        if low not in _KMU:
            if char not in _APOSTROPHE_SET:
                out.append(char)
            i += 1
            continue
        word_start = i == 0 or not (text[i - 1].isalpha() or text[i - 1] in _APOSTROPHE_SET)
        if low == "з" and i + 1 < n and text[i + 1].lower() == "г":
            latin, width = "zgh", 2
        elif word_start and low in _KMU_WORD_START:
            latin, width = _KMU_WORD_START[low], 1
        else:
            latin, width = _KMU[low], 1
        if char != low and latin:
            following = text[i + width] if i + width < n else ""
            all_caps = following.isalpha() and following.isupper()
            latin = latin.upper() if all_caps else latin[0].upper() + latin[1:]
        out.append(latin)
        i += width
    return "".join(out)


def fold(text: str) -> str:
    """The search key of a name: case, apostrophes, Latin diacritics and punctuation folded.

    Cyrillic letters keep their marks (й and ї stay apart from и and і); ё becomes е.
    """
    text = text.casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
        text = _LATIN_MARKED.sub(lambda m: _plain_latin(m.group()), text)
        text = _COMBINING.sub("", text).replace("ё", "е")
    text = _APOSTROPHE_RE.sub("", text)
    return _SEPARATORS.sub(" ", text).strip()
