"""The verbs of a shipment's route (DESIGN: Leg): who holds the goods, handing them over to
the next organization (a hub, or at last the group), and confirming a leg by its receiver.

- The holder is the donor until a leg is confirmed, then that leg's receiver. Only its members
  hand the goods over, one leg at a time, on a shipped match; a leg carries at most what
  arrived on the one before (the match's quantity for the first).
- Only a member of the leg's receiver confirms it, once, with the quantity that arrived (at
  most what was sent). What was lost is that leg's shortfall. The leg into the group is the
  match's confirmation of delivery (matches/transitions.confirm_delivery, the lifecycle
  table's move): the shortfall of the whole route is released from the need there, as for
  any delivery of less, so the counters keep DESIGN's invariant.
- A hand-over tells the receiver's members (``leg_handed_over``); each confirmed leg tells the
  members of its two organizations (``leg_confirmed``); a leg not confirmed within
  LEG_CONFIRM_HOURS tells the coordinators once (overdue.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from aidmatch.audit.operations import record
from aidmatch.db import is_id, utcnow
from aidmatch.extensions import db
from aidmatch.legs.models import CARRIER_MAX, TRACKING_MAX, Leg, LegStatus
from aidmatch.matches import transitions
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.matches.rules import clean_quantity, clean_text
from aidmatch.notify.outbox import tell_all
from aidmatch.notify.recipients import each_told, members_of, posting_params
from aidmatch.orgs.lifecycle import WITHDRAWN
from aidmatch.orgs.models import Organization, OrgKind
from aidmatch.permissions import is_member
from aidmatch.refusals import Conflict, Invalid, NotAllowed, NotFound
from aidmatch.web.i18n import local_datetime, local_number

NOT_HOLDER = _l("Only the organization that holds the goods now may hand them over.")
NOT_RECEIVER = _l("Only the organization that receives this leg may confirm it.")


def legs_of(match: Match) -> list[Leg]:
    """The match's legs along the route, first first."""
    return list(
        db.session.scalars(select(Leg).where(Leg.match_id == match.id).order_by(Leg.position))
    )


def open_leg(legs: list[Leg]) -> Leg | None:
    """The leg on the way (handed over, not confirmed yet), if any."""
    return next((leg for leg in legs if leg.status == LegStatus.ON_THE_WAY), None)


def holder_id(match: Match, legs: list[Leg]) -> int:
    """The organization that holds the goods (or last held them, while a leg is on the way):
    the last confirmed leg's receiver, else the donor."""
    received = [leg for leg in legs if leg.status == LegStatus.RECEIVED]
    return received[-1].to_org_id if received else match.organization_id


def holder(match: Match, legs: list[Leg]) -> Organization:
    """The organization holder_id names."""
    received = [leg for leg in legs if leg.status == LegStatus.RECEIVED]
    return received[-1].to_org if received else match.organization


def quantity_at_holder(match: Match, legs: list[Leg]) -> int:
    """What the holder has to send on: what arrived on the last confirmed leg, else all."""
    received = [leg for leg in legs if leg.status == LegStatus.RECEIVED]
    return received[-1].quantity_received if received else match.quantity


def confirm_hours() -> timedelta:
    """How long a leg's receiver has to confirm it before coordinators are told."""
    return timedelta(hours=current_app.config.get("LEG_CONFIRM_HOURS", 72))


def is_late(leg: Leg, now: datetime | None = None) -> bool:
    """A leg on the way longer than LEG_CONFIRM_HOURS since it was handed over."""
    now = now or utcnow()
    return leg.status == LegStatus.ON_THE_WAY and leg.handed_over_at + confirm_hours() <= now


def may_hand_over(user, match: Match, legs: list[Leg]) -> bool:
    """The user belongs to the holder, the match is shipped and no leg is on the way."""
    if match.status != MatchStatus.SHIPPED or open_leg(legs) is not None:
        return False
    return user.is_authenticated and user.organization_id == holder_id(match, legs)


def may_confirm(user, leg: Leg) -> bool:
    """A member of the leg's receiver, while the leg is on the way."""
    return leg.status == LegStatus.ON_THE_WAY and is_member(user, leg.to_org)


def receivers(match: Match) -> list[Organization]:
    """Where the goods may go next: the verified hubs, and the group whose need it is."""
    hubs = db.session.scalars(
        select(Organization)
        .where(
            Organization.kind == OrgKind.HUB,
            Organization.verified_at.is_not(None),
            Organization.state.not_in(sorted(WITHDRAWN)),
        )
        .order_by(Organization.name)
    )
    return [match.need.organization, *hubs]


