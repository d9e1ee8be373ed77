"""Hosts written as IP addresses, read the way browsers read them: IPv4 in the
decimal, hex and octal forms browsers accept (``2130706433``, ``0x7f.1``),
IPv6 in its canonical text form, and whether an address is on the public
internet.

Its own module because it is arithmetic on addresses, apart from the URL
grammar of :mod:`casemgr.intake.urls`, which decides what to refuse and says
why. Pure Python: functions return None or False where urls.py refuses.
"""

from __future__ import annotations

import ipaddress

# Networks that carry an IPv4 address inside an IPv6 one. IPv4-mapped
# (::ffff:0:0/96) and 6to4 (2002::/16) have properties in ipaddress;
# the NAT64 well-known prefix does not.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def ends_in_a_number(host: str) -> bool:
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


def parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """Read an IPv4 host the way browsers do; None if it is not one they accept.

    Each dot-separated part may be decimal, hex (``0x7f``) or octal (``0177``);
    the last part fills the remaining bytes, so ``127.1`` and ``2130706433``
    are both 127.0.0.1.
    """
    parts = host.split(".")
    if len(parts) > 4:
        return None
    numbers = [_parse_ipv4_number(part) for part in parts]
    if any(number is None for number in numbers):
        return None
    *leading, last = [n for n in numbers if n is not None]
    if any(number > 255 for number in leading) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def parse_ipv6(text: str) -> ipaddress.IPv6Address | None:
    """The IPv6 address written inside a URL's brackets; None if it is not one."""
    # Zone identifiers (fe80::1%eth0) only mean something on the reporter's
    # own machine; browsers refuse them too.
    if "%" in text:
        return None
    try:
        return ipaddress.IPv6Address(text)
    except ValueError:
        return None


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether ``address`` is on the public internet; an IPv6 address that
    carries an IPv4 one (IPv4-mapped, 6to4, NAT64) is judged by the latter."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            # Judged by the IPv4 address alone: Python versions disagree on
            # whether the ::ffff:0:0/96 block itself is "private".
            return is_public(embedded)
    # is_global alone misses multicast in some Python versions, hence the list.
    return not (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
        or address.is_multicast
        or address.is_reserved
    )


def format_ipv6(address: ipaddress.IPv6Address) -> str:
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
