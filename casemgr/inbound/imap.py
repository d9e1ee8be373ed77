"""The IMAP mailbox the ``mail`` job reads (stdlib ``imaplib``).

``IMAP_URL`` names it: ``imaps://user:password@host[:993]/INBOX`` (TLS, the
default), or ``imap://user:password@host[:143]/INBOX`` which uses STARTTLS
unless the URL says ``?security=none`` (a plain connection, for a server on
the same machine or tests). The password is never shown: :meth:`ImapTarget.where`
names the mailbox without it, and that is all a log line or a summary says.

Messages are fetched with ``BODY.PEEK[]`` (which leaves them unseen) and
flagged ``\\Seen`` only once stored: a crash between the two reads a message
again, and storing is idempotent.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import parse_qs, unquote, urlsplit

SECURITIES = ("tls", "starttls", "none")
# What goes wrong talking to a server: refused, timed out, dropped, refused a command.
IMAP_ERRORS = (OSError, imaplib.IMAP4.error, ssl.SSLError, EOFError)
_UID = re.compile(rb"UID (\d+)")


@dataclass(frozen=True)
class ImapTarget:
    host: str
    port: int
    username: str
    password: str = field(repr=False)
    mailbox: str = "INBOX"
    security: str = "tls"

    @classmethod
    def from_url(cls, url: str) -> ImapTarget:
        """Raises ValueError saying what is wrong (never quoting the password)."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise ValueError(
                "IMAP_URL is not a URL like imaps://user:password@host/INBOX"
            ) from None
        if parts.scheme not in ("imap", "imaps"):
            raise ValueError("IMAP_URL must start with imaps:// (or imap://)")
        if not parts.hostname:
            raise ValueError("IMAP_URL names no host")
        if not parts.username:
            raise ValueError("IMAP_URL names no user (imaps://user:password@host/INBOX)")
        query = parse_qs(parts.query)
        default = "tls" if parts.scheme == "imaps" else "starttls"
        security = (query.get("security") or [default])[0].lower()
        if security not in SECURITIES:
            raise ValueError(f"IMAP_URL: security must be one of {', '.join(SECURITIES)}")
        if parts.scheme == "imaps" and security != "tls":
            raise ValueError("IMAP_URL: imaps:// is TLS; use imap:// for starttls or none")
        return cls(
            host=parts.hostname,
            port=port or (993 if security == "tls" else 143),
            username=unquote(parts.username),
            password=unquote(parts.password or ""),
            mailbox=unquote(parts.path.lstrip("/")) or "INBOX",
            security=security,
        )

    def where(self) -> str:
        """The mailbox named for people and logs: no password."""
        scheme = "imaps" if self.security == "tls" else "imap"
        return f"{scheme}://{self.username}@{self.host}:{self.port}/{self.mailbox}"


class Mailbox:
    """One session with the server: ``with Mailbox(target, timeout=30) as box: ...``."""

    def __init__(
        self, target: ImapTarget, *, timeout: float, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.target = target
        self.timeout = timeout
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.connection: imaplib.IMAP4 | None = None

    def __enter__(self) -> Mailbox:
        target = self.target
        if target.security == "tls":
            connection: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                target.host, target.port, ssl_context=self.ssl_context, timeout=self.timeout
            )
        else:
            connection = imaplib.IMAP4(target.host, target.port, timeout=self.timeout)
        self.connection = connection
        try:
            if target.security == "starttls":
                connection.starttls(ssl_context=self.ssl_context)
            connection.login(target.username, target.password)
            status, detail = connection.select(_quoted(target.mailbox))
            if status != "OK":
                raise imaplib.IMAP4.error(f"cannot open the mailbox: {_text(detail)}")
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._close()

    def _close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is None:
            return
        try:
            connection.logout()
        except IMAP_ERRORS:
            with contextlib.suppress(*IMAP_ERRORS):
                connection.shutdown()

    def _connection(self) -> imaplib.IMAP4:
        if self.connection is None:
            raise imaplib.IMAP4.abort("not connected")
        return self.connection

    def unseen(self) -> list[bytes]:
        """The UIDs of the unseen messages, oldest first."""
        status, data = self._connection().uid("SEARCH", None, "UNSEEN")
        if status != "OK":
            raise imaplib.IMAP4.error(f"SEARCH refused: {_text(data)}")
        return [uid for line in data if line for uid in line.split()]

    def fetch(self, uids: list[bytes]) -> Iterator[tuple[bytes, bytes]]:
        """(uid, raw message) of each of ``uids`` still there, unseen left unseen."""
        if not uids:
            return
        status, data = self._connection().uid("FETCH", b",".join(uids), "(UID BODY.PEEK[])")
        if status != "OK":
            raise imaplib.IMAP4.error(f"FETCH refused: {_text(data)}")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2:
                found = _UID.search(item[0])
                if found:
                    yield found.group(1), item[1]

    def mark_seen(self, uid: bytes) -> None:
        status, data = self._connection().uid("STORE", uid, "+FLAGS.SILENT", r"(\Seen)")
        if status != "OK":
            raise imaplib.IMAP4.error(f"STORE refused: {_text(data)}")


def _quoted(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(data: object) -> str:
    if isinstance(data, list):
        data = b" ".join(d for d in data if isinstance(d, bytes))
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")[:200]
    return str(data)[:200]
