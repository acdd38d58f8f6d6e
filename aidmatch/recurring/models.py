"""A recurrence (an offer repeating per week or month) and its periods, one row each, the
period's own offer linked (unique per start: a period opens once, whoever opens it)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aidmatch.db import TimestampMixin, UTCDateTime, str_enum
from aidmatch.extensions import db

if TYPE_CHECKING:
    from aidmatch.offers.models import Offer


class Every(StrEnum):
    WEEK = "week"
    MONTH = "month"


class Recurrence(TimestampMixin, db.Model):
    """What repeats: the quantity per period, from starts_on until ends_on (None: until
    stopped); the first offer of the series (its template), paused or stopped."""

    __tablename__ = "recurrences"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    every: Mapped[Every] = mapped_column(str_enum(Every, "every"))
    quantity: Mapped[int]
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    # What a period did not use is added to the next one (else it lapses with its period).
    carry_over: Mapped[bool] = mapped_column(default=False)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    offer: Mapped[Offer] = relationship()
    periods: Mapped[list[RecurrencePeriod]] = relationship(
        back_populates="recurrence", order_by="RecurrencePeriod.starts_on"
    )

    def __repr__(self) -> str:
        return f"<Recurrence {self.id} of offer {self.offer_id} every {self.every}>"


class RecurrencePeriod(db.Model):
    """One period [starts_on, ends_on) of a recurrence: the offer that made it available,
    what it made available, when it was closed and whether it was missed."""

    __tablename__ = "recurrence_periods"
    __table_args__ = (
        UniqueConstraint("recurrence_id", "starts_on", name="one_period_per_start"),
        CheckConstraint("ends_on > starts_on", name="ends_after_start"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recurrence_id: Mapped[int] = mapped_column(ForeignKey("recurrences.id"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]  # the day after its last day
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), unique=True)
    quantity: Mapped[int]  # made available: the quantity per period, plus what was carried
    carried: Mapped[int] = mapped_column(default=0)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unused: Mapped[int | None]  # what it had left when it closed
    missed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    recurrence: Mapped[Recurrence] = relationship(back_populates="periods")
    offer: Mapped[Offer] = relationship()

    def __repr__(self) -> str:
        return f"<RecurrencePeriod {self.id} {self.starts_on}..{self.ends_on}>"
