"""The place box of a form (a posting's place, an organization's settlement): the place a
hidden id or a "which one?" choice names while the typed text still names it, else the typed
name when it fits one place, else the candidates to choose from."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _

from aidmatch.db import is_id
from aidmatch.extensions import db
from aidmatch.places.models import Place
from aidmatch.places.text import fold

PLACE_CHOICES = 10  # candidates offered when a typed place name fits several places


def place_names(place: Place) -> set[str]:
    """The folded names a place is known by (Latin, Ukrainian, alternates)."""
    names = [place.name, place.name_uk or "", *(place.alt_names or "").split("|")]
    return {fold(n) for n in names if n}


def find_places(text: str, limit: int = PLACE_CHOICES) -> list[Place]:
    """Places that fit a typed name: those named exactly so if any, else the search's hits.

    A region after a comma narrows the search ("Kharkiv, Kharkiv Oblast", as the place box
    shows a chosen place).
    """
    from aidmatch.places.search import search

    text = (text or "").strip()
    key = fold(text.partition(",")[0])
    if not key:
        return []
    hits = search(text, limit=limit)
    exact = [p for p in hits if key in place_names(p)]
    return exact or hits


def place_by_id(value) -> Place | None:
    """The place a hidden place_id or a chooser's radio button names, or None."""
    try:
        place_id = int(value)
    except (TypeError, ValueError):
        return None
    return db.session.get(Place, place_id) if is_id(place_id) else None


@dataclass
class PlaceLookup:
    """What the place box named: one place, candidates to choose from, or an error."""

    place: Place | None = None
    candidates: list[Place] = field(default_factory=list)
    error: str = ""


def names_place(text: str, place: Place) -> bool:
    """Does the place box's text still name this place: one of its names, and what follows a
    comma (if anything) fits its oblast, raion or country?"""
    from aidmatch.places.search import region_words

    name, _comma, region = text.partition(",")
    if fold(name) not in place_names(place):
        return False
    words = region_words(place.oblast, place.oblast_uk, place.raion, place.hromada, place.country)
    return all(any(w.startswith(x) for w in words) for x in fold(region).split())


def chosen_place(text: str, place_id) -> Place | None:
    """The place a hidden id or a "which one?" button chose, if the box still names it.

    With JS, the autocomplete clears the id whenever the box is typed in; without JS, an id
    drawn into the page stays behind when another name is typed, and the text must win. A
    choice among the places that fit a misspelt name is kept too (it is one of its hits).
    """
    place = place_by_id(place_id) if place_id not in (None, "") else None
    if place is None or not text or names_place(text, place):
        return place
    return place if place in find_places(text) else None


def lookup_place(text: str | None, place_id) -> PlaceLookup:
    """Resolve the place box: a chosen id that the text still names; else the typed name if
    it fits one place (several: candidates to choose from)."""
    text = (text or "").strip()
    place = chosen_place(text, place_id)
    if place is not None:
        return PlaceLookup(place)
    if not text:
        return PlaceLookup()
    hits = find_places(text)
    if not hits:
        return PlaceLookup(error=_("No place called “%(name)s” is known.", name=text))
    if len(hits) == 1:
        return PlaceLookup(hits[0])
    return PlaceLookup(candidates=hits, error=_("Several places have this name: which one?"))
