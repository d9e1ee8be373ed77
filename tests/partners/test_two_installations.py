"""Two real installations of casemgr talking over API v1: hotline A forwards a
case to partner hotline B; B receives it as a new case with A's reference; B's
analyst assesses it and confirms the takedown; A's ``partners`` job closes A's
case with B's removal time. Then B goes down for a while: A retries, and B
ends up with one case, not two.

Two apps in this process, each with its own database (two SQLite files, or
two PostgreSQL databases) and its own werkzeug server on 127.0.0.1; jobs and
services run in each app's context in turn, as each installation's own
scheduler and staff would.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

from casemgr import context, create_app
from casemgr.auth import accounts
from casemgr.auth.tokens import issue_token
from casemgr.cases import services as cases
from casemgr.cases.models import Case, Submission
from casemgr.clock import FixedClock
from casemgr.domain import SYSTEM_ACTOR
from casemgr.extensions import db
from casemgr.jobs import partners as partners_job
from tests import factories
from tests.conftest import _empty_tables, fresh_databases


class Server:
    """An app served by werkzeug in a thread; ``stop()`` and ``start()`` again."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.port = 0
        self._server = None
        self._thread = None

    def start(self) -> Server:
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="session")
def hotline_b_databases(tmp_path_factory) -> Iterator[dict[str, str]]:
    """Installation B's databases, one per backend, made once for the run."""
    with fresh_databases(tmp_path_factory.mktemp("hotline-b"), "casemgr_b") as urls:
        yield urls


@pytest.fixture
def app_config() -> dict:
    return {"HOTLINE_NAME": "Hotline A", "PARTNER_TIMEOUT": 2, "PARTNER_RETRY_BASE_SECONDS": 60}


@pytest.fixture
def hotline_b(backend, hotline_b_databases, clock) -> Iterator[tuple[Flask, FixedClock, Server]]:
    """Installation B: its own database (emptied), clock and server."""
    clock_b = FixedClock(clock.now())
    app_b = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": hotline_b_databases[backend],
            "HOTLINE_NAME": "Hotline B",
        },
        clock=clock_b,
    )
    with app_b.app_context():
        _empty_tables()
        db.session.remove()
    server = Server(app_b).start()
    yield app_b, clock_b, server
    server.stop()
    with app_b.app_context():
        db.session.remove()
        db.engine.dispose()


@contextmanager
def at(app: Flask) -> Iterator[None]:
    """Work as installation ``app``: its database, its clock, its settings."""
    with app.app_context():
        yield
        db.session.remove()


def run_partners(app: Flask, now):
    summary = partners_job.run(db.session, now, app)
    db.session.commit()
    return summary


def test_a_case_forwarded_to_another_installation_closes_with_its_removal_time(
    app, clock, hotline_b
):
    app_b, clock_b, server_b = hotline_b
    server_a = Server(app).start()
    try:
        _the_exchange(app, clock, app_b, clock_b, server_b, server_a)
    finally:
        server_a.stop()


