"""What every use of the engine reads besides the rows: the category tree, the score
weights from the settings, and which pairs are never proposed (again)."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from aidmatch.categories.models import Category
from aidmatch.categories.operations import ancestors_in
from aidmatch.engine import ScoreWeights
from aidmatch.engine.scoring import PARTS
from aidmatch.extensions import db
from aidmatch.matches.models import ACTIVE_MATCH_STATUSES, REFUSED_MATCH_STATUSES

# A pair with a match in one of these is not proposed (again), by a run or as an instant
# candidate: the match holds goods already, or a party said no to it.
NOT_AGAIN = tuple(sorted(ACTIVE_MATCH_STATUSES | REFUSED_MATCH_STATUSES))


def engine_weights() -> ScoreWeights:
    """The score weights from the MATCH_* settings (defaults as in the engine)."""
    config = current_app.config
    defaults = ScoreWeights()
    return ScoreWeights(
        **{
            name: float(config.get(f"MATCH_WEIGHT_{name.upper()}", getattr(defaults, name)))
            for name in PARTS
        },
        deadline_horizon_days=float(
            config.get("MATCH_DEADLINE_HORIZON_DAYS", defaults.deadline_horizon_days)
        ),
        waiting_full_days=float(config.get("MATCH_WAITING_FULL_DAYS", defaults.waiting_full_days)),
        anywhere_reference_km=float(
            config.get("MATCH_ANYWHERE_REFERENCE_KM", defaults.anywhere_reference_km)
        ),
    )


def category_catalog() -> tuple[dict[int, tuple[int, ...]], dict[int, str]]:
    """Every category's ancestors (nearest first) and unit, from one query."""
    rows = db.session.execute(select(Category.id, Category.parent_id, Category.unit)).all()
    parent = {cid: pid for cid, pid, _unit in rows}
    ancestry = {cid: tuple(ancestors_in(parent, cid)) for cid in parent}
    return ancestry, {cid: str(unit) for cid, _pid, unit in rows}
