"""/api/v1/places?q=: the gazetteer search (public data)."""

from __future__ import annotations

import marshmallow as ma

from aidmatch.places.search import MAX_QUERY_LENGTH, search
from aidmatch.web.api import make_blueprint

blp = make_blueprint(
    "api_places", __name__, tag="Places", url_prefix="/places", description="Places"
)


class PlaceArgs(ma.Schema):
    q = ma.fields.String(required=True, validate=ma.validate.Length(max=MAX_QUERY_LENGTH))
    limit = ma.fields.Integer(load_default=10, validate=ma.validate.Range(min=1, max=50))
    country = ma.fields.String(validate=ma.validate.Length(equal=2))


class PlaceOut(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    name_uk = ma.fields.String(allow_none=True)
    oblast = ma.fields.String(allow_none=True)
    lat = ma.fields.Float()
    lon = ma.fields.Float()
    population = ma.fields.Integer()
    # The KATOTTG code (GN<GeoNames id> outside Ukraine) and the OCHA P-codes derived from
    # it (places/pcodes.py; null outside Ukraine).
    code = ma.fields.String()
    adm1_pcode = ma.fields.String(allow_none=True)
    adm2_pcode = ma.fields.String(allow_none=True)
    adm3_pcode = ma.fields.String(allow_none=True)


class PlaceList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PlaceOut))


@blp.route("", methods=["GET"])
@blp.arguments(PlaceArgs, location="query")
@blp.response(200, PlaceList)
def list_(args):
    """Settlements whose name begins with q (Cyrillic or Latin, one typo allowed)."""
    return {"items": search(args["q"], limit=args["limit"], country=args.get("country"))}
