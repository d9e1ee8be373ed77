"""One RFC 5322 message (bytes) read into what may be kept of it.

The stdlib ``email`` package parses; nothing here ever fails on what a sender
wrote (a header that cannot be decoded is kept as best it can be, a broken
MIME structure is read as text). Only text is kept: the plain-text body, or
the HTML one turned into text, control characters removed and capped.
Every other part is an attachment, and an attachment is never stored or
opened: :class:`Attachment` holds its name, type, size and SHA-256, and its
bytes are dropped as soon as they are counted. A forwarded message
(``message/rfc822``) is walked into: its text is kept, its attachments are
dropped like the others.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import errors, message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any

from casemgr.inbound.models import AUTO_REPLY, BOUNCE, REPLY

TEXT_LIMIT = 64 * 1024  # characters of text kept, by default
MAX_DEPTH = 8  # forwarded messages inside forwarded messages: deeper is an attachment
MAX_PARTS = 500  # parts walked; the rest are counted, not read
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
# Control characters but tab and newline; NUL included.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_OUT_OF_OFFICE = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response|answer)|autoreply|out of (the )?office|"
    r"absence|abwesenheit|r[ée]ponse automatique|respuesta autom[áa]tica|auto:|"
    r"away from (the )?office|on vacation|vacation reply)",
    re.IGNORECASE,
)


class Unreadable(ValueError):
    """Input that is not an e-mail message at all (empty, or no header)."""


@dataclass(frozen=True)
class Attachment:
    """An attachment as recorded: never its bytes."""

    name: str
    type: str
    size: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "size": self.size, "sha256": self.sha256}


@dataclass
class ParsedMail:
    message_id: str
    from_address: str
    from_name: str
    subject: str
    sent_at: datetime | None
    kind: str
    text: str
    text_truncated: bool
    attachments: list[Attachment]
    size: int
    # Message-IDs this one answers: In-Reply-To first, then References, newest first.
    answers: list[str] = field(default_factory=list)
    # A bounce: the Message-IDs of the returned messages, and whether delivery failed
    # for good (a DSN that only says "delayed" does not fail a message).
    bounced_ids: list[str] = field(default_factory=list)
    delivery_failed: bool = False
    diagnostic: str = ""


def clean(text: str, limit: int | None = None) -> str:
    """``text`` without NUL and control characters (tab and newline stay), lines
    ended by ``\\n``; cut at ``limit`` characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    return text if limit is None else text[:limit]


# Direction overrides: in a file name they disguise "exe.pdf" as "fdp.exe".
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")


def _one_line(text: str, limit: int) -> str:
    return " ".join(_BIDI.sub("", clean(text)).split())[:limit]


def substitute_message_id(raw: bytes) -> str:
    """The stable Message-ID of a message that has none: from the SHA-256 of its bytes."""
    return f"<sha256-{hashlib.sha256(raw).hexdigest()}@casemgr.invalid>"


def normalise_message_id(value: str) -> str | None:
    """``<left@right>`` as found in a header value; None when there is none."""
    found = _MESSAGE_ID.search(value or "")
    if found:
        return found.group(0)
    value = "".join((value or "").split())
    if not value or len(value) > 250:
        return None
    return f"<{value.strip('<>')}>"


def message_ids(value: str) -> list[str]:
    """Every ``<...>`` in a header value (In-Reply-To, References), in order."""
    return _MESSAGE_ID.findall(value or "")


