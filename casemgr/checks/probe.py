"""The HTTP part of the removal check: one ``HEAD`` request per URL, stdlib only.

What a check sends, exactly (docs/removal-check.md explains why)::

    HEAD /path?query HTTP/1.1
    Host: example.com
    User-Agent: casemgr-removal-check (Example Hotline; https://hotline.example.org; ...)
    Connection: close

Nothing else: no Referer, no Cookie, no Accept-Encoding, no body. Only the
status line and the headers of the answer are read, never a body (HEAD has
none; a server that sends one anyway is cut off when the socket is closed).
A redirect (301, 302, 303, 307, 308 with a Location) is followed with
another HEAD, at most ``max_redirects`` times; more, or a loop, is the
outcome ``too_many_redirects``.

Each request (look-up, connection, TLS handshake, answer) has ``timeout``
seconds in all: a server that accepts and never answers, or trickles its
headers, is cut off when they are up.

The host is looked up with the injected ``resolver`` (``host -> addresses``;
:func:`system_resolver` by default), which raises :class:`Unresolvable` when
the name does not exist. Before connecting, every address is checked: a host
that resolves to a loopback, private, link-local, shared, multicast or
reserved address is refused (not checked) unless ``allow_private``; the
connection goes to the checked address, never to a second look-up. http and
https only; https verifies the certificate and the host name (a failure is an
``error``).

:func:`probe` never raises: every failure is an outcome with a message.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
import unicodedata
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from casemgr import dns

Resolver = dns.Resolver

REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
GONE_CODES = frozenset({404, 410})
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_TEXT = 500  # an error message, at most
MAX_LOCATION = 2048  # where redirects led, as stored
_MAX_HEADER = 65536  # http.client refuses longer header lines anyway


class Outcome(StrEnum):
    LIVE = "live"  # a 2xx answer
    GONE = "gone"  # 404 or 410
    UNRESOLVABLE = "unresolvable"  # the host name does not exist in DNS
    OTHER = "other"  # any other status (403, 451, 500, 405, a 3xx without Location, ...)
    TOO_MANY_REDIRECTS = "too_many_redirects"  # a loop, or more than max_redirects
    ERROR = "error"  # no usable answer: timeout, refused connection, TLS, not HTTP
    REFUSED = "refused"  # not checked: not http(s), or a private address


# Outcomes that count towards a reported removal.
CONFIRMING = frozenset({Outcome.GONE, Outcome.UNRESOLVABLE})


class Unresolvable(Exception):
    """The host name does not exist (NXDOMAIN), or has no address."""


def system_resolver(host: str) -> list[str]:
    """The host's addresses from the system's DNS (``socket.getaddrinfo``)."""
    try:
        answers = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        gone = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}
        if exc.errno in gone:
            raise Unresolvable(f"{host} does not exist in DNS") from None
        raise
    return [str(sockaddr[0]) for _family, _type, _proto, _name, sockaddr in answers]


def user_agent(config: Any) -> str:
    """``casemgr-removal-check (Hotline name; website; e-mail)``, in plain ASCII."""
    parts = [config.get(name, "") for name in ("HOTLINE_NAME", "HOTLINE_WEBSITE", "HOTLINE_EMAIL")]
    cleaned = [_ascii_comment(part) for part in parts]
    described = "; ".join(part for part in cleaned if part)
    return "casemgr-removal-check" + (f" ({described})" if described else "")


def _ascii_comment(text: str) -> str:
    kept = "".join(ch for ch in str(text) if 32 <= ord(ch) < 127 and ch not in "()\\;")
    return " ".join(kept.split())


@dataclass(frozen=True)
class ProbeSettings:
    timeout: float = 10.0
    max_redirects: int = 3
    allow_private: bool = False
    user_agent: str = "casemgr-removal-check"
    resolver: Resolver = system_resolver
    # None: the system's trusted CAs, host names checked (tests pass their own).
    ssl_context: ssl.SSLContext | None = field(default=None, compare=False)

    @classmethod
    def from_config(cls, config: Any, *, resolver: Resolver | None = None) -> ProbeSettings:
        return cls(
            timeout=float(config["URL_CHECK_TIMEOUT"]),
            max_redirects=max(0, int(config["URL_CHECK_MAX_REDIRECTS"])),
            allow_private=bool(config["URL_CHECK_ALLOW_PRIVATE"]),
            user_agent=user_agent(config),
            resolver=resolver or system_resolver,
        )


@dataclass(frozen=True)
class ProbeResult:
    outcome: Outcome
    status_code: int | None = None
    final_location: str | None = None  # where redirects led; None without one
    redirects: int = 0
    error: str | None = None


@dataclass(frozen=True)
class _Answer:
    status: int
    location: str | None


def probe(url: str, settings: ProbeSettings) -> ProbeResult:
    """Check ``url`` with HEAD requests; never raises."""
    try:
        return _follow(url, settings)
    except Exception as exc:  # a check must never take the job down
        return ProbeResult(Outcome.ERROR, error=clean(f"{type(exc).__name__}: {exc}", MAX_TEXT))


def _follow(url: str, settings: ProbeSettings) -> ProbeResult:
    current = url
    seen = {url}
    redirects = 0
    while True:
        answer = _head(current, settings)
        final = clean(current, MAX_LOCATION) if redirects else None
        if isinstance(answer, ProbeResult):
            return replace(answer, final_location=final, redirects=redirects)
        if answer.status in REDIRECT_CODES and answer.location:
            target = urljoin(current, answer.location).split("#", 1)[0]
            problem = None
            if target in seen:
                problem = f"redirects in a loop (back to {target})"
            elif redirects >= settings.max_redirects:
                problem = f"more than {settings.max_redirects} redirects"
            if problem:
                return ProbeResult(
                    Outcome.TOO_MANY_REDIRECTS,
                    status_code=answer.status,
                    final_location=clean(target, MAX_LOCATION),
                    redirects=redirects,
                    error=clean(problem, MAX_TEXT),
                )
            seen.add(target)
            redirects += 1
            current = target
            continue
        if answer.status in GONE_CODES:
            outcome = Outcome.GONE
        elif 200 <= answer.status < 300:
            outcome = Outcome.LIVE
        else:
            outcome = Outcome.OTHER
        return ProbeResult(outcome, answer.status, final, redirects)


def _head(url: str, settings: ProbeSettings) -> _Answer | ProbeResult:
    """One HEAD request: the answer's status and Location, or a final result."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = parts.hostname or ""
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError as exc:
        return _refused(f"not a URL that can be checked ({exc})")
    if scheme not in DEFAULT_PORTS:
        return _refused(f"only http and https are checked, not {scheme or 'no scheme'}")
    try:
        ascii_host = host.encode("idna").decode("ascii") if not _is_ip(host) else host
    except UnicodeError:
        return _refused(f"the host name {host!r} is not valid")
    if not ascii_host:
        return _refused("the URL has no host")

    deadline = time.monotonic() + settings.timeout
    try:
        addresses = _resolve(ascii_host, settings.resolver, deadline)
    except Unresolvable as exc:
        return ProbeResult(Outcome.UNRESOLVABLE, error=clean(str(exc), MAX_TEXT))
    except dns.LookupTimeout:
        return _error(f"no answer from DNS for {ascii_host} within {settings.timeout:g} s")
    except Exception as exc:
        return _error(f"the look-up of {ascii_host} failed ({type(exc).__name__}: {exc})")
    if not settings.allow_private:
        for address in addresses:
            if not _public(address):
                return _refused(
                    f"{ascii_host} resolves to {address}, which is not a public address"
                )

    target = _request_target(parts.path, parts.query)
    host_header = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
    if port != DEFAULT_PORTS[scheme]:
        host_header += f":{port}"
    request = (
        f"HEAD {target} HTTP/1.1\r\n"
        f"Host: {host_header}\r\n"
        f"User-Agent: {settings.user_agent}\r\n"
        "Connection: close\r\n\r\n"
    ).encode("ascii")
    context = None
    if scheme == "https":
        context = settings.ssl_context or ssl.create_default_context()
    return _exchange(addresses, port, ascii_host, context, request, deadline, settings.timeout)


