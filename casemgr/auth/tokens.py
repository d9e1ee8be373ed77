"""API tokens: issuing, listing and revoking them, and the account a bearer
token acts for. Callers commit.

Its own module because tokens are how partners' systems reach the API: a
concern of their own, used by the staff screens, the command line and the
API's authentication, apart from signing in and from account administration.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext
from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from casemgr.audit.services import record
from casemgr.auth.models import ApiToken, User
from casemgr.database import get_or_raise
from casemgr.domain import SYSTEM_ACTOR, Actor
from casemgr.errors import Conflict, ValidationFailed

MAX_TOKEN_LABEL_LENGTH = 120  # the column's length


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: ``secret`` is the bearer token itself, which exists
    only here (the database keeps its hash); show it once and let it go."""

    token: ApiToken
    secret: str


def issue_api_token(
    session: Session, user: User, *, label: str, actor: Actor, now: datetime
) -> IssuedToken:
    """A new API token for ``user``, acting with their role; audited.

    ``actor`` is the admin issuing it (SYSTEM_ACTOR: the command line). Raises
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
        actor_id=actor.id,
        target_type="user",
        target_id=user.id,
        details={"token_id": token.id, "label": label},
    )
    return IssuedToken(token, secret)


def issue_token(
    session: Session, user: User, *, now: datetime, label: str = "", actor: Actor = SYSTEM_ACTOR
) -> str:
    """The secret of a new API token for ``user`` (see :func:`issue_api_token`)."""
    return issue_api_token(session, user, label=label, actor=actor, now=now).secret


def _clean_token_label(label: str) -> str:
    label = (label or "").strip()
    if len(label) > MAX_TOKEN_LABEL_LENGTH:
        raise ValidationFailed(
            {"label": [gettext("must be at most %(num)d characters", num=MAX_TOKEN_LABEL_LENGTH)]}
        )
    if not label.isprintable():
        raise ValidationFailed({"label": [gettext("must not contain control characters")]})
    return label


def revoke_token(session: Session, token_id: int, *, actor: Actor, now: datetime) -> ApiToken:
    """Revoke an API token: the very next call with it gets 401. Audited.

    Idempotent: a token revoked already keeps its first ``revoked_at`` and
    nothing is recorded again (also when two admins revoke it at once: the
    UPDATE only touches a token that is not revoked yet). ``actor`` is the
    admin (SYSTEM_ACTOR: the command line). Raises NotFound for an unknown id.
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
            actor_id=actor.id,
            target_type="user",
            target_id=token.user_id,
            details={"token_id": token.id, "label": token.label},
        )
    return token


def get_token(session: Session, token_id: int) -> ApiToken:
    return get_or_raise(session, ApiToken, token_id, what="API token")


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
            .options(selectinload(ApiToken.user).selectinload(User.organisation))
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
