"""A leg of a shipment: goods handed over from one organization to the next (a hub, or at
last the group), confirmed by its receiver with the quantity that arrived."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aidmatch.db import UTCDateTime, str_enum, utcnow
from aidmatch.extensions import db

if TYPE_CHECKING:
    from aidmatch.auth.models import User
    from aidmatch.matches.models import Match
    from aidmatch.orgs.models import Organization

CARRIER_MAX, TRACKING_MAX = 200, 200


class LegStatus(StrEnum):
    ON_THE_WAY = "on_the_way"  # handed over, its receiver has not confirmed it yet
    RECEIVED = "received"  # its receiver confirmed what arrived


class Leg(db.Model):
    """One hand-off of a match's goods, numbered from 1 along its route."""

    __tablename__ = "legs"
    __table_args__ = (
        UniqueConstraint("match_id", "position", name="one_leg_per_position"),
        CheckConstraint("position >= 1", name="position_positive"),
        CheckConstraint("from_org_id <> to_org_id", name="to_another_org"),
        CheckConstraint("quantity_sent > 0", name="quantity_sent_positive"),
        CheckConstraint(
            "(status = 'received' AND quantity_received IS NOT NULL AND confirmed_at IS NOT NULL"
            " AND quantity_received >= 0 AND quantity_received <= quantity_sent)"
            " OR (status = 'on_the_way' AND quantity_received IS NULL AND confirmed_at IS NULL)",
            name="received_follows_status",
        ),
        Index("ix_legs_status_handed_over_at", "status", "handed_over_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id"), index=True)
    position: Mapped[int]
    from_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    to_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(CARRIER_MAX), default="")
    tracking: Mapped[str] = mapped_column(String(TRACKING_MAX), default="")
    handed_over_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    handed_over_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    quantity_sent: Mapped[int]
    quantity_received: Mapped[int | None]
    note: Mapped[str] = mapped_column(Text, default="")  # the receiver's, seen as the match's
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[LegStatus] = mapped_column(
        str_enum(LegStatus, "leg_status"), default=LegStatus.ON_THE_WAY
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    match: Mapped[Match] = relationship()
    from_org: Mapped[Organization] = relationship(foreign_keys=[from_org_id])
    to_org: Mapped[Organization] = relationship(foreign_keys=[to_org_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])

    @property
    def shortfall(self) -> int:
        """What was lost on this leg (sent, not received); 0 before it is confirmed."""
        if self.quantity_received is None:
            return 0
        return self.quantity_sent - self.quantity_received

    def __repr__(self) -> str:
        return f"<Leg {self.id} match {self.match_id} #{self.position} {self.status}>"


def _hand_to_privacy() -> None:
    # The privacy policy sits below the legs: it reads who holds a match's goods from here.
    from aidmatch.privacy.policy import read_legs_from

    read_legs_from(Leg)


_hand_to_privacy()
