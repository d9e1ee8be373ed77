"""Staff accounts: creating, changing and deactivating them, passwords, and an
admin's reset of a second factor. Callers commit.

Its own module because administering accounts is apart from signing in
(:mod:`casemgr.auth.signin`) and from API tokens (:mod:`casemgr.auth.tokens`):
each has its own rules and its own callers.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from casemgr.audit.services import record
from casemgr.auth import passwords
from casemgr.auth.models import RecoveryCode, User
from casemgr.database import get_or_raise
from casemgr.domain import STAFF_ROLES, Actor
from casemgr.errors import ValidationFailed


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


# --- finding accounts


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def get_user(session: Session, user_id: int) -> User:
    return get_or_raise(session, User, user_id, what="user")


def list_staff(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)).all())


def active_staff(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.active).order_by(User.name)).all())


# --- changing accounts


def create_user(session: Session, data: AccountInput, *, now: datetime, actor: Actor) -> User:
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
        actor_id=actor.id,
        target_type="user",
        target_id=user.id,
        details={"email": email, "role": data.role},
    )
    return user


def update_user(
    session: Session, user: User, data: AccountInput, *, now: datetime, actor: Actor
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
    if user.id == actor.id and (data.role != user.role or not data.active):
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
        actor_id=actor.id,
        target_type="user",
        target_id=user.id,
        details=changes,
    )
    return user


def reset_two_factor(session: Session, user: User, *, now: datetime, actor: Actor) -> None:
    """An admin removes a user's second factor (a lost phone): the user enrols
    again at the next sign-in, and every session of theirs ends."""
    user.totp_secret = None
    user.totp_enrolled_at = None
    user.totp_last_step = None
    user.session_token = secrets.token_hex(16)
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.flush()
    record(
        session,
        action="auth.2fa_reset",
        now=now,
        actor_id=actor.id,
        target_type="user",
        target_id=user.id,
        details={"email": user.email},
    )


# --- passwords


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
