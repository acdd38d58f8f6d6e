"""The columns needs and offers share, and their status as the date makes it.

A need past its needed-by date, or an offer past available-until, reads as expired because
the queries say so (effective_status, status_is); `flask expire` stores the status later.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, and_, case, false, or_
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from aidmatch.db import TimestampMixin, utcnow

if TYPE_CHECKING:
    from aidmatch.categories.models import Category
    from aidmatch.orgs.models import Organization
    from aidmatch.places.models import Place

OPEN, EXPIRED = "open", "expired"


def today() -> date:
    """Today in UTC: the day against which needed-by and available-until dates are read."""
    return utcnow().date()


def posting_table_args(table: str, held: str, due: str, *own) -> tuple:
    """The constraints and indexes every posting table has (quantity, what matches hold, the
    point, the date that expires it, one row per Idempotency-Key), then the kind's own."""
    return (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(f"{held} >= 0 AND {held} <= quantity", name=f"{held}_within_quantity"),
        # What engine proposals and group requests hold until the donor says yes (soft):
        # runs see quantity - held - proposed, claims quantity - held (matches/holds.py).
        CheckConstraint("proposed >= 0", name="proposed_nonnegative"),
        CheckConstraint(
            "lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="lat_lon_range"
        ),
        Index(f"ix_{table}_lat_lon", "lat", "lon"),
        Index(f"ix_{table}_status_{due}", "status", due),
        # One row per (organization, Idempotency-Key): a form sent twice, or an API call
        # retried, posts once. A unique index rather than a table constraint: SQLite adds an
        # index to a filled table in place, a constraint only by rebuilding the table.
        Index(
            f"uq_{table}_organization_id_idempotency_key",
            "organization_id",
            "idempotency_key",
            unique=True,
        ),
        *own,
    )


class PostingMixin(TimestampMixin):
    """Organization, author, words, category, quantity, place and points, idempotency key."""

    # The name of the date column after which an open row reads as expired.
    due_column: ClassVar[str]

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Title and description case-folded in Python (SQLite's lower() folds only ASCII).
    search_text: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    quantity: Mapped[int]
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"), index=True)
    lat: Mapped[float]
    lon: Mapped[float]
    # True when the organization gave this point; False: it is its settlement's centre.
    point_set: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The coarse point shown to those who may not see the exact one (see DESIGN.md privacy).
    public_lat: Mapped[float]
    public_lon: Mapped[float]
    # Held softly by pending engine proposals and group requests the donor has not accepted
    # (matches/holds.py); the hard hold is the kind's pledged (needs) or allocated (offers).
    proposed: Mapped[int] = mapped_column(default=0, server_default="0")
    # The key of the form or API call that posted it (None: posted without one).
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    # SHA-256 of what that call asked to post: a repeat is compared with it (post_once).
    idempotency_digest: Mapped[str | None] = mapped_column(String(64))

    @declared_attr
    def organization(cls) -> Mapped[Organization]:
        return relationship("Organization")

    @declared_attr
    def category(cls) -> Mapped[Category]:
        return relationship("Category")

    @declared_attr
    def place(cls) -> Mapped[Place]:
        return relationship("Place")

    @classmethod
    def stale(cls, on: date | None = None):
        """SQL: open, but its date has passed (it reads as expired)."""
        due = getattr(cls, cls.due_column)
        return and_(cls.status == OPEN, due.is_not(None), due < (on or today()))

    @classmethod
    def status_is(cls, value: str):
        """SQL: the row reads as this status (open ones past their date read as expired);
        written so that the (status, date) indexes serve it."""
        due = getattr(cls, cls.due_column)
        if value == OPEN:
            return and_(cls.status == OPEN, or_(due.is_(None), due >= today()))
        if value == EXPIRED:
            return or_(cls.status == EXPIRED, cls.stale())
        return cls.status == value

    @hybrid_property
    def effective_status(self) -> str:
        """The status as it reads today: an open row past its date is expired."""
        due = getattr(self, self.due_column)
        if self.status == OPEN and due is not None and due < today():
            return EXPIRED
        return str(self.status)

    @effective_status.inplace.expression
    @classmethod
    def _effective_status_expression(cls):
        return case((cls.stale(), EXPIRED), else_=cls.status)
