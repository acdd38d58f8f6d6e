"""/map: needs and offers on a Leaflet map, and /map/data.json with its markers.

Markers come from the privacy-aware serializers (serialize.need_to_dict / offer_to_dict), so
a viewer who may not see a row's exact point gets its coarse public point (precision 10 km),
exactly as on the lists; the exact point only where the serializer gives precision 0. Each
marker carries its quantity and progress (as the lists show them to anyone who sees the row).
The page's "near a place within N km" is the lists' own (ListForm.filters resolves the place,
postings/queries.py applies it on the point the viewer may see).
"""

from __future__ import annotations

import marshmallow as ma
from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectField

from aidmatch.categories.menu import category_menu
from aidmatch.extensions import db
from aidmatch.needs.forms import NEED_SORTS, NeedListForm
from aidmatch.needs.models import Urgency
from aidmatch.needs.operations import needs_query
from aidmatch.offers.operations import offers_query
from aidmatch.permissions import require_login
from aidmatch.places.labels import place_label, place_name, point_words
from aidmatch.postings.args import filters_from_args
from aidmatch.postings.serialize import need_to_dict, offer_to_dict
from aidmatch.privacy import viewer_for
from aidmatch.refusals import Invalid
from aidmatch.web.kept import MAX_SECONDS, kept_json
from aidmatch.web.labels import NEED_STATUS_LABELS, language, options, unit_label, urgency_label
from aidmatch.web.schemas import ListArgs

bp = Blueprint("maps", __name__, url_prefix="/map")

MAX_MARKERS = 2000
KINDS = ("needs", "offers")
# The query parameters the page hands on to data.json (the filters of the lists).
PASSED_ON = ("kind", "category", "oblast", "urgency", "status", "q")
# What a marker's popup shows of its progress, by kind (postings/serialize.py's fields).
PROGRESS = {
    "needs": {"held": "pledged", "proposed": "proposed", "delivered": "delivered", "open": "open"},
    "offers": {"held": "allocated", "proposed": "proposed", "open": "remaining"},
}


class MapArgs(ListArgs):
    """?kind=needs|offers and the lists' filters (urgency for needs)."""

    class Meta:
        unknown = ma.EXCLUDE

    kind = ma.fields.String(load_default="needs", validate=ma.validate.OneOf(KINDS))
    urgency = ma.fields.String(validate=ma.validate.OneOf([u.value for u in Urgency]))


MAP_ARGS = MapArgs()  # made once: a schema copies its fields when it is made


class MapForm(NeedListForm):
    """The map's filters: a plain GET form (no CSRF), also read by map.js's data URL."""

    kind = SelectField(
        _l("Show"),
        choices=options([("needs", _l("Needs")), ("offers", _l("Offers"))]),
        validate_choice=False,
        default="needs",
    )


def map_items(viewer, args: dict) -> list[dict]:
    """The markers for this viewer: at most MAX_MARKERS rows, each at the point the
    serializer lets the viewer see."""
    kind = args.get("kind", "needs")
    args = {**args, "page": 1, "per_page": MAX_MARKERS}
    if kind == "needs":
        stmt = needs_query(viewer, filters_from_args(args, urgency=args.get("urgency")))
        to_dict, endpoint, key = need_to_dict, "needs.detail", "need_id"
    else:
        stmt = offers_query(viewer, filters_from_args(args))
        to_dict, endpoint, key = offer_to_dict, "offers.detail", "offer_id"
    rows = list(db.session.scalars(stmt.limit(MAX_MARKERS)))
    exact = viewer_for(viewer).exact_ids(rows)
    items = []
    for row in rows:
        data = to_dict(row, viewer, exact=row.id in exact)
        location = data["location"]
        if location["lat"] is None or location["lon"] is None:
            continue
        items.append(
            {
                "id": data["id"],
                "kind": kind,
                "title": data["title"],
                "place": place_label(data["place"]),  # in the viewer's language
                "lat": location["lat"],
                "lon": location["lon"],
                "precision_km": location["precision_km"],
                # what the point is, and in words: "Centre of Kramatorsk (no exact point
                # given)", "Exact point: ...", "Within about 10 km of ..."
                "point": location["kind"],
                "where": point_words(location, data["place"]),
                "urgency": data.get("urgency"),
                "quantity": data["quantity"],
                "unit": unit_label(data["unit"]),  # in the viewer's language
                # {"held", "proposed", "delivered" (needs), "open"}: popup_words says them
                "progress": {part: data[field] for part, field in PROGRESS[kind].items()},
                "url": url_for(endpoint, **{key: data["id"]}),
            }
        )
    return items


