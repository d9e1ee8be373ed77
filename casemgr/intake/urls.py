"""URL normalisation for every way a URL enters the system.

The public form, the API, manual entry and the CSV import all pass a reported
URL through :func:`normalise_url` before it is stored or compared, so that a
second report of the same URL is found as a duplicate (see "One case per URL"
in the domain notes). Pure Python: no Flask, no database.

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

__all__ = [
    "MAX_URL_LENGTH",
    "MAX_URLS_PER_SUBMISSION",
    "InvalidURL",
    "LineError",
    "TooManyURLs",
    "host_of",
    "normalise_url",
    "parse_url_lines",
]

MAX_URL_LENGTH = 2048
MAX_URLS_PER_SUBMISSION = 50

# --- Messages shown to the public -------------------------------------------
# Plain strings kept in one place so they can be wrapped for translation
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


class TooManyURLs(ValueError):
    """More URLs were sent at once than allowed.

    Raised by :func:`parse_url_lines` before any line is looked at: it is an
    error about the whole submission, not about one line, so the form shows
    it once at the top instead of on a made-up line number.
    """

    def __init__(self, count: int, limit: int) -> None:
        self.count = count
        self.limit = limit
        self.message = MSG_TOO_MANY_URLS % {"limit": limit}
        super().__init__(self.message)


@dataclass(frozen=True, slots=True)
class LineError:
    """A line of a multi-line submission that is not an acceptable URL.

    ``line_number`` counts from 1 and includes blank lines, so it matches
    what the person sees in the text box; ``raw`` is the line without its
    surrounding whitespace.
    """

    line_number: int
    raw: str
    message: str


# --- Character classes ------------------------------------------------------

# Whitespace stripped from both ends: ASCII whitespace, every Unicode space
# separator (Zs), the line/paragraph separators, and the zero-width space and
# byte order mark that copying from documents or a CSV file brings along.
_STRIP_CHARS = (
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

# Networks that carry an IPv4 address inside an IPv6 one. IPv4-mapped
# (::ffff:0:0/96) and 6to4 (2002::/16) have properties in ipaddress;
# the NAT64 well-known prefix does not.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


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


def parse_url_lines(
    text: str, limit: int = MAX_URLS_PER_SUBMISSION
) -> tuple[list[str], list[LineError]]:
    """Read a text box holding one URL per line.

    Returns the normalised URLs in the order given, each once (the first
    occurrence is kept, compared after normalisation), and one
    :class:`LineError` per line that is not acceptable. Blank lines are
    ignored. Raises :class:`TooManyURLs` if there are more than ``limit``
    non-blank lines.

    Lines are split on ``\\r\\n``, ``\\r`` and ``\\n`` only (not on the other
    separators :meth:`str.splitlines` knows) so that a stray control character
    is reported on its line instead of silently splitting it.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    lines = re.split(r"\r\n|\r|\n", text)
    numbered = [
        (number, line.strip(_STRIP_CHARS))
        for number, line in enumerate(lines, start=1)
        if line.strip(_STRIP_CHARS)
    ]
    if len(numbered) > limit:
        raise TooManyURLs(len(numbered), limit)

    urls: list[str] = []
    seen: set[str] = set()
    errors: list[LineError] = []
    for number, line in numbered:
        try:
            url = normalise_url(line)
        except InvalidURL as error:
            errors.append(LineError(number, line, error.message))
            continue
        if url not in seen:
            seen.add(url)
            urls.append(url)
    return urls, errors


# --- Parsing ----------------------------------------------------------------


def _parse(raw: str) -> _Parts:
    text = raw.strip(_STRIP_CHARS)
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
        return "[" + _format_ipv6(_parse_ipv6(host[1:-1])) + "]"

    try:
        host = unquote(host, errors="strict")
    except UnicodeDecodeError:
        raise InvalidURL("not_a_url", MSG_NOT_A_URL) from None
    host = _to_ascii(host)
    if host.endswith("."):
        host = host[:-1]
    if not _HOST_RE.fullmatch(host):
        raise InvalidURL("not_a_url", MSG_NOT_A_URL)

    if _ends_in_a_number(host):
        ipv4 = _parse_ipv4(host)
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


# --- IP addresses -------------------------------------------------------------


def _ends_in_a_number(host: str) -> bool:
    """Whether browsers would read the host as an IPv4 address (WHATWG URL)."""
    last = host.rsplit(".", 1)[-1]
    if last.isdigit():
        return True
    return _parse_ipv4_number(last) is not None


def _parse_ipv4_number(part: str) -> int | None:
    if part.startswith(("0x", "0X")):
        digits, base = part[2:], 16
        if not digits:
            return 0
    elif len(part) > 1 and part.startswith("0"):
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    if not digits:
        return None
    try:
        return int(digits, base) if digits.isalnum() and digits.isascii() else None
    except ValueError:
        return None


def _parse_ipv4(host: str) -> ipaddress.IPv4Address:
    """Read an IPv4 host the way browsers do.

    Each dot-separated part may be decimal, hex (``0x7f``) or octal (``0177``);
    the last part fills the remaining bytes, so ``127.1`` and ``2130706433``
    are both 127.0.0.1.
    """
    parts = host.split(".")
    if len(parts) > 4:
        raise InvalidURL("not_a_url", MSG_NOT_A_URL)
    numbers = [_parse_ipv4_number(part) for part in parts]
    if any(number is None for number in numbers):
        raise InvalidURL("not_a_url", MSG_NOT_A_URL)
    *leading, last = [n for n in numbers if n is not None]
    if any(number > 255 for number in leading) or last >= 256 ** (5 - len(numbers)):
        raise InvalidURL("not_a_url", MSG_NOT_A_URL)
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _parse_ipv6(text: str) -> ipaddress.IPv6Address:
    # Zone identifiers (fe80::1%eth0) only mean something on the reporter's
    # own machine; browsers refuse them too.
    if "%" in text:
        raise InvalidURL("not_a_url", MSG_NOT_A_URL)
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        raise InvalidURL("not_a_url", MSG_NOT_A_URL) from None
    _refuse_if_not_public(address)
    return address


def _refuse_if_not_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            # Judged by the IPv4 address alone: Python versions disagree on
            # whether the ::ffff:0:0/96 block itself is "private".
            _refuse_if_not_public(embedded)
            return
    # is_global alone misses multicast in some Python versions, hence the list.
    if (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
        or address.is_multicast
        or address.is_reserved
    ):
        raise InvalidURL("private_host", MSG_PRIVATE_HOST)


def _format_ipv6(address: ipaddress.IPv6Address) -> str:
    """Lower-case compressed form (RFC 5952), the same in every Python.

    ``str(address)`` would do for most addresses, but Python 3.13 changed how
    IPv4-mapped ones are written, which would change stored URLs.
    """
    value = int(address)
    pieces = [(value >> (112 - 16 * index)) & 0xFFFF for index in range(8)]
    best_start, best_length = -1, 1  # only runs of two or more are compressed
    index = 0
    while index < 8:
        if pieces[index]:
            index += 1
            continue
        start = index
        while index < 8 and not pieces[index]:
            index += 1
        if index - start > best_length:
            best_start, best_length = start, index - start
    hexes = [f"{piece:x}" for piece in pieces]
    if best_start == -1:
        return ":".join(hexes)
    head = ":".join(hexes[:best_start])
    tail = ":".join(hexes[best_start + best_length :])
    return f"{head}::{tail}"
