"""Users: one login each, a role, and (except staff) one organization."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from enum import StrEnum

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aidmatch.db import TimestampMixin, UTCDateTime, str_enum, utcnow
from aidmatch.extensions import db
from aidmatch.orgs.models import Organization, OrgRole
from aidmatch.permissions import Role


class Language(StrEnum):
    UK = "uk"
    EN = "en"
    DE = "de"


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        # Emails are stored lower-cased, so the UNIQUE constraint is case-insensitive.
        CheckConstraint("email = lower(email)", name="email_lowercase"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    # None for staff, and for a member removed from (or who left) their organization: the
    # account stays, without an organization it can act for.
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    org_role: Mapped[OrgRole] = mapped_column(
        str_enum(OrgRole, "org_role"), default=OrgRole.MEMBER, server_default="member"
    )
    language: Mapped[Language] = mapped_column(str_enum(Language, "language"), default=Language.UK)
    # An IANA time zone the user's times are shown in (web/i18n.select_timezone); None: the
    # instance's DEFAULT_TIMEZONE (Europe/Kyiv unless configured).
    timezone: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Raised by logging out (and by a new password, with the hash): every session cookie
    # made before names an older version and is refused (auth/session.py).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # Notifications beyond the app (notify/): the linked Telegram chat, when the bot lost it
    # (the user blocked it: /account says so), when the address bounced at the mail server.
    telegram_chat_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    telegram_lost_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    email_bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organization: Mapped[Organization | None] = relationship(
        back_populates="members", foreign_keys=[organization_id]
    )

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def session_stamp(self) -> str:
        """16 hex digits of an HMAC (keyed with SECRET_KEY) of the password hash and the
        session version: it changes with a new password and with every logout."""
        key = current_app.config["SECRET_KEY"].encode()
        message = f"{self.id}:{self.session_version}:{self.password_hash}".encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()[:16]

    def end_sessions(self) -> None:
        """End every session of this user, on every device (logout, disabling, removal)."""
        self.session_version = (self.session_version or 0) + 1

    def get_id(self) -> str:  # Flask-Login: what a session cookie names
        """The id and the session stamp, so a logout or a new password ends every session made
        before it (auth/session.py compares the stamp). A login that upgrades an outdated hash
        ends the others too, once, when the hashing parameters change."""
        return f"{self.id}:{self.session_stamp}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 digest is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} user={self.user_id}>"
