"""Organisations. Callers commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from casemgr.audit.services import record
from casemgr.cases.workflow import OrgKind
from casemgr.countries import is_country_code
from casemgr.directory.models import Organisation
from casemgr.errors import ValidationFailed

LANGUAGES = ("en", "km", "fr", "de", "es", "th", "vi", "nl", "pt", "it")


@dataclass
class OrganisationInput:
    kind: str
    name: str
    country: str | None = None
    email: str | None = None
    language: str = "en"
    address: str = ""


def validate(data: OrganisationInput) -> OrganisationInput:
    errors: dict[str, list[str]] = {}
    if data.kind not in {kind.value for kind in OrgKind}:
        errors["kind"] = [f"must be one of: {', '.join(k.value for k in OrgKind)}"]
    name = (data.name or "").strip() if isinstance(data.name, str) else ""
    if not name:
        errors["name"] = ["is required"]
    elif len(name) > 200:
        errors["name"] = ["must be at most 200 characters"]
    country = (
        data.country.strip().upper()
        if isinstance(data.country, str) and data.country.strip()
        else None
    )
    if data.country is not None and not isinstance(data.country, str):
        errors["country"] = ["must be an ISO 3166-1 alpha-2 country code"]
    elif country is not None and not is_country_code(country):
        errors["country"] = ["must be an ISO 3166-1 alpha-2 country code, e.g. KH"]
    email = None
    if data.email is not None and not isinstance(data.email, str):
        errors["email"] = ["must be an e-mail address"]
    elif data.email and data.email.strip():
        try:
            email = validate_email(data.email.strip(), check_deliverability=False).normalized
        except EmailNotValidError as exc:
            errors["email"] = [str(exc)]
    if data.language not in LANGUAGES:
        errors["language"] = [f"must be one of: {', '.join(LANGUAGES)}"]
    if not isinstance(data.address, str) or len(data.address) > 1000:
        errors["address"] = ["must be text of at most 1000 characters"]
    if errors:
        raise ValidationFailed(errors)
    return OrganisationInput(data.kind, name, country, email, data.language, data.address.strip())


def create_organisation(
    session: Session, data: OrganisationInput, *, now: datetime, actor_id: int | None
) -> Organisation:
    clean = validate(data)
    organisation = Organisation(
        kind=clean.kind,
        name=clean.name,
        country=clean.country,
        email=clean.email,
        language=clean.language,
        address=clean.address,
        created_at=now,
    )
    session.add(organisation)
    session.flush()
    record(
        session,
        action="organisation.create",
        now=now,
        actor_id=actor_id,
        target_type="organisation",
        target_id=organisation.id,
        details={"kind": clean.kind, "name": clean.name},
    )
    return organisation


def list_organisations(session: Session, kind: str | None = None) -> list[Organisation]:
    statement = select(Organisation).where(Organisation.active).order_by(Organisation.name)
    if kind:
        statement = statement.where(Organisation.kind == kind)
    return list(session.scalars(statement).all())


def by_kind(session: Session) -> dict[str, list[Organisation]]:
    grouped: dict[str, list[Organisation]] = {kind.value: [] for kind in OrgKind}
    for organisation in list_organisations(session):
        grouped.setdefault(organisation.kind, []).append(organisation)
    return grouped
