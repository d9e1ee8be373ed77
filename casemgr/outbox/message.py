"""Composing an e-mail as the bytes SMTP sends (CRLF line ends).

Every header and the text part come from the standard library's
``email.message`` (encoded words for Khmer subjects and names, RFC 2231
file names). Only the attachments' base64 bodies (the PDF, the X-ARF
reports) are written here, in one pass each: the email package writes a
body line by line and was most of the outbox's CPU time for a 30 KB letter.
The multipart boundary is derived from the Message-ID, so every attempt
sends exactly the same bytes."""

from __future__ import annotations

import base64
import hashlib
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage, MIMEPart
from email.policy import SMTP
from typing import NamedTuple

CRLF = b"\r\n"
LINE = 76  # base64 characters a line (RFC 2045)


class _Headers(HeaderRegistry):
    """The standard header registry, with its header classes made once.

    ``HeaderRegistry`` builds a new class with ``type()`` for every header it
    parses; caching them leaves the parsing and folding exactly as they are.
    """

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        if key not in self._classes:
            self._classes[key] = super().__getitem__(name)
        return self._classes[key]


POLICY = SMTP.clone(header_factory=_Headers())


def new_message() -> EmailMessage:
    return EmailMessage(policy=POLICY)


def headers_of(message: EmailMessage) -> bytes:
    """The header block of ``message``, folded as the email package folds it, and the blank line."""
    return b"".join(POLICY.fold_binary(name, value) for name, value in message.items()) + CRLF


class Attachment(NamedTuple):
    """One attached file; a plain ``(filename, bytes)`` pair is a PDF."""

    filename: str
    data: bytes
    content_type: str = "application/pdf"


def compose(
    headers: EmailMessage, text: str, *attachments: Attachment | tuple[str, bytes]
) -> bytes:
    """``headers`` (From, To, Subject, Date, Message-ID, ...) with a plain-text body
    and the ``attachments`` in order, each base64 encoded (a ``(filename, bytes)``
    pair is a PDF)."""
    if not attachments:
        headers.set_content(text)
        return headers.as_bytes(policy=POLICY)
    message_id = str(headers["Message-ID"] or "")
    boundary = "=_" + hashlib.sha256(message_id.encode()).hexdigest()[:40]

    body = MIMEPart(policy=POLICY)
    body.set_content(text)
    headers["MIME-Version"] = "1.0"
    headers["Content-Type"] = f'multipart/mixed; boundary="{boundary}"'
    delimiter = b"--" + boundary.encode()
    parts = [headers_of(headers), delimiter, CRLF, body.as_bytes(policy=POLICY), CRLF]
    for attachment in attachments:
        filename, data, content_type = Attachment(*attachment)
        part = MIMEPart(policy=POLICY)
        part["Content-Type"] = content_type
        part["Content-Transfer-Encoding"] = "base64"
        part.add_header("Content-Disposition", "attachment", filename=filename)
        parts.extend((delimiter, CRLF, headers_of(part), _base64_lines(data), CRLF))
    parts.extend((delimiter, b"--", CRLF))
    return b"".join(parts)


def _base64_lines(data: bytes) -> bytes:
    """``data`` in base64, 76 characters a line, each line ended by CRLF."""
    encoded = base64.b64encode(data)
    lines = [encoded[i : i + LINE] for i in range(0, len(encoded), LINE)]
    return CRLF.join(lines) + CRLF if lines else b""
