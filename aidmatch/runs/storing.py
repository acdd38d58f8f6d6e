"""A run's output: its proposals reserved as engine matches, in committed batches.

Each goes through ``matches.operations.reserve``, the one way a match takes quantity, with
``allow_partial``: a claim that arrived meanwhile reduces or skips it, never over-allocates;
a pair that got such a match meanwhile is skipped. A proposal holds softly (the donor has not
accepted: ``proposed``, taken where ``quantity - pledged - proposed`` allows; see
matches/holds.py): the need stays claimable by anyone until the donor says yes. When the run ends, each organization is told
once (``tell_organizations``): a donor organization how many new proposals wait for its answer,
a group for how many of its needs donors were proposed; never once per proposal. The
coordinators learn of them from their queue and its daily digest.
"""

from __future__ import annotations

import logging
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from aidmatch.candidates.inputs import NOT_AGAIN
from aidmatch.engine import Proposal
from aidmatch.extensions import db
from aidmatch.matches import operations as match_operations
from aidmatch.matches.models import Match, MatchSource, MatchStatus
from aidmatch.needs.models import Need, NeedStatus
from aidmatch.notify.outbox import Telling, tell_all
from aidmatch.notify.recipients import members_of
from aidmatch.offers.models import Offer, OfferStatus
from aidmatch.refusals import Refusal
from aidmatch.runs.models import MatchingRun

log = logging.getLogger(__name__)

STORE_BATCH = 500


def store_proposals(run_id: int, proposals: list[Proposal], actor, skipped: Counter) -> int:
    """Reserve the proposals, best first, in committed batches; how many were stored."""
    stored = 0
    for start in range(0, len(proposals), STORE_BATCH):
        batch = proposals[start : start + STORE_BATCH]
        stored += _store_batch(run_id, batch, actor, skipped)
        db.session.commit()
    return stored


def _store_batch(run_id: int, batch: list[Proposal], actor, skipped: Counter) -> int:
    """One batch: load its needs and offers, skip pairs matched meanwhile, reserve the rest."""
    need_ids = sorted({p.need_id for p in batch})
    offer_ids = sorted({p.offer_id for p in batch})
    # needs, then offers, in id order: the order every match verb locks in (PostgreSQL)
    match_operations.lock_for_update(need_ids, offer_ids)
    needs = {n.id: n for n in db.session.scalars(select(Need).where(Need.id.in_(need_ids)))}
    offers = {
        o.id: o
        for o in db.session.scalars(
            select(Offer).where(Offer.id.in_(offer_ids)).options(joinedload(Offer.organization))
        )
    }
    taken = set(
        db.session.execute(
            select(Match.need_id, Match.offer_id).where(
                Match.need_id.in_(need_ids),
                Match.offer_id.in_(offer_ids),
                Match.status.in_(NOT_AGAIN),
            )
        ).all()
    )
    run = db.session.get(MatchingRun, run_id)
    stored = 0
    for proposal in batch:
        pair = (proposal.need_id, proposal.offer_id)
        if pair in taken:
            skipped["pair:already_matched"] += 1
            continue
        need, offer = needs.get(proposal.need_id), offers.get(proposal.offer_id)
        if (
            need is None
            or offer is None
            or need.effective_status != NeedStatus.OPEN
            or offer.effective_status != OfferStatus.OPEN
        ):
            skipped["proposal:closed_meanwhile"] += 1
            continue
        try:  # reserve refuses before it writes anything, so no savepoint is needed
            match = match_operations.reserve(
                need,
                offer,
                offer.organization,
                proposal.quantity,
                source=MatchSource.ENGINE,
                actor=actor,
                run=run,
                distance_km=proposal.distance_km,
                score=proposal.score,
                explanation=proposal.explanation(),
                allow_partial=True,
            )
        except Refusal as err:
            log.info("matching run %s: proposal %s refused: %s", run_id, pair, err.message)
            skipped["proposal:refused"] += 1
            continue
        if match is None:
            skipped["proposal:reserved_meanwhile"] += 1
            continue
        if match.quantity < proposal.quantity:
            skipped["proposal:reduced_meanwhile"] += 1
        taken.add(pair)
        stored += 1
    return stored


def tell_organizations(run_id: int) -> int:
    """Tell each organization's members once what this run proposed: a donor organization how
    many proposals wait for its answer (run_proposals), a group for how many of its needs
    (run_proposals_group); one GROUP BY each, one query for the members, one outbox.tell_all.
    Returns how many organizations were told."""
    waiting = (
        Match.run_id == run_id,
        Match.status == MatchStatus.PENDING,
        Match.donor_accepted_at.is_(None),
    )
    donors = dict(
        db.session.execute(
            select(Match.organization_id, func.count(Match.id))
            .where(*waiting)
            .group_by(Match.organization_id)
        ).all()
    )
    groups = dict(
        db.session.execute(
            select(Need.organization_id, func.count(func.distinct(Match.need_id)))
            .join(Need, Need.id == Match.need_id)
            .where(*waiting)
            .group_by(Need.organization_id)
        ).all()
    )
    members = members_of({**donors, **groups})
    tellings = [
        Telling(members[org_id], kind, {"count": count}, dedupe_key=f"run:{run_id}:{kind}")
        for kind, counts in (("run_proposals", donors), ("run_proposals_group", groups))
        for org_id, count in counts.items()
        if members.get(org_id)
    ]
    tell_all(tellings)
    return len(tellings)
