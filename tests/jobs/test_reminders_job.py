"""The reminder run across weeks of simulated time: due dates, reminder counts,
escalation, one letter per recipient, failures retried, and takedown stopping
everything. Who is chased and how: tests/notices/test_reminders.py."""

from __future__ import annotations

from datetime import timedelta

from casemgr.extensions import db
from casemgr.notices.pdf.layout import render_letter
from tests.conftest import NOW
from tests.jobs.conftest import act, alerts, flat, letters, pdf_text, run_notices, run_reminders
from tests.notices.test_reminders import history

H = timedelta(hours=1)
DAY = timedelta(days=1)


def run_every(app, start, end, step):
    """Run the reminder job at every ``step`` from ``start`` to ``end``; the summaries."""
    summaries = []
    moment = start
    while moment <= end:
        summaries.append(run_reminders(app, moment))
        moment += step
    return summaries


def test_weeks_of_a_notice_nobody_answers(app, make, queue):
    provider = make.organisation(name="Silent Host")
    case = queue(provider)
    run_notices(app, NOW)
    (notice,) = letters("notice")
    db.session.refresh(case)
    assert case.next_reminder_at == NOW + 72 * H

    # nothing before the takedown is due
    assert run_reminders(app, NOW + 71 * H).letter_count == 0

    # 72 h: first reminder, following up the notice; next one 72 h on
    first = run_reminders(app, NOW + 72 * H)
    assert first.letters.keys() == {"reminder"}
    db.session.refresh(case)
    assert (case.reminder_count, case.next_reminder_at) == (1, NOW + 144 * H)
    assert case.due_at == NOW + 72 * H  # the takedown deadline itself does not move
    assert case.status == "notice_sent"
    (reminder,) = letters("reminder")
    assert reminder.previous_reference == notice.reference
    assert reminder.links[0].follows_id == notice.id
    text = pdf_text(reminder.pdf)
    assert "Reminder: removal overdue" in text
    assert f"our notice {notice.reference}" in text.replace("\n", " ")
    assert "Reminder no." in text
    assert case.reference in text
    assert "2026-12-04 09:00 UTC" in text  # until the next reminder (144 h)

    # the same moment again, and the hours after: nothing new
    assert run_reminders(app, NOW + 72 * H).letter_count == 0
    assert sum(s.letter_count for s in run_every(app, NOW + 73 * H, NOW + 143 * H, 6 * H)) == 0

    # 144 h: the second reminder
    run_reminders(app, NOW + 144 * H)
    db.session.refresh(case)
    assert (case.reminder_count, case.next_reminder_at) == (2, NOW + 216 * H)

    # 216 h: two reminders unanswered: escalation to the supervisors (no police set)
    escalated = run_reminders(app, NOW + 216 * H)
    assert escalated.letters.keys() == {"escalation"}
    assert escalated.counts["alerts"] == 1
    db.session.refresh(case)
    assert case.reminder_count == 3
    assert case.next_reminder_at is None  # the automatic chase ends here
    assert case.status == "notice_sent"
    assert case.is_overdue(NOW + 216 * H)  # still shown overdue on the queue
    (escalation,) = letters("escalation")
    assert escalation.recipient_id is None
    assert escalation.recipient_kind == "supervisors"
    assert escalation.manual_delivery is True  # no HOTLINE_SUPERVISORS_EMAIL
    assert escalation.previous_reference == notice.reference
    escalation_text = flat(pdf_text(escalation.pdf))
    assert "Escalation" in escalation_text
    # supervisors are told who was notified and asked to decide, not to write back
    assert flat("Our notice and reminders went to Silent Host") in escalation_text
    assert flat("Please decide the next step") in escalation_text
    (alert,) = alerts("escalation")
    assert alert.notice_id == escalation.id and alert.case_id == case.id
    assert escalation.reference in alert.message

    # weeks later: nothing more
    assert sum(s.letter_count for s in run_every(app, NOW + 217 * H, NOW + 35 * DAY, DAY)) == 0
    assert len(letters()) == 4
    assert [a for a, _f, _t in history(case)][-4:] == [
        "send_notice",
        "reminder_sent",
        "reminder_sent",
        "escalated",
    ]
    assert history(case)[-1] == ("escalated", "notice_sent", "notice_sent")


