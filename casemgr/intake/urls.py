"""URL normalisation for every way a URL enters the system.

The public form, the API, manual entry and the CSV import all pass a reported
URL through :func:`normalise_url` before it is stored or compared, so that a
second report of the same URL is found as a duplicate (see "One case per URL"
in the domain notes). Pure Python: no Flask, no database. A text box of
several URLs is read by :mod:`casemgr.intake.url_lists`; hosts written as IP
addresses are read by :mod:`casemgr.intake.ip_hosts`.

What normalisation does, and why:

- Surrounding whitespace (including no-break spaces, a byte order mark and
  zero-width spaces, which copy and paste bring along) is removed.
- A URL without a scheme gets ``http://`` (``example.com/a``,
  ``//example.com/a`` and ``example.com:8080/a`` all count as schemeless).
- Scheme and host are lower-cased; an international host is converted to
  punycode with UTS #46 non-transitional processing, as browsers do
  (``BÜcher.example`` -> ``xn--bcher-kva.example``, ``faß.de`` keeps its ß).
  A percent-encoded host is decoded first, as browsers do.
- The default port (80 for http, 443 for https) is dropped, other ports are
  kept without leading zeros; the fragment is dropped; one trailing dot of the
  host is dropped.
- **Userinfo (``user:pass@``) is dropped.** It does not say where the
  material is, it is often a credential (personal data we must not keep in
  a case record that is exported in notices), and keeping it would let
  ``http://a@host/x`` and ``http://b@host/x`` escape duplicate detection. An
  analyst who needs a password to see the material gets it from the
  reporter's free text, not from the URL.
- **An empty path becomes ``/``**, so ``http://example.com`` and
  ``http://example.com/`` are the same string (browsers make the same
  change). Otherwise the path and the query are kept exactly as given: no
  percent-decoding, no re-encoding, no dot-segment removal, no sorting. An
  empty query (``http://example.com/?``) keeps its ``?``.
- IP literal hosts are written the canonical way: IPv4 in dotted decimal
  (the decimal, hex and octal forms browsers accept, such as ``2130706433``
  or ``0x7f.0.0.1``, are read the way browsers read them), IPv6 in brackets,
  lower-case and compressed (RFC 5952).

The result is idempotent: normalising a normalised URL returns it unchanged.

What is refused (with :class:`InvalidURL`, whose message a member of the
public can understand):

- schemes other than http and https;
- hosts that are, or that browsers would read as, IP addresses that are not
  on the public internet (loopback, private, shared, link-local, unspecified,
  multicast, reserved and documentation ranges; IPv4-mapped, 6to4 and NAT64
  IPv6 addresses are judged by the IPv4 address they carry), ``localhost``
  and ``*.localhost``;
- anything over 2,048 characters (the input after stripping, and the result,
  which punycode can make longer);
- control and other invisible formatting characters anywhere, and spaces
  inside the URL (a line holding two URLs separated by a space is the usual
  cause);
- strings that are not web addresses: empty, no host, a host without a dot
  (a name such as ``intranet`` cannot be reached from the internet), a host
  with characters other than letters, digits, ``-``, ``_`` and ``.``, empty
  labels, labels over 63 or hosts over 253 characters, malformed IP literals
  and IPv6 zone identifiers;
- invalid ports (not ASCII digits, or over 65535);
- ``someone@example.com`` without a scheme (an e-mail address, not a URL);
- a backslash before the path (``http://a.com\\@b.com/``), which browsers and
  other parsers read as different hosts.

Hyphens at the start or end of a label are accepted (such blog subdomains
exist and browsers reach them), and ``.onion`` hosts are accepted.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote

import idna

from casemgr.intake import ip_hosts

__all__ = [
    "MAX_URL_LENGTH",
    "SURROUNDING_WHITESPACE",
    "InvalidURL",
    "host_of",
    "normalise_url",
]

MAX_URL_LENGTH = 2048

# --- Messages shown to the public -------------------------------------------
# Plain strings kept in one place (the list of URLs' message too,
# casemgr/intake/url_lists.py) so they can be wrapped for translation
# (Flask-Babel lazy_gettext) without touching the logic. Placeholders use the
# %(name)d form that Babel extracts and formats.
MSG_EMPTY = "Please enter a web address."
MSG_NOT_A_URL = "This is not a web address."
MSG_SCHEME_NOT_ALLOWED = "Only web addresses starting with http:// or https:// can be reported."
MSG_PRIVATE_HOST = "This address points to a private or local network and cannot be checked."
MSG_TOO_LONG = "This web address is too long (over 2,048 characters)."
MSG_INVALID_PORT = "The port number in this web address is not valid."
MSG_CONTROL_CHARACTERS = (
    "This web address contains hidden control characters. Please type it again."
)
MSG_CONTAINS_SPACES = "A web address cannot contain spaces. Put each address on its own line."
MSG_EMAIL_ADDRESS = "This looks like an e-mail address, not a web address."
MSG_TOO_MANY_URLS = "You can send at most %(limit)d web addresses at once."


class InvalidURL(ValueError):
    """A URL that cannot be accepted.

    ``message`` is for people (and is also ``str(error)``); ``code`` is a
    stable identifier for programs, such as the API's error envelope, that
    must not depend on the wording or its translation.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- Character classes ------------------------------------------------------