def parse(raw: bytes, *, text_limit: int = TEXT_LIMIT) -> ParsedMail:
    """Read ``raw``; raises :class:`Unreadable` for input that is no message."""
    if not raw or not raw.strip():
        raise Unreadable("the input is empty")
    message = message_from_bytes(raw, policy=policy.compat32)
    if not message.keys():
        raise Unreadable("the input has no header: it is not an e-mail message")

    found = normalise_message_id(_header(message, "Message-ID"))
    message_id = found if found and len(found) <= 255 else substitute_message_id(raw)
    name, address = _sender(message)
    subject = _one_line(_header(message, "Subject"), 998)
    answers = message_ids(_header(message, "In-Reply-To"))
    for reference in reversed(message_ids(_header(message, "References"))):
        if reference not in answers:
            answers.append(reference)

    walker = _Walker()
    bounce = _is_delivery_report(message)
    walker.walk(message, depth=0, report=bounce)
    text = "\n\n".join(t for t in walker.texts if t.strip())
    if bounce and walker.diagnostic:
        text = (text + "\n\n" + walker.diagnostic).strip()
    text = clean(text).strip()
    truncated = len(text) > text_limit
    if walker.skipped:
        text += f"\n\n[{walker.skipped} more parts were not read]"
    return ParsedMail(
        message_id=message_id,
        from_address=address,
        from_name=name,
        subject=subject,
        sent_at=_date(_header(message, "Date")),
        kind=BOUNCE if bounce else (AUTO_REPLY if _is_auto_reply(message, subject) else REPLY),
        text=text[:text_limit],
        text_truncated=truncated,
        attachments=walker.attachments,
        size=len(raw),
        answers=answers[:50],
        bounced_ids=walker.returned_ids,
        delivery_failed=walker.failed,
        diagnostic=walker.diagnostic,
    )


def _header(message: Message, name: str) -> str:
    """A header decoded (RFC 2047 encoded-words, 8-bit UTF-8); "" when absent."""
    value = message.get(name)
    if value is None:
        return ""
    raw = str(value) if not isinstance(value, str) else value
    try:
        decoded = str(make_header(decode_header(raw)))
    except Exception:  # noqa: BLE001 - a header that cannot be decoded is kept as is
        decoded = raw
    # 8-bit bytes in a header come through as surrogates: read them as UTF-8.
    try:
        decoded = decoded.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeError:
        decoded = decoded.encode("utf-8", "replace").decode("utf-8")
    return decoded


def _sender(message: Message) -> tuple[str, str]:
    pairs = getaddresses([_header(message, "From")])
    name, address = pairs[0] if pairs else ("", "")
    if not address and not name:
        name = _header(message, "From")
    return _one_line(name, 200), _one_line(address, 254).lower()


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _is_delivery_report(message: Message) -> bool:
    return (
        message.get_content_type() == "multipart/report"
        and str(message.get_param("report-type") or "").lower() == "delivery-status"
    )


def _is_auto_reply(message: Message, subject: str) -> bool:
    auto_submitted = _header(message, "Auto-Submitted").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return True
    if message.get("X-Autoreply") is not None or message.get("X-Autorespond") is not None:
        return True
    if _header(message, "Precedence").strip().lower() in ("auto_reply", "bulk", "junk"):
        return True
    return bool(_OUT_OF_OFFICE.match(subject))


