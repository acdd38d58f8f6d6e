"""The score of a candidate pair: a documented weighted sum of six parts in [0, 1].

=============  ===========================================================================
part           value (1 = most deserving)
=============  ===========================================================================
urgency        critical 1, high 2/3, normal 1/3, low 0
deadline       needed_by today or already past: 1; falling linearly to 0 at
               ``deadline_horizon_days`` or more left; no needed_by: 0
closeness      1 − distance / radius, so 1 next door and 0 at the edge of the offer's
               radius; for "anywhere" offers 1 − distance / ``anywhere_reference_km``,
               floored at 0
waiting        days since the need was posted / ``waiting_full_days``, capped at 1, so a
               need nobody covered keeps rising and is not starved by newer ones
verified       1 when the need's group is verified, else 0
category_fit   how much of the need's category the offer's pins down: 1 when the offer is of
               the need's own category; for an offer of an ancestor ("general") category,
               its depth / the need's depth in the category tree, so 0 for an offer of a
               root category ("Food" for a need of "Baby food"), 1/2 for a parent halfway
               down a three-level tree. The facts say ``category_fit: "same"`` or
               ``"general"`` (a general offer may not hold what is needed: a person checks)
=============  ===========================================================================

``score = Σ weight × part``, so a score lies in [0, the sum of the weights]: [0, 1.1] with
the default weights (the first five add up to 1, as before category fit was added; a pair of
the need's own category gets the whole 0.1, so the costs of such pairs, measured from the
highest score, did not change). A proposal carries each weighted part (they add up to its score) and the raw facts
(distance, urgency, days waiting, days left, ...), so a page can say *why* it was made.
Everything is a pure function of the records and the ``now`` passed in: no clock is read.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import numpy as np

from .records import NO_DEADLINE, URGENCIES, NeedTable, OfferTable, as_utc

PARTS = ("urgency", "deadline", "closeness", "waiting", "verified", "category_fit")
_URGENCY_VALUE = np.array([1.0, 2.0 / 3.0, 1.0 / 3.0, 0.0])  # in URGENCIES order
_DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class ScoreWeights:
    """Weights of the score's parts and the scales of the time and distance parts."""

    urgency: float = 0.35
    deadline: float = 0.20
    closeness: float = 0.25
    waiting: float = 0.15
    verified: float = 0.05
    category_fit: float = 0.10
    deadline_horizon_days: float = 30.0
    waiting_full_days: float = 14.0
    anywhere_reference_km: float = 500.0

    def __post_init__(self) -> None:
        for name in PARTS:
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"score weight {name} must be a finite number >= 0")
        if self.max_score <= 0:
            raise ValueError("at least one score weight must be positive")
        for name in ("deadline_horizon_days", "waiting_full_days", "anywhere_reference_km"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")

    @property
    def max_score(self) -> float:
        """The highest score any pair can have (the sum of the part weights)."""
        return sum(getattr(self, name) for name in PARTS)

    @classmethod
    def from_mapping(cls, values: dict[str, Any] | None) -> ScoreWeights:
        """Weights from configuration (unknown keys are refused, missing ones default)."""
        values = dict(values or {})
        unknown = set(values) - set(asdict(cls()))
        if unknown:
            raise ValueError(f"unknown score weights: {', '.join(sorted(unknown))}")
        return cls(**{k: float(v) for k, v in values.items()})


@dataclass(slots=True)
class NeedFacts:
    """Per-need parts and facts, computed once per run for ``now``."""

    urgency: np.ndarray  # part in [0, 1]
    deadline: np.ndarray
    waiting: np.ndarray
    verified: np.ndarray
    depth: np.ndarray  # the need's category's depth in the tree (0: a root)
    days_waiting: np.ndarray  # float days
    days_left: np.ndarray  # float days, NaN when no needed_by


def need_facts(needs: NeedTable, now: datetime, weights: ScoreWeights) -> NeedFacts:
    """The need-only parts of the score (everything but closeness)."""
    now = as_utc(now)
    days_waiting = np.maximum(0.0, (now.timestamp() - needs.created_ts) / _DAY_S)
    has_deadline = needs.needed_by != NO_DEADLINE
    days_left = np.where(has_deadline, needs.needed_by - now.date().toordinal(), np.nan)
    deadline = np.where(
        has_deadline,
        np.clip(1.0 - days_left / weights.deadline_horizon_days, 0.0, 1.0),
        0.0,
    )
    return NeedFacts(
        urgency=_URGENCY_VALUE[needs.urgency],
        deadline=np.nan_to_num(deadline),
        waiting=np.minimum(1.0, days_waiting / weights.waiting_full_days),
        verified=needs.verified.astype(np.float64),
        depth=needs.depth,
        days_waiting=days_waiting,
        days_left=days_left,
    )


def closeness(distance_km: np.ndarray, radius_km: np.ndarray, weights: ScoreWeights) -> np.ndarray:
    """Closeness part: 1 − distance / radius (reference distance for "anywhere")."""
    reference = np.where(np.isfinite(radius_km), radius_km, weights.anywhere_reference_km)
    return np.clip(1.0 - distance_km / reference, 0.0, 1.0)


def category_fit(need_depth: np.ndarray, offer_depth: np.ndarray) -> np.ndarray:
    """Category-fit part: 1 for the need's own category (equal depths: the offer's category
    is the need's or an ancestor of it), else the offer's depth / the need's depth."""
    fit = np.ones(len(need_depth), dtype=np.float64)
    general = np.flatnonzero(offer_depth < need_depth)
    fit[general] = offer_depth[general] / need_depth[general].astype(np.float64)
    return fit


def _weighted_parts(
    facts: NeedFacts,
    offers: OfferTable,
    need: np.ndarray,
    offer: np.ndarray,
    distance_km: np.ndarray,
    weights: ScoreWeights,
):
    """The weighted parts of pairs (need index, offer index), one array at a time, in PARTS
    order (so that a caller may sum them without holding them all)."""
    yield weights.urgency * facts.urgency[need]
    yield weights.deadline * facts.deadline[need]
    yield weights.closeness * closeness(distance_km, offers.radius[offer], weights)
    yield weights.waiting * facts.waiting[need]
    yield weights.verified * facts.verified[need]
    yield weights.category_fit * category_fit(facts.depth[need], offers.depth[offer])


def pair_parts(
    facts: NeedFacts,
    offers: OfferTable,
    need: np.ndarray,
    offer: np.ndarray,
    distance_km: np.ndarray,
    weights: ScoreWeights,
) -> dict[str, np.ndarray]:
    """The weighted parts of pairs, by name (they add up to pair_scores)."""
    weighted = _weighted_parts(facts, offers, need, offer, distance_km, weights)
    return dict(zip(PARTS, weighted, strict=True))


def pair_scores(
    facts: NeedFacts,
    offers: OfferTable,
    need: np.ndarray,
    offer: np.ndarray,
    distance_km: np.ndarray,
    weights: ScoreWeights,
) -> np.ndarray:
    """Scores of pairs: the parts added in PARTS order, one at a time, so that a run of
    14 million pairs does not hold six arrays of parts (bit for bit the sums score_pairs
    makes; a run asks pair_parts only for the pairs it proposes)."""
    parts = _weighted_parts(facts, offers, need, offer, distance_km, weights)
    score = next(parts) + next(parts)
    for part in parts:
        score += part
    return score


def score_pairs(
    facts: NeedFacts,
    offers: OfferTable,
    need: np.ndarray,
    offer: np.ndarray,
    distance_km: np.ndarray,
    weights: ScoreWeights,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Scores of pairs (need index, offer index) and their weighted parts."""
    parts = pair_parts(facts, offers, need, offer, distance_km, weights)
    score = parts["urgency"] + parts["deadline"] + parts["closeness"]
    score = score + parts["waiting"] + parts["verified"] + parts["category_fit"]
    return score, parts


def explain(
    facts: NeedFacts,
    offers: OfferTable,
    need: np.ndarray,
    offer: np.ndarray,
    distance_km: np.ndarray,
    parts: dict[str, np.ndarray],
    urgency_codes: np.ndarray,
) -> tuple[list[dict[str, float]], list[dict[str, Any]]]:
    """Per-pair explanation dicts: weighted parts (rounded) and raw facts."""
    part_dicts = [
        {
            "urgency": u,
            "deadline": d,
            "closeness": c,
            "waiting": w,
            "verified": v,
            "category_fit": f,
        }
        for u, d, c, w, v, f in zip(
            *(np.round(parts[name], 4).tolist() for name in PARTS), strict=True
        )
    ]
    radius = offers.radius[offer]
    radius_list = [None if math.isinf(r) else r for r in radius.tolist()]
    left = facts.days_left[need]
    left_list = [None if math.isnan(d) else int(d) for d in left.tolist()]
    fit_list = np.where(offers.depth[offer] >= facts.depth[need], "same", "general").tolist()
    fact_dicts = [
        {
            "distance_km": d,
            "radius_km": r,
            "urgency": URGENCIES[u],
            "days_waiting": w,
            "days_left": dl,
            "verified": v,
            "category_fit": f,
        }
        for d, r, u, w, dl, v, f in zip(
            np.round(distance_km, 1).tolist(),
            radius_list,
            urgency_codes[need].tolist(),
            np.floor(facts.days_waiting[need]).astype(np.int64).tolist(),
            left_list,
            (facts.verified[need] > 0).tolist(),
            fit_list,
            strict=True,
        )
    ]
    return part_dicts, fact_dicts