def _receiver(match: Match, to_org_id, holder: int) -> Organization:
    if isinstance(to_org_id, str) and to_org_id.strip().isdigit():
        to_org_id = int(to_org_id)  # from a form
    org = db.session.get(Organization, to_org_id) if is_id(to_org_id) else None
    if org is None:
        raise Invalid(_("Choose where the goods go."), "to_org_id")
    is_group = org.id == match.need.organization_id
    if not is_group and not (org.kind == OrgKind.HUB and org.verified):
        raise Invalid(_("Goods go to a verified hub or to the group itself."), "to_org_id")
    if org.id == holder:
        raise Invalid(_("You hold the goods already: choose the next organization."), "to_org_id")
    return org


def hand_over(
    match: Match,
    actor,
    to_org_id,
    quantity_sent,
    carrier: str = "",
    tracking: str = "",
    handed_over_at: datetime | None = None,
) -> Leg:
    """The holder hands the goods over to the next organization: a new leg on the way."""
    legs = legs_of(match)
    holder = holder_id(match, legs)
    if not (actor.is_authenticated and actor.organization_id == holder):
        raise NotAllowed(NOT_HOLDER, code="forbidden")
    if match.status != MatchStatus.SHIPPED:
        raise Conflict(_("Goods are handed over on a shipped match only."), code="conflict")
    if open_leg(legs) is not None:
        raise Conflict(
            _("A leg is on the way: its receiver confirms it before the next one starts."),
            code="conflict",
        )
    to_org = _receiver(match, to_org_id, holder)
    sent = clean_quantity(quantity_sent, "quantity_sent")
    at_hand = quantity_at_holder(match, legs)
    if sent > at_hand:
        raise Invalid(
            _("At most %(n)s arrived here to be sent on.", n=local_number(at_hand)),
            "quantity_sent",
        )
    carrier = clean_text(carrier, "carrier", required=False, max_len=CARRIER_MAX)
    tracking = clean_text(tracking, "tracking", required=False, max_len=TRACKING_MAX)
    now = utcnow()
    check_handed_over_at(match, legs, handed_over_at, now)
    leg = Leg(
        match_id=match.id,
        position=len(legs) + 1,
        from_org_id=holder,
        to_org_id=to_org.id,
        carrier=carrier,
        tracking=tracking,
        handed_over_at=handed_over_at or now,
        handed_over_by_id=actor.id,
        quantity_sent=sent,
        status=LegStatus.ON_THE_WAY,
    )
    db.session.add(leg)
    db.session.flush()
    record(actor, "leg.hand_over", leg, after=_audit(leg))
    tell_all(tell_receiver(leg, actor))
    return leg


def check_handed_over_at(match: Match, legs: list[Leg], when: datetime | None, now) -> None:
    """When a hand-over happened (None: now): not in the future, not before the match was
    shipped, nor before the goods arrived at their holder (the last confirmed leg); to the
    minute, as a form gives it."""
    if when is None:
        return
    if when > now:
        raise Invalid(_("The hand-over cannot be in the future."), "handed_over_at")
    shipped = match.shipped_at
    if shipped is not None and when < shipped.replace(second=0, microsecond=0):
        raise Invalid(
            _(
                "The hand-over cannot be before the match was shipped (%(when)s).",
                when=local_datetime(shipped, zone=True),
            ),
            "handed_over_at",
        )
    received = [leg.confirmed_at for leg in legs if leg.status == LegStatus.RECEIVED]
    if received and when < received[-1].replace(second=0, microsecond=0):
        raise Invalid(
            _(
                "The hand-over cannot be before the goods arrived here (%(when)s).",
                when=local_datetime(received[-1], zone=True),
            ),
            "handed_over_at",
        )


