"""marshmallow schemas shared by the needs and offers APIs (input types and output shape)."""

from __future__ import annotations

import marshmallow as ma

from aidmatch.db import MAX_ID
from aidmatch.web.api import PageArgs
from aidmatch.web.text import SEARCH_MAX, search_terms, text_problem

SORTS = ("default", "newest", "closest")
FILTER_MAX = 100  # a category slug or an oblast's name


class Text(ma.fields.String):
    """A string the database can store: no NUL character, no lone surrogate (422 naming the
    field otherwise). The API's parser checks every other string the same way."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = text_problem(text)
        if problem:
            raise ma.ValidationError(problem)
        return text


class SearchText(ma.fields.String):
    """Search words: NUL characters and lone surrogates are dropped, not refused."""

    drops_bad_characters = True  # the API's parser leaves such characters to this field

    def _deserialize(self, value, attr, data, **kwargs):
        return search_terms(super()._deserialize(value, attr, data, **kwargs)) or ""


class Id(ma.fields.Integer):
    """A row's id: a whole number from 1 to MAX_ID, the database's integer range."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", ma.validate.Range(min=1, max=MAX_ID))
        super().__init__(**kwargs)


def status_filter(statuses: list[str]) -> ma.fields.String:
    """?status=: one of a kind's statuses, or "all" (default "open")."""
    return ma.fields.String(
        load_default="open",
        validate=ma.validate.OneOf([*statuses, "all"]),
        metadata={"description": "a status, or 'all' for every status"},
    )


class PlaceRef(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    oblast = ma.fields.String(allow_none=True)


class Location(ma.Schema):
    lat = ma.fields.Float()
    lon = ma.fields.Float()
    precision_km = ma.fields.Float(
        metadata={
            "description": "0 = the stored point (see kind); else the side of the grid cell "
            "whose centre you get"
        }
    )
    kind = ma.fields.String(
        validate=ma.validate.OneOf(("exact", "settlement_centre", "area")),
        metadata={
            "description": "what the point is: `exact`, a point the organization set; "
            "`settlement_centre`, the organization gave only its settlement, so the point is "
            "that settlement's centre (said to every reader, whether it gets the point itself "
            "or its grid cell); `area`, a point the organization set that you may not see, "
            "given as its grid cell"
        },
    )


class OrgRef(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    verified = ma.fields.Boolean()
    vouched = ma.fields.Boolean(
        metadata={"description": "waiting for verification, vouched for by verified groups"}
    )


class PostingIn(ma.Schema):
    """Fields needs and offers share; rules (lengths, ranges, dates) are checked by operations."""

    title = Text(required=True)
    description = Text(load_default="")
    category = Text(required=True, metadata={"description": "category slug"})
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
    """What lists of needs and offers are filtered by; each kind's API narrows ``status`` to
    its own statuses (status_filter), and the list query refuses any other (422)."""

    status = Text(
        load_default="open",
        validate=ma.validate.Length(max=FILTER_MAX),
        metadata={"description": "a status, or 'all' for every status"},
    )
    category = Text(
        validate=ma.validate.Length(max=FILTER_MAX),
        metadata={"description": "slug; a parent includes its children"},
    )
    oblast = Text(validate=ma.validate.Length(max=FILTER_MAX))
    organization = Id()
    near = Id(metadata={"description": "place id to measure distances from"})
    within_km = ma.fields.Integer(validate=ma.validate.Range(min=1, max=2000))
    q = SearchText(
        validate=ma.validate.Length(max=SEARCH_MAX),
        metadata={"description": "words in the title or description (NUL characters dropped)"},
    )
    sort = ma.fields.String(load_default="default", validate=ma.validate.OneOf(SORTS))


class ReasonIn(ma.Schema):
    reason = Text(load_default="", validate=ma.validate.Length(max=2000))
