"""Verbs on needs: post, edit, cancel, expire. They flush and audit; the caller commits."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from aidmatch.db import utcnow
from aidmatch.errors import ApiError
from aidmatch.extensions import db
from aidmatch.needs.models import URGENCY_RANK, Need, NeedStatus, Urgency
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import is_member
from aidmatch.posting import (
    NOTE_MAX,
    FieldErrors,
    Posted,
    audit_changes,
    clean_common,
    clean_idempotency_key,
    clean_kept_or_future_date,
    clean_text,
    end_posting,
    expire_stale,
    insert_posting,
    place_point,
    post_once,
    refresh_search_text,
    set_quantity,
    snapshot,
)

AUDITED = (
    "title",
    "description",
    "category_id",
    "quantity",
    "urgency",
    "needed_by",
    "place_id",
    "lat",
    "lon",
    "sensitive",
    "status",
)
EDITABLE = (
    "title",
    "description",
    "category",
    "quantity",
    "urgency",
    "needed_by",
    "place_id",
    "lat",
    "lon",
    "delivery_note",
    "sensitive",
)


def can_post_need(user) -> bool:
    """Organizers of a frontline group (verified or not) post needs."""
    org = user.organization if user and user.is_authenticated else None
    return org is not None and org.kind == OrgKind.FRONTLINE_GROUP


def can_edit_need(user, need: Need) -> bool:
    """Members of the owning organization edit and cancel its needs."""
    return is_member(user, need.organization)


def _clean(data: dict, today: date, partial: bool, need: Need | None = None) -> dict:
    """Validate posted fields (all of them, or only those given when partial)."""
    errors = FieldErrors()
    out: dict = {}

    def given(field: str) -> bool:
        return not partial or field in data

    out.update(clean_common(errors, data, given))
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
    errors.raise_if_any()
    return out


def post_need(org, data: dict, actor, today: date | None = None, idempotency_key=None) -> Posted:
    """Post a need for a frontline group; 422 with per-field messages on bad input.

    With an Idempotency-Key (a form's one-time token, or the API's header), a repeat returns
    the need the first request posted (created False), also when both arrive at once; the same
    key with other content is refused (409, KeyReused naming the first need).
    """
    if org is None or org.kind != OrgKind.FRONTLINE_GROUP:
        raise ApiError(403, _("Only frontline groups post needs."))
    key = clean_idempotency_key(idempotency_key)
    today = today or utcnow().date()
    values = _clean(data, today, partial=False)
    place, lat, lon = values.pop("location")
    category = values.pop("category")

    sent = {**values, "category_id": category.id, "place_id": place.id, "lat": lat, "lon": lon}

    def make(digest: str | None) -> Need:
        need = Need(
            organization=org,
            created_by_id=getattr(actor, "id", None),
            category=category,
            urgency_rank=URGENCY_RANK[values["urgency"]],
            status=NeedStatus.OPEN,
            idempotency_key=key,
            idempotency_digest=digest,
            **values,
        )
        insert_posting(need, place, lat, lon, actor, "need.create", AUDITED)
        return need

    refusal = _("This Idempotency-Key was already used for a different need.")
    return post_once(Need, org, key, make, sent, refusal)


def create_need(org, data: dict, actor, today: date | None = None, idempotency_key=None) -> Need:
    """Post a need (see post_need); return it."""
    return post_need(org, data, actor, today, idempotency_key).obj


def update_need(need: Need, data: dict, actor, today: date | None = None) -> Need:
    """Edit an open need; the quantity may not drop below what is already pledged."""
    if need.status != NeedStatus.OPEN:
        raise ApiError(409, _("Only an open need can be edited; this one is %(s)s.", s=need.status))
    today = today or utcnow().date()
    values = _clean({k: v for k, v in data.items() if k in EDITABLE}, today, True, need)
    before = snapshot(need, AUDITED)
    if "quantity" in values:
        set_quantity(need, values.pop("quantity"), "pledged")
    if "location" in values:
        place_point(need, *values.pop("location"))
    if "category" in values:
        need.category = values.pop("category")
    if "urgency" in values:
        need.urgency_rank = URGENCY_RANK[values["urgency"]]
    for field, value in values.items():
        setattr(need, field, value)
    refresh_search_text(need)
    db.session.flush()
    audit_changes(actor, "need.update", need, before, AUDITED)
    return need


def cancel_need(need: Need, actor, reason: str = "") -> Need:
    """Cancel an open need and the matches not yet shipped (shipped goods still arrive)."""

    def refusal(status):
        return _("Only an open need can be cancelled; this one is %(s)s.", s=status)

    end_posting(
        need, actor, NeedStatus.CANCELLED, (NeedStatus.OPEN,), "need.cancel", reason, refusal
    )
    return need


def expire_needs(today: date | None = None, ids: list[int] | None = None) -> int:
    """Expire open needs past their needed-by date (all, or among ids); audit each."""
    return expire_stale(Need, Need.needed_by, "need.expire", today or utcnow().date(), ids)
