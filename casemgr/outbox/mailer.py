"""Sending over SMTP (stdlib ``smtplib``): one connection for many messages.

:class:`Mailer` opens a connection on its first message and keeps it for the
next ones (a run of the outbox job sends everything it has over one
connection). :meth:`Mailer.send` never raises for what a server or a network
can do; it answers with an :class:`Attempt` whose ``outcome`` is one of:

``sent``
    the server answered 2xx to the end of the message;
``transient``
    not delivered, try again later: no connection, a 4xx answer, or the
    connection lost *before* the end of the message was handed over (a
    server cannot accept a message it has not received whole);
``permanent``
    a 5xx answer (an unknown recipient, a refused sender or content): it
    will not go better by trying again;
``unknown``
    the whole message was handed over and the answer never came (the
    connection dropped or timed out): the server may have accepted it.
    No protocol answers "did you get it?" afterwards: this is the case that
    SMTP cannot settle, and the outbox treats it with care (see
    ``casemgr.outbox``);
``aborted``
    ``before_data`` said no (the job lost its claim on the message): nothing
    was handed over.

To tell ``transient`` from ``unknown`` the DATA phase is written out here
(smtplib's ``data()`` sends the message and reads the answer in one call).
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email

SECURITIES = ("none", "starttls", "tls")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str = "starttls"
    username: str = ""
    password: str = ""
    timeout: float = 30.0
    data_timeout: float = 600.0
    ca_file: str = ""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SmtpSettings:
        """The SMTP_* settings, checked; raises ValueError naming the bad one."""
        security = str(config.get("SMTP_SECURITY") or "starttls").lower()
        if security not in SECURITIES:
            raise ValueError(f"SMTP_SECURITY must be one of {', '.join(SECURITIES)}")
        port = config.get("SMTP_PORT") or DEFAULT_PORTS[security]
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise ValueError("SMTP_PORT must be a port number")
        timeouts = {}
        for name in ("SMTP_TIMEOUT", "SMTP_DATA_TIMEOUT"):
            value = config.get(name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive number of seconds")
            timeouts[name] = float(value)
        username = str(config.get("SMTP_USERNAME") or "")
        if username and security == "none":
            raise ValueError(
                "SMTP_USERNAME needs SMTP_SECURITY starttls or tls: a password is never "
                "sent over an unencrypted connection"
            )
        return cls(
            host=str(config.get("SMTP_HOST") or ""),
            port=port,
            security=security,
            username=username,
            password=str(config.get("SMTP_PASSWORD") or ""),
            timeout=timeouts["SMTP_TIMEOUT"],
            data_timeout=timeouts["SMTP_DATA_TIMEOUT"],
            ca_file=str(config.get("SMTP_CA_FILE") or ""),
        )

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def mailbox(address: str | None) -> str | None:
    """``address`` as the outbox sends to it (ASCII, IDNA domain), or None if it is not one.

    Addresses that need SMTPUTF8 (non-ASCII before the @) are refused: a
    letter to one is delivered by hand.
    """
    if not address or not address.strip():
        return None
    try:
        checked = validate_email(address.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return None
    return checked.ascii_email or checked.normalized


@dataclass(frozen=True)
class Attempt:
    outcome: str  # sent | transient | permanent | unknown | aborted
    detail: str  # the server's answer or what went wrong, for the log and the row
    code: int | None = None
    # The server could not be reached at all (connect, TLS or AUTH failed):
    # the job stops its run instead of trying the next message.
    unreachable: bool = False

    @property
    def delivered(self) -> bool:
        return self.outcome == "sent"


class Mailer:
    """An SMTP client that keeps its connection between messages; close() when done."""

    def __init__(self, settings: SmtpSettings, *, local_hostname: str | None = None) -> None:
        self.settings = settings
        self.local_hostname = local_hostname
        self._smtp: smtplib.SMTP | None = None
        self.connections = 0  # opened so far: for the summary and the tests

    # ---------------------------------------------------------------- connection

    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.ca_file or None)

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        smtp: smtplib.SMTP
        if s.security == "tls":
            smtp = smtplib.SMTP_SSL(
                s.host,
                s.port,
                timeout=s.timeout,
                context=self._tls_context(),
                local_hostname=self.local_hostname,
            )
        else:
            smtp = smtplib.SMTP(
                s.host, s.port, timeout=s.timeout, local_hostname=self.local_hostname
            )
        try:
            smtp.ehlo()
            if s.security == "starttls":
                smtp.starttls(context=self._tls_context())
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password)
        except BaseException:
            _close_quietly(smtp)
            raise
        self.connections += 1
        return smtp

    def close(self) -> None:
        """QUIT and close (quietly: the messages' outcomes are known already)."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            _close_quietly(smtp)

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            _close_quietly(smtp)

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------- sending

    def send(
        self,
        sender: str,
        recipient: str,
        message: bytes,
        *,
        before_data: Callable[[], bool] = lambda: True,
    ) -> Attempt:
        """Send ``message`` (CRLF line ends) from ``sender`` to ``recipient``.

        ``before_data`` is called once the recipient is accepted, just before
        DATA: the outbox commits there that the message is being handed over.
        If it returns False nothing is sent.
        """
        reused = self._smtp is not None
        if self._smtp is None:
            try:
                self._smtp = self._open()
            except (OSError, smtplib.SMTPException) as exc:
                return Attempt(
                    "transient",
                    f"cannot connect to {self.settings.where}: {_describe(exc)}",
                    getattr(exc, "smtp_code", None),
                    unreachable=True,
                )
        smtp = self._smtp
        try:
            code, reply = smtp.mail(sender)
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            if reused:  # the server let an idle connection go: once more, on a new one
                return self.send(sender, recipient, message, before_data=before_data)
            return Attempt("transient", f"MAIL FROM: connection lost ({_describe(exc)})")
        if code == 421 and reused:
            self._drop()
            return self.send(sender, recipient, message, before_data=before_data)
        if code != 250:
            return self._refused("MAIL FROM", code, reply)
        handed_over = False
        step = "RCPT TO"
        try:
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                return self._refused(step, code, reply)
            try:
                go_on = before_data()
            except BaseException:
                self._reset()  # leave the connection clean for the next message
                raise
            if not go_on:
                self._reset()
                return Attempt("aborted", "the claim on this message was lost; not sent")
            step = "DATA"
            smtp.putcmd("data")
            code, reply = smtp.getreply()
            if code != 354:
                return self._refused(step, code, reply)
            step = "the message"
            smtp.send(_dot_stuffed(message))
            handed_over = True
            step = "the answer to the message"
            self._set_timeout(self.settings.data_timeout)
            code, reply = smtp.getreply()
            self._set_timeout(self.settings.timeout)
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            if handed_over:
                return Attempt(
                    "unknown",
                    f"the message was handed to {self.settings.where} but no answer came "
                    f"({_describe(exc)}): it may have been delivered",
                )
            return Attempt("transient", f"{step}: connection lost ({_describe(exc)})")
        if 200 <= code < 300:
            return Attempt("sent", _text(reply), code)
        return self._refused("end of the message", code, reply)

    def _refused(self, step: str, code: int, reply: bytes) -> Attempt:
        detail = f"{step}: {code} {_text(reply)}".strip()
        if code == 421 or code < 400 or code >= 600:
            # 421: the server is closing the connection (the run stops: it is
            # busy or going down); anything else is nonsense here.
            self._drop()
            return Attempt("transient", detail, code, unreachable=code == 421)
        self._reset()
        return Attempt("permanent" if code >= 500 else "transient", detail, code)

    def _reset(self) -> None:
        """RSET, to send the next message over the same connection; drop it if that fails."""
        if self._smtp is None:
            return
        try:
            code, _reply = self._smtp.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()
            return
        if code != 250:
            self._drop()

    def _set_timeout(self, seconds: float) -> None:
        sock = self._smtp.sock if self._smtp is not None else None
        if sock is not None:
            sock.settimeout(seconds)


_LEADING_DOT = re.compile(rb"(?m)^\.")


def _dot_stuffed(message: bytes) -> bytes:
    """The DATA payload: leading dots doubled, CRLF at the end, then the lone dot."""
    payload = _LEADING_DOT.sub(b"..", message)
    if not payload.endswith(b"\r\n"):
        payload += b"\r\n"
    return payload + b".\r\n"


def _text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return " ".join(reply.split())


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _close_quietly(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        smtp.close()
