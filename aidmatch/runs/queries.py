"""Reading runs: the latest ones, and the proposals one made."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from aidmatch.extensions import db
from aidmatch.matches.models import Match
from aidmatch.needs.models import Need
from aidmatch.runs.models import MatchingRun


def recent_runs(limit: int = 20) -> list[MatchingRun]:
    """The latest matching runs, newest first."""
    return list(
        db.session.scalars(select(MatchingRun).order_by(MatchingRun.id.desc()).limit(limit))
    )


def run_proposals(run_id: int) -> list[Match]:
    """The matches a run created, best score first, with their need, offer and donor."""
    return list(
        db.session.scalars(
            select(Match)
            .where(Match.run_id == run_id)
            .options(
                joinedload(Match.need).joinedload(Need.organization),
                joinedload(Match.need).joinedload(Need.category),
                joinedload(Match.offer),
                joinedload(Match.organization),
            )
            .order_by(Match.score.desc(), Match.id)
        )
    )
