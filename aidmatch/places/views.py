"""GET /places/search: the JSON the place autocomplete of the forms asks for."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from aidmatch.places.labels import oblast_label, place_name
from aidmatch.places.search import MAX_QUERY_LENGTH, search
from aidmatch.web.errors import error_response

bp = Blueprint("places", __name__, url_prefix="/places")

DEFAULT_LIMIT = 10
MAX_LIMIT = 20


def place_json(place) -> dict:
    """The public fields of a place, the API's keys; name and oblast as the reader's language
    names them (the suggestions show them), name_uk as it is."""
    return {
        "id": place.id,
        "name": place_name(place),
        "name_uk": place.name_uk,
        "oblast": oblast_label(place.oblast, place.oblast_uk) or None,
        "lat": place.lat,
        "lon": place.lon,
        "population": place.population,
    }


@bp.get("/search")
def search_places():
    """Places for an autocomplete: ?q=Харк&limit=10 -> {"items": [...]} (public data)."""
    query = request.args.get("q", "")
    if len(query) > MAX_QUERY_LENGTH:
        return error_response(
            400,
            f"The query is longer than {MAX_QUERY_LENGTH} characters.",
            {"q": f"At most {MAX_QUERY_LENGTH} characters."},
        )
    limit = request.args.get("limit", DEFAULT_LIMIT, type=int)
    limit = max(1, min(limit, MAX_LIMIT))
    country = request.args.get("country") or None
    places = search(query, limit=limit, country=country) if query.strip() else []
    response = jsonify(items=[place_json(p) for p in places])
    # The names follow the reader's language (the session's choice, else the browser's), so
    # only the browser may keep the answer, and not across a change of language.
    response.cache_control.private = True
    response.cache_control.max_age = 3600
    response.vary.update(("Accept-Language", "Cookie"))
    return response
