"""The directory of organisations: partner hotlines, police, hosting providers,
registrars. Functions take the session, the acting user's id and ``now``;
they flush, callers commit.

Organisations are never deleted: cases point at them. They are deactivated
instead, which takes them out of every choice list while keeping the cases'
history readable.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from casemgr.audit.services import record
from casemgr.cases.models import Case
from casemgr.countries import is_country_code
from casemgr.directory.models import Organisation, OrganisationDomain, OrganisationNetwork
from casemgr.directory.routing import Candidate
from casemgr.domain import OrgKind
from casemgr.errors import NotFound, ValidationFailed
from casemgr.intake.urls import InvalidURL, host_of, normalise_url
from casemgr.paging import Page

LANGUAGES = ("en", "km", "fr", "de", "es", "th", "vi", "nl", "pt", "it")
# Who may have what: providers host domains and networks; a registrar is
# responsible for domains; hotlines and police have neither.
KINDS_WITH_DOMAINS = frozenset({OrgKind.HOSTING_PROVIDER, OrgKind.REGISTRAR})
KINDS_WITH_NETWORKS = frozenset({OrgKind.HOSTING_PROVIDER})
MAX_NAME_LENGTH = 200
MAX_ADDRESS_LENGTH = 1000
MAX_NOTES_LENGTH = 5000
MAX_ENTRIES = 2000  # domains, and networks, per organisation
# A cell starting with one of these is run as a formula by spreadsheets that
# open the exported CSV, so names and free text may not start with them.
_FORMULA_STARTS = ("=", "+", "-", "@")
_LIST_SEPARATORS = re.compile(r"[\s;,]+")


@dataclass
class OrganisationInput:
    """An organisation as a form, the API or a CSV row gives it.

    ``address``, ``notes``, ``domains``, ``networks`` and ``active`` may be
    None on an update: "leave as it is" (a CSV file without that column).
    ``domains`` and ``networks`` are lists, or one string of entries
    separated by spaces, semicolons, commas or line breaks.
    """

    kind: str
    name: str
    country: str | None = None
    email: str | None = None
    language: str = "en"
    address: str | None = ""
    notes: str | None = ""
    domains: Sequence[str] | str | None = ()
    networks: Sequence[str] | str | None = ()
    active: bool | None = None


# --- values


def split_list(value: Sequence[str] | str | None) -> list[str]:
    """Entries of a list given as a string (space, semicolon, comma or line
    separated) or as a sequence of strings; blanks dropped, order kept."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    entries: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError("must be text")
        entries.extend(part for part in _LIST_SEPARATORS.split(item) if part)
    return entries


def normalise_domain(text: str) -> str:
    """A domain name as the directory stores it (lower case, punycode, no
    trailing dot), or ValueError with a message naming the entry.

    Uses the URL normaliser's host rules, so a domain is written the way the
    host of a reported URL is, and the two can be compared."""
    raw = text.strip()
    if any(ch in raw for ch in "/:@?#\\[]") or any(ch.isspace() for ch in raw):
        raise ValueError(
            f"'{raw}' is not a domain name: write the name only, e.g. example.com "
            "(no http://, port or path; names under it match too)"
        )
    ip_message = f"'{raw}' is an IP address, not a domain name: list it under networks"
    try:
        ipaddress.ip_address(raw)
    except ValueError:
        pass
    else:
        raise ValueError(ip_message)
    try:
        host = host_of(normalise_url(f"http://{raw}/"))
    except InvalidURL:
        raise ValueError(f"'{raw}' is not a domain name, e.g. example.com") from None
    try:
        ipaddress.ip_address(host)  # what browsers read as an address: 0x7f.1, 3232235777
    except ValueError:
        return host
    raise ValueError(ip_message)


def normalise_network(text: str) -> str:
    """An IP network in canonical CIDR form, or ValueError with a message
    naming the entry. A single address is its own /32 (or /128) network.

    A network with host bits set (10.0.0.1/24) is refused, not silently
    widened: it is a typo as often as not, and the message names the
    network it would be."""
    raw = text.strip()
    if "%" in raw:
        raise ValueError(f"'{raw}' has an IPv6 zone; write the network without it")
    try:
        network = ipaddress.ip_network(raw, strict=True)
    except ValueError:
        try:
            widened = ipaddress.ip_network(raw, strict=False)
        except ValueError:
            raise ValueError(
                f"'{raw}' is not an IP network in CIDR notation, e.g. 192.0.2.0/24 or 2001:db8::/32"
            ) from None
        raise ValueError(
            f"'{raw}' has host bits set: the network is {widened}; write that instead"
        ) from None
    if network.prefixlen == 0:
        raise ValueError(f"'{raw}' would match every address; give the provider's own network")
    return str(network)


def _text_errors(value: Any, limit: int, *, multiline: bool) -> str | None:
    if not isinstance(value, str):
        return "must be text"
    if len(value) > limit:
        return f"must be at most {limit} characters"
    allowed = "\n\r\t" if multiline else ""
    if any(ord(ch) < 32 and ch not in allowed for ch in value):
        return "must not contain control characters"
    if value.strip().startswith(_FORMULA_STARTS):
        return "must not start with =, +, - or @ (spreadsheets run such text as a formula)"
    return None