def popup_words(kind: str) -> dict:
    """The words of a popup's figures, as the lists say them."""
    if kind == "needs":
        return {"held": _("pledged"), "proposed": _("proposed"), "delivered": _("delivered"),
                "open": _("open")}  # fmt: skip
    return {"held": _("allocated"), "proposed": _("proposed"), "open": _("remaining")}


@bp.get("")
@require_login
def index():
    """The map page: filter form, the map (drawn by static/js/map.js), a no-JS note."""
    form = MapForm()
    form.set_choices(language(), NEED_STATUS_LABELS, NEED_SORTS)
    kind = form.kind.data if form.kind.data in KINDS else "needs"
    passed = {k: request.args[k] for k in PASSED_ON if request.args.get(k)}
    passed["kind"] = kind
    # "Near a place within N km", read as the lists read it: the place a name means, and
    # errors put next to the fields (the map then shows the markers unfiltered by distance).
    filters, near_place = form.filters()
    if near_place is not None:
        passed["near"] = near_place.id
        if filters.within_km:
            passed["within_km"] = filters.within_km
    list_url = url_for(f"{kind}.index", **{k: v for k, v in passed.items() if k != "kind"})
    legend = [(u.value, urgency_label(u.value)) for u in Urgency]
    return render_template(
        "maps/index.html",
        form=form,
        kind=kind,
        menu=category_menu(language()),
        data_url=url_for("maps.data", **passed),
        list_url=list_url,
        tile_url=current_app.config["MAP_TILE_URL"],
        legend=legend,
        near_place=near_place,
        within_km=filters.within_km if near_place else None,
        # which name of a settlement label the reader's language shows (places/labels.py)
        name_key=place_name({"name": "place", "name_uk": "place_uk"}),
        words=popup_words(kind),
    )


@bp.get("/data.json")
@require_login
def data():
    """{"items": [{"id", "kind", "title", "place", "lat", "lon", "precision_km", "urgency",
    "quantity", "unit", "progress", "url"}]}; place names the settlement and oblast in the
    viewer's language. ?near=<place id>&within_km=N narrows the markers as on the lists."""

    def markers() -> tuple[dict, int]:
        # The filters are read as the markers are drawn: a kept answer's query (part of its
        # key) was read without fault when it was drawn, and reading needs nothing else.
        raw = {k: v for k, v in request.args.items() if v != ""}
        try:
            args = MAP_ARGS.load(raw)
        except ma.ValidationError as exc:
            fields = {k: " ".join(map(str, v)) for k, v in exc.normalized_messages().items()}
            raise Invalid(_l("Invalid filters"), fields=fields) from None
        return {"items": map_items(current_user, args), "limit": MAX_MARKERS}, MAX_SECONDS

    # The markers depend on the data (the generation), who looks, the filters (near and
    # within_km among them), the language and the day (a posting past its date reads as
    # expired): kept per viewer in the shared cache as the JSON text itself, a gzip copy of
    # it and its ETag (web/kept.py), so a map reloaded or panned costs one read until
    # anything is written, and 2 000 markers are neither encoded, hashed nor compressed again
    # for every reader.
    return kept_json("map", markers)