def _exchange(
    addresses: list[str],
    port: int,
    host: str,
    context: ssl.SSLContext | None,
    request: bytes,
    deadline: float,
    timeout: float,
) -> _Answer | ProbeResult:
    sock = None
    failure = "no address to connect to"
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return _error(f"no answer within {timeout:g} s (connecting to {address})")
        try:
            sock = socket.create_connection((address, port), timeout=remaining)
            break
        except TimeoutError:
            failure = f"no connection to {address} port {port} within {timeout:g} s"
        except OSError as exc:
            failure = f"cannot connect to {address} port {port} ({exc.strerror or exc})"
    if sock is None:
        return _error(failure)
    expired = threading.Event()

    def cut_off() -> None:
        expired.set()
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), cut_off)
    watchdog.daemon = True
    watchdog.start()
    try:
        if context is not None:
            sock = context.wrap_socket(sock, server_hostname=host)
        sock.sendall(request)
        response = http.client.HTTPResponse(sock, method="HEAD")
        response.begin()  # the status line and the headers; never the body
        if expired.is_set():  # cut off: what was read ends early, it is no answer
            return _error(f"no answer within {timeout:g} s")
        location = response.getheader("Location")
        # Followed as sent (without control characters); capped only where stored.
        return _Answer(response.status, clean(location, _MAX_HEADER) if location else None)
    except Exception as exc:
        return _error(_describe_failure(exc, expired.is_set(), timeout))
    finally:
        watchdog.cancel()
        sock.close()