def _the_exchange(app, clock, app_b, clock_b, server_b, server_a):
    # B's admin: A's hotline in B's directory, a partner account for it, a token.
    with at(app_b):
        hotline_a = factories.organisation("hotline", name="Hotline A", country="KH")
        account = accounts.create_user(
            db.session,
            accounts.AccountInput(
                email="installation@hotline-a.example",
                name="Hotline A's casemgr",
                role="partner",
                organisation_id=hotline_a.id,
            ),
            now=context.now(),
            actor=SYSTEM_ACTOR,
        )
        token = issue_token(db.session, account, now=context.now(), label="Hotline A")
        db.session.commit()

    # A's supervisor: B in A's directory with B's address and that token, trusted.
    from tests.partners.conftest import forwarded_case

    partner_b = _partner(server_b.url, token)
    case = forwarded_case(partner_b.id, url="http://cdn.example.net/album/17.jpg")
    reference = case.reference

    summary = run_partners(app, clock.now())
    assert summary.failed == 0, summary.failures
    link = _link(case.id)
    assert link.state == "delivered" and link.remote_submission

    # B received it through its API: a new case with A's reference, nothing of the reporter.
    with at(app_b):
        (submission,) = db.session.scalars(select(Submission)).all()
        assert submission.external_reference == reference and submission.source == "partner"
        assert "REPORTER WORDS" not in submission.description
        assert submission.reporter_contact is None
        (theirs,) = submission.cases
        assert theirs.url == "http://cdn.example.net/album/17.jpg"
        assert theirs.id == link.remote_case_id

        # B's analyst works it: assessed, a notice sent, the takedown confirmed.
        clock_b.advance(hours=2)
        analyst_b = factories.user("analyst")
        provider_b = factories.organisation(name="Host at B", email="abuse@host-b.example")
        removed_at = context.now() - timedelta(minutes=30)
        for action, fields, actor in (
            ("assign", {}, analyst_b.actor),
            ("assess", dict(factories.ILLEGAL), analyst_b.actor),
            ("request_notice", {"provider_id": provider_b.id}, analyst_b.actor),
            ("send_notice", {}, SYSTEM_ACTOR),
            ("confirm_takedown", {"removed_at": removed_at.isoformat()}, analyst_b.actor),
        ):
            cases.apply_action(
                db.session,
                theirs,
                action,
                fields,
                actor=actor,
                now=context.now(),
                timings=context.timings(),
            )
        db.session.commit()

    # A's partners job learns it and closes A's case with B's removal time.
    clock.advance(hours=3)
    summary = run_partners(app, clock.now())
    assert summary.failed == 0, summary.failures
    db.session.expire_all()
    ours = db.session.get(Case, case.id)
    assert (ours.status, ours.resolution) == ("closed", "takedown_confirmed")
    assert ours.removed_at == removed_at
    assert ours.removal_reported_by == "partner"
    # A's own API shows what the partner said, over A's own server.
    analyst_a = factories.user("analyst")
    staff_token = issue_token(db.session, analyst_a, now=context.now())
    db.session.commit()
    request = urllib.request.Request(  # noqa: S310 - A's own server on 127.0.0.1
        f"{server_a.url}/api/v1/cases/{case.id}",
        headers={"Authorization": f"Bearer {staff_token}"},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - A's own server
        body = json.load(answer)
    shown = body["partner_link"]
    assert shown["reference"] == theirs_reference(app_b)
    assert (shown["status"], shown["resolution"]) == ("closed", "takedown_confirmed")

    # B goes down for a while: A retries, and B ends with one case for it, not two.
    second = forwarded_case(partner_b.id, url="http://cdn.example.net/album/18.jpg")
    server_b.stop()
    summary = run_partners(app, clock.now())
    assert _link(second.id).state == "queued" and _link(second.id).attempts == 1
    server_b.start()
    clock.advance(hours=1)
    run_partners(app, clock.now())
    assert _link(second.id).state == "delivered"
    # An answer lost on the way back: A sends the same case again; B knows it.
    lost = _link(second.id)
    lost.state, lost.next_attempt_at = "queued", clock.now()
    db.session.commit()
    run_partners(app, clock.now())
    assert _link(second.id).state == "delivered"
    # (A's objects are read before B's context: an expired one would reload
    # through whichever installation's context is current.)
    second_reference = second.reference
    with at(app_b):
        count = db.session.scalar(
            select(func.count(Submission.id)).where(
                Submission.external_reference == second_reference
            )
        )
        assert count == 1
        assert db.session.scalar(select(func.count(Case.id))) == 2


def theirs_reference(app_b: Flask) -> str:
    with at(app_b):
        return db.session.scalars(select(Case.reference).order_by(Case.id)).first()


def _partner(url: str, token: str):
    from casemgr.directory.inputs import OrganisationInput
    from casemgr.directory.operations import create_organisation

    created = create_organisation(
        db.session,
        OrganisationInput(
            kind="hotline",
            name="Hotline B",
            country="KH",
            email="cases@hotline-b.example",
            api_base_url=url,
            forward_by="api",
            api_token=token,
            trust_removal_reports=True,
        ),
        now=context.now(),
        actor=SYSTEM_ACTOR,
    )
    db.session.commit()
    return created


def _link(case_id: int):
    from casemgr.partners.models import PartnerLink

    db.session.expire_all()
    return db.session.scalar(select(PartnerLink).where(PartnerLink.case_id == case_id))
