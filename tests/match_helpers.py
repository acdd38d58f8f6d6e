"""Shared by the match tests: the invariant checker and a small cast of groups, donors, a need
and an offer."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, func, select

from aidmatch.auth.models import Language
from aidmatch.extensions import db
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.needs.models import Need
from aidmatch.offers.models import Offer
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_offer

HOLDING = (MatchStatus.PENDING, MatchStatus.CONFIRMED, MatchStatus.SHIPPED)


def invariant_violations() -> list[str]:
    """Recompute every need's and offer's holds from its matches and compare them with the
    stored counters and quantities (DESIGN.md): an empty list when the invariant holds.

    A match holds its quantity while pending, confirmed or shipped; once delivered it holds
    the quantity received against the need and its whole quantity against the offer.
    """
    need_held = func.coalesce(
        func.sum(
            case(
                (Match.status.in_(HOLDING), Match.quantity),
                (Match.status == MatchStatus.DELIVERED, Match.quantity_received),
                else_=0,
            )
        ),
        0,
    )
    received = func.coalesce(
        func.sum(case((Match.status == MatchStatus.DELIVERED, Match.quantity_received), else_=0)),
        0,
    )
    problems = []
    rows = db.session.execute(
        select(Need.id, Need.quantity, Need.pledged, Need.delivered, need_held, received)
        .outerjoin(Match, Match.need_id == Need.id)
        .group_by(Need.id, Need.quantity, Need.pledged, Need.delivered)
    ).all()
    for need_id, quantity, pledged, delivered, held, got in rows:
        if held > quantity:
            problems.append(f"need {need_id}: matches hold {held} > quantity {quantity}")
        if held != pledged:
            problems.append(f"need {need_id}: matches hold {held} but pledged = {pledged}")
        if got != delivered:
            problems.append(f"need {need_id}: received {got} but delivered = {delivered}")
    offer_held = func.coalesce(
        func.sum(
            case(
                (and_(Match.status.in_((*HOLDING, MatchStatus.DELIVERED))), Match.quantity),
                else_=0,
            )
        ),
        0,
    )
    rows = db.session.execute(
        select(Offer.id, Offer.quantity, Offer.allocated, offer_held)
        .outerjoin(Match, Match.offer_id == Offer.id)
        .group_by(Offer.id, Offer.quantity, Offer.allocated)
    ).all()
    for offer_id, quantity, allocated, held in rows:
        if held > quantity:
            problems.append(f"offer {offer_id}: matches hold {held} > quantity {quantity}")
        if held != allocated:
            problems.append(f"offer {offer_id}: matches hold {held} but allocated = {allocated}")
    return problems


def over_allocation() -> int:
    """How many units the matches of all needs hold beyond their quantities."""
    held = (
        select(Match.need_id, func.sum(Match.quantity).label("held"))
        .where(Match.status.in_(HOLDING))
        .group_by(Match.need_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Need.quantity, held.c.held).join(held, held.c.need_id == Need.id)
    ).all()
    return sum(max(0, h - q) for q, h in rows)


def assert_invariant() -> None:
    """Fail with every violation of the match invariant, if there is any."""
    problems = invariant_violations()
    assert not problems, "\n".join(problems)


@dataclass
class Cast:
    """A verified frontline group with a need, a donor collective with an offer, a coordinator."""

    group: object
    organizer: object
    need: Need
    donor_org: object
    donor: object
    offer: Offer
    coordinator: object


def make_cast(need_quantity: int = 40, offer_quantity: int = 100, **need_fields) -> Cast:
    """Everyone a match needs, flushed (not committed); the people read English."""
    group = make_org(kind=OrgKind.FRONTLINE_GROUP)
    organizer = make_user(Role.ORGANIZER, org=group, language=Language.EN)
    need = make_need(group, organizer, quantity=need_quantity, **need_fields)
    donor_org = make_org(kind=OrgKind.DONOR_COLLECTIVE)
    donor = make_user(Role.DONOR, org=donor_org, language=Language.EN)
    offer = make_offer(donor_org, donor, quantity=offer_quantity)
    coordinator = make_user(Role.COORDINATOR, language=Language.EN)
    return Cast(group, organizer, need, donor_org, donor, offer, coordinator)
