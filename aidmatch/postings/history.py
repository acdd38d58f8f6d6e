"""The history of a need or offer (its audit trail) and its matches, as one viewer may see
them."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from aidmatch.audit.models import AuditEvent
from aidmatch.auth.models import User
from aidmatch.categories.menu import category_menu
from aidmatch.extensions import db
from aidmatch.permissions import STAFF_ROLES, can_see_org_members
from aidmatch.places.labels import place_label
from aidmatch.places.models import Place
from aidmatch.web.i18n import local_date, local_number
from aidmatch.web.labels import label_of, language, urgency_label

ACTION_LABELS = {
    "create": _l("posted"),
    "update": _l("edited"),
    "cancel": _l("cancelled"),
    "withdraw": _l("withdrawn"),
    "expire": _l("expired"),
    "cost": _l("priced"),  # money/operations.set_cost
    "repeat": _l("made to repeat"),  # recurring/operations
    "repeat_change": _l("repetition changed"),
    "repeat_pause": _l("repetition paused"),
    "repeat_resume": _l("repetition resumed"),
    "repeat_stop": _l("repetition stopped"),
}
FIELD_LABELS = {
    "title": _l("Title"),
    "description": _l("Description"),
    "category_id": _l("Category"),
    "quantity": _l("Quantity"),
    "urgency": _l("Urgency"),
    "needed_by": _l("Needed by"),
    "place_id": _l("Place"),
    "lat": _l("Latitude"),
    "lon": _l("Longitude"),
    "sensitive": _l("Sensitive"),
    "status": _l("Status"),
    "delivery_radius_km": _l("Delivery radius (km)"),
    "available_until": _l("Available until"),
    "reason": _l("Reason"),
    "matches_cancelled": _l("Matches cancelled"),
    "amount_minor": _l("Cost"),
    "currency": _l("Currency"),
    "every": _l("Every"),
    "starts_on": _l("Starts on"),
    "ends_on": _l("Ends on"),
    "carry_over": _l("What is left carries over"),
    "paused_at": _l("Paused"),
    "stopped_at": _l("Stopped"),
}
PERIODS = {"week": _l("week"), "month": _l("month")}
EXACT_ONLY = frozenset({"lat", "lon"})


def actor_name(actor: User | None, viewer, owner_org) -> str:
    """Who made a change, as this viewer may know it: names of a group's members only to the
    group itself and to staff (as on the organization's page); others see the group's name."""
    if actor is None:
        return _("aidmatch (automatic)")
    if actor.id == viewer.id or can_see_org_members(viewer, owner_org):
        return actor.display_name
    if actor.organization_id == owner_org.id:
        return _("a member of %(org)s", org=owner_org.name)
    if actor.role in STAFF_ROLES:
        return _("a coordinator")
    return actor.display_name


def history_of(obj, viewer, exact: bool, status_labels: dict) -> list[dict]:
    """The audit trail of a need or offer, oldest first, as this viewer may see it (exact
    coordinates only for those who may see the exact point)."""
    rows = db.session.execute(
        select(AuditEvent, User)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.object_type == obj.__tablename__, AuditEvent.object_id == obj.id)
        .order_by(AuditEvent.id)
    ).all()
    place_ids = {
        side.get("place_id")
        for event, _actor in rows
        if event.action.endswith(".update")
        for side in (event.before or {}, event.after or {})
    } - {None}
    places = {}
    if place_ids:
        found = db.session.scalars(select(Place).where(Place.id.in_(place_ids)))
        places = {p.id: place_label(p) for p in found}
    changed_categories = any(
        "category_id" in (event.after or {}) for event, _actor in rows if event.before
    )
    categories = category_menu(language()).names_by_id if changed_categories else {}

    def shown(key: str, value) -> str:
        if value is None:
            return _("anywhere") if key == "delivery_radius_km" else "—"
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        if key == "place_id":
            return places.get(value, str(value))
        if key == "category_id":
            return categories.get(value, str(value))
        if key == "status":
            return label_of(status_labels, value)
        if key == "urgency":
            return urgency_label(value)
        if key in ("quantity", "delivery_radius_km") and isinstance(value, int):
            return local_number(value)
        if key == "amount_minor" and isinstance(value, int):  # whole minor units: cents
            return format_decimal(value / 100, format="#,##0.00")
        if key == "every":
            return str(PERIODS.get(value, value))
        if key in ("paused_at", "stopped_at") and isinstance(value, str):
            try:
                return local_date(datetime.fromisoformat(value).date())
            except ValueError:
                return value
        if key in ("needed_by", "available_until", "starts_on", "ends_on") and isinstance(
            value, str
        ):
            try:
                return local_date(date.fromisoformat(value))
            except ValueError:
                return value
        return str(value)

    history = []
    for event, actor in rows:
        before, after = event.before or {}, event.after or {}
        changes = []
        if not event.action.endswith(".create"):
            for key in after:
                if key in EXACT_ONLY and not exact:
                    continue
                old = shown(key, before[key]) if key in before else ""
                changes.append((str(FIELD_LABELS.get(key, key)), old, shown(key, after[key])))
        verb = event.action.rpartition(".")[2]
        history.append(
            {
                "time": event.created_at,
                "action": str(ACTION_LABELS.get(verb, event.action)),
                "who": actor_name(actor, viewer, obj.organization),
                "changes": changes,
            }
        )
    return history
