"""A need as the posting kit sees it: its own fields, rules, order and words."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from aidmatch.needs.models import URGENCY_RANK, Need, NeedStatus, Urgency
from aidmatch.orgs.models import OrgKind
from aidmatch.postings.kind import Kind
from aidmatch.postings.serialize import need_to_dict
from aidmatch.postings.validate import NOTE_MAX, FieldErrors, clean_kept_or_future_date, clean_text
from aidmatch.web.labels import NEED_STATUS_LABELS

AUDITED = (
    "title", "description", "category_id", "quantity", "urgency", "needed_by", "place_id",
    "lat", "lon", "sensitive", "status",
)  # fmt: skip
EDITABLE = (
    "title", "description", "category", "quantity", "urgency", "needed_by", "place_id",
    "lat", "lon", "delivery_note", "sensitive",
)  # fmt: skip


def may_post(org) -> bool:
    """Frontline groups (verified or not) post needs."""
    return org is not None and org.kind == OrgKind.FRONTLINE_GROUP


def clean_own(errors: FieldErrors, data: dict, given, need: Need | None, today: date) -> dict:
    """A need's own fields: delivery note, urgency, needed-by date, sensitive."""
    out: dict = {}
    if given("delivery_note"):
        out["delivery_note"] = clean_text(errors, data, "delivery_note", NOTE_MAX, required=False)
    if given("urgency"):
        try:
            out["urgency"] = Urgency(data.get("urgency") or "normal")
        except ValueError:
            errors.add("urgency", _("Choose critical, high, normal or low."))
    if given("needed_by"):
        current = need.needed_by if need is not None else None
        out["needed_by"] = clean_kept_or_future_date(errors, data, "needed_by", current, today)
    if given("sensitive"):
        out["sensitive"] = bool(data.get("sensitive"))
    return out


def narrow(stmt, filters):
    """The needs list's own filter: urgency."""
    if filters.urgency in {u.value for u in Urgency}:
        stmt = stmt.where(Need.urgency == filters.urgency)
    return stmt


def order(stmt, filters):
    """Most urgent first (then the nearest needed-by date), or newest first."""
    if filters.sort == "newest":
        return stmt.order_by(Need.created_at.desc(), Need.id.desc())
    return stmt.order_by(Need.urgency_rank, Need.needed_by_or_last(), Need.id)


NEED = Kind(
    name="need",
    model=Need,
    held="pledged",
    audited=AUDITED,
    editable=EDITABLE,
    end_status=NeedStatus.CANCELLED,
    end_verb="cancel",
    end_from=(NeedStatus.OPEN,),
    clean_own=clean_own,
    may_post=may_post,
    to_dict=need_to_dict,
    status_labels=NEED_STATUS_LABELS,
    derive=lambda v: {"urgency_rank": URGENCY_RANK[v["urgency"]]} if "urgency" in v else {},
    narrow=narrow,
    order=order,
    sensitive=True,
    sheet_columns=("urgency", "needed_by", "sensitive", "delivery_note"),
    counter_columns=("pledged", "proposed", "delivered", "open"),
    hxl_columns=(("urgency", "#severity"), ("needed_by", "#date+end")),
    words={
        "may_not_post": lambda: _("Only frontline groups post needs."),
        "key_reused": lambda: _("This Idempotency-Key was already used for a different need."),
        "not_editable": lambda s: _("Only an open need can be edited; this one is %(s)s.", s=s),
        "not_endable": lambda s: _("Only an open need can be cancelled; this one is %(s)s.", s=s),
        "edit_refused": lambda: _("Only an open need can be edited."),
        "ended": lambda: _("The need is cancelled."),
        "posted": lambda: _("Your need is posted."),
        "posted_unseen": lambda: _(
            "Your need is saved. Donors will see it once a coordinator verifies your group."
        ),
        "again": lambda: _("This form was already sent: your need was posted once, here it is."),
        "changed": lambda: _(
            "This form was already sent and posted this need; changes made after "
            "sending it were not saved. Edit the need to make them."
        ),
    },
)
