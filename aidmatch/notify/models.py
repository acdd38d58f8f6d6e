"""The outbox: a notification per recipient, written in the transaction of the change that
causes it, and a delivery per channel beyond the app (e-mail, Telegram) with its attempts."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aidmatch.auth.models import User
from aidmatch.db import UTCDateTime, str_enum, utcnow
from aidmatch.extensions import db


class Channel(StrEnum):
    EMAIL = "email"
    TELEGRAM = "telegram"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for the worker (or for its next attempt)
    SENDING = "sending"  # a worker took it (claimed_at); a sweep retries it when stale
    SENT = "sent"
    FAILED = "failed"  # gave up: shown to admins, with the last error


class Notification(db.Model):
    """One thing told to one user; what it names is in ``params`` (ids and words the recipient
    may see: never a point, a note, a contact or a title)."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_created", "user_id", "created_at"),
        Index("ix_notifications_user_unread", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Shown in the inbox (False: e-mail only, as a password reset or a daily digest).
    inbox: Mapped[bool] = mapped_column(default=True)
    # What it is about: where its link leads.
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id", ondelete="SET NULL"))
    need_id: Mapped[int | None] = mapped_column(ForeignKey("needs.id", ondelete="SET NULL"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id", ondelete="SET NULL"))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    params_json: Mapped[str] = mapped_column(Text, default="{}")
    # Set for what must be told once only (a reminder): a second one with the key is not made.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)

    deliveries: Mapped[list[Delivery]] = relationship(back_populates="notification")
    user: Mapped[User] = relationship()

    @property
    def params(self) -> dict:
        return json.loads(self.params_json or "{}")

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} user={self.user_id}>"


class Delivery(db.Model):
    """One notification sent on one channel: its attempts, last error and time sent."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel", name="one_delivery_per_channel"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The worker that claimed it (a token per deliver task): only it records the outcome.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    notification: Mapped[Notification] = relationship(back_populates="deliveries")

    def __repr__(self) -> str:
        return f"<Delivery {self.id} {self.channel} {self.status}>"


class Preference(db.Model):
    """A user's choice for one kind of notification on one channel, where it differs from
    the default (notify/kinds.py)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind", "channel", name="one_choice"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    enabled: Mapped[bool] = mapped_column()


class TelegramCode(db.Model):
    """A one-time code that links a Telegram chat to a user (only its SHA-256 is stored)."""

    __tablename__ = "telegram_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TelegramMessage(db.Model):
    """A Telegram message the bot sent for a notification of a kind that takes replies
    (notify/kinds.py ``replies``): a reply to it in that chat is a reply to what the
    notification is about (telegram/updates.py)."""

    __tablename__ = "telegram_messages"
    __table_args__ = (UniqueConstraint("chat_id", "message_id", name="one_per_chat_message"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    notification: Mapped[Notification] = relationship()

    def __repr__(self) -> str:
        return f"<TelegramMessage {self.chat_id}/{self.message_id} note={self.notification_id}>"
