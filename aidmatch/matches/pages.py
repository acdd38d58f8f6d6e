"""What the matches pages show one viewer: its side of a match, the buttons it may press now,
the engine's explanation, the time left, the history. Plain dicts for the templates.

Privacy (DESIGN.md): before a match is confirmed, a donor must not learn the need's exact
point, so it gets neither the exact distance nor the score's closeness part (from which, with
the offer's radius, the distance could be worked back), nor the score itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from aidmatch.audit.models import AuditEvent
from aidmatch.auth.models import User
from aidmatch.extensions import db
from aidmatch.matches import lifecycle
from aidmatch.matches.models import REVEALED, Match, MatchStatus
from aidmatch.matches.rules import (
    STATUS_LABELS,
    confirmed_ttl,
    is_overdue,
    quantity_note_text,
    time_too_short,
)
from aidmatch.permissions import STAFF_ROLES, is_staff
from aidmatch.privacy import viewer_for
from aidmatch.web.i18n import local_datetime, local_number
from aidmatch.web.labels import category_fit_label, label_of, unit_label, urgency_label

SOURCE_LABELS = {
    "engine": _l("proposed by the matching engine"),
    "claim": _l("claimed by the donor"),
    "request": _l("requested by the group"),
}
PART_LABELS = {
    "urgency": _l("Urgency"),
    "deadline": _l("Time left until needed"),
    "closeness": _l("Closeness"),
    "waiting": _l("How long the need has waited"),
    "verified": _l("Group verified"),
    "category_fit": _l("Category fit"),
}
# The distance is shown on its own line (privacy.Viewer.match_distance), not among these facts.
FACT_LABELS = {
    "radius_km": _l("Delivery radius (km)"),
    "urgency": _l("Urgency"),
    "days_waiting": _l("Days waiting"),
    "days_left": _l("Days left until needed"),
    "verified": _l("Group verified"),
    "category_fit": _l("Category"),
}
EXACT_ONLY_PARTS = frozenset({"closeness"})
ACTION_LABELS = {
    "claim": _l("claimed"),
    "propose": _l("proposed by the matching engine"),
    "request": _l("requested by the group"),
    "accept": _l("accepted by the donor"),
    "approve": _l("approved by a coordinator"),
    "decline": _l("declined by the donor"),
    "reject": _l("rejected by a coordinator"),
    "withdraw": _l("withdrawn by the donor"),
    "ship": _l("shipped"),
    "confirm_delivery": _l("receipt confirmed"),
    "confirm_by_receipt": _l("receipt signed through the slip's link"),
    "link": _l("delivery slip made"),
    "dispute": _l("receipt disputed by the group"),
    "release": _l("released by a coordinator"),
    "extend": _l("more time asked for"),
    "cancel": _l("cancelled"),
    "expire": _l("expired"),
    "overdue": _l("flagged: not shipped in time"),
}
CHANGE_LABELS = {
    "status": _l("Status"),
    "quantity": _l("Quantity"),
    "quantity_received": _l("Quantity received"),
    "reason": _l("Reason"),
    "note": _l("Note"),
    "tracking": _l("Tracking"),
    "discrepancy": _l("Less than sent"),
    "expires_at": _l("Time limit"),
}


# What the packages above matches add to a match's page (its conversation): functions
# (match, viewer) -> template context, called in registration order.
_sections: list = []


def match_section(func):
    """Register a function (match, viewer) -> context that the match page adds."""
    _sections.append(func)
    return func


def match_sections(match: Match, viewer) -> dict:
    """What every registered section adds to this match's page."""
    context: dict = {}
    for section in _sections:
        context.update(section(match, viewer))
    return context


def status_label(status) -> str:
    """A match status in words."""
    return label_of(STATUS_LABELS, status)


def sides(viewer, match: Match) -> set[str]:
    """Which parts the viewer plays in this match: donor, group, reviewer (lifecycle.SIDES)."""
    return lifecycle.sides_of(viewer, match)


def allowed_actions(viewer, match: Match, now: datetime) -> list[str]:
    """The buttons this viewer may press on this match now (the lifecycle table decides)."""
    return lifecycle.available(viewer, match, now)


