"""Tracing help: which hosting provider a reported host is likely to be with.

Looking a host up in DNS is a network action, so it runs only when an analyst
asks for it (the "Trace host" button), never on its own, and it never fetches
the reported content: only the host name is resolved. The result is a
suggestion; nothing changes on the case until a person takes an action.

The resolver is pluggable: any callable ``host -> iterable of IP address
strings``. The app keeps one in ``app.extensions["casemgr.resolver"]``
(the system's DNS by default); tests put a fake one there. Whatever the
resolver, it runs in a thread with a time limit, so a slow DNS cannot hang
the request.

Matching: a provider's domain matches the host itself and every name under
it (the longest matching domain wins); a provider's network matches an
address inside it (the most specific network wins: the longest prefix, and
across several addresses the smallest network). A domain match wins over a
network match: it is what somebody wrote down about this very site, whereas
the address may belong to a CDN in front of it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casemgr import dns
from casemgr.audit.services import record
from casemgr.directory.models import Organisation, OrganisationDomain, OrganisationNetwork
from casemgr.directory.queries import domain_suffixes
from casemgr.domain import Actor, OrgKind

Resolver = dns.Resolver
DEFAULT_TIMEOUT_SECONDS = 3.0
# Look-ups that may run at once. A look-up that outlives its time limit keeps
# its slot until the system resolver gives up, so this also bounds the
# threads a misbehaving DNS can hold.
_SLOTS = threading.BoundedSemaphore(8)


class LookupFailed(Exception):
    """The host could not be resolved; the message is for the analyst."""


def system_resolver(host: str) -> list[str]:
    """The host's addresses from the system's DNS (``socket.getaddrinfo``)."""
    try:
        answers = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise LookupFailed(f"DNS has no address for {host} ({exc.strerror or exc})") from None
    return [str(sockaddr[0]) for _family, _type, _proto, _name, sockaddr in answers]


def resolve(host: str, resolver: Resolver, *, timeout: float) -> list[str]:
    """The distinct addresses of ``host``, in the resolver's order.

    An IP address host is its own answer (no look-up). Raises LookupFailed
    when the resolver fails, answers nothing usable, or takes longer than
    ``timeout`` seconds."""
    literal = _address(host)
    if literal is not None:
        return [str(literal)]
    if not _SLOTS.acquire(blocking=False):
        raise LookupFailed("too many look-ups are running; try again in a moment")

    def counted(name: str) -> list[str]:
        try:
            return list(resolver(name))
        finally:
            _SLOTS.release()  # when the look-up ends, even one given up on

    try:
        addresses = dns.addresses_of(host, counted, timeout=timeout)
    except dns.LookupTimeout:
        raise LookupFailed(f"no answer from DNS for {host} within {timeout:g} s") from None
    except LookupFailed:
        raise
    except Exception as exc:  # any resolver's failure becomes a message
        raise LookupFailed(f"the look-up of {host} failed ({type(exc).__name__}: {exc})") from None
    if not addresses:
        raise LookupFailed(f"DNS gave no address for {host}")
    return addresses


_address = dns.address


@dataclass(frozen=True)
class Match:
    organisation: Organisation
    by: str  # "domain" or "network"
    entry: str  # the matching domain or network
    address: str | None = None  # for a network match: the address inside it


def match_domain(
    session: Session, host: str, kind: OrgKind = OrgKind.HOSTING_PROVIDER
) -> Match | None:
    """The active organisation of ``kind`` with the longest domain that is
    ``host`` or a parent of it."""
    suffixes = domain_suffixes(host)
    if not suffixes or _address(host) is not None:
        return None
    rows = session.execute(
        select(OrganisationDomain.domain, Organisation)
        .join(Organisation, Organisation.id == OrganisationDomain.organisation_id)
        .where(
            OrganisationDomain.domain.in_(suffixes),
            Organisation.active,
            Organisation.kind == kind,
        )
    ).all()
    if not rows:
        return None
    domain, organisation = min(rows, key=lambda row: (-len(row[0]), row[1].name, row[1].id))
    return Match(organisation, "domain", domain)


def match_network(session: Session, addresses: Iterable[str]) -> Match | None:
    """The active hosting provider with the most specific network holding one
    of ``addresses``: the smallest network (fewest host bits, so an IPv4 /24
    is more specific than an IPv6 /48); on a tie the earlier address wins."""
    best: tuple[int, int, Match] | None = None
    for position, text in enumerate(addresses):
        address = _address(text)
        if address is None:
            continue
        row = session.execute(
            select(OrganisationNetwork, Organisation)
            .join(Organisation, Organisation.id == OrganisationNetwork.organisation_id)
            .where(
                OrganisationNetwork.family == address.version,
                OrganisationNetwork.first <= address.packed,
                OrganisationNetwork.last >= address.packed,
                Organisation.active,
                Organisation.kind == OrgKind.HOSTING_PROVIDER,
            )
            .order_by(OrganisationNetwork.prefix_length.desc(), Organisation.name, Organisation.id)
            .limit(1)
        ).first()
        if row is None:
            continue
        network, organisation = row
        # The smallest network is the most specific, whatever the family.
        rank = ((32 if network.family == 4 else 128) - network.prefix_length, position)
        if best is None or rank < best[:2]:
            best = (*rank, Match(organisation, "network", network.cidr, str(address)))
    return best[2] if best else None


@dataclass
class TraceResult:
    host: str
    addresses: list[str] = field(default_factory=list)
    error: str | None = None
    by_domain: Match | None = None
    by_network: Match | None = None
    registrar: Match | None = None

    @property
    def provider(self) -> Match | None:
        """The suggested hosting provider."""
        return self.by_domain or self.by_network

    @property
    def hosting_ip(self) -> str | None:
        """The address to record: the one in the provider's network, else the
        first public one, else the first one."""
        if (
            self.by_network
            and self.provider
            and (self.by_network.organisation.id == self.provider.organisation.id)
        ):
            return self.by_network.address
        public = [a for a in self.addresses if is_public(a)]
        return (public or self.addresses or [None])[0]

    def prefill(self) -> dict[str, str]:
        """Defaults for the case page's action forms (query parameters)."""
        values: dict[str, str] = {}
        if self.provider:
            values["provider_id"] = str(self.provider.organisation.id)
            if self.provider.organisation.country:
                values["hosting_country"] = self.provider.organisation.country
        if self.hosting_ip:
            values["hosting_ip"] = self.hosting_ip
        return values


