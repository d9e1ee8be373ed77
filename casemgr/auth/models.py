from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from casemgr.database import Base, UTCDateTime
from casemgr.domain import Actor, Role

if TYPE_CHECKING:
    from casemgr.directory.models import Organisation


class User(UserMixin, Base):
    """A member of staff, or a partner hotline's account (role ``partner``): API
    only, never signed in on the web, tied to its organisation of the directory.
    The public has no User."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Changed with the password, the second factor, the role and on
    # deactivation: invalidates every session made before.
    session_token: Mapped[str] = mapped_column(String(64))
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The language of the staff screens for this user (one of LANGUAGES);
    # None: the default language (the first of LANGUAGES).
    language: Mapped[str | None] = mapped_column(String(10))
    # A partner account's hotline in the directory; NULL for every member of staff.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )

    # Second factor: the TOTP secret, encrypted like reporters' contacts
    # (context.cipher()); NULL until the user has enrolled.
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The time step (Unix time // 30) of the last code accepted: a code of
    # this step or an earlier one is never accepted again.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # A second factor being set up: its secret (encrypted as above), when it was
    # made, and the SHA-256 of a random key held in the session of the browser
    # that is setting it up. Only that browser is shown it; never in the cookie.
    totp_pending_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_pending_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_pending_holder: Mapped[str | None] = mapped_column(String(64))

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")
    organisation: Mapped[Organisation | None] = relationship()
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def has_two_factor(self) -> bool:
        return self.totp_secret is not None

    def set_password(self, password: str) -> None:
        method = current_app.config["PASSWORD_HASH_METHOD"] if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # flask-login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def actor(self) -> Actor:
        return Actor(id=self.id, role=Role(self.role))

    def has_role(self, role: Role | str) -> bool:
        return self.actor.has(Role(role))

    @property
    def is_partner(self) -> bool:
        return self.role == Role.PARTNER

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class UserSession(Base):
    """A signed-in session on the web. The session cookie holds a random key;
    the server keeps only its SHA-256. A cookie is let in while its row is open
    (and the account's session_token is the one in the cookie): signing out
    ends the row, so a copy of the cookie kept from before is refused."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Brought forward now and then, not at every request (casemgr/auth/session_store.py).
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why it ended: logout, everywhere, password, two_factor, account.
    end_reason: Mapped[str | None] = mapped_column(String(20))

    user: Mapped[User] = relationship()

    @property
    def ended(self) -> bool:
        return self.ended_at is not None

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def usable(self) -> bool:
        """Whether a call with this token would be let in now."""
        return not self.revoked and self.user.active

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class RecoveryCode(Base):
    """A one-time code that stands in for the authenticator app; only its SHA-256
    is stored (a code holds 80 random bits, beyond guessing from the hash)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="recovery_codes")

    @staticmethod
    def hash(code: str) -> str:
        return hashlib.sha256(code.encode()).hexdigest()


class LoginThrottle(Base):
    """Failed sign-ins per e-mail address, in the database so that every worker
    process sees them. Kept for addresses that have no account as well, so
    that a lockout says nothing about whether an account exists."""

    __tablename__ = "login_throttle"

    # SHA-256 of the lower-cased address: the table holds no e-mail in clear.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    first_failure_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @staticmethod
    def key_for(email: str) -> str:
        return hashlib.sha256(b"login:" + email.strip().lower().encode()).hexdigest()
