"""The checkpoint e-mail: queued by the audit_checkpoint job, sent by the outbox
to a real SMTP server on 127.0.0.1, and enough on its own to verify the log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from casemgr.audit import chain, checkpoints
from casemgr.extensions import db
from casemgr.outbox.models import SENT
from tests.audit.helpers import tamper, write
from tests.outbox.conftest import run_outbox

AUDITOR = "auditor@oversight.example.org"


@pytest.fixture
def app_config(mail_config) -> dict:
    return {**mail_config, "AUDIT_CHECKPOINT_EMAIL": AUDITOR}


def test_the_checkpoint_mail_arrives_and_verifies_the_log_alone(app, runner, smtp, clock, tmp_path):
    smtp.start()
    write(5)
    result = runner.invoke(args=["jobs", "run", "audit_checkpoint", "--now", "2026-11-29T06:00Z"])
    assert result.exit_code == 0, result.output
    assert "audit_checkpoint as of 2026-11-29T06:00:00+00:00: entry 5 of 5 (hash " in result.output
    assert f"e-mail queued to {AUDITOR}" in result.output
    assert "file skipped (AUDIT_CHECKPOINT_FILE is not set)" in result.output

    summary = run_outbox(app, datetime(2026, 11, 29, 6, 1, tzinfo=UTC))
    assert summary.counts[SENT] == 1, summary.line()
    (mail,) = smtp.received
    assert mail.rcpt_tos == [AUDITOR]
    message = mail.message
    assert (
        message["Subject"] == "Audit checkpoint of example-hotline: entry 5, 2026-11-29 06:00 UTC"
    )
    assert message["Auto-Submitted"] == "auto-generated"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert checkpoints.BEGIN in body and "flask --app wsgi audit verify --checkpoint" in body

    saved = tmp_path / "checkpoint.eml"
    saved.write_bytes(mail.data)
    write(2)  # the log goes on after the checkpoint (6 is the job's own entry)
    result = runner.invoke(args=["audit", "verify", "--checkpoint", str(saved)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: 8 entries")
    assert f"Checked against 1 checkpoint from {saved}" in result.output

    tamper("DELETE FROM audit_log WHERE id >= 4")
    result = runner.invoke(args=["audit", "verify", "--checkpoint", str(saved)])
    assert result.exit_code == 1
    assert (
        f"CHECKPOINT checkpoint 1 of the e-mail {saved} (made 2026-11-29T06:00:00Z): it names "
        "entry 5 with 5 entries up to it, but the log ends at entry 3 with 3" in result.output
    )


def test_a_checkpoint_mail_cut_short_is_named(app, runner, tmp_path):
    write(1)
    line = checkpoints.take(
        db.session,
        chain.current_keys(),
        installation="example-hotline",
        now=app.extensions["casemgr.clock"].now(),
    ).line
    db.session.rollback()
    saved = tmp_path / "cut.eml"
    saved.write_text(
        "From: casemgr <notices@hotline.example.org>\nSubject: Audit log checkpoint\n\n"
        f"{checkpoints.BEGIN}\n{line[:120]}\n"
    )
    result = runner.invoke(args=["audit", "verify", "--checkpoint", str(saved)])
    assert result.exit_code == 1
    assert (
        f"CHECKPOINT checkpoint 1 of the e-mail {saved}: has no END line: it was cut short."
        in result.output
    )


def test_a_checkpoint_line_wrapped_by_a_mail_client_still_reads(app, runner, tmp_path):
    write(2)
    checkpoint = checkpoints.take(
        db.session,
        chain.current_keys(),
        installation="example-hotline",
        now=app.extensions["casemgr.clock"].now() + timedelta(minutes=1),
    )
    db.session.rollback()
    wrapped = checkpoint.line.replace(" hash=", "\n> hash=").replace(" key=", "\n> key=")
    saved = tmp_path / "forwarded.txt"
    saved.write_text(f"> {checkpoints.BEGIN}\n> {wrapped}\n> {checkpoints.END}\n")
    result = runner.invoke(args=["audit", "verify", "--checkpoint", str(saved)])
    assert result.exit_code == 0, result.output


def test_a_refused_checkpoint_mail_waits_on_the_outbox_page(
    app, runner, smtp, recorder, supervisor
):
    """A server that refuses the address: the message fails and waits for a
    supervisor like any e-mail, named as the checkpoint it carries."""
    from tests.conftest import NOW, login

    recorder.refuse[AUDITOR] = "550 5.1.1 no such user"
    smtp.start()
    result = runner.invoke(args=["jobs", "run", "audit_checkpoint"])
    assert result.exit_code == 0, result.output
    run_outbox(app, NOW)
    row = checkpoints.latest(db.session)
    client = login(app.test_client(), supervisor)
    page = client.get("/outbox/").get_data(as_text=True)
    assert f"audit log checkpoint {row.id}" in page and AUDITOR in page
