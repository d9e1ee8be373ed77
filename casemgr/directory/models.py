from __future__ import annotations

import ipaddress
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casemgr.database import Base, UTCDateTime
from casemgr.domain import OrganisationRef, OrgKind

MAX_API_BASE_URL_LENGTH = 300
# How a case forwarded to a partner hotline reaches it.
FORWARD_BY = ("letter", "api", "both")


class Organisation(Base):
    """A partner hotline, a police unit, a hosting provider or a registrar."""

    __tablename__ = "organisations"
    __table_args__ = (Index("ix_organisations_kind_country", "kind", "country"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # NULL: not tied to a country (the international police channel).
    country: Mapped[str | None] = mapped_column(String(2))
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(10), default="en")
    address: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A hosting provider whose "removed" on a letter's response page closes
    # the case at once, recorded as its word; otherwise an analyst verifies.
    # A partner hotline too: its "removed" over the API closes the case.
    trust_removal_reports: Mapped[bool] = mapped_column(Boolean, default=False)
    # Partner hotlines running casemgr (casemgr.partners, docs/partners.md): the
    # base URL of their installation, our API token there (encrypted with the
    # contact cipher, never shown again) and how a forwarded case reaches them.
    api_base_url: Mapped[str | None] = mapped_column(String(MAX_API_BASE_URL_LENGTH))
    api_token_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    forward_by: Mapped[str] = mapped_column(String(10), default="letter")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    domains: Mapped[list[OrganisationDomain]] = relationship(
        back_populates="organisation",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="OrganisationDomain.domain",
    )
    networks: Mapped[list[OrganisationNetwork]] = relationship(
        back_populates="organisation",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by=lambda: [OrganisationNetwork.family, OrganisationNetwork.first],
    )

    @property
    def ref(self) -> OrganisationRef:
        return OrganisationRef(id=self.id, kind=OrgKind(self.kind), country=self.country)

    @property
    def has_api_token(self) -> bool:
        return self.api_token_encrypted is not None

    @property
    def forwards_by_api(self) -> bool:
        """Forwarded cases go to its installation over the API (and maybe a letter)."""
        return (
            self.forward_by in ("api", "both")
            and bool(self.api_base_url)
            and self.api_token_encrypted is not None
        )

    @property
    def forwards_by_letter(self) -> bool:
        """Forwarded cases get a referral letter: unless the API alone carries them
        (an API not fully set up falls back to the letter: nothing is lost)."""
        return not (self.forward_by == "api" and self.forwards_by_api)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.country})" if self.country else self.name

    @property
    def domain_names(self) -> list[str]:
        return [entry.domain for entry in self.domains]

    @property
    def cidrs(self) -> list[str]:
        return [entry.cidr for entry in self.networks]

    def __repr__(self) -> str:
        return f"<Organisation {self.kind} {self.name}>"


class OrganisationDomain(Base):
    """A domain an organisation hosts (providers) or is responsible for (registrars).

    A host matches the domain itself and every name under it; the longest
    matching domain wins. Stored normalised: lower case, punycode, no
    trailing dot.
    """

    __tablename__ = "organisation_domains"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    domain: Mapped[str] = mapped_column(String(253), primary_key=True, index=True)

    organisation: Mapped[Organisation] = relationship(back_populates="domains")


class OrganisationNetwork(Base):
    """An IP network (CIDR) a hosting provider hosts.

    ``first`` and ``last`` are the network's first and last address as
    big-endian bytes (4 for IPv4, 16 for IPv6): byte strings compare the same
    way as the addresses on SQLite and PostgreSQL alike, so "which networks
    contain this address" is an indexed range query on both.
    """

    __tablename__ = "organisation_networks"
    __table_args__ = (Index("ix_organisation_networks_range", "family", "first", "last"),)

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    cidr: Mapped[str] = mapped_column(String(43), primary_key=True)
    family: Mapped[int] = mapped_column(Integer)  # 4 or 6
    prefix_length: Mapped[int] = mapped_column(Integer)
    first: Mapped[bytes] = mapped_column(LargeBinary(16))
    last: Mapped[bytes] = mapped_column(LargeBinary(16))

    organisation: Mapped[Organisation] = relationship(back_populates="networks")

    @classmethod
    def of(cls, cidr: str) -> OrganisationNetwork:
        """A row for ``cidr``, which must be a valid network in canonical form."""
        network = ipaddress.ip_network(cidr)
        return cls(
            cidr=str(network),
            family=network.version,
            prefix_length=network.prefixlen,
            first=network.network_address.packed,
            last=network.broadcast_address.packed,
        )
