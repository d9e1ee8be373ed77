"""Referral letters to partner hotlines and police (casemgr/notices/referrals.py)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from casemgr.cases.models import CaseEvent
from casemgr.extensions import db
from casemgr.notices.referrals import cases_awaiting_referral, referral_step
from tests.conftest import NOW
from tests.jobs.conftest import act, flat, letters, pdf_text, run_notices


class TestReferrals:
    def test_forwarded_and_referred_cases_get_a_referral_once(self, app, make):
        forwarded = make.case("forwarded")
        referred = make.case("with_police")
        summary = run_notices(app, NOW)
        assert summary.letters.keys() == {"referral"}
        made = letters("referral")
        assert {(n.recipient_id, n.case_count) for n in made} == {
            (forwarded.partner_id, 1),
            (referred.police_id, 1),
        }
        assert run_notices(app, NOW + timedelta(minutes=15)).letter_count == 0
        text = pdf_text(next(n for n in made if n.recipient_id == forwarded.partner_id).pdf)
        assert "Referral" in text
        assert forwarded.reference in text
        assert "letusknow" in flat(text)  # the referral's request, not the removal notice's
        event = db.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == forwarded.id).order_by(CaseEvent.id.desc())
        ).first()
        assert (event.action, event.from_status, event.to_status) == (
            "referral_sent",
            "forwarded",
            "forwarded",
        )

    def test_a_case_referred_to_police_after_a_notice_gets_a_police_referral(
        self, app, make, analyst
    ):
        case = make.case("notice_sent", by=analyst)
        police = make.organisation("police")
        act(case, "refer_to_police", {"police_id": police.id}, user=analyst, at=NOW)
        run_notices(app, NOW)
        (notice,) = letters("referral")
        assert notice.recipient_id == police.id

    def test_can_be_switched_off(self, app, make):
        app.config["NOTICE_REFERRALS"] = False
        make.case("forwarded")
        assert run_notices(app, NOW).letter_count == 0


def test_cases_awaiting_referral_name_their_recipient_until_one_is_sent(app, make):
    forwarded = make.case("forwarded")
    referred = make.case("with_police")
    triage = make.case("triage")
    assert cases_awaiting_referral(db.session) == [
        (forwarded.id, forwarded.partner_id),
        (referred.id, referred.police_id),
    ]
    assert referral_step(forwarded) == forwarded.forwarded_at
    assert referral_step(referred) == referred.referred_at
    assert referral_step(triage) is None
    run_notices(app, NOW)
    assert cases_awaiting_referral(db.session) == []
