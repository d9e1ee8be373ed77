"""Reading the directory: lookups, the directory page's search, the choices of
forms and of the routing rule, and what makes two organisations the same.

Apart from :mod:`casemgr.directory.operations`, which changes organisations:
these functions never write.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from casemgr.cases.models import Case
from casemgr.database import get_or_raise
from casemgr.directory.models import Organisation, OrganisationDomain, OrganisationNetwork
from casemgr.directory.routing import Candidate
from casemgr.domain import OrgKind
from casemgr.paging import Page


def get_organisation(session: Session, organisation_id: int) -> Organisation:
    """The organisation with ``organisation_id``, active or not; raises NotFound."""
    return get_or_raise(session, Organisation, organisation_id, what="organisation")


def list_organisations(session: Session, kind: str | None = None) -> list[Organisation]:
    """Active organisations, by name; of one kind if ``kind`` is given."""
    statement = select(Organisation).where(Organisation.active).order_by(Organisation.name)
    if kind:
        statement = statement.where(Organisation.kind == kind)
    return list(session.scalars(statement).all())


def by_kind(session: Session) -> dict[str, list[Organisation]]:
    grouped: dict[str, list[Organisation]] = {kind.value: [] for kind in OrgKind}
    for organisation in list_organisations(session):
        grouped.setdefault(organisation.kind, []).append(organisation)
    return grouped


DIRECTORY_STATUSES = ("active", "inactive", "all")


@dataclass
class DirectoryFilter:
    kind: str | None = None
    country: str | None = None  # a code, or "none" for organisations without a country
    q: str | None = None
    status: str = "active"


def search(
    session: Session, filters: DirectoryFilter, *, page: int = 1, per_page: int = 100
) -> Page:
    """A page of the directory by kind, country and name, with domains and networks loaded.

    ``q`` finds a part of the name or e-mail address, a domain or a name
    under it, or an IP address inside one of the networks."""
    statement = select(Organisation)
    if filters.status == "active":
        statement = statement.where(Organisation.active)
    elif filters.status == "inactive":
        statement = statement.where(~Organisation.active)
    if filters.kind:
        statement = statement.where(Organisation.kind == filters.kind)
    if filters.country == "none":
        statement = statement.where(Organisation.country.is_(None))
    elif filters.country:
        statement = statement.where(Organisation.country == filters.country)
    if filters.q and filters.q.strip():
        statement = statement.where(_search_condition(filters.q.strip()))
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    items = session.scalars(
        statement.options(selectinload(Organisation.domains), selectinload(Organisation.networks))
        .order_by(Organisation.kind, Organisation.name, Organisation.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page(list(items), total, page, per_page)


def _search_condition(q: str):
    text = q.lower()
    conditions = [
        func.lower(Organisation.name).contains(text, autoescape=True),
        func.lower(Organisation.email).contains(text, autoescape=True),
    ]
    try:
        address = ipaddress.ip_address(q)
    except ValueError:
        suffixes = domain_suffixes(text)
        if suffixes:
            conditions.append(Organisation.domains.any(OrganisationDomain.domain.in_(suffixes)))
    else:
        conditions.append(
            Organisation.networks.any(
                (OrganisationNetwork.family == address.version)
                & (OrganisationNetwork.first <= address.packed)
                & (OrganisationNetwork.last >= address.packed)
            )
        )
    return or_(*conditions)


def domain_suffixes(host: str) -> list[str]:
    """``a.b.example.com`` -> the host and every parent domain with a dot in it:
    ``a.b.example.com``, ``b.example.com``, ``example.com``."""
    labels = host.strip().rstrip(".").lower().split(".")
    return [".".join(labels[index:]) for index in range(len(labels) - 1) if labels[index]]


def cases_referring(session: Session, organisation_id: int) -> int:
    """How many cases name the organisation as provider, partner or police."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Case)
            .where(
                or_(
                    Case.provider_id == organisation_id,
                    Case.partner_id == organisation_id,
                    Case.police_id == organisation_id,
                )
            )
        )
        or 0
    )


def _same_key(name: str, other: str) -> bool:
    return name.casefold() == other.casefold()


def find_same(
    session: Session,
    kind: str,
    name: str,
    country: str | None,
    *,
    exclude_id: int | None = None,
) -> Organisation | None:
    """An organisation with the same kind, name (ignoring case) and country.

    Such a pair would be the same organisation twice; the directory refuses it."""
    statement = select(Organisation).where(Organisation.kind == kind)
    statement = statement.where(
        Organisation.country.is_(None) if country is None else Organisation.country == country
    )
    for organisation in session.scalars(statement.order_by(Organisation.id)):
        if organisation.id != exclude_id and _same_key(organisation.name, name):
            return organisation
    return None


def duplicate_message(existing: Organisation) -> str:
    state = "" if existing.active else ", deactivated"
    return (
        f"a {existing.kind} named '{existing.name}'"
        f"{f' in {existing.country}' if existing.country else ' without a country'}"
        f" exists already (id {existing.id}{state})"
    )


def key_of(kind: str, name: str, country: str | None) -> tuple[str, str, str]:
    """What makes two organisations the same one."""
    return (kind, name.casefold(), country or "")


def routing_candidates(session: Session, *, provider_id: int | None = None) -> list[Candidate]:
    """Active hotlines and police, and the provider ``provider_id`` if it is an
    active one: what the routing rule chooses from."""
    condition = Organisation.kind.in_([OrgKind.HOTLINE.value, OrgKind.POLICE.value])
    if provider_id is not None:
        condition = or_(
            condition,
            (Organisation.id == provider_id)
            & (Organisation.kind == OrgKind.HOSTING_PROVIDER.value),
        )
    rows = session.execute(
        select(Organisation.id, Organisation.kind, Organisation.country, Organisation.name).where(
            Organisation.active, condition
        )
    ).all()
    return [Candidate(id=r.id, kind=r.kind, country=r.country, name=r.name) for r in rows]
