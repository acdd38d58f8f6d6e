"""Offers: what a donor or supply collective can give, and how far it can deliver."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aidmatch.db import TimestampMixin, str_enum
from aidmatch.extensions import db

if TYPE_CHECKING:
    from aidmatch.categories.models import Category
    from aidmatch.orgs.models import Organization
    from aidmatch.places.models import Place


class OfferStatus(StrEnum):
    OPEN = "open"
    EXHAUSTED = "exhausted"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class Offer(TimestampMixin, db.Model):
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

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Title and description case-folded in Python (SQLite's lower() folds only ASCII).
    search_text: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    quantity: Mapped[int]
    allocated: Mapped[int] = mapped_column(default=0)
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"), index=True)
    lat: Mapped[float]
    lon: Mapped[float]
    public_lat: Mapped[float]
    public_lon: Mapped[float]
    delivery_radius_km: Mapped[int | None]  # None: can deliver anywhere
    available_until: Mapped[date | None]
    # The key of the form or API call that posted it (None: posted without one).
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    # SHA-256 of what that call asked to post: a repeat is compared with it (posting.post_once).
    idempotency_digest: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[OfferStatus] = mapped_column(
        str_enum(OfferStatus, "status"), default=OfferStatus.OPEN
    )

    organization: Mapped[Organization] = relationship()
    category: Mapped[Category] = relationship()
    place: Mapped[Place] = relationship()

    @property
    def remaining(self) -> int:
        return self.quantity - self.allocated

    def __repr__(self) -> str:
        return f"<Offer {self.id} {self.title!r} {self.status}>"
