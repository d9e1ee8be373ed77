"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what it receives and
misbehaves on demand; helpers to make letters (the ``letters`` fixture) and run
the outbox job."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select

from casemgr.extensions import db
from casemgr.jobs import outbox as outbox_job
from casemgr.notices.models import Notice
from casemgr.outbox.models import OutboxMessage
from tests.conftest import NOW
from tests.jobs.conftest import (
    queue,  # noqa: F401 - a fixture
    run_notices,
)

HOTLINE_DOMAIN = "hotline.example.org"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: bool = False  # came over a TLS connection (STARTTLS or implicit)
    login: bytes | None = None  # the AUTH login it came with

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)  # type: ignore[return-value]

    @property
    def message_id(self) -> str:
        return self.message["Message-ID"]


@dataclass
class Recorder:
    """An aiosmtpd handler: keeps every message it accepts, and can be told to
    refuse a recipient, answer slowly, or drop the connection."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # recipient -> "550 ..." / "451 ..."
    drop_after_data: int = 0  # accept the next N messages, then drop before answering
    drop_after_reply: int = 0  # accept and answer the next N, then drop the connection
    data_delay: float = 0.0  # seconds before answering the end of a message
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    bytes(envelope.content),
                    tls=server.transport.get_extra_info("ssl_object") is not None,
                    login=getattr(session.auth_data, "login", None),
                )
            )
            number = len(self.received)
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        if self.drop_after_data > 0:
            self.drop_after_data -= 1
            server.transport.abort()  # the message is kept; the answer never goes out
            return "250 never sent"
        if self.drop_after_reply > 0:
            self.drop_after_reply -= 1
            session.drop_next = True  # answered; the connection dies at the next command
        return f"250 2.0.0 Ok: queued as Q{number}"

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if getattr(session, "drop_next", False):
            server.transport.abort()
            return "421 never sent"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    def message_ids(self) -> list[str]:
        return [r.message_id for r in self.received]


class SmtpServer:
    """aiosmtpd on 127.0.0.1:``port``, started (and stopped) by the test."""

    def __init__(self, handler: Recorder, port: int) -> None:
        self.handler = handler
        self.port = port
        self.controller: Controller | None = None

    def start(self, **kwargs) -> SmtpServer:
        self.controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            ready_timeout=10,
            server_hostname="smtp.test.example",
            **kwargs,
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def smtp(recorder, smtp_port):
    """The server, not yet started: ``smtp.start()`` (so a test can begin with it down)."""
    server = SmtpServer(recorder, smtp_port)
    yield server
    server.stop()


@pytest.fixture
def mail_config(smtp_port) -> dict:
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_port,
        "SMTP_SECURITY": "none",
        "SMTP_TIMEOUT": 5,
        "SMTP_DATA_TIMEOUT": 5,
        "MAIL_FROM": f"notices@{HOTLINE_DOMAIN}",
        "MAIL_MESSAGE_ID_DOMAIN": HOTLINE_DOMAIN,
        "OUTBOX_LEASE_SECONDS": 60,
    }


@pytest.fixture
def app_config(mail_config) -> dict:
    return mail_config


def run_outbox(app, now: dt.datetime, **kwargs):
    """One run as of ``now``; the run's clock stands still (every step at ``now``)."""
    kwargs.setdefault("monotonic", lambda: 0.0)
    summary = outbox_job.run(db.session, now, app, **kwargs)
    db.session.commit()
    return summary


def messages() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all())


@pytest.fixture
def letters(app, make, queue):  # noqa: F811 - the queue fixture imported above
    """``letters(n)``: n notice letters, one per provider, made by the notice run."""

    def build(count: int = 1, *, language: str = "en", email: str | None = None) -> list[Notice]:
        for number in range(count):
            provider = make.organisation(
                name=f"Provider {number}", email=email or f"abuse{number}@provider{number}.example"
            )
            provider.language = language
            db.session.commit()
            queue(provider)
        run_notices(app, NOW)
        return list(db.session.scalars(select(Notice).order_by(Notice.id)).all())

    return build


# ------------------------------------------------------------------ TLS material


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost, made with ``cryptography``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "casemgr test SMTP")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(cert_path, key_path)


class Accounts:
    """An aiosmtpd authenticator that knows one login and records the attempts."""

    def __init__(self, login: str, password: str) -> None:
        self.login, self.password = login.encode(), password.encode()
        self.tries: list[tuple[str, bytes]] = []

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        self.tries.append((mechanism, auth_data.login))
        ok = auth_data.login == self.login and auth_data.password == self.password
        return AuthResult(success=ok, handled=False, auth_data=auth_data)
