"""Changing the directory: creating, updating, deactivating and reactivating
organisations (with their domains and networks), each audited. Callers commit.

Organisations are never deleted: cases point at them. They are deactivated
instead, which takes them out of every choice list while keeping the cases'
history readable. Reading is in :mod:`casemgr.directory.queries`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from casemgr import context
from casemgr.audit.services import record
from casemgr.directory.inputs import OrganisationInput, validate
from casemgr.directory.models import Organisation, OrganisationDomain, OrganisationNetwork
from casemgr.directory.queries import cases_referring, duplicate_message, find_same
from casemgr.domain import Actor
from casemgr.errors import ValidationFailed


def create_organisation(
    session: Session, data: OrganisationInput, *, now: datetime, actor: Actor
) -> Organisation:
    """Add an organisation; ValidationFailed for bad fields or a duplicate."""
    clean = validate(data)
    existing = find_same(session, clean.kind, clean.name, clean.country)
    if existing is not None:
        raise ValidationFailed({"name": [duplicate_message(existing)]})
    if errors := partner_problems(None, clean):
        raise ValidationFailed(errors)
    return insert(session, clean, now=now, actor=actor)


def insert(
    session: Session,
    clean: OrganisationInput,
    *,
    now: datetime,
    actor: Actor,
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
        trust_removal_reports=bool(clean.trust_removal_reports),
        api_base_url=clean.api_base_url or None,
        forward_by=clean.forward_by or "letter",
        created_at=now,
    )
    token_change = _store_token(organisation, clean)
    organisation.domains = [OrganisationDomain(domain=d) for d in clean.domains or ()]
    organisation.networks = [OrganisationNetwork.of(n) for n in clean.networks or ()]
    session.add(organisation)
    session.flush()
    record(
        session,
        action="organisation.create",
        now=now,
        actor_id=actor.id,
        target_type="organisation",
        target_id=organisation.id,
        details={
            "kind": clean.kind,
            "name": clean.name,
            "country": clean.country,
            "email": clean.email,
            "active": organisation.active,
            "trust_removal_reports": organisation.trust_removal_reports,
            "domains": list(clean.domains or ()),
            "networks": list(clean.networks or ()),
        }
        | _partner_details(organisation, token_change)
        | ({"source": source} if source else {}),
    )
    return organisation


def update_organisation(
    session: Session,
    organisation: Organisation,
    data: OrganisationInput,
    *,
    now: datetime,
    actor: Actor,
) -> dict[str, list[Any]]:
    """Change an organisation; returns the changes ({field: [old, new]}), empty
    when nothing changed. ValidationFailed for bad fields, a duplicate, or a
    change of kind while cases refer to it."""
    clean = validate(data)
    errors = update_problems(session, organisation, clean)
    if errors:
        raise ValidationFailed(errors)
    return apply_update(session, organisation, clean, now=now, actor=actor)


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
    return errors | partner_problems(organisation, clean)


def partner_problems(
    organisation: Organisation | None, clean: OrganisationInput
) -> dict[str, list[str]]:
    """What refuses the API fields as they would be stored after ``clean``."""
    url = clean.api_base_url
    if url is None:
        url = organisation.api_base_url if organisation is not None else None
    forward_by = clean.forward_by
    if forward_by is None:
        forward_by = organisation.forward_by if organisation is not None else "letter"
    if forward_by != "letter" and not url:
        return {"forward_by": ["needs the partner's API base URL"]}
    return {}


def _store_token(organisation: Organisation, clean: OrganisationInput) -> str | None:
    """Encrypt a new API token onto ``organisation`` (or remove it); what happened
    to it ("set", "replaced", "removed") or None. The token itself is never
    returned, logged or audited."""
    if clean.api_token:
        change = "replaced" if organisation.api_token_encrypted is not None else "set"
        organisation.api_token_encrypted = context.cipher().encrypt(clean.api_token)
        return change
    if clean.remove_api_token and organisation.api_token_encrypted is not None:
        organisation.api_token_encrypted = None
        return "removed"
    return None


def _partner_details(organisation: Organisation, token_change: str | None) -> dict[str, Any]:
    if organisation.kind != "hotline":
        return {}
    details: dict[str, Any] = {
        "api_base_url": organisation.api_base_url,
        "forward_by": organisation.forward_by,
    }
    return details | ({"api_token": token_change} if token_change else {})


_STORED = (
    "kind",
    "name",
    "country",
    "email",
    "language",
    "address",
    "notes",
    "active",
    "trust_removal_reports",
    "forward_by",
)
# Fields an update may leave out (None): "leave as it is".
_LEFT_WHEN_MISSING = ("address", "notes", "active", "trust_removal_reports", "forward_by")


def apply_update(
    session: Session,
    organisation: Organisation,
    clean: OrganisationInput,
    *,
    now: datetime,
    actor: Actor,
    source: str | None = None,
) -> dict[str, list[Any]]:
    """Store a validated, checked update and audit what changed."""
    changes: dict[str, list[Any]] = {}
    for name in _STORED:
        new = getattr(clean, name)
        if new is None and name in _LEFT_WHEN_MISSING:
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
    if clean.api_base_url is not None and (clean.api_base_url or None) != organisation.api_base_url:
        changes["api_base_url"] = [organisation.api_base_url, clean.api_base_url or None]
        organisation.api_base_url = clean.api_base_url or None
    if token_change := _store_token(organisation, clean):
        changes["api_token"] = [token_change]  # what happened to it, never the token
    if changes:
        session.flush()
        record(
            session,
            action="organisation.update",
            now=now,
            actor_id=actor.id,
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
    actor: Actor,
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
        actor_id=actor.id,
        target_type="organisation",
        target_id=organisation.id,
        details={"name": organisation.name, "kind": organisation.kind},
    )
    return True
