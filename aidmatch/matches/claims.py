"""Claims: a donor takes part or all of a need's open quantity (optionally from its offer),
once per Idempotency-Key, telling the group and the coordinators' queue (notices.py). Flush
and audit (holds.reserve), never commit.

What claims and group requests (requests.py) share lives here: made once per Idempotency-Key
(``made_once``: a repeat returns the first match, also when both arrive at once) and whether
an offer fits a need (``check_offer_fits``)."""

from __future__ import annotations

from collections.abc import Callable
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
            Match.organization_id == organization.id,
            Match.idempotency_key == idempotency_key,
            Match.source == MatchSource.CLAIM,  # a group's request is no claim of the donor's
        )
    )


def _replay(existing: Match, same: bool, message: str) -> ClaimResult:
    """Answer a repeated Idempotency-Key with the match it made, if it asked for the same."""
    if not same:
        raise Conflict(message, field="idempotency_key")
    return ClaimResult(existing, created=False)


def made_once(
    find: Callable[[], Match | None],
    make: Callable[[], Match],
    same: Callable[[Match], bool],
    other: str,
    counters: tuple[int, int | None],
) -> ClaimResult:
    """Make a match once per Idempotency-Key: the match a key already made (find) if it asked
    for the same (same, else a Conflict saying `other`), or a new one (make, in a savepoint: if
    an identical keyed call wins meanwhile, only this attempt is undone and its match is
    answered). counters: the need and offer ids whose loaded counters to forget then."""
    existing = find()
    if existing is not None:
        return _replay(existing, same(existing), other)
    try:
        with db.session.begin_nested():
            match = make()
    except (IntegrityError, Refusal) as refused:
        existing = find()
        if existing is None:
            if isinstance(refused, IntegrityError):  # the key is taken by another kind of match
                raise Conflict(other, field="idempotency_key") from None
            raise
        expire_counters(*counters)
        return _replay(existing, same(existing), other)
    return ClaimResult(match, created=True)


def check_offer_fits(need: Need, offer: Offer, field: str) -> None:
    """An offer fits a need when its category is the need's or one above it, counted in the
    same unit (claims from an offer, group requests); Invalid on `field` otherwise."""
    from aidmatch.categories.operations import ancestor_ids

    if offer.category_id != need.category_id and offer.category_id not in ancestor_ids(
        need.category_id
    ):
        raise Invalid(_("This offer's category does not fit the need."), field)
    if offer.category.unit != need.category.unit:
        raise Invalid(_("This offer is counted in another unit."), field)


def _check_claimable(need: Need, actor, offer: Offer | None) -> None:
    """Who may claim which need, from which offer: NotAllowed for the wrong party, Invalid for
    an offer that does not fit."""
    deny(can_claim(actor), _("Only members of a donor or supply collective claim needs."))
    org = actor.organization
    deny(not org.withdrawn, _("Your organization is suspended: it may not claim needs."))
    # Needs of unverified groups are shown to coordinators only, and sensitive ones to
    # verified organizations only (DESIGN.md): what a donor may not see, it may not claim.
    deny(need.organization.verified, _("This group is not verified yet: its needs wait."))
    deny(
        not need.sensitive or org.verified,
        _("Only verified organizations may claim a sensitive need."),
    )
    if offer is not None:
        deny(is_member(actor, offer.organization), _("You may only claim from your own offers."))
        check_offer_fits(need, offer, "offer_id")


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
    offer_id = offer.id if offer is not None else None
    release_lapsed(need, offer)
    distance = None
    if offer is not None:
        from aidmatch.geo import haversine_km

        distance = round(haversine_km(offer.lat, offer.lon, need.lat, need.lon), 1)
    result = made_once(
        lambda: find_claim(org, key),
        lambda: reserve(
            need,
            offer,
            org,
            quantity,
            source=MatchSource.CLAIM,
            actor=actor,
            distance_km=distance,
            donor_accepted=True,
            idempotency_key=key,
        ),
        lambda m: (
            (m.need_id, m.offer_id, m.quantity_asked or m.quantity) == (need.id, offer_id, quantity)
        ),
        _("This Idempotency-Key was already used for a different claim."),
        (need.id, offer_id),
    )
    if not result.created:
        return result
    match = result.match
    notices.tell_claim(match, actor)
    return ClaimResult(match, created=True)


def claim_need(
    need: Need, actor, quantity, offer: Offer | None = None, idempotency_key=None
) -> Match:
    """A donor claims a need (see claim); return the match."""
    return claim(need, actor, quantity, offer=offer, idempotency_key=idempotency_key).match