def confirm(leg: Leg, actor, quantity_received, note: str = "") -> Leg:
    """The receiver confirms what arrived on this leg; the leg into the group confirms the
    match's delivery too (matches/transitions.confirm_delivery)."""
    if not is_member(actor, leg.to_org):
        raise NotAllowed(NOT_RECEIVER, code="forbidden")
    if leg.status != LegStatus.ON_THE_WAY:
        raise Conflict(_("This leg was already confirmed."), code="conflict")
    received = clean_quantity(quantity_received, "quantity_received", minimum=0)
    if received > leg.quantity_sent:
        raise Invalid(
            _("At most %(n)s were sent on this leg.", n=local_number(leg.quantity_sent)),
            "quantity_received",
        )
    note = clean_text(note, "note", required=False)
    match = leg.match
    now = utcnow()
    # One confirmation only, even when two arrive at once: the UPDATE that finds the leg on
    # its way is the one that confirms it.
    done = db.session.execute(
        update(Leg)
        .where(Leg.id == leg.id, Leg.status == LegStatus.ON_THE_WAY)
        .values(
            status=LegStatus.RECEIVED,
            quantity_received=received,
            note=note,
            confirmed_at=now,
            confirmed_by_id=actor.id,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        raise Conflict(_("This leg was already confirmed."), code="conflict")
    db.session.refresh(leg)
    if leg.to_org_id == match.need.organization_id:
        transitions.confirm_delivery(match, actor, received, note)
    record(actor, "leg.confirm", leg, after=_audit(leg))
    tell_all(tell_sides(leg, actor))
    return leg


def between_hubs(match: Match) -> bool:
    """The goods travel through hubs and are not yet handed over to the group: no hand-off
    into it is on its way or received (a receipt link waits for that one)."""
    legs = legs_of(match)
    return bool(legs) and legs[-1].to_org_id != match.need.organization_id


def receive_by_receipt(match: Match, received: int, note: str = "") -> None:
    """A receipt link signed for goods routed through hubs: the hand-off into the group that
    is on its way is received with what the receipt says (the link stands for the group, as
    for a match without hubs: receipts/operations.sign), and the match is then delivered by
    the check below. Goods still between hubs, or no hubs: nothing here."""
    legs = legs_of(match)
    last = legs[-1] if legs else None
    if last is None or last.status != LegStatus.ON_THE_WAY:
        return
    if last.to_org_id != match.need.organization_id:
        return
    if received > last.quantity_sent:
        raise Invalid(
            _("At most %(n)s were sent on this leg.", n=local_number(last.quantity_sent)),
            "quantity_received",
        )
    done = db.session.execute(
        update(Leg)
        .where(Leg.id == last.id, Leg.status == LegStatus.ON_THE_WAY)
        .values(
            status=LegStatus.RECEIVED,
            quantity_received=received,
            note=note,
            confirmed_at=utcnow(),
            confirmed_by_id=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        raise Conflict(_("This leg was already confirmed."), code="conflict")
    db.session.refresh(last)
    record(None, "leg.confirm", last, after=_audit(last))
    tell_all(tell_sides(last, None))


@transitions.delivery_check
def _delivered_by_the_last_leg(match: Match, received: int) -> None:
    """A shipment through hubs is delivered by the hand-off into the group (confirm calls
    confirm_delivery once that leg is confirmed, with what arrived on it): the group's own
    confirmation of a match whose goods are still on the route is refused."""
    legs = legs_of(match)
    if not legs:
        return
    last = legs[-1]
    into_group = last.to_org_id == match.need.organization_id
    if not into_group or last.status != LegStatus.RECEIVED:
        raise Conflict(
            _(
                "These goods travel through hubs: confirm what arrived on the hand-off to "
                "your group, under the route of the goods."
            ),
            code="conflict",
        )


def tell_receiver(leg: Leg, actor) -> list:
    """The members of the leg's receiver hear that goods are on their way to them: the
    category, the quantity sent and the need's settlement or oblast."""
    need = leg.match.need
    return each_told(
        members_of([leg.to_org_id]).get(leg.to_org_id, []),
        "leg_handed_over",
        lambda user: posting_params(need, user, quantity=leg.quantity_sent),
        not_to=actor,
        match=leg.match,
        need=need,
    )


def tell_sides(leg: Leg, actor) -> list:
    """The members of the leg's two organizations hear that it was confirmed (never the one
    who confirmed): the category, the quantities and the need's settlement or oblast."""
    need = leg.match.need
    members = members_of([leg.from_org_id, leg.to_org_id])
    users = [*members.get(leg.from_org_id, []), *members.get(leg.to_org_id, [])]
    return each_told(
        users,
        "leg_confirmed",
        lambda user: posting_params(
            need, user, quantity=leg.quantity_sent, received=leg.quantity_received
        ),
        not_to=actor,
        match=leg.match,
        need=need,
    )


def get_leg(leg_id) -> Leg:
    """A leg by id, or NotFound (the caller then checks the match is visible)."""
    leg = db.session.get(Leg, leg_id) if is_id(leg_id) else None
    if leg is None:
        raise NotFound(_("Not found"))
    return leg


def _audit(leg: Leg) -> dict:
    return {
        "match_id": leg.match_id,
        "position": leg.position,
        "from_org_id": leg.from_org_id,
        "to_org_id": leg.to_org_id,
        "carrier": leg.carrier,
        "tracking": leg.tracking,
        "handed_over_at": leg.handed_over_at,
        "quantity_sent": leg.quantity_sent,
        "quantity_received": leg.quantity_received,
        "status": leg.status,
    }
