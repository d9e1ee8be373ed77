"""The server's record of signed-in sessions (:class:`UserSession`). Callers commit.

A sign-in opens a row and gives back a random key for the session cookie; the
server keeps only the key's SHA-256. The cookie is let in while its row is
open and the account's session_token is still the one in the cookie. Signing
out ends the row (a kept copy of the cookie is refused from then on); signing
out everywhere, a new password, a second factor set up or reset, and an
admin's change of the account end every row and rotate the session_token.

Its own module because the request's checks (:mod:`casemgr.auth.sessions`),
signing in and administering accounts all need it.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, select, update
from sqlalchemy.orm import Session, contains_eager

from casemgr.auth.models import User, UserSession
from casemgr.settings import LoginPolicy

# last_seen_at is brought forward at most this often: a write now and then,
# not at every request. The idle limit is kept by the cookie to the second;
# the row only tells which sessions may still be in use.
SEEN_EVERY = timedelta(minutes=5)


def open_session(session: Session, user: User, *, now: datetime, policy: LoginPolicy) -> str:
    """A new session of ``user``; returns its key, for the session cookie only.
    The user's rows that ended or expired are deleted first (housekeeping)."""
    forget_old(session, user, now=now, policy=policy)
    key = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            user_id=user.id, key_hash=UserSession.hash(key), started_at=now, last_seen_at=now
        )
    )
    session.flush()
    return key


def key_hash(key: str) -> str:
    return UserSession.hash(key)


def find_open(session: Session, user_id: int, key: str) -> UserSession | None:
    """The open session of ``user_id`` whose key is ``key``, with its user (one query)."""
    return session.scalar(
        select(UserSession)
        .join(UserSession.user)
        .options(contains_eager(UserSession.user))
        .where(
            UserSession.user_id == user_id,
            UserSession.key_hash == UserSession.hash(key),
            UserSession.ended_at.is_(None),
        )
    )


def seen(record: UserSession, *, now: datetime) -> bool:
    """Bring ``record.last_seen_at`` forward if it is older than SEEN_EVERY;
    whether it changed (then the caller commits)."""
    if now - record.last_seen_at < SEEN_EVERY:
        return False
    record.last_seen_at = now
    return True


def end_session(session: Session, user: User, key: str, *, now: datetime, reason: str) -> bool:
    """End the session of ``user`` whose key is ``key``; whether one was open."""
    ended = session.execute(
        update(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.key_hash == UserSession.hash(key),
            UserSession.ended_at.is_(None),
        )
        .values(ended_at=now, end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return ended.rowcount == 1


def end_every_session(
    session: Session, user: User, *, now: datetime, reason: str, keep: str | None = None
) -> int:
    """End every session of ``user`` but the one whose key is ``keep`` (the one
    that goes on after a change the user made there), and rotate the account's
    session_token, which every cookie carries; returns how many ended."""
    user.session_token = secrets.token_hex(16)
    conditions = [UserSession.user_id == user.id, UserSession.ended_at.is_(None)]
    if keep is not None:
        conditions.append(UserSession.key_hash != UserSession.hash(keep))
    ended = session.execute(
        update(UserSession)
        .where(*conditions)
        .values(ended_at=now, end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return ended.rowcount


def open_sessions(
    session: Session, user: User, *, now: datetime, policy: LoginPolicy
) -> list[UserSession]:
    """The sessions of ``user`` that may still be in use, newest first."""
    return list(
        session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id, *_in_use(now, policy))
            .order_by(UserSession.started_at.desc(), UserSession.id.desc())
        )
    )


def forget_old(session: Session, user: User, *, now: datetime, policy: LoginPolicy) -> int:
    """Delete the rows of ``user`` that ended or are past the idle or absolute
    limit (their cookies are refused anyway); how many."""
    deleted = session.execute(
        delete(UserSession)
        .where(UserSession.user_id == user.id, ~and_(*_in_use(now, policy)))
        .execution_options(synchronize_session=False)
    )
    return deleted.rowcount


def _in_use(now: datetime, policy: LoginPolicy) -> list:
    return [
        UserSession.ended_at.is_(None),
        UserSession.started_at > now - policy.session_absolute,
        UserSession.last_seen_at > now - policy.session_idle - SEEN_EVERY,
    ]