def validate(data: OrganisationInput) -> OrganisationInput:
    """The input cleaned, or ValidationFailed naming every bad field."""
    errors: dict[str, list[str]] = {}
    kind = data.kind.strip().lower() if isinstance(data.kind, str) else data.kind
    if kind not in {kind.value for kind in OrgKind}:
        errors["kind"] = [f"must be one of: {', '.join(k.value for k in OrgKind)}"]

    name = data.name.strip() if isinstance(data.name, str) else ""
    if not name:
        errors["name"] = ["is required"]
    elif problem := _text_errors(name, MAX_NAME_LENGTH, multiline=False):
        errors["name"] = [problem]

    country = None
    if data.country is not None and not isinstance(data.country, str):
        errors["country"] = ["must be an ISO 3166-1 alpha-2 country code"]
    elif isinstance(data.country, str) and data.country.strip():
        country = data.country.strip().upper()
        if not is_country_code(country):
            errors["country"] = [
                f"'{data.country.strip()}' is not an ISO 3166-1 alpha-2 country code, e.g. KH"
            ]

    email = None
    if data.email is not None and not isinstance(data.email, str):
        errors["email"] = ["must be an e-mail address"]
    elif data.email and data.email.strip():
        try:
            email = validate_email(data.email.strip(), check_deliverability=False).normalized
        except EmailNotValidError as exc:
            errors["email"] = [f"'{data.email.strip()}' is not an e-mail address: {exc}"]

    language = data.language.strip().lower() if isinstance(data.language, str) else None
    if not language:
        language = "en"
    if language not in LANGUAGES:
        errors["language"] = [f"must be one of: {', '.join(LANGUAGES)}"]

    address, notes = data.address, data.notes
    for name_, value, limit in (
        ("address", address, MAX_ADDRESS_LENGTH),
        ("notes", notes, MAX_NOTES_LENGTH),
    ):
        if value is not None and (problem := _text_errors(value, limit, multiline=True)):
            errors[name_] = [problem]

    domains = _clean_entries(data.domains, normalise_domain, "domains", errors)
    networks = _clean_entries(data.networks, normalise_network, "networks", errors)
    if domains and kind in {k.value for k in OrgKind} and kind not in KINDS_WITH_DOMAINS:
        errors.setdefault("domains", []).append(
            "only hosting providers and registrars have domains"
        )
    if networks and kind in {k.value for k in OrgKind} and kind not in KINDS_WITH_NETWORKS:
        errors.setdefault("networks", []).append("only hosting providers have networks")

    if data.active is not None and not isinstance(data.active, bool):
        errors["active"] = ["must be true or false"]

    if errors:
        raise ValidationFailed(errors)
    return OrganisationInput(
        kind=kind,
        name=name,
        country=country,
        email=email,
        language=language,
        address=address.strip() if address is not None else None,
        notes=notes.strip() if notes is not None else None,
        domains=domains,
        networks=networks,
        active=data.active,
    )


def _clean_entries(value, normalise, name: str, errors: dict[str, list[str]]) -> list[str] | None:
    if value is None:
        return None
    try:
        entries = split_list(value)
    except ValueError as exc:
        errors[name] = [str(exc)]
        return None
    if len(entries) > MAX_ENTRIES:
        errors[name] = [f"at most {MAX_ENTRIES} entries"]
        return None
    clean: list[str] = []
    for entry in entries:
        try:
            normalised = normalise(entry)
        except ValueError as exc:
            errors.setdefault(name, []).append(str(exc))
            continue
        if normalised not in clean:
            clean.append(normalised)
    return clean


# --- reading


def get_organisation(session: Session, organisation_id: int) -> Organisation:
    """The organisation with ``organisation_id``, active or not; raises NotFound."""
    organisation = session.get(
        Organisation,
        organisation_id,
        options=[selectinload(Organisation.domains), selectinload(Organisation.networks)],
    )
    if organisation is None:
        raise NotFound(f"no organisation with id {organisation_id}")
    return organisation


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


# --- changing


def create_organisation(
    session: Session, data: OrganisationInput, *, now: datetime, actor_id: int | None
) -> Organisation:
    """Add an organisation; ValidationFailed for bad fields or a duplicate."""
    clean = validate(data)
    existing = find_same(session, clean.kind, clean.name, clean.country)
    if existing is not None:
        raise ValidationFailed({"name": [duplicate_message(existing)]})
    return insert(session, clean, now=now, actor_id=actor_id)


