"""Matches between a need and a donor (and its offer); runs are in aidmatch.runs.models."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aidmatch.db import TimestampMixin, UTCDateTime, str_enum
from aidmatch.extensions import db

if TYPE_CHECKING:
    from aidmatch.needs.models import Need
    from aidmatch.offers.models import Offer
    from aidmatch.orgs.models import Organization


class MatchStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    DECLINED = "declined"
    REJECTED = "rejected"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"


ACTIVE_MATCH_STATUSES = frozenset(
    {MatchStatus.PENDING, MatchStatus.CONFIRMED, MatchStatus.SHIPPED, MatchStatus.DELIVERED}
)
# A party said no to the pair (donor declined or withdrew, a coordinator rejected): the
# engine never proposes that need with that offer again.
REFUSED_MATCH_STATUSES = frozenset(
    {MatchStatus.DECLINED, MatchStatus.REJECTED, MatchStatus.WITHDRAWN}
)


class MatchSource(StrEnum):
    ENGINE = "engine"
    CLAIM = "claim"


class Match(TimestampMixin, db.Model):
    __tablename__ = "matches"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "quantity_received IS NULL OR (quantity_received >= 0 AND quantity_received <= quantity)",
            name="received_within_quantity",
        ),
        UniqueConstraint("organization_id", "idempotency_key"),
        Index("ix_matches_need_status", "need_id", "status"),
        Index("ix_matches_offer_status", "offer_id", "status"),
        Index("ix_matches_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("matching_runs.id"), index=True)
    quantity: Mapped[int]
    distance_km: Mapped[float | None]
    score: Mapped[float | None]
    explanation: Mapped[dict] = mapped_column(JSON, default=dict)
    source: Mapped[MatchSource] = mapped_column(str_enum(MatchSource, "source"))
    status: Mapped[MatchStatus] = mapped_column(
        str_enum(MatchStatus, "status"), default=MatchStatus.PENDING
    )
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    donor_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    donor_accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    coordinator_approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    coordinator_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    shipped_note: Mapped[str | None] = mapped_column(Text)
    tracking: Mapped[str | None] = mapped_column(String(200))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    quantity_received: Mapped[int | None]
    delivery_note: Mapped[str | None] = mapped_column(Text)
    discrepancy: Mapped[bool] = mapped_column(default=False)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    extension_used: Mapped[bool] = mapped_column(default=False)

    need: Mapped[Need] = relationship()
    offer: Mapped[Offer | None] = relationship()
    organization: Mapped[Organization] = relationship()

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_MATCH_STATUSES

    def __repr__(self) -> str:
        return f"<Match {self.id} need={self.need_id} offer={self.offer_id} {self.status}>"
