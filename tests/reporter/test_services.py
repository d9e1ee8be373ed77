"""The receipt, additions, questions and their purge, through the services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from casemgr import context
from casemgr.audit.models import AuditEntry
from casemgr.cases import services as cases
from casemgr.cases.models import Case
from casemgr.errors import PermissionDenied, ValidationFailed
from casemgr.extensions import db
from casemgr.jobs import retention
from casemgr.reporter import codes, services
from casemgr.reporter.models import ReporterMessage, SubmissionReceipt
from casemgr.reporter.queries import url_statuses
from casemgr.reporter.statuses import ReporterStatus

PARAMS = codes.ScryptParams(16, 1, 1)


def _receipt(make, *urls):
    submission = make.report(*urls).submission
    new = services.new_receipt_code(PARAMS)
    code = services.issue_receipt(db.session, submission, new, now=context.now())
    db.session.commit()
    return submission, code


def test_a_receipt_finds_its_submission_and_stores_no_code(make):
    submission, code = _receipt(make)
    row = db.session.get(SubmissionReceipt, submission.id)
    selector, verifier = codes.split(codes.normalise(code))
    assert row.selector == selector and verifier not in row.verifier_hash
    assert services.find_submission(db.session, code.lower(), params=PARAMS) is submission
    wrong = codes.grouped(selector + "0" * 16)
    assert services.find_submission(db.session, wrong, params=PARAMS) is None
    assert services.find_submission(db.session, "Z" * 20, params=PARAMS) is None


def test_a_taken_selector_is_drawn_again(make, monkeypatch):
    first, code = _receipt(make)
    taken = codes.normalise(code)[:8]
    draws = iter([taken + "A" * 16, "BBBBBBBB" + "C" * 16])
    monkeypatch.setattr(codes, "new_code", lambda: next(draws))
    second = make.report().submission
    new = services.new_receipt_code(PARAMS)
    again = services.issue_receipt(db.session, second, new, now=context.now())
    assert again.startswith("BBBB-BBBB-") and again.endswith("AAAA")
    assert db.session.get(SubmissionReceipt, second.id).selector == "BBBBBBBB"


def test_a_code_given_before_the_selector_grew_still_finds_its_report(make):
    submission = make.report().submission
    db.session.add(
        SubmissionReceipt(
            submission_id=submission.id,
            selector="7K3M",
            verifier_hash=codes.hash_verifier("Q9XA2BCDEFGHJKMN", PARAMS),
            created_at=context.now(),
        )
    )
    db.session.flush()
    found = services.find_submission(db.session, "7k3m-q9xa-2bcd-efgh-jkmn", params=PARAMS)
    assert found is submission


def _add(submission, urls=(), message=""):
    return services.add_to_report(
        db.session,
        submission,
        urls=list(urls),
        message=message,
        now=context.now(),
        timings=context.timings(),
        cipher=context.cipher(),
        reference_prefix=context.reference_prefix(),
        max_urls=3,
    )


def test_additions_become_cases_of_the_submission_with_the_duplicate_rule(make):
    open_case = make.case("triage", url="http://other.example/open")
    submission, _ = _receipt(make, "http://example.com/a")
    addition = _add(
        submission,
        ["http://example.com/a", "http://example.com/b", "http://other.example/open"],
        "there is more",
    )
    db.session.commit()
    assert addition.added == ["http://example.com/b", "http://other.example/open"]
    assert addition.already_reported == ["http://example.com/a"]
    cases = db.session.scalars(
        select(Case).where(Case.submission_id == submission.id).order_by(Case.id)
    ).all()
    assert [c.url for c in cases][1:] == addition.added
    assert cases[2].duplicate_of_id == open_case.id and cases[2].status == "closed"
    assert cases[1].events[0].fields["added_by_reporter"] is True
    statuses = [s.status for s in url_statuses(db.session, submission.id)]
    assert statuses == [ReporterStatus.RECEIVED, ReporterStatus.RECEIVED, "being_assessed"]
    stored = db.session.scalar(select(ReporterMessage.body))
    assert b"there is more" not in stored  # encrypted at rest


@pytest.mark.parametrize(
    ("urls", "message", "field"),
    [
        (
            ["http://a.example/1", "http://a.example/2", "http://a.example/3", "http://a.ex/4"],
            "",
            "urls",
        ),
        ([], "x" * 5001, "message"),
        ([], "nul \x00 byte", "message"),
        ([], "   ", "urls"),
    ],
)
def test_a_refused_addition_names_the_field_and_stores_nothing(make, urls, message, field):
    submission, _ = _receipt(make)
    with pytest.raises(ValidationFailed) as refused:
        _add(submission, urls, message)
    assert field in refused.value.fields
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ReporterMessage)) == 0
    assert db.session.scalar(select(func.count()).select_from(Case)) == 1


def _ask(case, actor, question="Was it on the first page?"):
    return services.ask_reporter(
        db.session,
        case,
        question=question,
        actor=actor.actor,
        cipher=context.cipher(),
        now=context.now(),
    )


def test_the_assignee_asks_the_reporter_audited(make, analyst):
    submission, _ = _receipt(make)
    case = submission.cases[0]
    with pytest.raises(PermissionDenied):
        _ask(case, analyst)  # nobody's case yet: not this analyst's to ask
    cases.apply_action(
        db.session,
        case,
        "assign",
        {},
        actor=analyst.actor,
        now=context.now(),
        timings=context.timings(),
    )
    _ask(case, analyst)
    db.session.commit()
    shown = services.messages_of(db.session, submission.id, cipher=context.cipher())
    assert [(m.sender, m.text) for m in shown] == [("staff", "Was it on the first page?")]
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "reporter.question")
        )
        == 1
    )


def test_a_question_without_a_receipt_or_after_the_purge_is_refused_clearly(
    make, supervisor, clock
):
    staff_report = make.report().submission
    with pytest.raises(ValidationFailed, match="receipt"):
        _ask(staff_report.cases[0], supervisor)
    submission, _ = _receipt(make)
    _add(submission, [], "my answer")
    case = submission.cases[0]
    for action, fields in (("assign", {}), ("assess", {"classification": "not_illegal"})):
        cases.apply_action(
            db.session,
            case,
            action,
            fields,
            actor=supervisor.actor,
            now=context.now(),
            timings=context.timings(),
        )
    db.session.commit()
    clock.advance(days=91)
    result = retention.run(db.session, context.now(), {"CONTACT_RETENTION_DAYS": 90})
    db.session.commit()
    assert submission.reference in result["submissions"]
    assert db.session.scalar(select(func.count()).select_from(ReporterMessage)) == 0
    with pytest.raises(ValidationFailed, match="deleted"):
        _ask(case, supervisor)
    assert clock.now() - submission.contact_purged_at < timedelta(seconds=1)
