"""Staff accounts: creating, changing and deactivating them, passwords, and an
admin's reset of a second factor. Callers commit.

Its own module because administering accounts is apart from signing in
(:mod:`casemgr.auth.signin`) and from API tokens (:mod:`casemgr.auth.tokens`):
each has its own rules and its own callers.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from casemgr.audit.services import record
from casemgr.auth import passwords, session_store
from casemgr.auth.models import RecoveryCode, User
from casemgr.database import get_or_raise
from casemgr.directory.models import Organisation
from casemgr.domain import STAFF_ROLES, Actor, OrgKind, Role
from casemgr.errors import ValidationFailed

# The roles an account may have: the staff's, and a partner hotline's.
ACCOUNT_ROLES: tuple[Role, ...] = (*STAFF_ROLES, Role.PARTNER)


@dataclass
class AccountInput:
    email: str
    name: str
    role: str
    password: str | None = None
    active: bool = True
    # The language of the staff screens; None: the default language.
    language: str | None = None
    # A partner account's hotline (an organisation of kind hotline); None for staff.
    organisation_id: int | None = None


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed(
            {"email": [gettext("is not a valid e-mail address: %(why)s", why=exc)]}
        ) from None


def language_problem(language: str | None, languages: Collection[str]) -> str | None:
    """Why ``language`` cannot be a user's language (None, the default, always can)."""
    if language is None or language in languages:
        return None
    return gettext(
        "must be one of: %(codes)s (or empty for the default language)",
        codes=", ".join(languages),
    )


def _validate(
    session: Session, data: AccountInput, *, password_required: bool, languages: Collection[str]
) -> dict[str, list[str]]:
    """Field errors of ``data``; the password against the policy (casemgr/auth/passwords.py).
    A partner account needs no password (it never signs in on the web)."""
    errors: dict[str, list[str]] = {}
    problem = language_problem(data.language, languages)
    if problem:
        errors["language"] = [problem]
    if data.role not in {role.value for role in ACCOUNT_ROLES}:
        errors["role"] = [
            gettext("must be one of: %(codes)s", codes=", ".join(r.value for r in ACCOUNT_ROLES))
        ]
    problem = organisation_problem(session, data.role, data.organisation_id)
    if problem:
        errors["organisation"] = [problem]
    if data.role == Role.PARTNER:
        password_required = False
    if not data.name or not data.name.strip():
        errors["name"] = [gettext("is required")]
    elif len(data.name.strip()) > 120:
        errors["name"] = [gettext("must be at most %(num)d characters", num=120)]
    if data.password or password_required:
        found = passwords.problems(data.password or "", email=data.email)
        if found:
            errors["password"] = found
    return errors


def organisation_problem(session: Session, role: str, organisation_id: int | None) -> str | None:
    """Why ``organisation_id`` cannot be the organisation of an account of ``role``:
    a partner account needs a hotline of the directory, staff accounts have none."""
    if role != Role.PARTNER:
        if organisation_id is None:
            return None
        return gettext("only a partner account belongs to an organisation")
    if organisation_id is None:
        return gettext("is required for a partner account: the partner hotline's id")
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        return gettext("no organisation with id %(id)d", id=organisation_id)
    if organisation.kind != OrgKind.HOTLINE:
        return gettext(
            "%(name)s is not a partner hotline (its kind is %(kind)s)",
            name=organisation.name,
            kind=organisation.kind,
        )
    return None


def partner_hotlines(session: Session) -> list[Organisation]:
    """The hotlines of the directory a partner account may belong to, by name."""
    return list(
        session.scalars(
            select(Organisation)
            .where(Organisation.kind == OrgKind.HOTLINE)
            .order_by(Organisation.name, Organisation.id)
        )
    )


# --- finding accounts


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def get_user(session: Session, user_id: int) -> User:
    return get_or_raise(session, User, user_id, what="user")


def list_staff(session: Session) -> list[User]:
    """Every account, partner accounts included (with their organisation), by name."""
    return list(
        session.scalars(
            select(User).options(selectinload(User.organisation)).order_by(User.name)
        ).all()
    )


def active_staff(session: Session) -> list[User]:
    """Active members of staff (partner accounts are not), by name."""
    return list(
        session.scalars(
            select(User).where(User.active, User.role != Role.PARTNER).order_by(User.name)
        ).all()
    )


# --- changing accounts


