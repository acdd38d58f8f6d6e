"""Matches between a need and a donor (and its offer); runs are in aidmatch.runs.models."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    case,
    false,
    literal,
    or_,
)
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aidmatch.db import TimestampMixin, UTCDateTime, str_enum, utcnow
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


# Active (DESIGN.md): pending once the donor has accepted, confirmed, shipped, delivered; the one
# definition (Match.is_active says it with the donor's acceptance). What a match *holds* is
# another question, answered by the stored counters (holds.py): every pending match holds.
ACTIVE_MATCH_STATUSES = frozenset(
    {MatchStatus.PENDING, MatchStatus.CONFIRMED, MatchStatus.SHIPPED, MatchStatus.DELIVERED}
)
# Statuses after which nothing happens to a match any more; all but delivered release its hold.
TERMINAL = frozenset(
    {
        MatchStatus.DELIVERED,
        MatchStatus.DECLINED,
        MatchStatus.REJECTED,
        MatchStatus.EXPIRED,
        MatchStatus.WITHDRAWN,
        MatchStatus.CANCELLED,
    }
)
# Still under way: what the user's list shows among the things to do or wait for.
IN_PROGRESS = (MatchStatus.PENDING, MatchStatus.CONFIRMED, MatchStatus.SHIPPED)
# From confirmed on, both sides see each other's contact and exact location.
REVEALED = (MatchStatus.CONFIRMED, MatchStatus.SHIPPED, MatchStatus.DELIVERED)
# A party said no to the pair (donor declined or withdrew, a coordinator rejected): the
# engine never proposes that need with that offer again.
REFUSED_MATCH_STATUSES = frozenset(
    {MatchStatus.DECLINED, MatchStatus.REJECTED, MatchStatus.WITHDRAWN}
)


class MatchSource(StrEnum):
    ENGINE = "engine"  # a matching run proposed it (soft until the donor accepts)
    CLAIM = "claim"  # a donor claimed the need (the donor's consent given)
    REQUEST = "request"  # a group asked for an offer (soft until the donor accepts)


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
        # The API's list, newest first, for a coordinator (every match), read off an index.
        Index("ix_matches_created", "created_at", "id"),
        # Pending matches still in time (Match.status_in, the lifecycle's conditions): a
        # range, however many pending matches of past runs lapsed.
        Index("ix_matches_status_expires", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("matching_runs.id"), index=True)
    quantity: Mapped[int]
    # What was first proposed, claimed or requested, when an answer lowered it (accepted or
    # approved for less, or less remained when the donor accepted); why, in quantity_note.
    quantity_asked: Mapped[int | None]
    quantity_note: Mapped[str | None] = mapped_column(Text)
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

    @hybrid_method
    def is_lapsed(self, now: datetime) -> bool:
        """A pending match past its time: it reads as expired (flask matches expire stores it)."""
        return (
            self.status == MatchStatus.PENDING
            and self.expires_at is not None
            and self.expires_at <= now
        )

    @is_lapsed.expression
    @classmethod
    def is_lapsed(cls, now: datetime):
        return and_(
            cls.status == MatchStatus.PENDING,
            cls.expires_at.is_not(None),
            cls.expires_at <= literal(now, UTCDateTime()),
        )

    @classmethod
    def status_in(cls, statuses, now: datetime):
        """SQL: the match reads as one of these statuses at `now` (a lapsed pending match as
        expired), written as status_at says but so that the indexes on status, created_at
        and expires_at serve it (no CASE over every row)."""
        values = {MatchStatus(s) for s in statuses}
        stored = values - {MatchStatus.PENDING, MatchStatus.EXPIRED}
        either = [cls.status.in_([s.value for s in stored])] if stored else []
        if MatchStatus.PENDING in values:
            moment = literal(now, UTCDateTime())
            waiting = or_(cls.expires_at.is_(None), cls.expires_at > moment)
            either.append(and_(cls.status == MatchStatus.PENDING, waiting))
        if MatchStatus.EXPIRED in values:
            either.append(or_(cls.status == MatchStatus.EXPIRED, cls.is_lapsed(now)))
        return or_(*either) if either else false()

    @hybrid_method
    def status_at(self, now: datetime) -> MatchStatus:
        """The status as read at `now`: a lapsed pending match is expired, without a write."""
        return MatchStatus.EXPIRED if self.is_lapsed(now) else MatchStatus(self.status)

    @status_at.expression
    @classmethod
    def status_at(cls, now: datetime):
        return case((cls.is_lapsed(now), MatchStatus.EXPIRED.value), else_=cls.status)

    @property
    def effective_status(self) -> MatchStatus:
        """The status as read now (status_at(utcnow()))."""
        return self.status_at(utcnow())

    @hybrid_method
    def is_active(self, now: datetime) -> bool:
        """Active at `now` (DESIGN.md): pending once the donor accepted, confirmed, shipped,
        delivered."""
        status = self.status_at(now)
        if status == MatchStatus.PENDING:
            return self.donor_accepted_at is not None
        return status in ACTIVE_MATCH_STATUSES

    @is_active.expression
    @classmethod
    def is_active(cls, now: datetime):
        return or_(
            cls.status.in_(ACTIVE_MATCH_STATUSES - {MatchStatus.PENDING}),
            and_(
                cls.status == MatchStatus.PENDING,
                cls.donor_accepted_at.is_not(None),
                ~cls.is_lapsed(now),
            ),
        )

    def __repr__(self) -> str:
        return f"<Match {self.id} need={self.need_id} offer={self.offer_id} {self.status}>"


def _hand_to_privacy() -> None:
    # The privacy policy sits below matches and needs: it reads the matches from here.
    from aidmatch.needs.models import Need
    from aidmatch.privacy.policy import read_matches_from

    read_matches_from(Match, Need, REVEALED)


_hand_to_privacy()