# Whitespace stripped from both ends: ASCII whitespace, every Unicode space
# separator (Zs), the line/paragraph separators, and the zero-width space and
# byte order mark that copying from documents or a CSV file brings along.
SURROUNDING_WHITESPACE = (
    " \t\n\r\f\v"
    "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u202f\u205f\u3000"
    "\u2028\u2029\u200b\ufeff"
)
# Control (Cc), format (Cf: bidi marks, zero-width joiners...), surrogate (Cs)
# and line/paragraph separator (Zl, Zp) characters are invisible or break the
# text, so a URL holding one is refused rather than silently cleaned.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_HOST_RE = re.compile(r"[a-z0-9_\-]+(?:\.[a-z0-9_\-]+)*", re.ASCII)
_PORT_RE = re.compile(r"[0-9]*", re.ASCII)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_LABEL_LENGTH = 63
_MAX_HOST_LENGTH = 253


@dataclass(frozen=True, slots=True)
class _Parts:
    scheme: str
    host: str  # as written in the URL: IPv6 in brackets
    port: int | None  # None when absent or the scheme's default
    path_and_query: str

    def unparse(self) -> str:
        port = "" if self.port is None else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}{self.path_and_query}"


# --- Public API -------------------------------------------------------------


def normalise_url(raw: str) -> str:
    """Return ``raw`` normalised, or raise :class:`InvalidURL`.

    See the module docstring for the rules.
    """
    return _parse(raw).unparse()


def host_of(url: str) -> str:
    """Return the host of a URL as it appears in its normalised form.

    IPv6 hosts are returned without brackets, so that the result can be given
    to :func:`ipaddress.ip_address`. Meant for normalised URLs, but any URL
    :func:`normalise_url` accepts works (normalising is idempotent); others
    raise :class:`InvalidURL`.
    """
    host = _parse(url).host
    if host.startswith("["):
        return host[1:-1]
    return host


# --- Parsing ----------------------------------------------------------------


def _parse(raw: str) -> _Parts:
    text = raw.strip(SURROUNDING_WHITESPACE)
    if not text:
        raise InvalidURL("empty", MSG_EMPTY)
    if len(text) > MAX_URL_LENGTH:
        raise InvalidURL("too_long", MSG_TOO_LONG)
    if any(unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in text):
        raise InvalidURL("control_characters", MSG_CONTROL_CHARACTERS)
    if any(ch.isspace() for ch in text):
        raise InvalidURL("contains_spaces", MSG_CONTAINS_SPACES)

    scheme, rest, had_scheme = _split_scheme(text)

    # The authority ends at the first "/", "?" or "#".
    end = len(rest)
    for delimiter in "/?#":
        index = rest.find(delimiter)
        if index != -1:
            end = min(end, index)
    authority, remainder = rest[:end], rest[end:]
    if "\\" in authority:
        # Browsers read a backslash here as "/" (so "http://a.com\\@b.com/"
        # goes to a.com) while other parsers read b.com as the host. Refused,
        # so that the stored URL means the same to every parser.
        raise InvalidURL("not_a_url", MSG_NOT_A_URL)
    path_and_query = remainder.split("#", 1)[0]
    if not path_and_query.startswith("/"):
        path_and_query = "/" + path_and_query

    # Userinfo is dropped (see the module docstring); like browsers, the host
    # starts after the last "@".
    _userinfo, at, host_and_port = authority.rpartition("@")
    if at and not had_scheme:
        # "someone@example.com" is an e-mail address; only an explicit
        # http:// or https:// makes the part before "@" userinfo.
        raise InvalidURL("email_address", MSG_EMAIL_ADDRESS)
    host, port_text = _split_port(host_and_port)
    port = _parse_port(port_text, scheme)
    host = _normalise_host(host)

    parts = _Parts(scheme, host, port, path_and_query)
    if len(parts.unparse()) > MAX_URL_LENGTH:
        raise InvalidURL("too_long", MSG_TOO_LONG)
    return parts


