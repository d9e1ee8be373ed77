"""Encrypted and authenticated delivery: STARTTLS, implicit TLS, AUTH LOGIN, with the
server's certificate really verified (a self-signed one made for the test)."""

from __future__ import annotations

import pytest

from casemgr.outbox.models import QUEUED, SENT
from tests.conftest import NOW
from tests.outbox.conftest import Accounts, messages, run_outbox


@pytest.fixture
def one_letter(app, make, queue):
    from tests.jobs.conftest import run_notices

    queue(make.organisation())
    run_notices(app, NOW)


def test_starttls_with_the_certificate_verified(app, smtp, certificate, one_letter):
    app.config.update(SMTP_SECURITY="starttls", SMTP_CA_FILE=str(certificate.cert))
    smtp.start(tls_context=certificate.server_context(), require_starttls=True)
    assert run_outbox(app, NOW).counts["sent"] == 1
    [received] = smtp.received
    assert received.tls is True
    assert messages()[0].status == SENT


def test_starttls_refuses_a_certificate_it_cannot_verify(app, smtp, certificate, one_letter):
    app.config.update(SMTP_SECURITY="starttls", SMTP_CA_FILE="")  # the system's CAs only
    smtp.start(tls_context=certificate.server_context(), require_starttls=True)
    summary = run_outbox(app, NOW)
    assert summary.counts["deferred"] == 1
    [row] = messages()
    assert row.status == QUEUED and "CERTIFICATE_VERIFY_FAILED" in row.last_error
    assert smtp.received == []


def test_starttls_required_but_not_offered_is_not_sent_in_clear(app, smtp, one_letter):
    app.config.update(SMTP_SECURITY="starttls")
    smtp.start()  # no TLS at all
    summary = run_outbox(app, NOW)
    assert summary.counts["deferred"] == 1
    assert "STARTTLS" in messages()[0].last_error
    assert smtp.received == []


def test_implicit_tls(app, smtp, certificate, one_letter):
    app.config.update(SMTP_SECURITY="tls", SMTP_CA_FILE=str(certificate.cert))
    smtp.start(ssl_context=certificate.server_context())
    assert run_outbox(app, NOW).counts["sent"] == 1
    assert smtp.received[0].tls is True


@pytest.fixture
def accounts():
    return Accounts("casemgr", "s3cret pass")


def test_auth_login_over_starttls(app, smtp, certificate, accounts, one_letter):
    app.config.update(
        SMTP_SECURITY="starttls",
        SMTP_CA_FILE=str(certificate.cert),
        SMTP_USERNAME="casemgr",
        SMTP_PASSWORD="s3cret pass",
    )
    smtp.start(
        tls_context=certificate.server_context(),
        require_starttls=True,
        authenticator=accounts,
        auth_required=True,
        auth_exclude_mechanism=["PLAIN"],  # so the client uses LOGIN
    )
    assert run_outbox(app, NOW).counts["sent"] == 1
    assert accounts.tries == [("LOGIN", b"casemgr")]
    assert smtp.received[0].login == b"casemgr"


def test_a_wrong_password_sends_nothing_and_is_retried(
    app, smtp, certificate, accounts, one_letter
):
    app.config.update(
        SMTP_SECURITY="starttls",
        SMTP_CA_FILE=str(certificate.cert),
        SMTP_USERNAME="casemgr",
        SMTP_PASSWORD="wrong",
    )
    smtp.start(
        tls_context=certificate.server_context(),
        require_starttls=True,
        authenticator=accounts,
        auth_required=True,
    )
    summary = run_outbox(app, NOW)
    assert summary.counts["deferred"] == 1
    [row] = messages()
    assert row.status == QUEUED and "535" in row.last_error
    assert "wrong" not in row.last_error
    assert smtp.received == []
