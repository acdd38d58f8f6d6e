"""Organizations (frontline groups, donor and supply collectives, hubs), their invite codes,
and the vouches of verified organizations for unverified ones."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aidmatch.db import TimestampMixin, UTCDateTime, str_enum, utcnow
from aidmatch.extensions import db
from aidmatch.orgs.lifecycle import PUBLIC, WITHDRAWN, OrgState

if TYPE_CHECKING:
    from aidmatch.auth.models import User
    from aidmatch.places.models import Place


class OrgKind(StrEnum):
    FRONTLINE_GROUP = "frontline_group"
    DONOR_COLLECTIVE = "donor_collective"
    SUPPLY_COLLECTIVE = "supply_collective"
    HUB = "hub"  # a warehouse or border hub that goods pass through (aidmatch/legs)


class OrgRole(StrEnum):
    """A member's place in its organization: owners edit it and manage the members."""

    MEMBER = "member"
    OWNER = "owner"


# The donors' side: their members are donors (permissions.role_for_org_kind). A hub stands
# there too: it holds and forwards donors' goods (and may give from its own stock); it never
# posts needs, and a group's members are organizers.
DONOR_KINDS = frozenset({OrgKind.DONOR_COLLECTIVE, OrgKind.SUPPLY_COLLECTIVE, OrgKind.HUB})


class Organization(TimestampMixin, db.Model):
    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint("length(name) > 0", name="name_not_empty"),
        Index("ix_organizations_kind_verified", "kind", "verified_at"),
        # verified_at is set exactly while the state is verified (orgs/lifecycle.py).
        CheckConstraint(
            "(state = 'verified' AND verified_at IS NOT NULL)"
            " OR (state <> 'verified' AND verified_at IS NULL)",
            name="verified_at_follows_state",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Lower-cased name: two organizations may not differ only by case.
    name_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrgKind] = mapped_column(str_enum(OrgKind, "kind"))
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id"), index=True)
    contact: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    public_name: Mapped[bool] = mapped_column(default=False)
    state: Mapped[OrgState] = mapped_column(
        str_enum(OrgState, "state"),
        default=OrgState.UNVERIFIED,
        server_default="unverified",
        index=True,
    )
    # The last decision on the state (orgs/lifecycle.py): who, when, why, and how it was checked.
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", use_alter=True, name="fk_organizations_decided_by_id_users")
    )
    decision_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    decision_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", use_alter=True, name="fk_organizations_verified_by_id_users")
    )

    place: Mapped[Place | None] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    members: Mapped[list[User]] = relationship(
        back_populates="organization",
        foreign_keys="User.organization_id",
        order_by="User.display_name",
    )

    @property
    def verified(self) -> bool:
        return self.state in PUBLIC

    @property
    def withdrawn(self) -> bool:
        """Suspended or rejected: its needs and offers are out of every list and run."""
        return self.state in WITHDRAWN

    @property
    def owners(self) -> list[User]:
        """The members who manage the organization (users.org_role = owner)."""
        return [m for m in self.members if m.org_role == OrgRole.OWNER]

    @property
    def is_donor_side(self) -> bool:
        return self.kind in DONOR_KINDS

    def __repr__(self) -> str:
        return f"<Organization {self.id} {self.name!r} {self.kind}>"


def org_name_key(name: str) -> str:
    """The case- and space-insensitive key under which organization names are unique."""
    return " ".join(name.split()).casefold()


class Invite(db.Model):
    """A single-use code with which a new user joins an existing organization."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    organization: Mapped[Organization] = relationship()

    def __repr__(self) -> str:
        return f"<Invite {self.id} org={self.organization_id} used={self.used_at is not None}>"


class PaymentDetails(db.Model):
    """Where a group takes money (orgs/payment.py validates each): an IBAN, a card number, a
    payment link. Shown only to staff, the group itself and a collective whose money pledge a
    coordinator confirmed (privacy/policy.sees_payment_details): aidmatch itself never holds,
    moves or processes money."""

    __tablename__ = "payment_details"
    __table_args__ = (
        CheckConstraint("iban <> '' OR card <> '' OR link <> ''", name="some_way_to_pay"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), unique=True)
    iban: Mapped[str] = mapped_column(String(34), default="")
    card: Mapped[str] = mapped_column(String(19), default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    holder: Mapped[str] = mapped_column(String(200), default="")  # the account's name
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    organization: Mapped[Organization] = relationship()

    def __repr__(self) -> str:
        return f"<PaymentDetails of org {self.organization_id}>"


class Vouch(db.Model):
    """A verified organization vouches for an unverified one ("we know them, we have worked
    with them"), with a sentence of why (orgs/vouches.py: the verbs and the badge's rule).
    A withdrawal keeps the row (withdrawn_at); one active vouch per pair at most."""

    __tablename__ = "vouches"
    __table_args__ = (
        CheckConstraint("voucher_id <> vouched_id", name="not_oneself"),
        CheckConstraint("length(reason) > 0", name="reason_not_empty"),
        Index(
            "uq_vouches_active_pair",
            "voucher_id",
            "vouched_id",
            unique=True,
            sqlite_where=text("withdrawn_at IS NULL"),
            postgresql_where=text("withdrawn_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    vouched_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    voucher: Mapped[Organization] = relationship(foreign_keys=[voucher_id])
    vouched: Mapped[Organization] = relationship(foreign_keys=[vouched_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None

    def __repr__(self) -> str:
        state = "active" if self.active else "withdrawn"
        return f"<Vouch {self.id} {self.voucher_id}->{self.vouched_id} {state}>"
