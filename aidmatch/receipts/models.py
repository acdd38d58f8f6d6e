"""A match's receipt link and the receipt signed through it.

The link's token is never stored: the row keeps a random nonce and the SHA-256 of the token,
which is the HMAC of the nonce under the app's SECRET_KEY (receipts/links.py). So the slip can
be printed again with the same QR code, while a copy of the database alone neither reveals
nor forges a link.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from aidmatch.db import UTCDateTime, str_enum, utcnow
from aidmatch.extensions import db


class Condition(StrEnum):
    FULL = "full"  # everything arrived in order
    LESS = "less"  # less arrived
    DAMAGED = "damaged"  # (some of) it arrived damaged


class ReceiptLink(db.Model):
    __tablename__ = "receipt_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id"), unique=True)
    nonce: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<ReceiptLink of match {self.match_id}{' used' if self.used_at else ''}>"


class Receipt(db.Model):
    __tablename__ = "receipts"
    __table_args__ = (CheckConstraint("quantity_received >= 0", name="received_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id"), unique=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("receipt_links.id"))
    quantity_received: Mapped[int]
    condition: Mapped[Condition] = mapped_column(str_enum(Condition, "condition"))
    note: Mapped[str | None] = mapped_column(Text)
    signer_name: Mapped[str] = mapped_column(String(200))
    # The receipt form's own random key: the same form sent twice stores once.
    form_key: Mapped[str] = mapped_column(String(64), unique=True)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    disputed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disputed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    dispute_reason: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<Receipt of match {self.match_id} by {self.signer_name!r}>"
