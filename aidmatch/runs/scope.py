"""What a run covers: a category branch, an oblast, or everything.

``--category C`` takes the needs of C and below, and the offers of C, below
and above it (an offer of a parent category covers a child's need); ``--oblast O`` takes
the needs placed in O and the offers from anywhere (donors deliver across oblasts). Two
scopes overlap when they could propose for the same need; runs over different oblasts may
run side by side and compete for the same offers, which ``reserve`` keeps consistent.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from aidmatch.categories.models import Category
from aidmatch.categories.operations import ancestor_ids, descendant_ids, get_by_slug
from aidmatch.extensions import db
from aidmatch.places.labels import UA_OBLASTS, find_oblast
from aidmatch.places.models import Place
from aidmatch.refusals import Invalid


@dataclass(frozen=True)
class RunScope:
    """What a run covers: a category branch and an oblast, or everything."""

    category: str | None = None
    oblast: str | None = None
    need_categories: frozenset[int] | None = None  # None: all
    offer_categories: frozenset[int] | None = None

    @property
    def key(self) -> str:
        """A short text of the scope, e.g. "category=tourniquets oblast=Kharkiv Oblast"."""
        parts = [f"category={self.category}" if self.category else "", ""]
        parts[1] = f"oblast={self.oblast}" if self.oblast else ""
        return " ".join(p for p in parts if p)[:200] or "all"

    def parameters(self) -> dict:
        """JSON for MatchingRun.parameters."""
        return {
            "category": self.category,
            "oblast": self.oblast,
            "need_categories": sorted(self.need_categories)
            if self.need_categories is not None
            else None,
            "offer_categories": sorted(self.offer_categories)
            if self.offer_categories is not None
            else None,
        }

    @classmethod
    def from_parameters(cls, params: dict | None) -> RunScope:
        """The scope a stored run covered (unknown or old rows count as everything)."""
        params = params or {}
        needs, offers = params.get("need_categories"), params.get("offer_categories")
        return cls(
            category=params.get("category"),
            oblast=params.get("oblast"),
            need_categories=frozenset(needs) if needs is not None else None,
            offer_categories=frozenset(offers) if offers is not None else None,
        )

    def overlaps(self, other: RunScope) -> bool:
        """Could both runs propose for the same need?"""
        if self.oblast and other.oblast and self.oblast != other.oblast:
            return False
        if self.need_categories is None or other.need_categories is None:
            return True
        return bool(self.need_categories & other.need_categories)


def resolve_scope(category_slug: str | None = None, oblast: str | None = None) -> RunScope:
    """The scope of a run from a category slug and an oblast name (422 if unknown).

    The oblast may be typed as people write it, in English or Ukrainian, with or without
    "Oblast" (``places.labels.find_oblast``), or be another region of the gazetteer by its
    exact name. An unknown value gets an error that lists the values that work.
    """
    category_slug = (category_slug or "").strip().lower() or None
    typed = (oblast or "").strip() or None
    need_categories = offer_categories = None
    if category_slug:
        category = get_by_slug(category_slug)
        if category is None:
            slugs = db.session.scalars(select(Category.slug).order_by(Category.slug)).all()
            raise Invalid(
                _l("There is no such category. Use one of: %(names)s.", names=", ".join(slugs)),
                field="category",
            )
        need_categories = frozenset(descendant_ids(category))
        offer_categories = need_categories | frozenset(ancestor_ids(category))
    oblast = find_oblast(typed) or typed
    if (
        oblast
        and db.session.scalar(select(Place.id).where(Place.oblast == oblast).limit(1)) is None
    ):
        raise Invalid(
            _l(
                "There is no such oblast. Use its name, e.g. %(example)s; one of: %(names)s.",
                example="Kharkiv Oblast, Kharkiv, Харківська",
                names=", ".join(en for en, _uk in UA_OBLASTS),
            ),
            field="oblast",
        )
    return RunScope(category_slug, oblast, need_categories, offer_categories)
