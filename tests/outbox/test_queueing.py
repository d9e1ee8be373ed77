"""What gets queued, in which transaction, and what is left for manual delivery;
reporters' feedback: when, once, in which language, and their address kept secret."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from casemgr import context
from casemgr.alerts.models import Alert
from casemgr.cases import services as cases
from casemgr.cases.models import Case, Submission
from casemgr.extensions import db
from casemgr.notices.letters import send_notice_letter
from casemgr.notices.models import Notice
from casemgr.notices.wording import NoticeSettings
from casemgr.outbox.models import CANCELLED, FAILED, QUEUED, SENT, OutboxMessage
from tests.conftest import NOW
from tests.jobs.conftest import letters, run_notices, run_reminders
from tests.outbox.conftest import messages, run_outbox

H = timedelta(hours=1)
REPORTER = "Reporter.Person@mail.example"


def committed(*columns) -> list[tuple]:
    """What another connection sees: only what was committed."""
    with db.engine.connect() as other:
        return [tuple(row) for row in other.execute(select(*columns)).all()]


# --------------------------------------------------------------------- letters


def test_the_row_is_written_in_the_transaction_that_makes_the_letter(app, make, queue):
    provider = make.organisation()
    case = queue(provider)
    settings = NoticeSettings.from_app(app)
    notice = send_notice_letter(db.session, provider.id, [case.id], now=NOW, settings=settings)
    assert notice is not None
    [row] = messages()
    assert (row.kind, row.notice_id, row.recipient, row.status) == (
        "letter",
        notice.id,
        "abuse@host.example.com",
        QUEUED,
    )
    assert committed(OutboxMessage.id) == []
    db.session.rollback()  # the letter's transaction fails: neither is left
    assert messages() == [] and letters() == []

    # The letter made again and committed: the e-mail is committed with it.
    notice = send_notice_letter(db.session, provider.id, [case.id], now=NOW, settings=settings)
    db.session.commit()
    assert committed(Notice.id) == [(notice.id,)]
    assert committed(OutboxMessage.kind, OutboxMessage.notice_id) == [("letter", notice.id)]


def test_a_letter_to_an_organisation_without_e_mail_is_for_manual_delivery(app, make, queue):
    queue(make.organisation(email=None))
    run_notices(app, NOW)
    [notice] = letters()
    assert notice.manual_delivery is True and notice.delivery == "manual"
    assert messages() == []


def test_an_address_that_is_not_one_is_refused_with_an_alert(app, make, queue):
    provider = make.organisation(name="Legacy Host")
    db.session.execute(
        text("UPDATE organisations SET email = 'abuse at legacy' WHERE id = :id"),
        {"id": provider.id},
    )
    db.session.commit()
    queue(provider)
    run_notices(app, NOW)
    [notice] = letters()
    assert notice.manual_delivery is True
    assert messages() == []
    [alert] = db.session.scalars(select(Alert).where(Alert.kind == "invalid_email")).all()
    assert notice.reference in alert.message and "'abuse at legacy'" in alert.message


def test_an_internationalised_domain_is_sent_to_in_its_ascii_form(app, make, queue):
    provider = make.organisation()
    db.session.execute(
        text("UPDATE organisations SET email = 'abuse@exämple.com' WHERE id = :id"),
        {"id": provider.id},
    )
    db.session.commit()
    queue(provider)
    run_notices(app, NOW)
    assert messages()[0].recipient == "abuse@xn--exmple-cua.com"


def test_reminders_and_escalations_are_queued_too(app, make, queue):
    app.config["HOTLINE_SUPERVISORS_EMAIL"] = "supervisors@hotline.example.org"
    queue(make.organisation())
    run_notices(app, NOW)
    for hours in (72, 144, 216):
        run_reminders(app, NOW + hours * H)
    kinds = [(n.kind, n.recipient_email) for n in letters()]
    assert [k for k, _ in kinds] == ["notice", "reminder", "reminder", "escalation"]
    rows = messages()
    assert [r.recipient for r in rows] == [email for _, email in kinds]
    assert rows[-1].recipient == "supervisors@hotline.example.org"


# -------------------------------------------------------------------- feedback


def report(
    *urls: str, contact: str | None = REPORTER, feedback: bool = True, language: str | None = None
):
    from tests import factories

    result = factories.report(
        *urls, reporter_contact=contact, feedback_requested=feedback, language=language
    )
    return result.submission


def close(case: Case, user) -> None:
    for action, fields in (("assign", {}), ("assess", {"classification": "not_illegal"})):
        cases.apply_action(
            db.session, case, action, fields, actor=user.actor, now=NOW, timings=context.timings()
        )
    db.session.commit()


def reopen(case: Case, supervisor) -> None:
    cases.apply_action(
        db.session,
        case,
        "reopen",
        {"reason": "the material came back"},
        actor=supervisor.actor,
        now=NOW + H,
        timings=context.timings(),
    )
    db.session.commit()


def test_feedback_is_queued_when_the_last_case_closes_and_sent_without_detail(app, smtp, analyst):
    smtp.start()
    submission = report("http://a.example/1", "http://b.example/2")
    first, second = submission.cases
    close(first, analyst)
    assert messages() == []  # one case is still open
    close(second, analyst)
    [row] = messages()
    assert (row.kind, row.submission_id, row.recipient) == ("feedback", submission.id, None)
    # kept encrypted, as the submission keeps it
    assert row.sealed_recipient == submission.reporter_contact
    assert REPORTER.encode() not in row.sealed_recipient
    assert context.cipher().decrypt(row.sealed_recipient) == REPORTER

    run_outbox(app, NOW)
    [received] = smtp.received
    message = received.message
    assert received.rcpt_tos == ["Reporter.Person@mail.example"]
    assert message["Subject"] == f"Your report {submission.reference}"
    assert message["Auto-Submitted"] == "auto-generated"
    assert list(message.iter_attachments()) == []
    body = message.get_body(("plain",)).get_content()
    assert body.startswith(
        f"Thank you for your report {submission.reference}. We have finished handling it."
    )
    # The coarse statuses of /status (issue 15), counted, never the addresses.
    listed = "What happened to the web addresses you sent:\r\n- Closed without action: 2\r\n"
    assert listed in body
    for detail in ("http://", "a.example", "not_illegal", "illegal"):
        assert detail not in body
    [row] = messages()
    assert row.status == SENT and row.sealed_recipient is None and row.recipient_purged_at == NOW


def test_feedback_goes_once_even_if_a_case_is_reopened_and_closed_again(
    app, smtp, analyst, supervisor
):
    smtp.start()
    submission = report()
    [case] = submission.cases
    close(case, analyst)
    run_outbox(app, NOW)
    reopen(case, supervisor)
    cases.apply_action(
        db.session,
        case,
        "assess",
        {"classification": "out_of_remit"},
        actor=supervisor.actor,
        now=NOW + 2 * H,
        timings=context.timings(),
    )
    db.session.commit()
    assert case.status == "closed"
    run_outbox(app, NOW + 3 * H)
    assert len(messages()) == 1 and len(smtp.received) == 1


def test_feedback_commits_or_rolls_back_with_the_closing_that_queued_it(app, analyst):
    """Queued by the outbox's receiver of ``case_acted`` (wired by create_app),
    inside the transaction of the action that closed the case."""
    submission = report()
    [case] = submission.cases
    submission_id, case_id = submission.id, case.id
    cases.apply_action(
        db.session, case, "assign", {}, actor=analyst.actor, now=NOW, timings=context.timings()
    )
    db.session.commit()

    def close_the_last_case() -> None:
        cases.apply_action(
            db.session,
            case,
            "assess",
            {"classification": "not_illegal"},
            actor=analyst.actor,
            now=NOW,
            timings=context.timings(),
        )

    close_the_last_case()
    [row] = messages()
    assert (row.kind, row.submission_id) == ("feedback", submission_id)
    assert committed(OutboxMessage.id) == []
    db.session.rollback()  # the closing fails: no feedback is left queued
    assert messages() == []
    assert db.session.get(Case, case_id).status == "triage"

    close_the_last_case()
    db.session.commit()
    assert committed(Case.status) == [("closed",)]
    assert committed(OutboxMessage.kind, OutboxMessage.submission_id) == [
        ("feedback", submission_id)
    ]


@pytest.mark.parametrize(("contact", "feedback"), [(REPORTER, False), (None, True), (None, False)])
def test_no_feedback_unless_asked_for_with_a_contact(app, analyst, contact, feedback):
    submission = report(contact=contact, feedback=feedback)
    close(submission.cases[0], analyst)
    assert messages() == []


def test_a_contact_that_is_not_an_e_mail_address_gets_nothing(app, smtp, analyst):
    smtp.start()
    submission = report(contact="+855 12 345 678")
    close(submission.cases[0], analyst)
    summary = run_outbox(app, NOW)
    assert summary.counts["cancelled"] == 1
    [row] = messages()
    assert row.status == CANCELLED and row.sealed_recipient is None
    assert "not an e-mail address" in row.last_error
    assert smtp.received == []


def test_feedback_in_the_reports_language_where_it_is_known(app, smtp, analyst):
    smtp.start()
    submission = report(language="km")  # made on the Khmer form
    close(submission.cases[0], analyst)
    assert messages()[0].language == "km"
    run_outbox(app, NOW)
    message = smtp.received[0].message
    assert message["Subject"] == f"របាយការណ៍របស់អ្នក {submission.reference}"
    assert "សូមអរគុណចំពោះរបាយការណ៍" in message.get_body(("plain",)).get_content()


def test_feedback_of_a_report_without_a_language_uses_the_default_language(app, smtp, analyst):
    app.config["MAIL_DEFAULT_LANGUAGE"] = "km"
    smtp.start()
    submission = report()  # staff-made, or received before languages were recorded
    close(submission.cases[0], analyst)
    assert messages()[0].language is None
    run_outbox(app, NOW)
    assert smtp.received[0].message["Subject"] == f"របាយការណ៍របស់អ្នក {submission.reference}"


def test_feedback_in_a_language_without_wording_uses_the_default_language(app, smtp, analyst):
    # Thai pages, but no Thai e-mail wording configured: the default, not English.
    app.config["LANGUAGES"] = ["en", "km", "th"]
    app.config["MAIL_DEFAULT_LANGUAGE"] = "km"
    smtp.start()
    submission = report(language="th")
    close(submission.cases[0], analyst)
    assert messages()[0].language == "th"
    run_outbox(app, NOW)
    assert smtp.received[0].message["Subject"] == f"របាយការណ៍របស់អ្នក {submission.reference}"


def test_a_refused_reporter_address_never_reaches_a_row_an_alert_or_the_log(
    app, smtp, recorder, analyst, caplog
):
    recorder.refuse[REPORTER] = f"550 5.1.1 <{REPORTER.lower()}>: Recipient address rejected"
    smtp.start()
    submission = report()
    close(submission.cases[0], analyst)
    with caplog.at_level(logging.DEBUG):
        run_outbox(app, NOW)
    [row] = messages()
    assert row.status == FAILED
    assert "550 5.1.1 <[the reporter's address]>" in row.last_error
    alert = db.session.scalar(select(Alert).where(Alert.kind == "delivery_failed"))
    assert submission.reference in alert.message and "the reporter" in alert.message
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("casemgr"))
    assert f"message {row.id} permanent" in ours  # the refusal is logged, without the address
    for text_ in (row.last_error, alert.message, ours):
        assert REPORTER.lower() not in text_.lower()
    assert row.sealed_recipient is not None  # kept for a supervisor's retry


@pytest.mark.postgres
def test_two_people_closing_the_last_two_cases_at_once_queue_one_feedback(app, backend, analyst):
    """Without the lock on the submission, each would see the other's case open."""
    if backend != "postgresql":
        pytest.skip("needs concurrent writers: PostgreSQL")
    actor = analyst.actor
    submission = report("http://a.example/1", "http://b.example/2")
    for case in submission.cases:
        cases.apply_action(
            db.session, case, "assign", {}, actor=analyst.actor, now=NOW, timings=context.timings()
        )
    db.session.commit()
    ids = [c.id for c in submission.cases]
    submission_id = submission.id
    db.session.remove()
    first_closed = threading.Event()
    errors: list[BaseException] = []

    def closer(case_id: int, wait: bool) -> None:
        with app.app_context():
            try:
                if wait:
                    first_closed.wait(10)
                case = db.session.get(Case, case_id)
                cases.apply_action(
                    db.session,
                    case,
                    "assess",
                    {"classification": "not_illegal"},
                    actor=actor,
                    now=NOW,
                    timings=context.timings(),
                )
                if not wait:
                    first_closed.set()
                    time.sleep(0.5)  # the other closes its case meanwhile
                db.session.commit()
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=closer, args=(ids[0], False)),
        threading.Thread(target=closer, args=(ids[1], True)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert {c.status for c in db.session.scalars(select(Case))} == {"closed"}
    assert [(r.kind, r.submission_id) for r in messages()] == [("feedback", submission_id)]
    assert db.session.get(Submission, submission_id).feedback_requested
