"""marshmallow schemas shared by the needs and offers APIs (input types and output shape)."""

from __future__ import annotations

import marshmallow as ma

from aidmatch.web.api import PageArgs

SORTS = ("default", "newest", "closest")


class PlaceRef(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    oblast = ma.fields.String(allow_none=True)


class Location(ma.Schema):
    lat = ma.fields.Float()
    lon = ma.fields.Float()
    precision_km = ma.fields.Float(metadata={"description": "0 = exact; else a grid cell"})


class OrgRef(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    verified = ma.fields.Boolean()


class PostingIn(ma.Schema):
    """Fields needs and offers share; rules (lengths, ranges, dates) are checked by operations."""

    title = ma.fields.String(required=True)
    description = ma.fields.String(load_default="")
    category = ma.fields.String(required=True, metadata={"description": "category slug"})
    quantity = ma.fields.Integer(required=True, strict=True)
    place_id = ma.fields.Integer(allow_none=True)
    lat = ma.fields.Float(allow_none=True, allow_nan=False)
    lon = ma.fields.Float(allow_none=True, allow_nan=False)


class PostingOut(ma.Schema):
    id = ma.fields.Integer()
    title = ma.fields.String()
    description = ma.fields.String()
    category = ma.fields.String()
    unit = ma.fields.String()
    quantity = ma.fields.Integer()
    status = ma.fields.String()
    place = ma.fields.Nested(PlaceRef)
    location = ma.fields.Nested(Location)
    organization = ma.fields.Nested(OrgRef)
    distance_km = ma.fields.Float(metadata={"description": "only with ?near="})
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class ListArgs(PageArgs):
    category = ma.fields.String(metadata={"description": "slug; a parent includes its children"})
    oblast = ma.fields.String()
    status = ma.fields.String(
        load_default="open", metadata={"description": "a status, or 'all' for every status"}
    )
    organization = ma.fields.Integer()
    near = ma.fields.Integer(metadata={"description": "place id to measure distances from"})
    within_km = ma.fields.Integer(validate=ma.validate.Range(min=1, max=2000))
    q = ma.fields.String(validate=ma.validate.Length(max=200))
    sort = ma.fields.String(load_default="default", validate=ma.validate.OneOf(SORTS))


class ReasonIn(ma.Schema):
    reason = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))
