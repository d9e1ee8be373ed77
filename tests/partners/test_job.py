"""The partners job against a fake partner casemgr: delivery, retries, polling, misbehaviour."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from casemgr import context
from casemgr.alerts.models import Alert
from casemgr.cases.models import Case, CaseEvent
from casemgr.extensions import db
from casemgr.jobs import partners as job
from casemgr.notices.referrals import cases_awaiting_referral
from casemgr.partners.models import PartnerLink
from tests.partners.conftest import TOKEN, forwarded_case, partner_org


def run(app, now=None):
    summary = job.run(db.session, now or context.now(), app)
    db.session.commit()
    db.session.expire_all()
    return summary


def link_of(case) -> PartnerLink:
    return db.session.scalar(select(PartnerLink).where(PartnerLink.case_id == case.id))


def events(case, action=None):
    statement = select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    if action:
        statement = statement.where(CaseEvent.action == action)
    return list(db.session.scalars(statement))


def alerts():
    return list(db.session.scalars(select(Alert).order_by(Alert.id)))


def test_forwarding_queues_a_delivery_and_no_letter_for_an_api_partner(app, partner):
    org = partner_org(partner.url)
    case = forwarded_case(org.id)
    link = link_of(case)
    assert link.state == "queued" and link.partner_id == org.id
    assert cases_awaiting_referral(db.session) == []


def test_both_queues_a_delivery_and_a_letter_and_letter_queues_none(app, partner):
    both = forwarded_case(partner_org(partner.url, forward_by="both").id)
    letter = forwarded_case(partner_org(partner.url, forward_by="letter").id)
    assert link_of(both).state == "queued"
    assert link_of(letter) is None
    assert {case_id for case_id, _ in cases_awaiting_referral(db.session)} == {both.id, letter.id}


def test_delivery_sends_our_findings_and_never_the_reporters(app, partner):
    org = partner_org(partner.url)
    case = forwarded_case(org.id)
    summary = run(app)
    assert summary.counts["delivered"] == 1
    (sent,) = partner.posts()
    assert sent["urls"] == [case.url]
    assert sent["external_reference"] == case.reference and sent["source"] == "partner"
    assert case.reference in sent["description"] and "192.0.2.7" in sent["description"]
    assert "Forwarded by Hotline A" in sent["description"]
    assert "REPORTER WORDS" not in str(sent) and "reporter@example.org" not in str(sent)
    link = link_of(case)
    remote = partner.case_of(case.reference)
    assert link.state == "delivered"
    assert (link.remote_case_id, link.remote_case_reference) == (remote["id"], remote["reference"])
    assert link.remote_submission == partner.submissions[case.reference]["reference"]
    assert link.remote_status == "new"
    # the token went to the partner, in the header, and only there
    assert partner.requests[0][2]["Authorization"] == f"Bearer {TOKEN}"


def test_a_failed_attempt_waits_with_backoff_then_succeeds(app, partner):
    org = partner_org(partner.url)
    case = forwarded_case(org.id)
    partner.fail_next = 2
    now = context.now()
    run(app, now)
    link = link_of(case)
    assert (link.state, link.attempts) == ("queued", 1)
    assert link.next_attempt_at == now + timedelta(seconds=60)
    run(app, now + timedelta(seconds=30))  # not due yet: nothing asked
    assert len(partner.requests) == 1
    run(app, now + timedelta(seconds=60))
    link = link_of(case)
    assert link.attempts == 2 and link.next_attempt_at == now + timedelta(seconds=180)
    run(app, now + timedelta(seconds=180))
    assert link_of(case).state == "delivered"
    assert len(partner.submissions) == 1


def test_a_lost_answer_is_retried_without_a_second_case_there(app, partner):
    org = partner_org(partner.url)
    case = forwarded_case(org.id)
    partner.mode = "drop_after_commit"
    now = context.now()
    run(app, now)
    assert link_of(case).state == "queued"
    assert len(partner.submissions) == 1  # the partner stored it nonetheless
    run(app, now + timedelta(minutes=5))
    link = link_of(case)
    assert link.state == "delivered"
    assert link.remote_case_id == partner.case_of(case.reference)["id"]
    assert len(partner.submissions) == 1 and len(partner.posts()) == 2


def test_giving_up_after_the_last_attempt_alerts_once_per_partner(app, partner):
    org = partner_org(partner.url)
    cases = [forwarded_case(org.id), forwarded_case(org.id)]
    partner.mode = "unauthorised"
    now = context.now()
    for hours in range(0, 48, 1):
        run(app, now + timedelta(hours=hours))
    assert {link_of(case).state for case in cases} == {"failed"}
    keys = [alert.key for alert in alerts()]
    assert keys.count(f"partner:{org.id}:delivery_failed") == 1
    assert keys.count(f"partner:{org.id}:unauthorised") == 1
    assert len(keys) == 2


def deliver(app, partner, *, trusted=False, count=1):
    org = partner_org(partner.url, trusted=trusted)
    cases = [forwarded_case(org.id) for _ in range(count)]
    run(app)
    return org, cases


def test_partner_confirms_takedown_and_an_analyst_verifies(app, partner):
    org, (case,) = deliver(app, partner)
    partner.set_status(case.reference, "notice_sent")
    later = context.now() + timedelta(hours=1)
    run(app, later)
    (event,) = events(case, "partner_status")
    assert event.fields["by"] == org.name and event.fields["status"] == "notice_sent"
    assert link_of(case).status_learned_at == later
    partner.set_status(
        case.reference,
        "closed",
        "takedown_confirmed",
        removed_at="2026-11-28T07:00:00+00:00",
        closed_at="2026-11-28T08:00:00+00:00",
    )
    run(app, later + timedelta(hours=1))
    case = db.session.get(Case, case.id)
    assert case.status == "forwarded" and case.removal_reported_by == "partner"
    assert case.removal_reported_at.isoformat() == "2026-11-28T07:00:00+00:00"
    (report,) = events(case, "report_removal")
    assert report.fields["by"] == org.name
    run(app, later + timedelta(hours=2))  # nothing new: nothing recorded
    assert len(events(case, "partner_status")) == 2


def test_a_trusted_partner_closes_our_case_with_its_removal_time(app, partner):
    org, (case,) = deliver(app, partner, trusted=True)
    partner.set_status(
        case.reference, "closed", "takedown_confirmed", removed_at="2026-11-28T07:00:00Z"
    )
    run(app, context.now() + timedelta(hours=1))
    case = db.session.get(Case, case.id)
    assert (case.status, case.resolution) == ("closed", "takedown_confirmed")
    assert case.removed_at.isoformat() == "2026-11-28T07:00:00+00:00"
    (event,) = events(case, "accept_reported_removal")
    assert event.fields["by"] == org.name and event.fields["source"] == "partner"


@pytest.mark.parametrize("resolution", ["not_illegal", "out_of_remit", "content_unavailable"])
def test_partner_closing_otherwise_flags_our_case(app, partner, resolution):
    org, (case,) = deliver(app, partner)
    partner.set_status(case.reference, "closed", resolution)
    run(app, context.now() + timedelta(hours=1))
    case = db.session.get(Case, case.id)
    assert (case.status, case.attention) == ("action_required", "partner_closed")
    (event,) = events(case, "decline_notice")
    assert event.fields["resolution"] == resolution and event.fields["by"] == org.name


def case_rows():
    return [
        (c.status, c.version, c.updated_at, c.attention, c.removal_reported_at)
        for c in db.session.scalars(select(Case).order_by(Case.id))
    ]


@pytest.mark.parametrize(
    "mode", ["down", "hang", "not_json", "huge", "wrong_ids", "unknown_status", "unauthorised"]
)
def test_a_misbehaving_partner_changes_nothing_and_alerts_once(app, partner, mode):
    org, cases = deliver(app, partner, count=2)
    for case in cases:
        partner.set_status(case.reference, "closed", "takedown_confirmed")
    before = case_rows()
    events_before = db.session.scalar(select(func.count(CaseEvent.id)))
    if mode == "down":
        partner.server.shutdown()
        partner.server.server_close()
    else:
        partner.mode = mode
    for hours in (1, 2, 3):
        summary = run(app, context.now() + timedelta(hours=hours))
        assert summary.counts["poll_errors"] >= 1
    assert case_rows() == before
    assert db.session.scalar(select(func.count(CaseEvent.id))) == events_before
    assert len(alerts()) == 1 and alerts()[0].key.startswith(f"partner:{org.id}:")
    assert any(link_of(case).last_error for case in cases)
    if mode != "down":  # it comes back: the next run catches up
        partner.mode = "ok"
        run(app, context.now() + timedelta(hours=5))
        assert {db.session.get(Case, c.id).removal_reported_by for c in cases} == {"partner"}


def test_the_token_is_never_in_clear_in_the_database_or_the_logs(app, partner, caplog):
    caplog.set_level(logging.DEBUG)
    org, (case,) = deliver(app, partner)
    partner.mode = "unauthorised"
    run(app, context.now() + timedelta(hours=1))
    assert TOKEN not in caplog.text
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            for value in row:
                if isinstance(value, bytes | memoryview):
                    value = bytes(value)
                    assert TOKEN.encode() not in value
                else:
                    assert TOKEN not in str(value), table.name


def test_a_delivery_answer_about_another_url_is_a_lie_and_retried(app, partner):
    org = partner_org(partner.url)
    case = forwarded_case(org.id)
    partner.mode = "wrong_ids"
    run(app)
    link = link_of(case)
    assert (link.state, link.attempts, link.remote_case_id) == ("queued", 1, None)
    assert "no single case" in link.last_error
    assert [alert.key for alert in alerts()] == [f"partner:{org.id}:lies"]
    partner.mode = "ok"
    run(app, context.now() + timedelta(minutes=1))
    assert link_of(case).state == "delivered" and len(partner.submissions) == 1


def test_the_job_runs_from_the_command_line(app, partner, runner):
    case = forwarded_case(partner_org(partner.url).id)
    result = runner.invoke(args=["jobs", "run", "partners", "--now", "2026-11-28T10:00Z"])
    assert result.exit_code == 0, result.output
    assert "partners as of 2026-11-28T10:00:00+00:00: 1 delivered" in result.output
    db.session.expire_all()
    assert link_of(case).state == "delivered"
