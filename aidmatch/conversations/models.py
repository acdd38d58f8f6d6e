"""A thread (on a match, or on an offer between its organization and one group) and its
messages."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aidmatch.db import UTCDateTime, utcnow
from aidmatch.extensions import db

if TYPE_CHECKING:
    from aidmatch.auth.models import User
    from aidmatch.matches.models import Match
    from aidmatch.offers.models import Offer
    from aidmatch.orgs.models import Organization

BODY_MAX = 2000  # characters of one message


class Thread(db.Model):
    """The conversation on one match, or on one offer between its organization and the group
    that asks (group_id); one of the two, never both."""

    __tablename__ = "conversation_threads"
    __table_args__ = (
        CheckConstraint(
            "(match_id IS NOT NULL AND offer_id IS NULL AND group_id IS NULL) OR "
            "(match_id IS NULL AND offer_id IS NOT NULL AND group_id IS NOT NULL)",
            name="match_or_offer",
        ),
        UniqueConstraint("match_id", name="one_thread_per_match"),
        UniqueConstraint("offer_id", "group_id", name="one_thread_per_offer_and_group"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    match: Mapped[Match | None] = relationship()
    offer: Mapped[Offer | None] = relationship()
    group: Mapped[Organization | None] = relationship()
    messages: Mapped[list[Message]] = relationship(back_populates="thread", order_by="Message.id")

    def __repr__(self) -> str:
        about = f"match={self.match_id}" if self.match_id else f"offer={self.offer_id}"
        return f"<Thread {self.id} {about} group={self.group_id}>"


class Message(db.Model):
    """One message: who wrote it (and for which organization, none for a coordinator), what,
    when; reported to the coordinators by whom and when."""

    __tablename__ = "conversation_messages"
    __table_args__ = (
        Index("ix_conversation_messages_thread", "thread_id", "id"),
        Index("ix_conversation_messages_reported", "reported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("conversation_threads.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    report_reason: Mapped[str | None] = mapped_column(Text)

    thread: Mapped[Thread] = relationship(back_populates="messages")
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    organization: Mapped[Organization | None] = relationship()

    def __repr__(self) -> str:
        return f"<Message {self.id} thread={self.thread_id} by={self.author_id}>"
