"""The ``mail`` job against a real IMAP server (dovecot, started by the tests):
it reads, stores and flags \\Seen; a rerun stores nothing twice; a server that is
down, slow, or dies mid-run loses nothing and the summary says what failed."""

from __future__ import annotations

import logging
import socket

import pytest
from sqlalchemy import func, select

from casemgr.extensions import db
from casemgr.inbound.imap import ImapTarget, Mailbox
from casemgr.inbound.models import InboundMail
from casemgr.jobs import mail as mail_job
from tests.conftest import NOW
from tests.inbound.conftest import corpus
from tests.inbound.dovecot import PASSWORD, Dovecot, dovecot_binary, free_port
from tests.outbox.conftest import certificate  # noqa: F401 - a fixture

REPLIES = ("outlook_reply", "gmail_reply", "thunderbird_reply", "out_of_office", "dsn_bounce")


@pytest.fixture(scope="module")
def dovecot_path() -> str:
    found = dovecot_binary()
    if found is None:
        pytest.skip(
            "dovecot is not installed: apt-get install dovecot-imapd "
            "(bin/test installs it when run as root)"
        )
    return found


@pytest.fixture
def server(dovecot_path):
    running = Dovecot(dovecot_path).start()
    yield running
    running.cleanup()


def run(app, url: str, **kwargs):
    app.config.update({"IMAP_URL": url, "IMAP_TIMEOUT": 5, **kwargs.pop("config", {})})
    summary = mail_job.run(db.session, NOW, app, **kwargs)
    db.session.commit()
    return summary


def stored() -> int:
    return db.session.scalar(select(func.count(InboundMail.id))) or 0


def test_the_job_reads_stores_and_flags_seen(app, server, letter, caplog):
    server.deliver(*(corpus(name, letter) for name in REPLIES))
    caplog.set_level(logging.DEBUG)

    summary = run(app, server.url, config={"IMAP_BATCH_SIZE": 2})

    assert summary.failures == []
    assert summary.counts["stored"] == 5 and summary.counts["bounce"] == 1
    assert summary.counts["auto_reply"] == 1 and summary.counts["matched"] == 5
    assert stored() == 5 and server.seen() == (5, 5)
    assert PASSWORD not in summary.line() and PASSWORD not in caplog.text

    again = run(app, server.url)
    assert again.failures == [] and again.counts["stored"] == 0 and stored() == 5
    assert "nothing new" in again.line()


def test_a_message_stored_but_not_flagged_is_read_again_and_skipped(app, server, letter):
    server.deliver(corpus("gmail_reply", letter))
    run(app, server.url)
    connection = server.client()
    connection.uid("STORE", "1:*", "-FLAGS", r"(\Seen)")  # as if the flag had been lost
    connection.logout()

    summary = run(app, server.url)
    assert summary.counts["duplicate"] == 1 and stored() == 1 and server.seen() == (1, 1)


def test_the_server_down(app, letter):
    url = f"imap://casemgr:{PASSWORD}@127.0.0.1:{free_port()}/INBOX?security=none"
    summary = run(app, url)

    (failure,) = summary.failures
    assert "connecting failed (ConnectionRefusedError" in failure
    assert "imap://casemgr@127.0.0.1" in failure and PASSWORD not in failure
    assert stored() == 0


def test_a_server_that_never_answers(app, letter):
    with socket.socket() as listener:  # accepts connections, says nothing
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        port = listener.getsockname()[1]
        summary = run(
            app,
            f"imap://casemgr:{PASSWORD}@127.0.0.1:{port}/?security=none",
            config={"IMAP_TIMEOUT": 0.5},
        )
    (failure,) = summary.failures
    assert "connecting failed" in failure and "timed out" in failure


def test_a_wrong_password_is_said_without_the_password(app, server):
    summary = run(app, server.url.replace(PASSWORD, "wrong-one"))
    (failure,) = summary.failures
    assert "AUTHENTICATIONFAILED" in failure and "wrong-one" not in failure