class _Walker:
    """Walks the parts once: texts kept, attachments described, a report's
    returned Message-IDs and status read."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.attachments: list[Attachment] = []
        self.returned_ids: list[str] = []
        self.failed = False
        self.diagnostic = ""
        self.parts = 0
        self.skipped = 0

    def walk(self, part: Message, *, depth: int, report: bool = False) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            self.skipped += 1
            return
        ctype = part.get_content_type()
        payload = part.get_payload()
        if ctype == "message/delivery-status":
            if report:
                self._status(part)
            else:
                self._drop(part)
        elif ctype in ("message/rfc822", "message/global"):
            self._message(part, payload, depth=depth, report=report)
        elif part.is_multipart() and isinstance(payload, list):
            if ctype == "multipart/alternative":
                self._alternative(payload, depth=depth)
            else:
                for child in payload:
                    if isinstance(child, Message):
                        self.walk(child, depth=depth, report=report)
        elif report and ctype in ("text/rfc822-headers", "message/rfc822-headers"):
            self._returned_headers(_text_of(part))
        elif self._is_text(part) or part.get_content_maintype() == "multipart":
            # (A multipart without a usable boundary is read as its text.)
            self.texts.append(
                _html_to_text(_text_of(part)) if ctype == "text/html" else _text_of(part)
            )
        else:
            self._drop(part)

    @staticmethod
    def _is_text(part: Message) -> bool:
        if part.get_content_type() not in ("text/plain", "text/html"):
            return False
        return part.get_content_disposition() != "attachment" and not _filename(part)

    def _alternative(self, children: list[Any], *, depth: int) -> None:
        parts = [c for c in children if isinstance(c, Message)]
        for wanted in ("text/plain", "text/html"):
            for child in parts:
                if child.get_content_type() == wanted and self._is_text(child):
                    self.walk(child, depth=depth)
                    return
        for child in parts:
            if child.is_multipart():
                self.walk(child, depth=depth)
                return

    def _message(self, part: Message, payload: Any, *, depth: int, report: bool) -> None:
        inner = payload[0] if isinstance(payload, list) and payload else None
        if report and isinstance(inner, Message):
            found = normalise_message_id(_header(inner, "Message-ID"))
            if found:
                self.returned_ids.append(found)
            self._drop(part, name="returned message")
            return
        if not isinstance(inner, Message) or depth >= MAX_DEPTH:
            self._drop(part)
            return
        heading = [
            f"{label}: {_one_line(_header(inner, name), 500)}"
            for label, name in (("From", "From"), ("Date", "Date"), ("Subject", "Subject"))
            if _header(inner, name)
        ]
        self.texts.append("---- Forwarded message ----\n" + "\n".join(heading))
        self.walk(inner, depth=depth + 1)

    def _status(self, part: Message) -> None:
        """message/delivery-status: per-recipient blocks of fields (RFC 3464)."""
        body = part.get_payload()
        if isinstance(body, list):  # the stdlib parses it into header blocks
            blocks = [b for b in body if isinstance(b, Message)]
        else:
            text = _text_of(part)
            blocks = [HeaderParser().parsestr(chunk) for chunk in re.split(r"\n\s*\n", text)]
        lines = []
        for block in blocks:
            action = _header(block, "Action").strip().lower()
            if action == "failed":
                self.failed = True
            if action:
                status = _header(block, "Status").strip()
                recipient = _header(block, "Final-Recipient").split(";")[-1].strip()
                code = _one_line(_header(block, "Diagnostic-Code").split(";", 1)[-1], 500)
                lines.append(
                    "; ".join(x for x in (f"{action} {recipient}".strip(), status, code) if x)
                )
        if lines:
            self.diagnostic = "Delivery status: " + " | ".join(lines)

    def _returned_headers(self, text: str) -> None:
        found = normalise_message_id(_header(HeaderParser().parsestr(text), "Message-ID"))
        if found:
            self.returned_ids.append(found)

    def _drop(self, part: Message, *, name: str | None = None) -> None:
        """Describe the part and forget its bytes: they are never kept or opened."""
        payload = part.get_payload()
        if part.is_multipart() and isinstance(payload, list):
            data = b"".join(_bytes_of(child) for child in payload if isinstance(child, Message))
        else:
            data = part.get_payload(decode=True) or b""
        self.attachments.append(
            Attachment(
                name=_one_line(name or _filename(part) or "", 255),
                type=_one_line(part.get_content_type(), 100),
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
            )
        )
        del data


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or part.get_param("name") or ""
    except Exception:  # noqa: BLE001 - a broken parameter names nothing
        return ""
    if isinstance(name, tuple):  # RFC 2231 (charset, language, value)
        name = name[2]
    try:
        return str(make_header(decode_header(str(name))))
    except Exception:  # noqa: BLE001
        return str(name)


def _bytes_of(message: Message) -> bytes:
    try:
        return message.as_bytes(policy=policy.compat32)
    except Exception:  # noqa: BLE001 - what cannot be serialised again is described by its text
        return str(message.get_payload()).encode("utf-8", "surrogateescape")


_BAD_ENCODING = (
    errors.InvalidBase64CharactersDefect,
    errors.InvalidBase64PaddingDefect,
    errors.InvalidBase64LengthDefect,
)


def _text_of(part: Message) -> str:
    data = part.get_payload(decode=True)
    if any(isinstance(defect, _BAD_ENCODING) for defect in part.defects):
        data = None  # "base64" that is not: the text as it came
    if data is None:
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


_BLOCKS = {
    "p",
    "div",
    "br",
    "tr",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "table",
    "pre",
    "hr",
}
_HIDDEN = {"script", "style", "head", "title"}


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.out.append(data)


def _html_to_text(html: str) -> str:
    """HTML as text with the stdlib parser: tags dropped, scripts and styles too."""
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001, S110 - broken HTML gives what was read
        pass
    lines = (" ".join(line.split()) for line in "".join(parser.out).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