def time_left(match: Match, now: datetime) -> dict | None:
    """How long until a pending match expires or a confirmed one is overdue, in words."""
    status = match.status_at(now)
    if status not in (MatchStatus.PENDING, MatchStatus.CONFIRMED) or not match.expires_at:
        return None
    delta = match.expires_at - now
    words = format_timedelta(abs(delta), granularity="minute", threshold=1.5)
    return {
        "until": match.expires_at,
        "overdue": delta <= timedelta(0),
        "words": words,
        "soon": timedelta(0) < delta <= timedelta(hours=24),
    }


def time_short(match: Match, now: datetime) -> dict | None:
    """For coordinators: the need is due before the usual time to ship runs out (from now for
    a pending match, from its confirmation for a confirmed one, whose ship-by date was cut to
    the needed-by date: matches/rules.ship_by); None when there is time enough."""
    status = match.status_at(now)
    if status not in (MatchStatus.PENDING, MatchStatus.CONFIRMED):
        return None
    since = match.confirmed_at if status == MatchStatus.CONFIRMED and match.confirmed_at else now
    if not time_too_short(match.need, since):
        return None
    return {"needed_by": match.need.needed_by, "days": confirmed_ttl().days}


def person(user: User | None, viewer, match: Match) -> str:
    """Who did something, as this viewer may know it: names within one's own organization and
    for staff; a member of the other side's organization, or a coordinator, otherwise."""
    if user is None:
        return _("aidmatch (automatic)")
    if user.id == viewer.id or is_staff(viewer):
        return user.display_name
    if viewer.organization_id and user.organization_id == viewer.organization_id:
        return user.display_name
    if user.role in STAFF_ROLES:
        return _("a coordinator")
    for org in (match.organization, match.need.organization):
        if user.organization_id == org.id:
            return _("a member of %(org)s", org=org.name)
    return _("someone")


def explanation_view(match: Match, exact: bool) -> dict | None:
    """The engine's explanation (score parts and facts) as the viewer may see it: the score and
    its closeness part only if it may see both exact points (exact, privacy.Viewer)."""
    raw = match.explanation or {}
    if not raw and match.score is None and match.distance_km is None:
        return None
    parts = raw.get("parts") if isinstance(raw.get("parts"), dict) else raw
    facts = raw.get("facts") if isinstance(raw.get("facts"), dict) else raw
    part_rows = [
        (str(label), parts[key])
        for key, label in PART_LABELS.items()
        if isinstance(parts.get(key), int | float) and (exact or key not in EXACT_ONLY_PARTS)
    ]
    fact_rows = []
    for key, label in FACT_LABELS.items():
        if key not in facts:
            continue
        value = facts[key]
        if isinstance(value, bool):
            value = _("yes") if value else _("no")
        elif value is None:
            value = "—" if key != "radius_km" else _("anywhere")
        elif key == "urgency":
            value = urgency_label(value)
        elif key == "category_fit":
            value = category_fit_label(value)
        fact_rows.append((str(label), value))
    if not (part_rows or fact_rows or match.score is not None):
        return None
    return {
        "score": match.score if exact else None,
        "parts": part_rows,
        "facts": fact_rows,
        # a general offer for a specific need: said above the table, for whoever sees it
        "general": category_fit_label("general") if facts.get("category_fit") == "general" else "",
    }


def history(match: Match, viewer) -> list[dict]:
    """The match's audit trail, oldest first, for one of its parties or staff (none for a
    hub on its route: the notes typed in it are the sides')."""
    if not viewer_for(viewer).sees_match_notes(match):
        return []
    rows = db.session.execute(
        select(AuditEvent, User)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.object_type == Match.__tablename__, AuditEvent.object_id == match.id)
        .order_by(AuditEvent.id)
    ).all()
    events = []
    for event, actor in rows:
        before, after = event.before or {}, event.after or {}
        verb = event.action.rpartition(".")[2]
        changes = []
        for key, label in CHANGE_LABELS.items():
            if key not in after or (after[key] in (None, "") and key != "expires_at"):
                continue
            if key in before and before[key] == after[key]:
                continue
            changes.append((str(label), _shown(key, before.get(key)), _shown(key, after[key])))
        if verb in ("claim", "propose", "request"):
            changes = [c for c in changes if c[0] == str(CHANGE_LABELS["quantity"])]
        events.append(
            {
                "time": event.created_at,
                "action": str(ACTION_LABELS.get(verb, event.action)),
                "who": (
                    _("whoever received the goods, through the slip's link")
                    if verb == "confirm_by_receipt"
                    else person(actor, viewer, match)
                ),
                "changes": changes,
            }
        )
    return events


