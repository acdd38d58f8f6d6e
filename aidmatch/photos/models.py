"""A photo of a match: re-encoded on upload (images.py), so nothing but its pixels is kept.

The bytes live in the database, not in a folder: a photo is written in the same transaction
as the receipt it proves (a receipt that rolls back leaves no orphan file), every app server
and worker sees it without a shared disk, and backups hold it with the rest. A photo is at
most ~300 KB after re-encoding (1600 px, JPEG quality 82), and a match has a few.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from aidmatch.db import UTCDateTime, str_enum, utcnow
from aidmatch.extensions import db


class PhotoPurpose(StrEnum):
    DELIVERY = "delivery"  # proof that the goods arrived
    DAMAGE = "damage"  # what arrived damaged


class Photo(db.Model):
    __tablename__ = "photos"
    __table_args__ = (
        CheckConstraint("width > 0 AND height > 0", name="size_positive"),
        CheckConstraint(
            "uploaded_by_id IS NOT NULL OR signer_name IS NOT NULL", name="someone_uploaded"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id"), index=True)
    purpose: Mapped[PhotoPurpose] = mapped_column(str_enum(PhotoPurpose, "purpose"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signer_name: Mapped[str | None] = mapped_column(String(200))  # through a receipt link
    content_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int]
    height: Mapped[int]
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<Photo {self.id} of match {self.match_id} {self.purpose}>"
