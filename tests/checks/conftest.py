"""Real HTTP servers on 127.0.0.1 for the removal check, and a resolver to reach them.

``site`` answers by path (and records every request: method, path, headers);
``everything_ok`` answers 200 to any method and path; ``hanging`` accepts
connections and never answers; ``trickling`` answers a header line now and
then, forever; ``tls_site`` is ``site`` over TLS with a self-signed
certificate for site.test. Host names reach them through
:class:`FakeResolver`, since the intake refuses URLs of loopback addresses.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from casemgr.checks.probe import Unresolvable

BIG_BODY = 64 * 1024 * 1024  # what /big-body offers to send after its headers


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Site:
    server: ThreadingHTTPServer
    requests: list[Seen] = field(default_factory=list)
    # path -> status, set by a test to change an answer
    answers: dict[str, int] = field(default_factory=dict)
    body_bytes_sent: list[int] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str, host: str = "site.test") -> str:
        return f"http://{host}:{self.port}{path}"

    def methods(self) -> set[str]:
        return {seen.method for seen in self.requests}


class FakeResolver:
    """A DNS: names it knows answer their addresses; others do not exist."""

    def __init__(self, names: dict[str, list[str]] | None = None):
        self.names = dict(names or {})
        self.asked: list[str] = []

    def __call__(self, host: str) -> list[str]:
        self.asked.append(host)
        if host not in self.names:
            raise Unresolvable(f"{host} does not exist in DNS")
        return self.names[host]


def _handler(site: Site, *, everything_ok: bool = False) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def handle_one_request(self) -> None:
            # Every method, including those BaseHTTPRequestHandler has no do_ for.
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline or not self.parse_request():
                self.close_connection = True
                return
            site.requests.append(Seen(self.command, self.path, dict(self.headers.items())))
            self.answer()
            self.close_connection = True

        def answer(self) -> None:
            path = self.path.split("?", 1)[0]
            if everything_ok:
                return self.status(200)
            if path in site.answers:
                return self.status(site.answers[path])
            if path == "/ok":
                return self.status(200)
            if path == "/404":
                return self.status(404)
            if path == "/410":
                return self.status(410)
            if path == "/loop-a":
                return self.status(302, location="/loop-b")
            if path == "/loop-b":
                return self.status(302, location=f"http://site.test:{site.port}/loop-a")
            if path == "/to-404":
                return self.status(301, location="/404")
            if path.startswith("/chain/"):
                left = int(path.rsplit("/", 1)[1])
                return self.status(200) if left == 0 else self.status(307, f"/chain/{left - 1}")
            if path == "/to-private":
                return self.status(302, location="http://10.1.2.3/x")
            if path == "/to-ftp":
                return self.status(302, location="ftp://files.test/x")
            if path == "/long-redirect":
                return self.status(302, location="/404?" + "a" * 5000)
            if path == "/nul-redirect":
                return self.raw_redirect(b"/404?\x00\x7f\xff-end")
            if path == "/big-body":
                return self.big_body()
            return self.status(404)

        def status(self, code: int, location: str | None = None) -> None:
            self.send_response(code)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.send_header("Set-Cookie", "tracker=1; Path=/")
            self.end_headers()

        def raw_redirect(self, location: bytes) -> None:
            self.wfile.write(b"HTTP/1.1 302 Found\r\nLocation: " + location + b"\r\n")
            self.wfile.write(b"Content-Length: 0\r\n\r\n")

        def big_body(self) -> None:
            """A server that sends a body even to HEAD: how much of it could go out."""
            self.send_response(200)
            self.send_header("Content-Length", str(BIG_BODY))
            self.end_headers()
            sent = 0
            chunk = b"\0" * 65536
            try:
                while sent < BIG_BODY:
                    self.wfile.write(chunk)
                    sent += len(chunk)
            except OSError:
                pass
            site.body_bytes_sent.append(sent)

    return Handler


def _serve(handler_for) -> Iterator[Site]:
    site = Site(server=None)  # type: ignore[arg-type]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(site))
    server.daemon_threads = True
    site.server = server
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield site
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def site() -> Iterator[Site]:
    yield from _serve(lambda s: _handler(s))


@pytest.fixture
def everything_ok() -> Iterator[Site]:
    yield from _serve(lambda s: _handler(s, everything_ok=True))


@pytest.fixture
def hanging() -> Iterator[int]:
    """A port whose server accepts connections (the kernel does) and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield listener.getsockname()[1]
    listener.close()


@pytest.fixture
def trickling() -> Iterator[int]:
    """A port whose server sends a status line, then a header line now and then, forever."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    stop = threading.Event()

    def serve() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        with connection:
            try:
                connection.sendall(b"HTTP/1.1 200 OK\r\n")
                while not stop.wait(0.05):
                    connection.sendall(b"X-Slow: yes\r\n")
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    listener.close()
    thread.join(5)


@pytest.fixture
def resolver() -> FakeResolver:
    return FakeResolver(
        {
            "site.test": ["127.0.0.1"],
            "other.test": ["127.0.0.1"],
            "third.test": ["127.0.0.1"],
            "private.test": ["10.0.0.7"],
            "metadata.test": ["169.254.169.254"],
            "mixed.test": ["93.184.215.14", "127.0.0.1"],
        }
    )


@dataclass
class TlsSite:
    site: Site
    ca_file: str


@pytest.fixture
def tls_site(tmp_path) -> Iterator[TlsSite]:
    """``site`` over TLS with a self-signed certificate for site.test."""
    import ssl
    from datetime import UTC, datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "site.test")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2040, 1, 1, tzinfo=UTC))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("site.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file = tmp_path / "cert.pem"
    key_file = tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)

    for site in _serve(lambda s: _handler(s)):
        site.server.socket = context.wrap_socket(site.server.socket, server_side=True)
        yield TlsSite(site, str(cert_file))
