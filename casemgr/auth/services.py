"""Staff accounts and API tokens. Callers commit."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TypeVar

from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_app_context
from sqlalchemy import case, delete, func, literal, select, update
from sqlalchemy.orm import Session, selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from casemgr.audit.services import record
from casemgr.auth import passwords
from casemgr.auth.models import ApiToken, LoginThrottle, User
from casemgr.database import UTCDateTime, is_valid_id
from casemgr.domain import STAFF_ROLES, Role
from casemgr.errors import Conflict, NotFound, ValidationFailed
from casemgr.settings import LoginPolicy

T = TypeVar("T")

MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH


@dataclass
class AccountInput:
    email: str
    name: str
    role: str
    password: str | None = None
    active: bool = True


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed({"email": [str(exc)]}) from None


def _validate(data: AccountInput, *, password_required: bool) -> dict[str, list[str]]:
    """Field errors of ``data``; the password against the policy (casemgr/auth/passwords.py)."""
    errors: dict[str, list[str]] = {}
    if data.role not in {role.value for role in STAFF_ROLES}:
        errors["role"] = [f"must be one of: {', '.join(r.value for r in STAFF_ROLES)}"]
    if not data.name or not data.name.strip():
        errors["name"] = ["is required"]
    elif len(data.name.strip()) > 120:
        errors["name"] = ["must be at most 120 characters"]
    if data.password or password_required:
        found = passwords.problems(data.password or "", email=data.email)
        if found:
            errors["password"] = found
    return errors


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(
    session: Session, data: AccountInput, *, now: datetime, actor_id: int | None = None
) -> User:
    errors = _validate(data, password_required=True)
    try:
        email = normalise_email(data.email)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    else:
        if find_by_email(session, email):
            errors["email"] = ["an account with this e-mail exists already"]
    if errors:
        raise ValidationFailed(errors)
    user = User(
        email=email,
        name=data.name.strip(),
        role=data.role,
        active=data.active,
        created_at=now,
        session_token=secrets.token_hex(16),
    )
    user.set_password(data.password or "")
    session.add(user)
    session.flush()
    record(
        session,
        action="user.create",
        now=now,
        actor_id=actor_id,
        target_type="user",
        target_id=user.id,
        details={"email": email, "role": data.role},
    )
    return user


def update_user(
    session: Session, user: User, data: AccountInput, *, now: datetime, actor_id: int
) -> User:
    errors = _validate(data, password_required=False)
    try:
        email = normalise_email(data.email)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    else:
        other = find_by_email(session, email)
        if other is not None and other.id != user.id:
            errors["email"] = ["an account with this e-mail exists already"]
    if user.id == actor_id and (data.role != user.role or not data.active):
        errors.setdefault("role", []).append(
            "you cannot change your own role or deactivate yourself"
        )
    if errors:
        raise ValidationFailed(errors)
    changes = {
        name: [getattr(user, name), value]
        for name, value in (
            ("email", email),
            ("name", data.name.strip()),
            ("role", data.role),
            ("active", data.active),
        )
        if getattr(user, name) != value
    }
    user.email, user.name, user.role, user.active = email, data.name.strip(), data.role, data.active
    if data.password:
        set_password(user, data.password, now=now)
        changes["password"] = ["", "changed"]
    if not data.active or "role" in changes:
        # Deactivated, or the rights changed: every session of the user ends
        # (a new role may need a second factor at the next sign-in).
        user.session_token = secrets.token_hex(16)
    session.flush()
    record(
        session,
        action="user.update",
        now=now,
        actor_id=actor_id,
        target_type="user",
        target_id=user.id,
        details=changes,
    )
    return user


def set_password(user: User, password: str, *, now: datetime | None = None) -> None:
    """Change the password and sign the user out of every existing session."""
    user.set_password(password)
    user.session_token = secrets.token_hex(16)
    if now is not None:
        user.password_changed_at = now


def change_own_password(
    session: Session, user: User, current: str, new: str, *, now: datetime
) -> None:
    """A signed-in user changes their password; the current one is required.

    Raises ValidationFailed; every session of the user ends (the caller signs
    this one in again)."""
    if not user.check_password(current or ""):
        record(
            session,
            action="auth.password_change_failed",
            now=now,
            actor_id=user.id,
            target_type="user",
            target_id=user.id,
        )
        raise ValidationFailed({"current_password": ["is not your current password"]})
    found = passwords.problems(new or "", email=user.email)
    if not found and user.check_password(new):
        found = ["is your current password; choose a new one"]
    if found:
        raise ValidationFailed({"new_password": found})
    set_password(user, new, now=now)
    session.flush()
    record(
        session,
        action="auth.password_change",
        now=now,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
    )


# --- signing in


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

    Unknown addresses, deactivated accounts and wrong passwords are refused
    alike, after the same password-hashing work, and count towards the lock
    of the address given (which holds whether or not an account has it).
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
    if user is None or not user.active or not matches:
        reason = (
            "unknown_email" if user is None else ("inactive" if not user.active else "password")
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
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
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


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_hex(16), method=method)


def _check_dummy(password: str) -> bool:
    method = current_app.config["PASSWORD_HASH_METHOD"] if has_app_context() else "scrypt"
    check_password_hash(_dummy_hash(method), password)
    return False


def two_factor_required(user: User, policy: LoginPolicy) -> bool:
    """Supervisors and admins always; everyone when REQUIRE_2FA_FOR_ALL is set."""
    return policy.require_2fa_for_all or user.has_role(Role.SUPERVISOR)


def load_session_user(session: Session, user_id: str) -> User | None:
    """The user of a session cookie, if the cookie predates no password change."""
    raw_id, _, token = user_id.partition(":")
    if not raw_id.isdigit() or not token:
        return None
    user = session.get(User, int(raw_id))
    if user is None or not secrets.compare_digest(user.session_token, token):
        return None
    return user


# --- API tokens


MAX_TOKEN_LABEL_LENGTH = 120  # the column's length


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: ``secret`` is the bearer token itself, which exists
    only here (the database keeps its hash); show it once and let it go."""

    token: ApiToken
    secret: str