def is_public(text: str) -> bool:
    address = _address(text)
    return address is not None and address.is_global


def trace(
    session: Session, host: str, *, resolver: Resolver, timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> TraceResult:
    """Resolve ``host`` and match it against the directory. A failed look-up
    is in ``error``; the domain match works without one."""
    result = TraceResult(host=host)
    try:
        result.addresses = resolve(host, resolver, timeout=timeout)
    except LookupFailed as exc:
        result.error = str(exc)
    result.by_domain = match_domain(session, host)
    result.by_network = match_network(session, result.addresses)
    result.registrar = match_domain(session, host, OrgKind.REGISTRAR)
    return result


def trace_case(
    session: Session,
    *,
    case_id: int,
    host: str,
    resolver: Resolver,
    timeout: float,
    actor: Actor,
    now: datetime,
) -> TraceResult:
    """``trace`` for a case's host, recorded in the audit log: who looked up
    which host, when, and what came back."""
    result = trace(session, host, resolver=resolver, timeout=timeout)
    record(
        session,
        action="case.trace",
        now=now,
        actor_id=actor.id,
        target_type="case",
        target_id=case_id,
        details={
            "host": host,
            "addresses": result.addresses,
            "error": result.error,
            "provider_id": result.provider.organisation.id if result.provider else None,
        },
    )
    session.flush()
    return result
