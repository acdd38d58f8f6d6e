"""GET /api/v1/transparency/summary: the public aggregates of the transparency page (no token)."""

from __future__ import annotations

import marshmallow as ma

from aidmatch.extensions import db
from aidmatch.transparency.queries import publication_parts, published, summary
from aidmatch.web.api import make_blueprint
from aidmatch.web.kept import MAX_SECONDS, kept_json
from aidmatch.web.labels import language

blp = make_blueprint(
    "api_transparency",
    __name__,
    tag="Transparency",
    url_prefix="/transparency",
    description="Public aggregates of what was delivered (no token needed)",
)


class Totals(ma.Schema):
    deliveries = ma.fields.Integer()
    needs_served = ma.fields.Integer()
    groups_served = ma.fields.Integer()
    quantity_by_unit = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())


class ByCategory(ma.Schema):
    category = ma.fields.String(metadata={"description": "slug of the need's category"})
    name = ma.fields.String(metadata={"description": "in the request's language"})
    parent = ma.fields.String(allow_none=True, metadata={"description": "top-level slug"})
    parent_name = ma.fields.String()
    unit = ma.fields.String()
    deliveries = ma.fields.Integer()
    quantity = ma.fields.Integer(metadata={"description": "received, in the unit"})


class ByOblast(ma.Schema):
    oblast = ma.fields.String(allow_none=True)
    name = ma.fields.String()
    deliveries = ma.fields.Integer()
    quantity_by_unit = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    groups_served = ma.fields.Integer()


class ByMonth(ma.Schema):
    month = ma.fields.String(
        metadata={"description": "YYYY-MM of the deliveries' week (its Monday, UTC)"}
    )
    deliveries = ma.fields.Integer()
    quantity_by_unit = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())


class SummaryOut(ma.Schema):
    totals = ma.fields.Nested(Totals)
    by_category = ma.fields.List(ma.fields.Nested(ByCategory))
    by_oblast = ma.fields.List(ma.fields.Nested(ByOblast))
    by_month = ma.fields.List(ma.fields.Nested(ByMonth))
    groups_served = ma.fields.Integer()
    median_days_to_delivery = ma.fields.Float(
        allow_none=True, metadata={"description": "from a need being posted to a delivery"}
    )


SUMMARY = SummaryOut()  # made once: a schema copies its fields when it is made


@blp.get("/summary")
@blp.doc(security=[])
@blp.response(200, SummaryOut)
def get_summary():
    """What was delivered, by category, oblast and month; groups served; median days."""
    lang = language()
    answer = kept_json(
        "transparency:summary",
        lambda: (SUMMARY.dump(published(lang, "summary", lambda: summary(lang))), MAX_SECONDS),
        parts=publication_parts(lang),
    )
    db.session.rollback()
    return answer
