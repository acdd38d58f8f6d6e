"""Verbs on needs: post, edit, cancel, expire (the posting kit's verbs with a need's fields
and words). They flush and audit; the caller commits."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from aidmatch.db import utcnow
from aidmatch.needs.models import URGENCY_RANK, Need, NeedStatus, Urgency
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import is_member
from aidmatch.postings import operations as kit
from aidmatch.postings.kind import Kind
from aidmatch.postings.operations import Posted
from aidmatch.postings.validate import NOTE_MAX, FieldErrors, clean_kept_or_future_date, clean_text

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


def can_post_need(user) -> bool:
    """Organizers of a frontline group (verified or not) post needs."""
    return may_post(user.organization if user and user.is_authenticated else None)


def can_edit_need(user, need: Need) -> bool:
    """Members of the owning organization edit and cancel its needs."""
    return is_member(user, need.organization)


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
    derive=lambda v: {"urgency_rank": URGENCY_RANK[v["urgency"]]} if "urgency" in v else {},
    may_post=may_post,
    sensitive=True,
    words={
        "may_not_post": lambda: _("Only frontline groups post needs."),
        "key_reused": lambda: _("This Idempotency-Key was already used for a different need."),
        "not_editable": lambda s: _("Only an open need can be edited; this one is %(s)s.", s=s),
        "not_endable": lambda s: _("Only an open need can be cancelled; this one is %(s)s.", s=s),
        "edit_refused": lambda: _("Only an open need can be edited."),
        "saved": lambda: _("Your changes are saved."),
        "ended": lambda: _("The need is cancelled."),
        "posted": lambda: _("Your need is posted."),
        "again": lambda: _("This form was already sent: your need was posted once, here it is."),
        "changed": lambda: _(
            "This form was already sent and posted this need; changes made after "
            "sending it were not saved. Edit the need to make them."
        ),
    },
)


def post_need(org, data: dict, actor, today: date | None = None, idempotency_key=None) -> Posted:
    """Post a need for a frontline group (see postings.operations.post)."""
    return kit.post(NEED, org, data, actor, today, idempotency_key)


def create_need(org, data: dict, actor, today: date | None = None, idempotency_key=None) -> Need:
    """Post a need (see post_need); return it."""
    return post_need(org, data, actor, today, idempotency_key).obj


def update_need(need: Need, data: dict, actor, today: date | None = None) -> Need:
    """Edit an open need; the quantity may not drop below what is already pledged."""
    return kit.edit(NEED, need, data, actor, today)


def cancel_need(need: Need, actor, reason: str = "") -> Need:
    """Cancel an open need and the matches not yet shipped (shipped goods still arrive)."""
    kit.end(NEED, need, actor, reason)
    return need


def expire_needs(today: date | None = None, ids: list[int] | None = None) -> int:
    """Store `expired` on open needs past their needed-by date (all, or among ids); audit each."""
    return kit.expire_stale(NEED, today or utcnow().date(), ids)
