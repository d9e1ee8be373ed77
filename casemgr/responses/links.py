"""A letter's response link: made with the letter, found again by its token.

The token is ``HMAC-SHA256(key, nonce)``, URL-safe base64, where the key is
derived from the app's ``SECRET_KEY`` and the nonce is 32 random bytes stored
with the link. The database keeps the nonce and the SHA-256 of the token,
never the token: whoever copies the database cannot make a working link
without the key, and the outbox (which has the key) can print the link in
the e-mail it composes later. Changing ``SECRET_KEY`` ends every link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from casemgr.responses.models import ResponseLink

# The path of the page behind a link (casemgr.responses.views serves it).
PATH = "/respond/"
# 32 bytes of HMAC in URL-safe base64, without padding.
TOKEN_LENGTH = 43


@dataclass(frozen=True)
class LinkSettings:
    """What making and reading links needs: where the page is, the key, the lifetime."""

    base_url: str  # "" when PUBLIC_BASE_URL is not set: letters carry no link
    key: bytes
    lifetime: timedelta

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LinkSettings:
        secret = str(config.get("SECRET_KEY") or "").encode()
        key = hmac.new(secret, b"casemgr response links", hashlib.sha256).digest()
        return cls(
            base_url=str(config.get("PUBLIC_BASE_URL") or "").strip().rstrip("/"),
            key=key,
            lifetime=timedelta(days=int(config["NOTICE_RESPONSE_DAYS"])),
        )

    @property
    def enabled(self) -> bool:
        return bool(self.base_url)

    def token(self, nonce: str) -> str:
        digest = hmac.new(self.key, nonce.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def url(self, nonce: str) -> str:
        return f"{self.base_url}{PATH}{self.token(nonce)}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewLink:
    """A link made before its letter is stored: the URL to print, the row to keep."""

    nonce: str
    url: str
    token_hash: str


def new_link(settings: LinkSettings) -> NewLink | None:
    """A fresh link for a letter about to be rendered; None when links are off."""
    if not settings.enabled:
        return None
    nonce = secrets.token_urlsafe(32)
    return NewLink(nonce, settings.url(nonce), token_hash(settings.token(nonce)))


def keep_link(
    session: Session,
    link: NewLink,
    *,
    notice_id: int,
    now: datetime,
    settings: LinkSettings,
    supersedes: set[int] = frozenset(),
) -> ResponseLink:
    """Store ``link`` for the letter ``notice_id``; the links of the letters in
    ``supersedes`` (those it follows up) stop working from ``now``."""
    row = ResponseLink(
        notice_id=notice_id,
        token_hash=link.token_hash,
        nonce=link.nonce,
        created_at=now,
        expires_at=now + settings.lifetime,
    )
    session.add(row)
    if supersedes:
        session.execute(
            update(ResponseLink)
            .where(ResponseLink.notice_id.in_(supersedes), ResponseLink.superseded_at.is_(None))
            .values(superseded_at=now, superseded_by_id=notice_id)
        )
    return row


def url_for_letter(session: Session, notice_id: int, settings: LinkSettings) -> str | None:
    """The response link of the letter ``notice_id`` (for the e-mail that carries
    it), or None when the letter has none."""
    if not settings.enabled:
        return None
    nonce = session.scalar(select(ResponseLink.nonce).where(ResponseLink.notice_id == notice_id))
    return settings.url(nonce) if nonce else None


def find_link(session: Session, token: str) -> ResponseLink | None:
    """The link whose token is ``token``, whatever its state; None for anything else.

    Compared by hash (the token itself is never stored); a token of the wrong
    shape is not looked up at all.
    """
    if len(token) != TOKEN_LENGTH or not token.isascii():
        return None
    return session.scalar(select(ResponseLink).where(ResponseLink.token_hash == token_hash(token)))