def test_confirm_takedown_stops_every_reminder(app, make, queue, analyst):
    case = queue(make.organisation())
    run_notices(app, NOW)
    run_reminders(app, NOW + 72 * H)
    assert len(letters("reminder")) == 1

    act(case, "confirm_takedown", {"removed_at": NOW + 90 * H}, user=analyst, at=NOW + 100 * H)
    db.session.refresh(case)
    assert case.next_reminder_at is None

    summaries = run_every(app, NOW + 100 * H, NOW + 42 * DAY, 12 * H)
    assert sum(s.letter_count for s in summaries) == 0
    assert sum(s.counts["alerts"] for s in summaries) == 0
    assert len(letters()) == 2  # the notice and the one reminder before removal
    assert alerts() == []


def test_takedown_clock_on_the_case_page(app, make, queue, analyst, client, clock):
    from tests.conftest import login

    case = queue(make.organisation())
    run_notices(app, NOW)
    act(case, "confirm_takedown", {"removed_at": NOW + 50 * H}, user=analyst, at=NOW + 51 * H)
    clock.set(NOW + 60 * H)
    page = login(client, analyst).get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Takedown clock" in page
    assert "notice sent 2026-11-28 09:00 UTC → removed 2026-11-30 11:00 UTC (2 d 2 h)" in page


def test_a_late_run_does_not_send_a_burst(app, make, queue):
    case = queue(make.organisation())
    run_notices(app, NOW)
    # the scheduler was down for ten days
    run_reminders(app, NOW + 10 * DAY)
    db.session.refresh(case)
    assert case.reminder_count == 1
    assert case.next_reminder_at == NOW + 10 * DAY + 72 * H
    assert run_reminders(app, NOW + 10 * DAY + 30 * timedelta(minutes=1)).letter_count == 0


def test_one_reminder_per_recipient_per_run(app, make, queue):
    first, second = make.organisation(), make.organisation()
    a = [queue(first), queue(first)]
    run_notices(app, NOW)
    b = [queue(first), queue(second)]  # sent a day later: a separate notice
    run_notices(app, NOW + DAY)
    summary = run_reminders(app, NOW + 5 * DAY)
    assert summary.letter_count == 2
    by_recipient = {n.recipient_id: n for n in letters("reminder")}
    assert by_recipient[first.id].case_count == 3
    assert by_recipient[second.id].case_count == 1
    # a reminder covering cases of two notices follows up both
    notice_refs = sorted(n.reference for n in letters("notice") if n.recipient_id == first.id)
    assert by_recipient[first.id].previous_reference == ", ".join(notice_refs)
    text = pdf_text(by_recipient[first.id].pdf)
    assert "Original notices" in text
    for case in a + b[:1]:
        assert case.reference in text


def test_reminder_due_to_a_deleted_organisation_alerts_once(app, make, queue):
    provider = make.organisation()
    case = queue(provider)
    run_notices(app, NOW)
    db.session.delete(provider)
    db.session.commit()
    first = run_reminders(app, NOW + 72 * H)
    second = run_reminders(app, NOW + 73 * H)
    assert first.failed == second.failed == 0
    assert first.counts["needs_recipient"] == second.counts["needs_recipient"] == 1
    assert first.counts["alerts"] == 1 and second.counts["alerts"] == 0
    (alert,) = alerts("needs_recipient")
    assert alert.case_id == case.id
    assert len(letters("reminder")) == 0


def test_a_failing_reminder_is_retried_next_run(app, make, queue):
    good, bad = make.organisation(name="Good"), make.organisation(name="Bad")
    kept = queue(good)
    failing = queue(bad)
    run_notices(app, NOW)

    def renderer(letter, letterhead):
        if letter.recipient_name == "Bad":
            raise OSError("disk full")
        return render_letter(letter, letterhead)

    summary = run_reminders(app, NOW + 72 * H, renderer=renderer)
    assert summary.failed == 1 and summary.letter_count == 1
    db.session.refresh(kept)
    db.session.refresh(failing)
    assert kept.reminder_count == 1
    assert (failing.reminder_count, failing.next_reminder_at) == (0, NOW + 72 * H)
    assert history(failing)[-1][0] == "send_notice"  # no event for the failed letter
    retry = run_reminders(app, NOW + 73 * H)
    assert retry.failed == 0 and retry.letter_count == 1
    db.session.refresh(failing)
    assert failing.reminder_count == 1
