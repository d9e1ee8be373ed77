"""Reminders, escalations and police hold reviews: who is chased, when, and what
supervisors are told (casemgr/notices/reminders.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from casemgr.cases.models import Case, CaseEvent
from casemgr.cases.states import AWAITING_REMOVAL
from casemgr.extensions import db
from casemgr.notices import reminders
from tests.conftest import NOW
from tests.jobs.conftest import act, alerts, flat, letters, pdf_text, run_notices, run_reminders

H = timedelta(hours=1)
DAY = timedelta(days=1)


def history(case) -> list[tuple[str, str | None, str]]:
    return [
        (e.action, e.from_status, e.to_status)
        for e in db.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
    ]


def test_forwarded_case_is_chased_at_the_partner_after_seven_days(app, make):
    case = make.case("forwarded")
    forwarded_at = case.forwarded_at
    run_notices(app, NOW)  # its referral letter
    (referral,) = letters("referral")
    assert run_reminders(app, forwarded_at + 7 * DAY - H).letter_count == 0
    summary = run_reminders(app, forwarded_at + 7 * DAY)
    (reminder,) = letters("reminder")
    assert summary.letter_count == 1
    assert reminder.recipient_id == case.partner_id
    assert reminder.recipient_kind == "hotline"
    assert reminder.previous_reference == referral.reference
    db.session.refresh(case)
    assert case.next_reminder_at == forwarded_at + 7 * DAY + 72 * H
    # a partner is asked what was done, not told to remove
    assert "letusknow" in flat(pdf_text(reminder.pdf))


def test_with_police_escalates_to_the_police_contact(app, make, analyst):
    case = make.case("with_police", by=analyst)
    due = case.next_reminder_at
    run_reminders(app, due)
    run_reminders(app, due + 72 * H)
    run_reminders(app, due + 144 * H)
    kinds = [(n.kind, n.recipient_id) for n in letters()]
    assert kinds == [
        ("reminder", case.police_id),
        ("reminder", case.police_id),
        ("escalation", case.police_id),
    ]
    assert len(alerts("escalation")) == 1
    text = flat(pdf_text(letters("escalation")[0].pdf))
    assert flat("We ask you to take the steps open to you") in text


def test_notice_case_with_police_contact_escalates_to_police(app, make, analyst):
    case = make.case("with_police", by=analyst)
    provider = make.organisation()
    act(case, "request_notice", {"provider_id": provider.id}, user=analyst, at=NOW)
    run_notices(app, NOW)
    db.session.refresh(case)
    for hours in (72, 144, 216):
        run_reminders(app, NOW + hours * H)
    assert [(n.kind, n.recipient_id) for n in letters() if n.kind != "referral"] == [
        ("notice", provider.id),
        ("reminder", provider.id),
        ("reminder", provider.id),
        ("escalation", case.police_id),
    ]


def test_escalation_to_supervisors_by_email_when_configured(app, make, queue):
    app.config["HOTLINE_SUPERVISORS_EMAIL"] = "supervisors@hotline.example.org"
    queue(make.organisation())
    run_notices(app, NOW)
    for hours in (72, 144, 216):
        run_reminders(app, NOW + hours * H)
    (escalation,) = letters("escalation")
    assert escalation.manual_delivery is False
    assert escalation.recipient_email == "supervisors@hotline.example.org"


def test_escalation_count_is_configurable(app, make, queue):
    app.extensions["casemgr.timings"] = app.extensions["casemgr.timings"].__class__(
        reminders_before_escalation=0
    )
    queue(make.organisation())
    run_notices(app, NOW)
    summary = run_reminders(app, NOW + 72 * H)
    assert summary.letters.keys() == {"escalation"}


def test_police_hold_review_alerts_supervisors_without_a_letter(app, make, analyst, supervisor):
    case = make.case("with_police_hold", by=analyst)
    since = case.hold_since
    assert case.next_reminder_at == since + 30 * DAY

    assert run_reminders(app, since + 29 * DAY).counts["alerts"] == 0
    summary = run_reminders(app, since + 30 * DAY)
    assert summary.letter_count == 0
    assert summary.counts["hold_reviews"] == 1
    assert summary.counts["alerts"] == 1
    (alert,) = alerts("hold_review")
    assert alert.case_id == case.id
    assert case.reference in alert.message
    db.session.refresh(case)
    assert case.next_reminder_at == since + 60 * DAY
    assert case.reminder_count == 0
    assert history(case)[-1] == ("hold_review_due", "with_police", "with_police")
    # again at the same moment: nothing new
    again = run_reminders(app, since + 30 * DAY)
    assert again.counts["alerts"] == 0 and len(alerts()) == 1
    # a month later: the next review
    run_reminders(app, since + 60 * DAY)
    assert len(alerts("hold_review")) == 2
    assert letters() == []

    # released: the police are chased like anyone else
    act(
        case, "release_hold", {"reason": "investigation done"}, user=supervisor, at=since + 61 * DAY
    )
    db.session.refresh(case)
    assert case.next_reminder_at == since + 61 * DAY + 72 * H
    run_reminders(app, since + 61 * DAY + 72 * H)
    (reminder,) = letters("reminder")
    assert reminder.recipient_id == case.police_id


def test_due_query_reads_only_due_cases(app, make, queue):
    """The sweep selects by next_reminder_at: far-future and closed cases are not read."""
    queue(make.organisation())
    run_notices(app, NOW)
    make.case("closed")
    assert reminders.due_for_reminder(db.session, NOW, _settings(app)) == []
    due = reminders.due_for_reminder(db.session, NOW + 72 * H, _settings(app))
    assert [step.kind for _id, step in due] == ["reminder"]


def _settings(app):
    from casemgr.notices.wording import NoticeSettings

    return NoticeSettings.from_app(app)


@pytest.mark.parametrize("count", [0, 1, 2])
def test_reminder_step_table(count):
    step = reminders.reminder_step(
        status="notice_sent",
        police_hold=False,
        provider_id=5,
        partner_id=None,
        police_id=9,
        reminder_count=count,
        before_escalation=2,
    )
    assert step == (
        reminders.ReminderStep("escalation", 9)
        if count == 2
        else reminders.ReminderStep("reminder", 5)
    )


def test_only_cases_waiting_for_removal_are_chased(app, make):
    """The sweep reads the workflow's statuses: a case due in any other is left alone."""
    for status in ("notice_sent", "forwarded", "with_police", "closed", "triage"):
        make.case(status)
    later = NOW + 365 * DAY
    due = reminders.due_for_reminder(db.session, later, _settings(app))
    chased = {db.session.get(Case, case_id).status for case_id, _step in due}
    assert chased and chased <= AWAITING_REMOVAL


def test_a_late_run_chases_again_one_interval_from_now():
    interval = 72 * H
    assert reminders.next_reminder(NOW, interval, NOW + H) == NOW + interval
    assert reminders.next_reminder(NOW, interval, NOW + 10 * DAY) == NOW + 10 * DAY + interval


def test_only_reminders_and_escalations_are_sent_as_reminder_letters(app):
    with pytest.raises(ValueError, match="not a reminder kind"):
        reminders.send_reminder_letter(
            db.session, "notice", 1, [1], now=NOW, settings=_settings(app)
        )
