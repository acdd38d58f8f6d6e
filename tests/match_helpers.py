"""Shared by the match tests: the invariant checker and a small cast of groups, donors, a need
and an offer."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import and_, case, func, select

from aidmatch.auth.models import Language
from aidmatch.extensions import db
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.needs.models import Need
from aidmatch.offers.models import Offer
from aidmatch.orgs.models import OrgKind
from aidmatch.permissions import Role
from aidmatch.refusals import Refusal
from aidmatch.web.errors import refusal_status
from tests.factories import make_org, make_user
from tests.posting_factories import make_need, make_offer

HOLDING = (MatchStatus.PENDING, MatchStatus.CONFIRMED, MatchStatus.SHIPPED)
# A soft hold (matches/holds.py): pending, the donor has not accepted (a proposal, a request).
SOFT = and_(Match.status == MatchStatus.PENDING, Match.donor_accepted_at.is_(None))
# A hard hold: pending with the donor's acceptance, confirmed, shipped.
HARD = and_(Match.status.in_(HOLDING), ~SOFT)


def _sum(*whens) -> object:
    return func.coalesce(func.sum(case(*whens, else_=0)), 0)


def invariant_violations() -> list[str]:
    """Recompute every need's and offer's holds from its matches and compare them with the
    stored counters and quantities (DESIGN.md, matches/holds.py): an empty list when the
    invariant holds.

    A match holds its quantity while pending, confirmed or shipped: softly (in ``proposed``)
    while pending without the donor's acceptance, hard (in ``pledged`` and ``allocated``)
    otherwise; once delivered it holds the quantity received against the need (pledged) and
    its whole quantity against the offer (allocated). What is held hard never exceeds the
    quantity.
    """
    need_hard = _sum(
        (HARD, Match.quantity),
        (Match.status == MatchStatus.DELIVERED, Match.quantity_received),
    )
    soft = _sum((SOFT, Match.quantity))
    received = _sum((Match.status == MatchStatus.DELIVERED, Match.quantity_received))
    problems = []
    rows = db.session.execute(
        select(
            Need.id,
            Need.quantity,
            Need.pledged,
            Need.proposed,
            Need.delivered,
            need_hard,
            soft,
            received,
        )  # fmt: skip
        .outerjoin(Match, Match.need_id == Need.id)
        .group_by(Need.id, Need.quantity, Need.pledged, Need.proposed, Need.delivered)
    ).all()
    for need_id, quantity, pledged, proposed, delivered, held, softly, got in rows:
        if held > quantity:
            problems.append(f"need {need_id}: matches hold {held} > quantity {quantity}")
        if held != pledged:
            problems.append(f"need {need_id}: matches hold {held} but pledged = {pledged}")
        if softly != proposed:
            problems.append(f"need {need_id}: proposals hold {softly} but proposed = {proposed}")
        if got != delivered:
            problems.append(f"need {need_id}: received {got} but delivered = {delivered}")
    offer_hard = _sum(
        (and_(HARD), Match.quantity), (Match.status == MatchStatus.DELIVERED, Match.quantity)
    )
    rows = db.session.execute(
        select(Offer.id, Offer.quantity, Offer.allocated, Offer.proposed, offer_hard, soft)
        .outerjoin(Match, Match.offer_id == Offer.id)
        .group_by(Offer.id, Offer.quantity, Offer.allocated, Offer.proposed)
    ).all()
    for offer_id, quantity, allocated, proposed, held, softly in rows:
        if held > quantity:
            problems.append(f"offer {offer_id}: matches hold {held} > quantity {quantity}")
        if held != allocated:
            problems.append(f"offer {offer_id}: matches hold {held} but allocated = {allocated}")
        if softly != proposed:
            problems.append(f"offer {offer_id}: proposals hold {softly} but proposed = {proposed}")
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


def refused(status: int, call, *args, **kwargs) -> Refusal:
    """Call an operation that must refuse with a refusal of this HTTP status; return it."""
    with pytest.raises(Refusal) as info:
        call(*args, **kwargs)
    assert refusal_status(info.value) == status, info.value.message
    return info.value
