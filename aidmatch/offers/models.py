"""Offers: what a donor or supply collective can give, and how far it can deliver."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index
from sqlalchemy.orm import Mapped, mapped_column

from aidmatch.db import str_enum
from aidmatch.extensions import db
from aidmatch.postings.models import PostingMixin


class OfferStatus(StrEnum):
    OPEN = "open"
    EXHAUSTED = "exhausted"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class Offer(PostingMixin, db.Model):
    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "allocated >= 0 AND allocated <= quantity", name="allocated_within_quantity"
        ),
        CheckConstraint(
            "delivery_radius_km IS NULL OR delivery_radius_km > 0", name="radius_positive"
        ),
        CheckConstraint(
            "lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="lat_lon_range"
        ),
        Index("ix_offers_status_category", "status", "category_id", "created_at"),
        Index("ix_offers_lat_lon", "lat", "lon"),
        Index("ix_offers_status_available_until", "status", "available_until"),
        # One row per (organization, Idempotency-Key): a form sent twice, or an API call
        # retried, posts once. A unique index rather than a table constraint: SQLite adds an
        # index to a filled table in place, a constraint only by rebuilding the table.
        Index(
            "uq_offers_organization_id_idempotency_key",
            "organization_id",
            "idempotency_key",
            unique=True,
        ),
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
