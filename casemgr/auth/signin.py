"""Signing in: the password step, the steps after it under the same lock, the
count of failures per address (the throttle), and the user of a session.
Callers commit.

Its own module because the sign-in's defences (the lock, the same work and
answer whether or not an account exists) are one concern, apart from
administering accounts (:mod:`casemgr.auth.accounts`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TypeVar

from flask import current_app, has_app_context
from sqlalchemy import case, delete, literal, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from casemgr.audit.services import record
from casemgr.auth import session_store
from casemgr.auth.accounts import find_by_email
from casemgr.auth.models import LoginThrottle, User, UserSession
from casemgr.database import UTCDateTime, dialect_insert, is_valid_id
from casemgr.domain import Role
from casemgr.settings import LoginPolicy

T = TypeVar("T")


@dataclass
class SignIn:
    """What the password step decided: ``user`` is set only when it passed."""

    user: User | None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.user is not None


def authenticate(
    session: Session, email: str, password: str, *, now: datetime, policy: LoginPolicy
) -> SignIn:
    """The password step of signing in; audited either way.

    Unknown addresses, deactivated accounts, wrong passwords and partner
    accounts (API only, never on the web) are refused alike, after the same
    password-hashing work, and count towards the lock of the address given
    (which holds whether or not an account has it).
    While an address is locked even the right password is refused.
    """
    email = (email or "").strip()[:254]
    lock = locked_until(session, email, now=now)
    user = find_by_email(session, email)
    # Hash the password whatever happens, so the time taken tells nothing.
    matches = user.check_password(password) if user else _check_dummy(password)
    if lock is not None:
        _record_locked_out(session, email, user, lock, now)
        return SignIn(None, lock)
    if user is None or not user.active or not matches or user.role == Role.PARTNER:
        reason = (
            "unknown_email"
            if user is None
            else "inactive"
            if not user.active
            else "partner_account"
            if user.role == Role.PARTNER
            else "password"
        )
        return SignIn(None, login_failed(session, email, user, reason, now=now, policy=policy))
    # The count of failures is cleared when the sign-in completes, not here:
    # else the right password would buy unlimited tries at the second factor.
    record(
        session,
        action="auth.password_ok",
        now=now,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
    )
    return SignIn(user)


def second_step(
    session: Session,
    user: User,
    reason: str,
    attempt: Callable[[], T | None],
    *,
    now: datetime,
    policy: LoginPolicy,
) -> tuple[T | None, datetime | None]:
    """A step of signing in after the password (the second factor, enrolling
    one), under the same lock as the password step: refused and audited while
    the address is locked; else ``attempt()``, whose None is a failure of
    ``reason`` that counts towards the lock. Returns what the attempt gave
    (None when refused or failed) and the lock now in force, if any."""
    lock = locked_until(session, user.email, now=now)
    if lock is not None:
        _record_locked_out(session, user.email, user, lock, now)
        return None, lock
    result = attempt()
    if result is None:
        return None, login_failed(session, user.email, user, reason, now=now, policy=policy)
    return result, None


def two_factor_required(user: User, policy: LoginPolicy) -> bool:
    """Supervisors and admins always; everyone when REQUIRE_2FA_FOR_ALL is set."""
    return policy.require_2fa_for_all or user.has_role(Role.SUPERVISOR)


def load_session_user(session: Session, user_id: str, key: object) -> UserSession | None:
    """The open session (with its user) of a session cookie that holds flask-login's
    ``user_id`` ("id:session_token") and the session's ``key``: refused when the
    row was ended (signed out) or the session_token changed since (a new password,
    second factor, role; signed out everywhere)."""
    raw_id, _, token = user_id.partition(":")
    if not raw_id.isdecimal() or not token or not isinstance(key, str) or not key:
        return None
    if not is_valid_id(int(raw_id)):
        return None
    record = session_store.find_open(session, int(raw_id), key)
    if record is None or not secrets.compare_digest(record.user.session_token, token):
        return None
    if record.user.role == Role.PARTNER:  # API only: a partner never holds a web session
        return None
    return record


# --- the lock on an address after repeated failures


def _record_locked_out(
    session: Session, email: str, user: User | None, lock: datetime, now: datetime
) -> None:
    record(
        session,
        action="auth.login_refused_locked",
        now=now,
        actor_id=user.id if user else None,
        details={"email": email, "locked_until": lock.isoformat()},
    )


def login_failed(
    session: Session,
    email: str,
    user: User | None,
    reason: str,
    *,
    now: datetime,
    policy: LoginPolicy,
) -> datetime | None:
    """Count a failed step of signing in (password or second factor) and audit it;
    returns the end of the lock when this failure started one."""
    record(
        session,
        action="auth.login_failed",
        now=now,
        actor_id=user.id if user else None,
        details={"email": email[:254], "reason": reason},
    )
    lock = _count_failure(session, LoginThrottle.key_for(email), now=now, policy=policy)
    if lock is not None:
        record(
            session,
            action="auth.lockout",
            now=now,
            actor_id=user.id if user else None,
            details={"email": email[:254], "locked_until": lock.isoformat()},
        )
    return lock


def locked_until(session: Session, email: str, *, now: datetime) -> datetime | None:
    """The end of the lock on ``email``, if it is locked now."""
    throttle = session.get(LoginThrottle, LoginThrottle.key_for(email), populate_existing=True)
    if throttle is not None and throttle.locked_until is not None and throttle.locked_until > now:
        return throttle.locked_until
    return None


def clear_failures(session: Session, email: str) -> None:
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == LoginThrottle.key_for(email)))


def _count_failure(
    session: Session, key: str, *, now: datetime, policy: LoginPolicy
) -> datetime | None:
    """One more failure for ``key``, atomically (an upsert), across processes."""
    when = literal(now, UTCDateTime())
    window_start = literal(now - policy.failure_window, UTCDateTime())
    stale = LoginThrottle.first_failure_at < window_start
    insert = dialect_insert(session)
    statement = insert(LoginThrottle).values(
        key=key, failures=1, first_failure_at=now, locked_until=None
    )
    statement = statement.on_conflict_do_update(
        index_elements=["key"],
        set_={
            "failures": case((stale, 1), else_=LoginThrottle.failures + 1),
            "first_failure_at": case((stale, when), else_=LoginThrottle.first_failure_at),
        },
    ).returning(LoginThrottle.failures)
    failures = session.execute(statement).scalar_one()
    # Forget addresses whose failures are old and whose lock is over.
    session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.first_failure_at < now - policy.failure_window - policy.lockout,
            (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < now),
        )
    )
    if failures < policy.max_failures:
        return None
    until = now + policy.lockout
    session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == key)
        .values(locked_until=until, failures=0, first_failure_at=now)
    )
    return until


# --- the same hashing work for an address that has no account


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_hex(16), method=method)


def _check_dummy(password: str) -> bool:
    method = current_app.config["PASSWORD_HASH_METHOD"] if has_app_context() else "scrypt"
    check_password_hash(_dummy_hash(method), password)
    return False