def _describe_failure(exc: Exception, expired: bool, timeout: float) -> str:
    if expired or isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not accepted: {exc.verify_message or exc}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {exc.reason or exc}"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(exc, http.client.HTTPException):
        return f"not an HTTP answer ({type(exc).__name__}: {exc})"
    if isinstance(exc, OSError):
        return f"connection failed ({exc.strerror or exc})"
    return f"{type(exc).__name__}: {exc}"


def _resolve(host: str, resolver: Resolver, deadline: float) -> list[str]:
    """The host's distinct addresses (an IP literal is its own answer); raises
    dns.LookupTimeout past ``deadline``, Unresolvable when DNS has none."""
    addresses = dns.addresses_of(host, resolver, timeout=deadline - time.monotonic())
    if not addresses:
        raise Unresolvable(f"{host} has no address in DNS")
    return addresses


_address = dns.address


def _is_ip(host: str) -> bool:
    return _address(host) is not None


def _public(text: str) -> bool:
    address = _address(text)
    return address is not None and address.is_global and not address.is_multicast


def _request_target(path: str, query: str) -> str:
    """The path and query as sent: non-ASCII and spaces percent-encoded, the rest kept."""
    safe = "/%:@!$&'()*+,;=-._~"
    target = quote(path or "/", safe=safe)
    if query:
        target += "?" + quote(query, safe=safe + "?")
    return target if target.startswith("/") else "/" + target


def clean(text: str | None, limit: int) -> str | None:
    """``text`` without control characters (NUL included), cut to ``limit``."""
    if text is None:
        return None
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    return kept if len(kept) <= limit else kept[: limit - 1] + "…"


def _refused(message: str) -> ProbeResult:
    return ProbeResult(Outcome.REFUSED, error=clean(message, MAX_TEXT))


def _error(message: str) -> ProbeResult:
    return ProbeResult(Outcome.ERROR, error=clean(message, MAX_TEXT))
