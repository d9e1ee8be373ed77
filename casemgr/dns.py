"""Looking up a host's addresses with a deadline of our own.

The resolver (``socket.getaddrinfo`` by default, a fake in tests) runs in a
thread of its own, so that a DNS that never answers costs the caller its
timeout, not the system resolver's own limits. Used by "Trace host"
(:mod:`casemgr.directory.tracing`) and the removal check
(:mod:`casemgr.checks.probe`), which each say in their own words what a
failure means.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable, Iterable

Resolver = Callable[[str], Iterable[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class LookupTimeout(Exception):
    """The resolver gave no answer within the timeout."""


def address(text: str) -> IPAddress | None:
    """``text`` as an IP address (brackets allowed, an IPv4-mapped IPv6 address
    as its IPv4 address), or None when it is not one."""
    try:
        parsed = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed


def addresses_of(host: str, resolver: Resolver, *, timeout: float) -> list[str]:
    """The distinct addresses of ``host`` in the resolver's order; [] when it
    answered nothing usable. An IP address is its own answer (no look-up).

    Raises LookupTimeout after ``timeout`` seconds without an answer, and
    whatever the resolver raised."""
    literal = address(host)
    if literal is not None:
        return [str(literal)]
    outcome: dict[str, object] = {}
    finished = threading.Event()

    def run() -> None:
        try:
            outcome["answers"] = list(resolver(host))
        except Exception as exc:  # handed to the caller below
            outcome["error"] = exc
        finally:
            finished.set()

    threading.Thread(target=run, name="casemgr-resolve", daemon=True).start()
    if not finished.wait(max(0.0, timeout)):
        raise LookupTimeout(host)
    error = outcome.get("error")
    if isinstance(error, Exception):
        raise error
    found: list[str] = []
    for answer in outcome.get("answers", []):  # type: ignore[union-attr]
        parsed = address(answer) if isinstance(answer, str) else None
        if parsed is not None and str(parsed) not in found:
            found.append(str(parsed))
    return found
