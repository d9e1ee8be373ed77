"""Builders for tests: staff, organisations, and cases driven to any state
through the real workflow service (never by setting ``status`` directly)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from sqlalchemy import update

from casemgr import context
from casemgr.auth import accounts, signin, twofactor
from casemgr.auth.models import User
from casemgr.cases import receiving
from casemgr.cases import services as cases
from casemgr.cases.models import Case
from casemgr.cases.states import Status
from casemgr.directory.inputs import OrganisationInput
from casemgr.directory.models import Organisation
from casemgr.directory.operations import create_organisation
from casemgr.domain import SYSTEM_ACTOR, Actor
from casemgr.extensions import db

PASSWORD = "correct horse battery"  # noqa: S105
_sequence = itertools.count(1)


def user(
    role: str = "analyst",
    *,
    name: str | None = None,
    active: bool = True,
    two_factor: bool | None = None,
    hotline: Organisation | None = None,
) -> User:
    """A member of staff with PASSWORD; with a second factor (a TOTP secret of its
    own; ``totp_code(user)`` gives the code) where the role needs one, unless
    ``two_factor`` says otherwise. A ``partner`` account belongs to
    ``hotline`` (default: a new partner hotline) and has no password."""
    number = next(_sequence)
    partner = role == "partner"
    if partner and hotline is None:
        hotline = organisation("hotline", email="hotline@partner.example.org")
    created = accounts.create_user(
        db.session,
        accounts.AccountInput(
            email=f"{role}{number}@staff.example.org",
            name=name or f"{role.title()} {number}",
            role=role,
            password=None if partner else PASSWORD,
            active=active,
            organisation_id=hotline.id if hotline is not None else None,
        ),
        now=context.now(),
        actor=SYSTEM_ACTOR,
    )
    if two_factor is None:
        two_factor = signin.two_factor_required(created, context.login_policy())
    if two_factor:
        enrol(created)
    db.session.commit()
    return created


def enrol(member: User) -> str:
    """Give ``member`` a second factor directly (the screens' enrolment checks a
    code first); returns the secret."""
    secret = twofactor.new_secret()
    member.totp_secret = context.cipher().encrypt(secret)
    member.totp_enrolled_at = context.now()
    db.session.commit()
    return secret


def totp_code(member: User, at: datetime | None = None) -> str:
    """The code ``member``'s authenticator app shows at ``at`` (default: now)."""
    secret = twofactor.secret_of(db.session.get(User, member.id), context.cipher())
    return twofactor.current_code(secret, at or context.now())


def forget_last_code(member: User) -> None:
    db.session.execute(update(User).where(User.id == member.id).values(totp_last_step=None))
    db.session.commit()


def organisation(
    kind: str = "hosting_provider",
    *,
    country: str | None = "KH",
    email: str | None = "abuse@host.example.com",
    name: str | None = None,
    domains: str | list[str] = (),
    networks: str | list[str] = (),
) -> Organisation:
    created = create_organisation(
        db.session,
        OrganisationInput(
            kind=kind,
            name=name or f"{kind} {next(_sequence)}",
            country=country,
            email=email,
            domains=domains,
            networks=networks,
        ),
        now=context.now(),
        actor=SYSTEM_ACTOR,
    )
    db.session.commit()
    return created


def report(
    *urls: str,
    source: str = "public",
    at: datetime | None = None,
    submitted_by: User | None = None,
    **extra,
) -> receiving.ReceiveResult:
    result = receiving.receive_report(
        db.session,
        receiving.ReportInput(
            urls=list(urls) or [f"http://site{next(_sequence)}.example.com/x"],
            source=source,
            **extra,
        ),
        now=at or context.now(),
        timings=context.timings(),
        cipher=context.cipher(),
        reference_prefix=context.reference_prefix(),
        languages=context.setting("LANGUAGES"),
        submitted_by=submitted_by,
    )
    db.session.commit()
    return result


ILLEGAL = {
    "classification": "illegal_baseline",
    "media_type": "image",
    "site_type": "image_host",
    "hosting_country": "KH",
}

# How to reach each state from a new case: (action, fields builder) steps.
STATES = (
    "new",
    "triage",
    "action_required",
    "notice_pending",
    "notice_sent",
    "forwarded",
    "with_police",
    "with_police_hold",
    "closed",
)


def case(
    state: str = "new",
    *,
    by: User | None = None,
    url: str | None = None,
    at: datetime | None = None,
) -> Case:
    """A case in ``state`` (one of STATES), moved there through the service."""
    moment = at or context.now() - timedelta(days=1)
    created = report(*([url] if url else []), at=moment).submission.cases[0]
    if state == "new":
        return created
    worker = by or user("analyst")
    steps: list[tuple[str, dict, Actor]] = [("assign", {}, worker.actor)]
    if state == "closed":
        steps.append(("assess", {"classification": "not_illegal"}, worker.actor))
    elif state != "triage":
        steps.append(("assess", dict(ILLEGAL), worker.actor))
    if state in ("notice_pending", "notice_sent"):
        steps.append(("request_notice", {"provider_id": organisation().id}, worker.actor))
    if state == "notice_sent":
        steps.append(("send_notice", {}, SYSTEM_ACTOR))
    if state == "forwarded":
        steps.append(
            (
                "forward_to_partner",
                {"partner_id": organisation("hotline", country="KH").id},
                worker.actor,
            )
        )
    if state in ("with_police", "with_police_hold"):
        steps.append(
            (
                "refer_to_police",
                {"police_id": organisation("police").id, "hold": state == "with_police_hold"},
                worker.actor,
            )
        )
    for action, fields, actor in steps:
        moment += timedelta(minutes=10)
        cases.apply_action(
            db.session, created, action, fields, actor=actor, now=moment, timings=context.timings()
        )
    db.session.commit()
    expected = "with_police" if state == "with_police_hold" else state
    assert created.status == Status(expected), (state, created.status)
    return created
