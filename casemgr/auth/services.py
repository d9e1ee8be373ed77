"""Staff accounts and API tokens. Callers commit."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casemgr.audit.services import record
from casemgr.auth.models import ApiToken, User
from casemgr.cases.workflow import STAFF_ROLES
from casemgr.errors import NotFound, ValidationFailed

MIN_PASSWORD_LENGTH = 12


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
    errors: dict[str, list[str]] = {}
    if data.role not in {role.value for role in STAFF_ROLES}:
        errors["role"] = [f"must be one of: {', '.join(r.value for r in STAFF_ROLES)}"]
    if not data.name or not data.name.strip():
        errors["name"] = ["is required"]
    elif len(data.name.strip()) > 120:
        errors["name"] = ["must be at most 120 characters"]
    if data.password or password_required:
        if not data.password or len(data.password) < MIN_PASSWORD_LENGTH:
            errors["password"] = [f"must be at least {MIN_PASSWORD_LENGTH} characters"]
        elif len(data.password) > 1024:
            errors["password"] = ["must be at most 1024 characters"]
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
        set_password(user, data.password)
        changes["password"] = ["", "changed"]
    if not data.active:
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


def set_password(user: User, password: str) -> None:
    """Change the password and sign the user out of every existing session."""
    user.set_password(password)
    user.session_token = secrets.token_hex(16)


def authenticate(session: Session, email: str, password: str, *, now: datetime) -> User | None:
    """The active user with this e-mail and password, else None; audited either way."""
    user = find_by_email(session, email)
    if user is None or not user.active or not user.check_password(password):
        record(
            session,
            action="auth.login_failed",
            now=now,
            actor_id=user.id if user else None,
            details={"email": email[:254]},
        )
        return None
    record(
        session,
        action="auth.login",
        now=now,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
    )
    return user


def load_session_user(session: Session, user_id: str) -> User | None:
    """The user of a session cookie, if the cookie predates no password change."""
    raw_id, _, token = user_id.partition(":")
    if not raw_id.isdigit() or not token:
        return None
    user = session.get(User, int(raw_id))
    if user is None or not secrets.compare_digest(user.session_token, token):
        return None
    return user


def issue_token(session: Session, user: User, *, now: datetime, label: str = "") -> str:
    """A new API token for ``user``; returned once, stored only as a hash."""
    token = "cm_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user=user, token_hash=ApiToken.hash(token), label=label, created_at=now))
    record(
        session,
        action="api_token.create",
        now=now,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        details={"label": label},
    )
    session.flush()
    return token


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
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    return user
