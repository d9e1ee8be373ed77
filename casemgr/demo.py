"""Demo data: staff, a small directory and a few dozen cases in every state.

Cases are moved through the real workflow service, so the demo never holds a
state the application could not reach itself. URLs use reserved example
domains only.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casemgr import context
from casemgr.auth import accounts, twofactor
from casemgr.auth.models import User
from casemgr.cases import receiving
from casemgr.cases import services as cases
from casemgr.cases.models import Case
from casemgr.cases.states import Action
from casemgr.crypto import ContactCipher
from casemgr.directory.inputs import OrganisationInput
from casemgr.directory.models import Organisation
from casemgr.directory.operations import create_organisation
from casemgr.domain import SYSTEM_ACTOR, Actor, Role
from casemgr.localtime import describe
from casemgr.notices.letters import send_notice_letter
from casemgr.notices.wording import NoticeSettings
from casemgr.responses.links import LinkSettings
from casemgr.responses.models import ResponseLink
from casemgr.responses.services import (
    NEED_INFORMATION,
    REMOVED,
    Answer,
    open_letter,
    record_answers,
)
from casemgr.settings import Timings

DEMO_PASSWORD = "demo-password-123"  # noqa: S105 - printed for the newcomer on purpose

STAFF = (
    ("admin@example.org", "Ada Admin", Role.ADMIN),
    ("supervisor@example.org", "Sam Supervisor", Role.SUPERVISOR),
    ("analyst@example.org", "Ana Analyst", Role.ANALYST),
    ("analyst2@example.org", "Bo Analyst", Role.ANALYST),
)

# (kind, name, country, e-mail, domains, networks): reserved example names and
# documentation address ranges only (RFC 2606, RFC 5737, RFC 3849).
ORGANISATIONS = (
    (
        "hosting_provider",
        "Example Hosting Ltd",
        "KH",
        "abuse@hosting.example.com",
        "example.com",
        "192.0.2.0/24 2001:db8:1::/48",
    ),
    (
        "hosting_provider",
        "Sample Cloud GmbH",
        "DE",
        "abuse@cloud.example.net",
        "example.net",
        "198.51.100.0/24 2001:db8:2::/48",
    ),
    (
        "hosting_provider",
        "Test Files Inc.",
        "US",
        "abuse@files.example.org",
        "example.org",
        "203.0.113.0/24",
    ),
    # A smaller network inside Example Hosting's: the most specific one wins.
    ("hosting_provider", "Offline Host (no e-mail)", "KH", None, "", "192.0.2.128/25"),
    (
        "registrar",
        "Example Registrar Co.",
        "KH",
        "abuse@registrar.example.com",
        "example.com example.net",
        "",
    ),
    ("hotline", "Example Partner Hotline DE", "DE", "reports@hotline-de.example.org", "", ""),
    ("hotline", "Example Partner Hotline US", "US", "reports@hotline-us.example.org", "", ""),
    ("police", "National Police Cybercrime Unit", "KH", "cyber@police.example.gov", "", ""),
    ("police", "International Police Channel", None, "channel@interpol.example.int", "", ""),
)

HOSTS = (
    "example.com",
    "example.net",
    "example.org",
    "img.example.com",
    "files.example.net",
    "forum.example.org",
    "blog.example.com",
)


# The accounts that must have a second factor get one made at loading, so the
# tour never stops at an enrolment page: `flask --app wsgi demo codes` prints
# their current codes (for accounts whose password is still DEMO_PASSWORD).
TWO_FACTOR_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})


@dataclass
class DemoResult:
    created: bool
    users: int = 0
    organisations: int = 0
    cases: int = 0
    # e-mail -> the TOTP secret made for it (base32, for an authenticator app)
    two_factor_secrets: dict[str, str] = field(default_factory=dict)


def load_demo(
    session: Session,
    *,
    now: datetime,
    timings: Timings,
    cipher: ContactCipher,
    prefix: str,
    notice_settings: NoticeSettings | None = None,
    seed: int = 2016,
) -> DemoResult:
    """Fill an empty database; a database that has staff already is left alone.

    With ``notice_settings``, cases reach ``notice_sent`` the way the notice run
    sends them: with a stored PDF letter (and its e-mail queued in the outbox);
    without, by the bare workflow action."""
    if session.scalar(select(func.count()).select_from(User)):
        return DemoResult(created=False)
    rng = random.Random(seed)
    start = now - timedelta(days=60)

    staff = [
        accounts.create_user(
            session,
            accounts.AccountInput(email=email, name=name, role=role, password=DEMO_PASSWORD),
            now=start,
            actor=SYSTEM_ACTOR,
        )
        for email, name, role in STAFF
    ]
    secrets = {
        user.email: _enrol_second_factor(session, user, now=start, cipher=cipher)
        for user in staff
        if user.role in TWO_FACTOR_ROLES
    }
    admin, supervisor_user, analyst_user = staff[0], staff[1], staff[2]
    orgs: dict[str, list[Organisation]] = {}
    for kind, name, country, email, domains, networks in ORGANISATIONS:
        organisation = create_organisation(
            session,
            OrganisationInput(
                kind=kind,
                name=name,
                country=country,
                email=email,
                domains=domains,
                networks=networks,
            ),
            now=start,
            actor=admin.actor,
        )
        orgs.setdefault(kind, []).append(organisation)

    analyst = analyst_user.actor
    supervisor = supervisor_user.actor
    # Each plan: the actions to take, in order, from a fresh case.
    plans: list[list[tuple[str, dict]]] = [
        [],  # new
        [("assign", {})],  # triage
        [("assign", {}), ("assess", _illegal(rng))],  # action_required
        [
            ("assign", {}),
            ("assess", _illegal(rng)),
            ("request_notice", {"provider_id": orgs["hosting_provider"][0].id}),
        ],
        [
            ("assign", {}),
            ("assess", _illegal(rng)),
            ("request_notice", {"provider_id": orgs["hosting_provider"][3].id}),
            ("send_notice", {}),
        ],
        [
            ("assign", {}),
            ("assess", _illegal(rng, "DE")),
            ("forward_to_partner", {"partner_id": orgs["hotline"][0].id}),
        ],
        [
            ("assign", {}),
            ("assess", _illegal(rng)),
            ("refer_to_police", {"police_id": orgs["police"][0].id, "hold": True}),
        ],
        [
            ("assign", {}),
            ("assess", _illegal(rng)),
            ("refer_to_police", {"police_id": orgs["police"][0].id, "hold": False}),
        ],
        [("assign", {}), ("assess", {"classification": "not_illegal"})],
        [("assign", {}), ("assess", {"classification": "out_of_remit"})],
        [("assign", {}), ("close_unavailable", {})],
        [
            ("assign", {}),
            ("assess", _illegal(rng, "US")),
            ("request_notice", {"provider_id": orgs["hosting_provider"][2].id}),
            ("send_notice", {}),
            ("confirm_takedown", {"removed_at": None}),
        ],
    ]
    created = 0
    for index in range(48):
        received = start + timedelta(hours=index * 29 + rng.randint(0, 20))
        url = f"http://{rng.choice(HOSTS)}/demo/{index:03d}/{rng.randint(1000, 9999)}.html"
        result = receiving.receive_report(
            session,
            receiving.ReportInput(
                urls=[url],
                source=rng.choice(("public", "public", "public", "partner", "phone")),
                description="Found while browsing (demo data).",
                reporter_contact="reporter@example.com" if index % 7 == 0 else None,
                feedback_requested=index % 7 == 0,
            ),
            now=received,
            timings=timings,
            cipher=cipher,
            reference_prefix=prefix,
        )
        case = result.submission.cases[0]
        created += 1
        moment = received
        for action, fields in plans[index % len(plans)]:
            moment += timedelta(hours=rng.randint(2, 30))
            if moment > now:
                break
            if action == "send_notice" and notice_settings is not None:
                send_notice_letter(
                    session, case.provider_id, [case.id], now=moment, settings=notice_settings
                )
                continue
            actor: Actor = {"send_notice": SYSTEM_ACTOR}.get(action, analyst)
            if action == "confirm_takedown":
                fields = {"removed_at": moment - timedelta(hours=1)}
            cases.apply_action(
                session, case, action, fields, actor=actor, now=moment, timings=timings
            )
    # One duplicate report of an open case, and one reopened case.
    open_case = session.scalar(select(Case).where(Case.status == "action_required"))
    if open_case is not None:
        receiving.receive_report(
            session,
            receiving.ReportInput(urls=[open_case.url], source="public"),
            now=now - timedelta(hours=3),
            timings=timings,
            cipher=cipher,
            reference_prefix=prefix,
        )
        created += 1
    closed = session.scalar(select(Case).where(Case.resolution == "not_illegal"))
    if closed is not None:
        cases.apply_action(
            session,
            closed,
            Action.REOPEN,
            {"reason": "Second opinion asked."},
            actor=supervisor,
            now=now - timedelta(hours=1),
            timings=timings,
        )
    if notice_settings is not None and notice_settings.links is not None:
        _provider_answers(
            session, notice_settings.links, now=now - timedelta(hours=1), timings=timings
        )
    session.flush()
    return DemoResult(True, len(staff), sum(len(v) for v in orgs.values()), created, secrets)


def _enrol_second_factor(
    session: Session, user: User, *, now: datetime, cipher: ContactCipher
) -> str:
    """A second factor made as the enrolment page makes it (audited, with
    recovery codes nobody sees); its secret is returned for printing."""
    secret = twofactor.new_secret()
    twofactor.enrol(
        session, user, secret, twofactor.current_code(secret, now), now=now, cipher=cipher
    )
    return secret


def _provider_answers(
    session: Session, links: LinkSettings, *, now: datetime, timings: Timings
) -> None:
    """Answers on two letters' response pages: a removal for an analyst to verify
    (the queue's "Removal reported" view), and a provider's question."""
    session.flush()
    kept = session.scalars(select(ResponseLink).order_by(ResponseLink.notice_id.desc()).limit(2))
    for link, given in zip(kept.all(), (REMOVED, NEED_INFORMATION), strict=False):
        letter = open_letter(session, links.token(link.nonce), now=now)
        waiting = [c for c in letter.cases if c.status == "notice_sent"] if letter else []
        if not waiting:
            continue
        message = "Which page exactly? We see no such file." if given == NEED_INFORMATION else None
        record_answers(
            session,
            letter,
            [Answer(case_id=waiting[0].id, answer=given, message=message)],
            now=now,
            timings=timings,
        )


def _illegal(rng: random.Random, country: str = "KH") -> dict:
    return {
        "classification": rng.choice(("illegal_baseline", "illegal_baseline", "illegal_national")),
        "media_type": rng.choice(("image", "video", "mixed")),
        "site_type": rng.choice(("image_host", "file_host", "forum", "website")),
        "hosting_country": country,
        "age_group": rng.choice(("prepubescent", "pubescent")),
    }


PRODUCTION_REFUSAL = (
    "flask demo refuses to run under the production configuration "
    "(CASEMGR_ENV=production): it creates staff accounts whose password is "
    "published. Load demo data into a development copy (CASEMGR_ENV=development, "
    "the default, as bin/start-demo does); create real accounts with "
    "'flask --app wsgi users create'."
)
CODES_COMMAND = ".venv/bin/flask --app wsgi demo codes"


def _refuse_production() -> None:
    # The demo's accounts share a password printed here and in the README.
    if current_app.config["ENV_NAME"] == "production":
        click.echo(PRODUCTION_REFUSAL, err=True)
        raise SystemExit(1)


@click.group(
    "demo",
    cls=AppGroup,
    invoke_without_command=True,
    help="Fill an empty database with demo staff, directory and cases "
    "(demo codes: the second-factor codes of the demo's accounts).",
)
@with_appcontext  # AppGroup gives its subcommands an app context, not itself
@click.pass_context
def demo_command(ctx: click.Context) -> None:
    if ctx.invoked_subcommand is None:
        _load()


@demo_command.command("codes", help="The second-factor codes of the demo's accounts, now.")
def codes_command() -> None:
    """Only for the demo's accounts whose password is still the published one:
    such an account is open to anyone already, its code gives nothing away."""
    from casemgr.extensions import db

    _refuse_production()
    now = context.now()
    shown = 0
    for email, _name, role in STAFF:
        user = accounts.find_by_email(db.session, email)
        if user is None or not user.has_two_factor or not user.check_password(DEMO_PASSWORD):
            continue
        secret = twofactor.secret_of(user, context.cipher())
        code = twofactor.current_code(secret, now)
        click.echo(f"  {role.value:<10} {email:<24} {code}   (secret {secret})")
        shown += 1
    if not shown:
        click.echo("No demo account with a second factor here: load the demo first.", err=True)
        raise SystemExit(1)
    left = 30 - int(now.timestamp()) % 30
    click.echo(f"A code works for {left} more seconds, once: run this again for the next one.")


def _load() -> None:
    from casemgr.extensions import db

    _refuse_production()
    result = load_demo(
        db.session,
        now=context.now(),
        timings=context.timings(),
        cipher=context.cipher(),
        prefix=context.reference_prefix(),
        notice_settings=NoticeSettings.from_app(current_app),
    )
    db.session.commit()
    if not result.created:
        click.echo("The database has staff accounts already: no demo data added.")
        click.echo(f"Second-factor codes of the demo's accounts: {CODES_COMMAND}")
        return
    click.echo(
        f"Demo data: {result.users} staff, {result.organisations} organisations, "
        f"{result.cases} cases."
    )
    click.echo(f"Sign in with any of these (password for all: {DEMO_PASSWORD}):")
    for email, _name, role in STAFF:
        secret = result.two_factor_secrets.get(email)
        extra = f"  second factor: TOTP secret {secret}" if secret else ""
        click.echo(f"  {role.value:<10} {email:<24}{extra}".rstrip())
    click.echo(
        "The supervisor and the admin then ask for a code: run, in another terminal "
        f"from this folder, {CODES_COMMAND} (or add the secret to an authenticator app)."
    )
    click.echo(
        f"Times are shown in {describe(context.timezone(), context.now())}, as "
        "HOTLINE_TIMEZONE says; the database and the API keep UTC."
    )