def create_user(
    session: Session,
    data: AccountInput,
    *,
    now: datetime,
    actor: Actor,
    languages: Collection[str] = (),
) -> User:
    """A new account; ``languages`` are those ``data.language`` may be (LANGUAGES)."""
    errors = _validate(session, data, password_required=True, languages=languages)
    try:
        email = normalise_email(data.email)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    else:
        if find_by_email(session, email):
            errors["email"] = [gettext("an account with this e-mail exists already")]
    if errors:
        raise ValidationFailed(errors)
    partner = data.role == Role.PARTNER
    user = User(
        email=email,
        name=data.name.strip(),
        role=data.role,
        active=data.active,
        language=data.language,
        organisation_id=data.organisation_id if partner else None,
        created_at=now,
        session_token=secrets.token_hex(16),
    )
    # A partner never signs in on the web: its password is random and never told.
    user.set_password(secrets.token_urlsafe(32) if partner else data.password or "")
    session.add(user)
    session.flush()
    record(
        session,
        action="user.create",
        now=now,
        actor_id=actor.id,
        target_type="user",
        target_id=user.id,
        details={"email": email, "role": data.role}
        | ({"organisation_id": data.organisation_id} if partner else {}),
    )
    return user


def update_user(
    session: Session,
    user: User,
    data: AccountInput,
    *,
    now: datetime,
    actor: Actor,
    languages: Collection[str] = (),
) -> User:
    errors = _validate(session, data, password_required=False, languages=languages)
    try:
        email = normalise_email(data.email)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    else:
        other = find_by_email(session, email)
        if other is not None and other.id != user.id:
            errors["email"] = [gettext("an account with this e-mail exists already")]
    if user.id == actor.id and (data.role != user.role or not data.active):
        errors.setdefault("role", []).append(
            gettext("you cannot change your own role or deactivate yourself")
        )
    if (data.role == Role.PARTNER) != (user.role == Role.PARTNER):
        errors.setdefault("role", []).append(
            gettext("a partner account cannot become a staff account, nor the other way round")
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
            ("language", data.language),
            ("organisation_id", data.organisation_id),
        )
        if getattr(user, name) != value
    }
    user.email, user.name, user.role, user.active = email, data.name.strip(), data.role, data.active
    user.language = data.language
    user.organisation_id = data.organisation_id
    if data.password and user.role != Role.PARTNER:
        set_password(session, user, data.password, now=now)
        changes["password"] = ["", "changed"]
    if not data.active or "role" in changes or "organisation_id" in changes:
        # Deactivated, or the rights changed: every session of the user ends
        # (a new role may need a second factor at the next sign-in).
        session_store.end_every_session(session, user, now=now, reason="account")
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
    user.totp_pending_secret = user.totp_pending_at = user.totp_pending_holder = None
    session_store.end_every_session(session, user, now=now, reason="two_factor")
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


def change_own_language(
    session: Session,
    user: User,
    language: str | None,
    *,
    languages: Collection[str],
    now: datetime,
) -> bool:
    """A signed-in user picks the language of their staff screens (None: the
    default). Audited as an account change; returns whether anything changed."""
    problem = language_problem(language, languages)
    if problem:
        raise ValidationFailed({"language": [problem]})
    if user.language == language:
        return False
    previous, user.language = user.language, language
    session.flush()
    record(
        session,
        action="user.update",
        now=now,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        details={"language": [previous, language]},
    )
    return True


# --- passwords


def set_password(
    session: Session, user: User, password: str, *, now: datetime, keep: str | None = None
) -> None:
    """Change the password and end every session of the user but the one whose
    key is ``keep`` (the user's own, when they changed it there)."""
    user.set_password(password)
    user.password_changed_at = now
    session_store.end_every_session(session, user, now=now, reason="password", keep=keep)


def change_own_password(
    session: Session, user: User, current: str, new: str, *, now: datetime, keep: str | None
) -> None:
    """A signed-in user changes their password; the current one is required.

    Raises ValidationFailed; every session of the user ends but the one whose
    key is ``keep`` (the caller signs it in again with the new session_token)."""
    if not user.check_password(current or ""):
        record(
            session,
            action="auth.password_change_failed",
            now=now,
            actor_id=user.id,
            target_type="user",
            target_id=user.id,
        )
        raise ValidationFailed({"current_password": [gettext("is not your current password")]})
    found = passwords.problems(new or "", email=user.email)
    if not found and user.check_password(new):
        found = [gettext("is your current password; choose a new one")]
    if found:
        raise ValidationFailed({"new_password": found})
    set_password(session, user, new, now=now, keep=keep)
    session.flush()
    record(
        session,
        action="auth.password_change",
        now=now,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
    )