def _shown(key: str, value) -> str:
    if value is None or value == "":
        return "" if key != "expires_at" else "—"
    if key == "status":
        return status_label(value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key == "expires_at":
        try:
            return local_datetime(datetime.fromisoformat(value))
        except (TypeError, ValueError):
            return str(value)
    if key in ("quantity", "quantity_received") and isinstance(value, int):
        return local_number(value)
    return str(value)


def org_view(org, show_contact: bool) -> dict:
    """An organization on a match page: name, verified (or suspended, rejected: its pending
    matches stay, and whoever sees the match is shown it), and its contact when revealed."""
    return {
        "id": org.id,
        "name": org.name,
        "verified": org.verified,
        "state": org.state,
        "withdrawn": org.withdrawn,
        "contact": org.contact if show_contact else None,
    }


def match_view(match: Match, viewer, now: datetime) -> dict:
    """Everything the match page shows this viewer (need, offer, parties, consents, timing)."""
    from aidmatch.postings.serialize import need_to_dict, offer_to_dict

    policy = viewer_for(viewer)
    notes = policy.sees_match_notes(match)
    exact = policy.sees_exact(match.need)
    both = policy.sees_both_points(match, exact)
    need = need_to_dict(match.need, viewer, exact=exact)
    offer = offer_to_dict(match.offer, viewer) if match.offer is not None else None
    users = {
        u.id: u
        for u in db.session.scalars(
            select(User).where(
                User.id.in_(
                    [
                        i
                        for i in (match.donor_accepted_by_id, match.coordinator_approved_by_id)
                        if i is not None
                    ]
                )
            )
        )
    }
    return {
        "id": match.id,
        "status": str(match.status_at(now)),
        "status_label": status_label(match.status_at(now)),
        "source": str(match.source),
        "source_label": str(SOURCE_LABELS.get(str(match.source), match.source)),
        "quantity": match.quantity,
        "quantity_asked": match.quantity_asked,
        "quantity_note": quantity_note_text(match.quantity_note),
        "quantity_received": match.quantity_received,
        "unit": unit_label(match.need.category.unit),
        "need": need,
        "offer": offer,
        "donor": org_view(match.organization, policy.sees_contact(match, match.organization)),
        "group": org_view(
            match.need.organization, policy.sees_contact(match, match.need.organization)
        ),
        "revealed": match.status in REVEALED,
        "donor_accepted_at": match.donor_accepted_at,
        "donor_accepted_by": person(users.get(match.donor_accepted_by_id), viewer, match)
        if match.donor_accepted_by_id
        else None,
        "coordinator_approved_at": match.coordinator_approved_at,
        "coordinator_approved_by": person(
            users.get(match.coordinator_approved_by_id), viewer, match
        )
        if match.coordinator_approved_by_id
        else None,
        "confirmed_at": match.confirmed_at,
        "shipped_at": match.shipped_at,
        "shipped_note": match.shipped_note if notes else None,
        "tracking": match.tracking if notes else None,
        "delivered_at": match.delivered_at,
        "delivery_note": match.delivery_note if notes else None,
        "discrepancy": match.discrepancy,
        "reason": match.reason,
        "closed_at": match.closed_at,
        "created_at": match.created_at,
        "time_left": time_left(match, now),
        "time_short": time_short(match, now) if is_staff(viewer) else None,
        "extension_used": match.extension_used,
        "overdue": is_overdue(match, now),
        "distance_km": policy.match_distance(match, both),
        "distance_exact": both,
        "explanation": explanation_view(match, both),
    }