def issue_api_token(
    session: Session, user: User, *, label: str, actor: User | None, now: datetime
) -> IssuedToken:
    """A new API token for ``user``, acting with their role; audited.

    ``actor`` is the admin issuing it (None: the command line). Raises
    ValidationFailed for a label that is too long or holds control characters,
    and Conflict for a deactivated account (its tokens are refused anyway).
    """
    label = _clean_token_label(label)
    if not user.active:
        raise Conflict(f"{user.email} is deactivated: its API tokens would be refused")
    secret = "cm_" + secrets.token_urlsafe(32)
    token = ApiToken(user=user, token_hash=ApiToken.hash(secret), label=label, created_at=now)
    session.add(token)
    session.flush()
    record(
        session,
        action="api_token.create",
        now=now,
        actor_id=actor.id if actor is not None else None,
        target_type="user",
        target_id=user.id,
        details={"token_id": token.id, "label": label},
    )
    return IssuedToken(token, secret)


def issue_token(
    session: Session, user: User, *, now: datetime, label: str = "", actor: User | None = None
) -> str:
    """The secret of a new API token for ``user`` (see :func:`issue_api_token`)."""
    return issue_api_token(session, user, label=label, actor=actor, now=now).secret


def _clean_token_label(label: str) -> str:
    label = (label or "").strip()
    if len(label) > MAX_TOKEN_LABEL_LENGTH:
        raise ValidationFailed({"label": [f"must be at most {MAX_TOKEN_LABEL_LENGTH} characters"]})
    if not label.isprintable():
        raise ValidationFailed({"label": ["must not contain control characters"]})
    return label


def revoke_token(session: Session, token_id: int, *, actor: User | None, now: datetime) -> ApiToken:
    """Revoke an API token: the very next call with it gets 401. Audited.

    Idempotent: a token revoked already keeps its first ``revoked_at`` and
    nothing is recorded again (also when two admins revoke it at once: the
    UPDATE only touches a token that is not revoked yet). ``actor`` is the
    admin (None: the command line). Raises NotFound for an unknown id.
    """
    token = get_token(session, token_id)
    revoked_now = session.execute(
        update(ApiToken)
        .where(ApiToken.id == token.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(token, ["revoked_at"])
    if revoked_now:
        record(
            session,
            action="api_token.revoke",
            now=now,
            actor_id=actor.id if actor is not None else None,
            target_type="user",
            target_id=token.user_id,
            details={"token_id": token.id, "label": token.label},
        )
    return token


def get_token(session: Session, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id) if is_valid_id(token_id) else None
    if token is None:
        raise NotFound(f"no API token with id {token_id}")
    return token


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    """``user``'s API tokens, newest first, revoked ones included."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def list_all_tokens(session: Session) -> list[ApiToken]:
    """Every API token with its user, newest first, revoked ones included."""
    return list(
        session.scalars(
            select(ApiToken)
            .options(selectinload(ApiToken.user))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def user_for_token(session: Session, token: str, *, now: datetime) -> User | None:
    api_token = session.scalar(select(ApiToken).where(ApiToken.token_hash == ApiToken.hash(token)))
    if api_token is None or api_token.revoked_at is not None or not api_token.user.active:
        return None
    if api_token.last_used_at is None or (now - api_token.last_used_at).total_seconds() > 60:
        api_token.last_used_at = now  # at most once a minute: no write per request
    return api_token.user


def list_staff(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)).all())


def active_staff(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.active).order_by(User.name)).all())


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id) if is_valid_id(user_id) else None
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    return user
