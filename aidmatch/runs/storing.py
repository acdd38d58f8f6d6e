"""A run's output: its proposals reserved as engine matches, in committed batches.

Each batch goes through ``matches.batch_holds.reserve_proposals``, set-based: its needs and offers
locked in the global order and read once, each proposal decided under those locks (a claim
that arrived meanwhile reduces or skips it, never over-allocates; a pair that got a match
meanwhile is skipped), then the conditional UPDATEs of each table, the INSERT of the
matches and of their audit events (on PostgreSQL one statement each, over arrays; SQLite an
executemany each), and one commit per batch, with the run's
progress in it. When the run ends, each organization is told once (``tell_organizations``): a
donor organization how many new proposals wait for its answer, a group for how many of its
needs donors were proposed; never once per proposal. The coordinators learn of them from
their queue and its daily digest.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable

from sqlalchemy import func, select

from aidmatch.candidates.inputs import NOT_AGAIN
from aidmatch.engine import Proposal
from aidmatch.extensions import db
from aidmatch.matches.batch_holds import Proposed, reserve_proposals
from aidmatch.matches.models import Match, MatchStatus
from aidmatch.needs.models import Need
from aidmatch.notify.outbox import Telling, tell_all
from aidmatch.notify.recipients import CHUNK, members_of
from aidmatch.orgs.models import Organization

log = logging.getLogger(__name__)

# A batch's transaction holds SQLite's write lock for about a third of a second; the progress
# bar moves a dozen times over the bench's 57 000 proposals.
STORE_BATCH = 5000


def store_proposals(
    run_id: int,
    proposals: list[Proposal],
    actor,
    skipped: Counter,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Reserve the proposals, best first, in committed batches; how many were stored.
    ``progress(done, total)`` is called inside each batch's transaction, before its commit."""
    stored = 0
    for start in range(0, len(proposals), STORE_BATCH):
        batch = proposals[start : start + STORE_BATCH]
        stored += _store_batch(run_id, batch, actor, skipped)
        if progress is not None:
            progress(start + len(batch), len(proposals))
        db.session.commit()
    return stored


def _store_batch(run_id: int, batch: list[Proposal], actor, skipped: Counter) -> int:
    """One batch, reserved together (``reserve_proposals``); how many were stored."""
    stored, dropped = reserve_proposals(
        [
            Proposed(p.need_id, p.offer_id, p.quantity, p.distance_km, p.score, p.explanation())
            for p in batch
        ],
        actor=actor,
        run_id=run_id,
        not_again=NOT_AGAIN,
    )
    skipped.update(dropped)
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
    # Each told about its organization, so that a member removed before it leaves is not
    # (notify/audience.py).
    ids = sorted(members)
    orgs = {
        org.id: org
        for start in range(0, len(ids), CHUNK)
        for org in db.session.scalars(
            select(Organization).where(Organization.id.in_(ids[start : start + CHUNK]))
        )
    }
    tellings = [
        Telling(
            members[org_id],
            kind,
            {"count": count},
            organization=orgs[org_id],
            dedupe_key=f"run:{run_id}:{kind}",
        )
        for kind, counts in (("run_proposals", donors), ("run_proposals_group", groups))
        for org_id, count in counts.items()
        if members.get(org_id)
    ]
    tell_all(tellings)
    return len(tellings)
