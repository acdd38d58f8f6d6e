"""Offers: what a donor or supply collective can give, and how far it can deliver."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index
from sqlalchemy.orm import Mapped, mapped_column

from aidmatch.db import str_enum
from aidmatch.extensions import db
from aidmatch.postings.models import PostingMixin, posting_table_args


class OfferStatus(StrEnum):
    OPEN = "open"
    EXHAUSTED = "exhausted"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class Offer(PostingMixin, db.Model):
    __tablename__ = "offers"
    __table_args__ = posting_table_args(
        "offers",
        "allocated",
        "available_until",
        CheckConstraint(
            "delivery_radius_km IS NULL OR delivery_radius_km > 0", name="radius_positive"
        ),
        Index("ix_offers_status_category", "status", "category_id", "created_at"),
        # The lists' order, newest first (offers/kind.order), read off an index.
        Index("ix_offers_status_created", "status", "created_at", "id"),
    )

    due_column = "available_until"

    allocated: Mapped[int] = mapped_column(default=0)
    delivery_radius_km: Mapped[int | None]  # None: can deliver anywhere
    available_until: Mapped[date | None]
    status: Mapped[OfferStatus] = mapped_column(
        str_enum(OfferStatus, "status"), default=OfferStatus.OPEN
    )

    @property
    def remaining(self) -> int:
        return self.quantity - self.allocated

    def __repr__(self) -> str:
        return f"<Offer {self.id} {self.title!r} {self.status}>"
