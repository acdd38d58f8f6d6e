"""Categories of aid: a small tree, names in three languages, and the unit of its quantities."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aidmatch.db import UTCDateTime, str_enum
from aidmatch.extensions import db


class Unit(StrEnum):
    PCS = "pcs"
    KG = "kg"
    L = "l"
    EUR = "EUR"


class Category(db.Model):
    __tablename__ = "categories"
    __table_args__ = (
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    name_uk: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    name_de: Mapped[str] = mapped_column(String(120))
    unit: Mapped[Unit] = mapped_column(str_enum(Unit, "unit"))
    position: Mapped[int] = mapped_column(default=0)
    # Set by an admin who retires the category: no new need or offer may take it (forms,
    # CSV, the API), while old ones keep it and still show its name.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    parent: Mapped[Category | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Category]] = relationship(
        back_populates="parent", order_by="Category.position"
    )

    def name(self, language: str = "en") -> str:
        """The category's name in a language (uk, en, de), English if unknown."""
        return getattr(self, f"name_{language}", None) or self.name_en

    @property
    def retired(self) -> bool:
        """Retired by an admin: offered for no new posting."""
        return self.retired_at is not None

    def __repr__(self) -> str:
        return f"<Category {self.slug}>"