def _split_scheme(text: str) -> tuple[str, str, bool]:
    """Return the scheme, what follows it minus the slashes, and whether the
    scheme was written (False when ``http`` was assumed).

    ``host:port`` without a scheme (``example.com:8080/a``) looks like a
    scheme followed by a colon; it is told apart by a dot in the would-be
    scheme (no scheme anyone reports has one) or by being ``localhost``.
    """
    match = _SCHEME_RE.match(text)
    if match:
        candidate = match.group(1).lower()
        if candidate in _DEFAULT_PORTS:
            # Browsers accept any number of slashes or backslashes here
            # ("http:example.com", "http:\\example.com").
            return candidate, text[match.end() :].lstrip("/\\"), True
        if "." not in candidate and candidate != "localhost":
            raise InvalidURL("scheme_not_allowed", MSG_SCHEME_NOT_ALLOWED)
    return "http", text.lstrip("/"), False


def _split_port(host_and_port: str) -> tuple[str, str | None]:
    if host_and_port.startswith("["):
        close = host_and_port.find("]")
        if close == -1:
            raise InvalidURL("not_a_url", MSG_NOT_A_URL)
        host, after = host_and_port[: close + 1], host_and_port[close + 1 :]
        if not after:
            return host, None
        if not after.startswith(":"):
            raise InvalidURL("not_a_url", MSG_NOT_A_URL)
        return host, after[1:]
    if host_and_port.count(":") > 1:
        # An IPv6 address without its brackets, or worse.
        raise InvalidURL("not_a_url", MSG_NOT_A_URL)
    host, colon, port = host_and_port.partition(":")
    return host, (port if colon else None)


def _parse_port(port_text: str | None, scheme: str) -> int | None:
    if not port_text:  # absent, or "example.com:" which browsers accept
        return None
    if not _PORT_RE.fullmatch(port_text):
        raise InvalidURL("invalid_port", MSG_INVALID_PORT)
    port = int(port_text)
    if port > 65535:
        raise InvalidURL("invalid_port", MSG_INVALID_PORT)
    if port == _DEFAULT_PORTS[scheme]:
        return None
    return port


def _normalise_host(host: str) -> str:
    if not host:
        raise InvalidURL("not_a_url", MSG_NOT_A_URL)
    if host.startswith("["):
        ipv6 = ip_hosts.parse_ipv6(host[1:-1])
        if ipv6 is None:
            raise InvalidURL("not_a_url", MSG_NOT_A_URL)
        _refuse_if_not_public(ipv6)
        return "[" + ip_hosts.format_ipv6(ipv6) + "]"

    try:
        host = unquote(host, errors="strict")
    except UnicodeDecodeError:
        raise InvalidURL("not_a_url", MSG_NOT_A_URL) from None
    host = _to_ascii(host)
    if host.endswith("."):
        host = host[:-1]
    if not _HOST_RE.fullmatch(host):
        raise InvalidURL("not_a_url", MSG_NOT_A_URL)

    if ip_hosts.ends_in_a_number(host):
        ipv4 = ip_hosts.parse_ipv4(host)
        if ipv4 is None:
            raise InvalidURL("not_a_url", MSG_NOT_A_URL)
        _refuse_if_not_public(ipv4)
        return str(ipv4)

    if host == "localhost" or host.endswith(".localhost"):
        raise InvalidURL("private_host", MSG_PRIVATE_HOST)
    if "." not in host or len(host) > _MAX_HOST_LENGTH:
        raise InvalidURL("not_a_url", MSG_NOT_A_URL)
    if any(len(label) > _MAX_LABEL_LENGTH for label in host.split(".")):
        raise InvalidURL("not_a_url", MSG_NOT_A_URL)
    return host


def _to_ascii(host: str) -> str:
    """Lower-case an ASCII host; map and punycode an international one.

    ASCII hosts skip IDNA on purpose: the ``idna`` package applies IDNA 2008
    rules (no leading or trailing hyphen in a label...) that real hosts break
    and browsers do not enforce. International hosts get the UTS #46 mapping
    (case folding, full-width forms, ideographic full stop...) and punycode,
    which is what browsers do.
    """
    if host.isascii():
        return host.lower()
    try:
        mapped = idna.uts46_remap(host, std3_rules=False, transitional=False)
    except idna.IDNAError:
        raise InvalidURL("not_a_url", MSG_NOT_A_URL) from None
    labels = []
    for label in mapped.split("."):
        if label.isascii():
            labels.append(label)
        else:
            labels.append("xn--" + label.encode("punycode").decode("ascii"))
    return ".".join(labels)


def _refuse_if_not_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    if not ip_hosts.is_public(address):
        raise InvalidURL("private_host", MSG_PRIVATE_HOST)
