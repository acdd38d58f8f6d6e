"""Claims: a donor takes part or all of a need's open quantity (optionally from its offer),
once per Idempotency-Key, telling the group and the coordinators' queue (notices.py). Flush
and audit (holds.reserve), never commit."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from aidmatch.db import utcnow
from aidmatch.extensions import db
from aidmatch.matches import notices
from aidmatch.matches.expiry import expire_matches
from aidmatch.matches.holds import expire_counters, reserve
from aidmatch.matches.models import Match, MatchSource
from aidmatch.matches.rules import can_claim, clean_quantity, deny
from aidmatch.needs.models import Need
from aidmatch.offers.models import Offer
from aidmatch.permissions import is_member
from aidmatch.postings.validate import clean_idempotency_key
from aidmatch.refusals import Conflict, Invalid, Refusal


@dataclass(frozen=True)
class ClaimResult:
    """A claim's match, and whether this call created it (False: a repeated Idempotency-Key)."""

    match: Match
    created: bool


def find_claim(organization, idempotency_key: str | None) -> Match | None:
    """The match an organization already made with this Idempotency-Key, if any."""
    if not idempotency_key or organization is None:
        return None
    return db.session.scalar(
        select(Match).where(
            Match.organization_id == organization.id, Match.idempotency_key == idempotency_key
        )
    )


def _replay(existing: Match, need: Need, offer: Offer | None, quantity: int) -> ClaimResult:
    """Answer a repeated Idempotency-Key with the match it made, if it asked for the same."""
    same = (
        existing.need_id == need.id
        and existing.offer_id == (offer.id if offer is not None else None)
        and existing.quantity == quantity
    )
    if not same:
        raise Conflict(
            _("This Idempotency-Key was already used for a different claim."),
            field="idempotency_key",
        )
    return ClaimResult(existing, created=False)


def _check_claimable(need: Need, actor, offer: Offer | None) -> None:
    """Who may claim which need, from which offer: NotAllowed for the wrong party, Invalid for
    an offer that does not fit."""
    from aidmatch.categories.operations import ancestor_ids

    deny(can_claim(actor), _("Only members of a donor or supply collective claim needs."))
    org = actor.organization
    # Needs of unverified groups are shown to coordinators only, and sensitive ones to
    # verified organizations only (DESIGN.md): what a donor may not see, it may not claim.
    deny(need.organization.verified, _("This group is not verified yet: its needs wait."))
    deny(
        not need.sensitive or org.verified,
        _("Only verified organizations may claim a sensitive need."),
    )
    if offer is not None:
        deny(is_member(actor, offer.organization), _("You may only claim from your own offers."))
        if offer.category_id != need.category_id and offer.category_id not in ancestor_ids(
            need.category_id
        ):
            raise Invalid(_("This offer's category does not fit the need."), "offer_id")
        if offer.category.unit != need.category.unit:
            raise Invalid(_("This offer is counted in another unit."), "offer_id")


def release_lapsed(need: Need, offer: Offer | None) -> int:
    """Store the expiry of the lapsed pending matches that still hold this need or offer, so
    that a claim (a write) is not refused for quantity nobody holds any more; return how many.
    Reads only show them as expired; this and `flask matches expire` store it."""
    now = utcnow()
    holding = Match.need_id == need.id
    if offer is not None:
        holding = or_(holding, Match.offer_id == offer.id)
    ids = list(db.session.scalars(select(Match.id).where(holding, Match.is_lapsed(now))))
    if not ids:
        return 0
    expired = expire_matches(now, ids=ids)["expired"]
    expire_counters(need.id, offer.id if offer is not None else None)
    return expired


def claim(
    need: Need, actor, quantity, offer: Offer | None = None, idempotency_key=None
) -> ClaimResult:
    """A donor claims part or all of a need's open quantity (optionally from its offer).

    The match is pending with the donor's consent; with an Idempotency-Key, a repeated claim
    returns the match the first one made, also when both arrive at once.
    """
    _check_claimable(need, actor, offer)
    quantity = clean_quantity(quantity)
    key = clean_idempotency_key(idempotency_key)
    org = actor.organization
    existing = find_claim(org, key)
    if existing is not None:
        return _replay(existing, need, offer, quantity)

    release_lapsed(need, offer)
    distance = None
    if offer is not None:
        from aidmatch.geo import haversine_km

        distance = round(haversine_km(offer.lat, offer.lon, need.lat, need.lon), 1)
    try:
        # A savepoint: if an identical keyed claim wins meanwhile, only this attempt is undone.
        with db.session.begin_nested():
            match = reserve(
                need,
                offer,
                org,
                quantity,
                source=MatchSource.CLAIM,
                actor=actor,
                distance_km=distance,
                donor_accepted=True,
                idempotency_key=key,
            )
    except (IntegrityError, Refusal):
        existing = find_claim(org, key)
        if existing is None:
            raise
        expire_counters(need.id, offer.id if offer is not None else None)
        return _replay(existing, need, offer, quantity)
    notices.tell_claim(match, actor)
    return ClaimResult(match, created=True)


def claim_need(
    need: Need, actor, quantity, offer: Offer | None = None, idempotency_key=None
) -> Match:
    """A donor claims a need (see claim); return the match."""
    return claim(need, actor, quantity, offer=offer, idempotency_key=idempotency_key).match