def test_the_server_dies_mid_run_and_nothing_is_lost(app, server, letter):
    names = ("outlook_reply", "gmail_reply", "thunderbird_reply", "html_only", "khmer_subject")
    server.deliver(*(corpus(name, letter) for name in names))

    class DiesAfterStoringTheSecond(Mailbox):
        flagged = 0

        def mark_seen(self, uid):
            if self.flagged == 1:
                server.stop()  # the second message is stored; its flag never arrives
            self.flagged += 1
            super().mark_seen(uid)

    summary = run(
        app,
        server.url,
        config={"IMAP_BATCH_SIZE": 2},
        mailbox=lambda target, timeout: DiesAfterStoringTheSecond(target, timeout=timeout),
    )
    (failure,) = summary.failures
    assert "flagging message UID 2 failed" in failure
    assert "stay unseen on the server" in failure
    assert summary.counts["stored"] == 2 and stored() == 2

    server.start()
    assert server.seen() == (5, 1)
    again = run(app, server.url)
    assert again.failures == []
    assert again.counts["duplicate"] == 1 and again.counts["stored"] == 3
    assert stored() == 5 and server.seen() == (5, 5)
    texts = db.session.scalars(select(InboundMail.text)).all()
    assert len(set(texts)) == 5


def test_unreadable_input_is_flagged_and_reported(app, server):
    server.deliver(b"\r\n\r\n")
    summary = run(app, server.url)
    assert summary.counts["unreadable"] == 1 and len(summary.failures) == 1
    assert server.seen() == (1, 1) and stored() == 0


def test_no_imap_url_does_nothing(app):
    summary = run(app, "")
    assert summary.counts["not_configured"] == 1 and summary.failures == []


@pytest.mark.parametrize(
    "url, expected",
    [
        ("imaps://u:p@mail.example.org/INBOX", ("mail.example.org", 993, "tls", "INBOX")),
        ("imaps://u:p@mail.example.org", ("mail.example.org", 993, "tls", "INBOX")),
        ("imap://u:p@mail.example.org/Replies", ("mail.example.org", 143, "starttls", "Replies")),
        ("imap://u:p@127.0.0.1:1143/?security=none", ("127.0.0.1", 1143, "none", "INBOX")),
    ],
)
def test_imap_urls(url, expected):
    target = ImapTarget.from_url(url)
    assert (target.host, target.port, target.security, target.mailbox) == expected
    assert "p@" not in target.where() and "password" not in repr(target)


@pytest.mark.parametrize(
    "url, message",
    [
        ("https://u:p@x/INBOX", "must start with imaps://"),
        ("imaps://mail.example.org/INBOX", "names no user"),
        ("imaps://u:p@x/INBOX?security=none", "imaps:// is TLS"),
        ("imap://u:p@x/INBOX?security=maybe", "security must be one of"),
        ("imaps://u:p@x:99999/INBOX", "not a URL"),
    ],
)
def test_bad_imap_urls_say_why_without_the_password(app, url, message):
    summary = run(app, url)
    (failure,) = summary.failures
    assert message in failure and ":p@" not in failure


# ------------------------------------------------------------------ TLS


@pytest.fixture
def tls_server(dovecot_path, certificate):  # noqa: F811 - imported above
    running = Dovecot(dovecot_path, tls=(certificate.cert, certificate.key)).start()
    yield running
    running.cleanup()


def test_imaps_with_the_certificate_verified(app, tls_server, letter, certificate):  # noqa: F811
    tls_server.deliver(corpus("gmail_reply", letter))
    url = f"imaps://casemgr:{PASSWORD}@127.0.0.1:{tls_server.tls_port}/INBOX"

    summary = run(app, url, config={"IMAP_CA_FILE": str(certificate.cert)})
    assert summary.failures == [] and summary.counts["stored"] == 1

    untrusted = run(app, url, config={"IMAP_CA_FILE": ""})  # the system's CAs
    (failure,) = untrusted.failures
    assert "CERTIFICATE_VERIFY_FAILED" in failure


def test_starttls(app, tls_server, letter, certificate):  # noqa: F811
    tls_server.deliver(corpus("outlook_reply", letter))
    url = f"imap://casemgr:{PASSWORD}@127.0.0.1:{tls_server.port}/INBOX"  # STARTTLS by default

    summary = run(app, url, config={"IMAP_CA_FILE": str(certificate.cert)})
    assert summary.failures == [] and summary.counts["stored"] == 1 and tls_server.seen() == (1, 1)


def test_an_unreadable_ca_file_is_said(app):
    summary = run(app, "imaps://u:p@127.0.0.1/INBOX", config={"IMAP_CA_FILE": "/nonexistent.pem"})
    (failure,) = summary.failures
    assert "IMAP_CA_FILE /nonexistent.pem: cannot be read" in failure
