"""Group requests: an organizer asks a donor for a quantity from an offer she may see, for one
of her group's own open needs that the offer fits (claims.check_offer_fits). The request is a
pending match (source request, created_by the organizer) that holds softly, like an engine
proposal (holds.py): the donor accepts it (all or less) or declines, a coordinator approves or
rejects, as the lifecycle table says. Made once per Idempotency-Key (claims.made_once); the
donor's members and the coordinators' queue are told (lifecycle.ON_REQUEST).

Who may ask: members of a *verified* group (not a donor or supply collective). A request shows
the group's need to the donor; an unverified group's needs are shown to no donor (DESIGN.md),
so its requests wait for the verification like its needs do. For the same reason a sensitive
need may only be asked of a verified organization's offer. Flush and audit, never commit.
"""

from __future__ import annotations

import hashlib

from flask_babel import gettext as _
from sqlalchemy import select

from aidmatch.extensions import db
from aidmatch.matches import notices
from aidmatch.matches.claims import ClaimResult, check_offer_fits, made_once, release_lapsed
from aidmatch.matches.holds import reserve
from aidmatch.matches.models import Match, MatchSource
from aidmatch.matches.rules import can_request, clean_quantity, deny
from aidmatch.needs.models import Need, NeedStatus
from aidmatch.offers.models import Offer
from aidmatch.postings.validate import clean_idempotency_key
from aidmatch.refusals import Invalid


def stored_key(group, idempotency_key: str | None) -> str | None:
    """The key a group's request is stored under. A request is the donor's match (its
    organization_id), and matches are unique per (organization, key): the group's own key
    would share the donor's claims' namespace and every other group's, so it is kept as
    "request:<group id>:<SHA-256 of the key>" (at most 128 characters, like any key)."""
    if not idempotency_key or group is None:
        return None
    return f"request:{group.id}:{hashlib.sha256(idempotency_key.encode()).hexdigest()}"


def find_request(group, idempotency_key: str | None) -> Match | None:
    """The request a group already made with this Idempotency-Key, if any."""
    key = stored_key(group, idempotency_key)
    if key is None:
        return None
    return db.session.scalar(
        select(Match)
        .join(Need, Need.id == Match.need_id)
        .where(
            Match.source == MatchSource.REQUEST,
            Match.idempotency_key == key,
            Need.organization_id == group.id,
        )
    )


def requestable_needs(user, offer: Offer) -> list[Need]:
    """The user's verified group's open needs with something neither pledged nor proposed, of
    the offer's category or one below it, counted in the same unit (the request form's
    choices)."""
    from aidmatch.categories.models import Category
    from aidmatch.categories.operations import descendant_ids

    if not can_request(user) or not user.organization.verified:
        return []
    categories = [offer.category_id, *descendant_ids(offer.category_id)]
    return list(
        db.session.scalars(
            select(Need)
            .join(Category, Category.id == Need.category_id)
            .where(
                Need.organization_id == user.organization_id,
                Need.status_is(NeedStatus.OPEN),
                Need.quantity - Need.pledged - Need.proposed > 0,
                Need.category_id.in_(categories),
                Category.unit == offer.category.unit,
            )
            .order_by(Need.created_at, Need.id)
        )
    )


def _check_requestable(need: Need | None, offer: Offer, actor) -> Need:
    """Who may ask for which offer for which need: NotAllowed for the wrong party, Invalid
    for a need that is not hers, not open, or that the offer does not fit."""
    deny(can_request(actor), _("Only members of a group request aid from an offer."))
    group = actor.organization
    deny(group.verified, _("Your group is not verified yet: its requests wait."))
    if need is None or need.organization_id != group.id:
        raise Invalid(_("Choose one of your group's open needs."), "need_id")
    if need.effective_status != NeedStatus.OPEN:
        raise Invalid(_("This need is not open: it takes no more pledges."), "need_id")
    check_offer_fits(need, offer, "need_id")
    if need.sensitive and not offer.organization.verified:
        raise Invalid(
            _("A sensitive need may only be asked of a verified organization."), "need_id"
        )
    return need


def request_offer(
    offer: Offer, actor, need: Need | None, quantity, idempotency_key=None
) -> ClaimResult:
    """An organizer asks for `quantity` of an offer for one of her group's needs (see the
    module docstring); with an Idempotency-Key, a repeat returns the match the first made."""
    need = _check_requestable(need, offer, actor)
    quantity = clean_quantity(quantity)
    key = clean_idempotency_key(idempotency_key)
    group = actor.organization
    release_lapsed(need, offer)
    from aidmatch.geo import haversine_km

    distance = round(haversine_km(offer.lat, offer.lon, need.lat, need.lon), 1)
    result = made_once(
        lambda: find_request(group, key),
        lambda: reserve(
            need,
            offer,
            offer.organization,
            quantity,
            source=MatchSource.REQUEST,
            actor=actor,
            distance_km=distance,
            idempotency_key=stored_key(group, key),
        ),
        lambda m: (
            (m.need_id, m.offer_id, m.quantity_asked or m.quantity) == (need.id, offer.id, quantity)
        ),
        _("This Idempotency-Key was already used for a different request."),
        (need.id, offer.id),
    )
    if result.created:
        notices.tell_request(result.match, actor)
    return result
