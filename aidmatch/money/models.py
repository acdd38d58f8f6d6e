"""Money pledges to priced needs, their installments, what the money bought, fundraisers.

Amounts are whole numbers of the currency's minor unit (kopiykas, cents, groszy), with their
currency: never floats. Totals are summed per currency (hryvnias and euros do not add up)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from aidmatch.db import UTCDateTime, str_enum, utcnow
from aidmatch.extensions import db
from aidmatch.orgs.models import PaymentDetails  # noqa: F401  (registered with the money)

if TYPE_CHECKING:
    from aidmatch.needs.models import Need
    from aidmatch.orgs.models import Organization

ITEMS_MAX, TITLE_MAX, SLUG_MAX = 2000, 200, 60
MAX_MINOR = 10**11  # a billion in major units: more is a typo
MAX_MONTHS = 24


class Currency(StrEnum):
    UAH = "UAH"
    EUR = "EUR"
    PLN = "PLN"
    USD = "USD"


class Cadence(StrEnum):
    ONCE = "once"
    MONTHLY = "monthly"


class PledgeStatus(StrEnum):
    PENDING = "pending"  # a coordinator has not decided yet
    CONFIRMED = "confirmed"  # confirmed: the collective sees the payment details
    REJECTED = "rejected"
    CANCELLED = "cancelled"  # the collective stopped it (installments received stay)


class NeedCost(db.Model):
    """What a need costs in money, where its goods are best bought near the front."""

    __tablename__ = "need_costs"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)

    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id"), primary_key=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[Currency] = mapped_column(str_enum(Currency, "currency"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<NeedCost need {self.need_id} {self.amount_minor} {self.currency}>"


class MoneyPledge(db.Model):
    """A collective's promise of an amount to a priced need, once or every month for a number
    of months: one Installment per payment expected."""

    __tablename__ = "money_pledges"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("months >= 1 AND months <= 24", name="months_in_range"),
        CheckConstraint("cadence = 'monthly' OR months = 1", name="once_is_one_month"),
        Index("ix_money_pledges_need_id_status", "need_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # each installment's
    currency: Mapped[Currency] = mapped_column(str_enum(Currency, "currency"))
    cadence: Mapped[Cadence] = mapped_column(str_enum(Cadence, "cadence"))
    months: Mapped[int] = mapped_column(default=1)
    first_due: Mapped[date] = mapped_column(Date)
    status: Mapped[PledgeStatus] = mapped_column(
        str_enum(PledgeStatus, "pledge_status"), default=PledgeStatus.PENDING
    )
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_reason: Mapped[str] = mapped_column(Text, default="")

    need: Mapped[Need] = relationship()
    organization: Mapped[Organization] = relationship()
    installments: Mapped[list[Installment]] = relationship(
        back_populates="pledge", order_by="Installment.number"
    )

    def __repr__(self) -> str:
        return f"<MoneyPledge {self.id} need {self.need_id} {self.cadence} {self.status}>"


class Installment(db.Model):
    """One payment a pledge expects (its month's), confirmed by the group with the amount
    that arrived (which may differ from the one expected)."""

    __tablename__ = "money_installments"
    __table_args__ = (
        UniqueConstraint("pledge_id", "number", name="one_per_month"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("amount_expected_minor > 0", name="expected_positive"),
        CheckConstraint(
            "(received_at IS NULL AND amount_received_minor IS NULL)"
            " OR (received_at IS NOT NULL AND amount_received_minor > 0)",
            name="received_with_amount",
        ),
        Index("ix_money_installments_due_on_received_at", "due_on", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("money_pledges.id"))
    number: Mapped[int]
    due_on: Mapped[date] = mapped_column(Date)
    amount_expected_minor: Mapped[int] = mapped_column(BigInteger)
    amount_received_minor: Mapped[int | None] = mapped_column(BigInteger)
    received_on: Mapped[date | None] = mapped_column(Date)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Set once by the job money.late that told both sides it was not received in time.
    late_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    pledge: Mapped[MoneyPledge] = relationship(back_populates="installments")

    def __repr__(self) -> str:
        return f"<Installment {self.id} pledge {self.pledge_id} #{self.number}>"


class SpendingReport(db.Model):
    """What a group bought with money pledged to a need: the items in words, the amount and a
    receipt photo (re-encoded without metadata, photos/images.py)."""

    __tablename__ = "money_spending"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("length(items) > 0", name="items_not_empty"),
        Index("ix_money_spending_need_id_created_at", "need_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[Currency] = mapped_column(str_enum(Currency, "currency"))
    items: Mapped[str] = mapped_column(Text)
    spent_on: Mapped[date] = mapped_column(Date)
    photo: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    photo_width: Mapped[int | None] = mapped_column(Integer)
    photo_height: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    need: Mapped[Need] = relationship()

    def __repr__(self) -> str:
        return f"<SpendingReport {self.id} need {self.need_id} {self.amount_minor} {self.currency}>"


fundraiser_needs = Table(
    "fundraiser_needs",
    db.metadata,
    Column("fundraiser_id", ForeignKey("fundraisers.id"), primary_key=True),
    Column("need_id", ForeignKey("needs.id"), primary_key=True, index=True),
)


class Fundraiser(db.Model):
    """A collective's public page for a set of needs (a solidarity event, a drive), read
    without an account at /f/<slug>."""

    __tablename__ = "fundraisers"
    __table_args__ = (CheckConstraint("length(title) > 0", name="title_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    slug: Mapped[str] = mapped_column(String(SLUG_MAX), unique=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organization: Mapped[Organization] = relationship()
    needs: Mapped[list[Need]] = relationship(secondary=fundraiser_needs, order_by="Need.id")

    def __repr__(self) -> str:
        return f"<Fundraiser {self.id} {self.slug!r}>"