def insert(
    session: Session,
    clean: OrganisationInput,
    *,
    now: datetime,
    actor_id: int | None,
    source: str | None = None,
) -> Organisation:
    """Store a validated, checked input as a new organisation and audit it."""
    organisation = Organisation(
        kind=clean.kind,
        name=clean.name,
        country=clean.country,
        email=clean.email,
        language=clean.language,
        address=clean.address or "",
        notes=clean.notes or "",
        active=True if clean.active is None else clean.active,
        created_at=now,
    )
    organisation.domains = [OrganisationDomain(domain=d) for d in clean.domains or ()]
    organisation.networks = [OrganisationNetwork.of(n) for n in clean.networks or ()]
    session.add(organisation)
    session.flush()
    record(
        session,
        action="organisation.create",
        now=now,
        actor_id=actor_id,
        target_type="organisation",
        target_id=organisation.id,
        details={
            "kind": clean.kind,
            "name": clean.name,
            "country": clean.country,
            "email": clean.email,
            "active": organisation.active,
            "domains": list(clean.domains or ()),
            "networks": list(clean.networks or ()),
        }
        | ({"source": source} if source else {}),
    )
    return organisation


def update_organisation(
    session: Session,
    organisation: Organisation,
    data: OrganisationInput,
    *,
    now: datetime,
    actor_id: int | None,
) -> dict[str, list[Any]]:
    """Change an organisation; returns the changes ({field: [old, new]}), empty
    when nothing changed. ValidationFailed for bad fields, a duplicate, or a
    change of kind while cases refer to it."""
    clean = validate(data)
    errors = update_problems(session, organisation, clean)
    if errors:
        raise ValidationFailed(errors)
    return apply_update(session, organisation, clean, now=now, actor_id=actor_id)


def update_problems(
    session: Session,
    organisation: Organisation,
    clean: OrganisationInput,
    *,
    check_duplicates: bool = True,
) -> dict[str, list[str]]:
    """What refuses a validated update of ``organisation``."""
    errors: dict[str, list[str]] = {}
    if clean.kind != organisation.kind and (count := cases_referring(session, organisation.id)):
        errors["kind"] = [
            f"cannot change from {organisation.kind} to {clean.kind}: "
            f"{count} case(s) name this organisation"
        ]
    if check_duplicates:
        existing = find_same(
            session, clean.kind, clean.name, clean.country, exclude_id=organisation.id
        )
        if existing is not None:
            errors["name"] = [duplicate_message(existing)]
    return errors


def apply_update(
    session: Session,
    organisation: Organisation,
    clean: OrganisationInput,
    *,
    now: datetime,
    actor_id: int | None,
    source: str | None = None,
) -> dict[str, list[Any]]:
    """Store a validated, checked update and audit what changed."""
    changes: dict[str, list[Any]] = {}
    for name in ("kind", "name", "country", "email", "language", "address", "notes", "active"):
        new = getattr(clean, name)
        if new is None and name in ("address", "notes", "active"):
            continue  # not given: left as it is
        old = getattr(organisation, name)
        if new != old:
            changes[name] = [old, new]
            setattr(organisation, name, new)
    if clean.domains is not None:
        old_domains = organisation.domain_names
        if sorted(old_domains) != sorted(clean.domains):
            kept = {d.domain: d for d in organisation.domains}
            organisation.domains = [
                kept.get(d) or OrganisationDomain(domain=d) for d in clean.domains
            ]
            changes["domains"] = [sorted(old_domains), sorted(clean.domains)]
    if clean.networks is not None:
        old_networks = organisation.cidrs
        if sorted(old_networks) != sorted(clean.networks):
            kept_networks = {n.cidr: n for n in organisation.networks}
            organisation.networks = [
                kept_networks.get(n) or OrganisationNetwork.of(n) for n in clean.networks
            ]
            changes["networks"] = [sorted(old_networks), sorted(clean.networks)]
    if changes:
        session.flush()
        record(
            session,
            action="organisation.update",
            now=now,
            actor_id=actor_id,
            target_type="organisation",
            target_id=organisation.id,
            details={"name": organisation.name, "changes": changes}
            | ({"source": source} if source else {}),
        )
    return changes


def set_active(
    session: Session,
    organisation: Organisation,
    active: bool,
    *,
    now: datetime,
    actor_id: int | None,
) -> bool:
    """Deactivate (or reactivate) an organisation; never deletes one.

    A deactivated organisation leaves every choice list and cannot be chosen
    for a new action; the cases that name it keep it. Returns whether
    anything changed."""
    if organisation.active == active:
        return False
    organisation.active = active
    session.flush()
    record(
        session,
        action="organisation.activate" if active else "organisation.deactivate",
        now=now,
        actor_id=actor_id,
        target_type="organisation",
        target_id=organisation.id,
        details={"name": organisation.name, "kind": organisation.kind},
    )
    return True


def input_from(organisation: Organisation, **changes: Any) -> OrganisationInput:
    """The input that would store ``organisation`` as it is, with ``changes``."""
    current = OrganisationInput(
        kind=organisation.kind,
        name=organisation.name,
        country=organisation.country,
        email=organisation.email,
        language=organisation.language,
        address=organisation.address,
        notes=organisation.notes,
        domains=organisation.domain_names,
        networks=organisation.cidrs,
        active=organisation.active,
    )
    return replace(current, **changes)


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
