"""What an organisation is given as (a form, the API, a CSV row) and its checks:
the fields cleaned, domains and networks normalised, every bad field named.

Its own module because the checks are pure (no database): the operations,
the CSV import and the API all validate through them before anything is
stored.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from email_validator import EmailNotValidError, validate_email

from casemgr.countries import is_country_code
from casemgr.directory.endpoints import normalise_api_base_url
from casemgr.directory.models import FORWARD_BY, Organisation
from casemgr.domain import OrgKind
from casemgr.errors import ValidationFailed
from casemgr.intake.urls import InvalidURL, host_of, normalise_url

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
    # Hosting providers only: their "removed" closes the case (casemgr.responses).
    trust_removal_reports: bool | None = None
    # Partner hotlines running casemgr (docs/partners.md). None: leave as it is;
    # an empty base URL removes it. The token is write-only: a new one replaces
    # the stored one, ``remove_api_token`` removes it, None keeps it.
    api_base_url: str | None = None
    forward_by: str | None = None
    api_token: str | None = None
    remove_api_token: bool = False


MAX_API_TOKEN_LENGTH = 500


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
    trusted = data.trust_removal_reports
    if trusted is not None and not isinstance(trusted, bool):
        errors["trust_removal_reports"] = ["must be true or false"]
    elif trusted and kind not in (OrgKind.HOSTING_PROVIDER, OrgKind.HOTLINE):
        errors["trust_removal_reports"] = [
            "only a hosting provider or a partner hotline reports removals"
        ]

    api_base_url, forward_by, api_token = _partner_fields(data, kind, errors)

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
        trust_removal_reports=trusted,
        api_base_url=api_base_url,
        forward_by=forward_by,
        api_token=api_token,
        remove_api_token=bool(data.remove_api_token),
    )


def _partner_fields(
    data: OrganisationInput, kind: Any, errors: dict[str, list[str]]
) -> tuple[str | None, str | None, str | None]:
    """The API fields of a partner hotline, cleaned; errors added to ``errors``."""
    url, forward_by, token = data.api_base_url, data.forward_by, data.api_token
    partner = kind == OrgKind.HOTLINE
    if url is not None:
        if not isinstance(url, str):
            errors["api_base_url"] = ["must be text"]
        elif url.strip() and not partner:
            errors["api_base_url"] = ["only a partner hotline has an API base URL"]
        elif url.strip():
            try:
                url = normalise_api_base_url(url)
            except ValueError as exc:
                errors["api_base_url"] = [str(exc)]
        else:
            url = ""
    if forward_by is not None:
        if not isinstance(forward_by, str) or forward_by.strip().lower() not in FORWARD_BY:
            errors["forward_by"] = [f"must be one of: {', '.join(FORWARD_BY)}"]
        else:
            forward_by = forward_by.strip().lower()
            if forward_by != "letter" and not partner:
                errors["forward_by"] = ["only a partner hotline is forwarded to over the API"]
            elif forward_by != "letter" and url == "":
                errors["forward_by"] = ["needs the partner's API base URL"]
    if token is not None:
        if not isinstance(token, str):
            errors["api_token"] = ["must be text"]
        elif token.strip() and not partner:
            errors["api_token"] = ["only a partner hotline has an API token"]
        elif len(token.strip()) > MAX_API_TOKEN_LENGTH:
            errors["api_token"] = [f"must be at most {MAX_API_TOKEN_LENGTH} characters"]
        elif any(ord(ch) < 33 or ord(ch) > 126 for ch in token.strip()):
            errors["api_token"] = ["must be printable ASCII without spaces"]
        else:
            token = token.strip() or None
    if data.remove_api_token not in (True, False):
        errors["remove_api_token"] = ["must be true or false"]
    return url, forward_by, token


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
        trust_removal_reports=organisation.trust_removal_reports,
    )
    return replace(current, **changes)
