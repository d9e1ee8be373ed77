"""What a partner hotline's account sees through the API: only what it sent.

Every answer goes through the contract client (tests/api/contract.py), so the
reduced views are validated against the OpenAPI document (``PartnerCase``,
``PartnerSubmission``; objects are closed, a field too many fails).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from casemgr import context
from casemgr.api.auth import PARTNER_FORBIDDEN
from casemgr.auth.models import ApiToken
from casemgr.auth.tokens import revoke_token
from casemgr.cases import services as cases
from casemgr.cases.models import Case, Submission
from casemgr.extensions import db
from tests.factories import ILLEGAL

PARTNER_CASE_FIELDS = {
    "id",
    "reference",
    "url",
    "status",
    "resolution",
    "received_at",
    "assessed_at",
    "first_action_at",
    "notice_sent_at",
    "forwarded_at",
    "referred_at",
    "removed_at",
    "closed_at",
    "updated_at",
}


@pytest.fixture
def partner(make):
    return make.user("partner")


@pytest.fixture
def as_partner(anonymous, partner, token_for):
    return anonymous.as_token(token_for(partner))


@pytest.fixture
def as_other_partner(anonymous, make, token_for):
    return anonymous.as_token(token_for(make.user("partner")))


def _send(client, *urls, external_reference="THEIRS-1", **extra):
    return client.post(
        "/api/v1/reports",
        json={"urls": list(urls), "external_reference": external_reference, **extra},
    )


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


class TestSending:
    def test_a_partner_sends_a_report_as_itself_with_the_source_partner(self, as_partner, partner):
        response = _send(as_partner, "http://bad.example.net/a", "http://bad.example.net/b")
        assert response.status_code == 201, response.json
        submission = db.session.scalar(select(Submission))
        assert submission.submitted_by_id == partner.id
        assert submission.source == "partner"
        assert [case["status"] for case in response.json["cases"]] == ["new", "new"]

    def test_a_retry_with_the_same_external_reference_answers_the_first_submission(
        self, as_partner
    ):
        first = _send(as_partner, "http://bad.example.net/a")
        again = _send(as_partner, "http://bad.example.net/a")
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json == first.json
        assert (_count(Submission), _count(Case)) == (1, 1)

    def test_two_partners_may_use_the_same_external_reference(self, as_partner, as_other_partner):
        assert _send(as_partner, "http://bad.example.net/a").status_code == 201
        assert _send(as_other_partner, "http://bad.example.net/b").status_code == 201
        assert _count(Submission) == 2

    def test_a_partner_cannot_claim_another_source(self, as_partner):
        response = _send(as_partner, "http://bad.example.net/a", source="police")
        assert response.status_code == 422
        assert "source" in response.json["fields"]
        assert _count(Submission) == 0

    def test_a_duplicate_is_answered_without_naming_the_case_it_duplicates(self, as_partner, make):
        original = make.case("action_required", url="http://bad.example.net/a")
        response = _send(as_partner, "http://bad.example.net/a")
        (answered,) = response.json["cases"]
        assert answered["duplicate_of"] is None
        assert answered["status"] == "action_required"
        assert original.reference not in response.get_data(as_text=True)


class TestReading:
    def test_a_partner_reads_its_submission_reduced(self, as_partner):
        sent = _send(as_partner, "http://bad.example.net/b", "http://bad.example.net/a").json
        reference = sent["submission"]["reference"]
        response = as_partner.get(f"/api/v1/submissions/{reference}")
        assert response.status_code == 200
        body = response.json
        assert set(body) == {"reference", "external_reference", "received_at", "cases"}
        assert body["external_reference"] == "THEIRS-1"
        assert [case["id"] for case in body["cases"]] == sorted(c["id"] for c in sent["cases"])
        assert all(set(case) == PARTNER_CASE_FIELDS for case in body["cases"])

    def test_a_partner_reads_its_case_reduced_with_the_time_of_each_stage(
        self, as_partner, make, clock
    ):
        sent = _send(as_partner, "http://bad.example.net/a").json
        case = db.session.get(Case, sent["cases"][0]["id"])
        worker = make.user("analyst")
        clock.advance(hours=1)
        for action, fields in (("assign", {}), ("assess", dict(ILLEGAL))):
            cases.apply_action(
                db.session,
                case,
                action,
                fields,
                actor=worker.actor,
                now=context.now(),
                timings=context.timings(),
            )
        db.session.commit()
        body = as_partner.get(f"/api/v1/cases/{case.id}").json
        assert set(body) == PARTNER_CASE_FIELDS
        assert body["status"] == "action_required" and body["resolution"] is None
        assert body["assessed_at"] == "2026-11-28T10:00:00+00:00"
        assert body["received_at"] == "2026-11-28T09:00:00+00:00"
        assert body["closed_at"] is None
        # Nothing of the assessor, the classification, the history.
        assert worker.name not in str(body) and "illegal" not in str(body)

    def test_nothing_of_the_reporter_ever(self, as_partner):
        sent = _send(
            as_partner,
            "http://bad.example.net/a",
            reporter_contact="reporter@example.com",
            description="seen on a forum",
        ).json
        case_id = sent["cases"][0]["id"]
        for path in (
            f"/api/v1/cases/{case_id}",
            f"/api/v1/submissions/{sent['submission']['reference']}",
        ):
            text = as_partner.get(path).get_data(as_text=True)
            assert "reporter@example.com" not in text and "forum" not in text

    def test_a_duplicate_shows_the_status_and_times_of_the_case_worked(
        self, as_partner, make, clock
    ):
        original = make.case("closed", url="http://bad.example.net/a")  # closed: no duplicate
        original = make.case("notice_sent", url="http://bad.example.net/a")
        sent = _send(as_partner, "http://bad.example.net/a").json
        mine = sent["cases"][0]
        body = as_partner.get(f"/api/v1/cases/{mine['id']}").json
        assert (body["id"], body["reference"]) == (mine["id"], mine["reference"])
        assert body["url"] == "http://bad.example.net/a"
        assert (body["status"], body["resolution"]) == ("notice_sent", None)
        assert body["closed_at"] is None
        assert body["notice_sent_at"] == original.notice_sent_at.isoformat()
        assert body["received_at"] == "2026-11-28T09:00:00+00:00"  # its own arrival
        # When the original closes, so does what the partner sees.
        clock.advance(days=1)
        cases.apply_action(
            db.session,
            db.session.get(Case, original.id),
            "confirm_takedown",
            {"removed_at": context.now().isoformat()},
            actor=make.user("analyst").actor,
            now=context.now(),
            timings=context.timings(),
        )
        db.session.commit()
        body = as_partner.get(f"/api/v1/submissions/{sent['submission']['reference']}").json
        (shown,) = body["cases"]
        assert (shown["status"], shown["resolution"]) == ("closed", "takedown_confirmed")
        assert shown["removed_at"] == "2026-11-29T09:00:00+00:00"
        assert shown["id"] == mine["id"]


class TestWhatAPartnerCannotSee:
    """404 for what is not its own, as for what does not exist: it learns nothing."""

    def test_another_partners_case_and_submission_are_not_found(self, as_partner, as_other_partner):
        theirs = _send(as_other_partner, "http://bad.example.net/a").json
        for path in (
            f"/api/v1/cases/{theirs['cases'][0]['id']}",
            f"/api/v1/submissions/{theirs['submission']['reference']}",
        ):
            response = as_partner.get(path)
            assert response.status_code == 404, path
            assert response.json["error"] == "not_found"

    def test_a_case_staff_entered_is_not_found(self, as_partner, as_analyst, make):
        staff = as_analyst.post(
            "/api/v1/reports", json={"urls": ["http://bad.example.net/s"], "source": "phone"}
        ).json
        public = make.case("new")
        for path in (
            f"/api/v1/cases/{staff['cases'][0]['id']}",
            f"/api/v1/submissions/{staff['submission']['reference']}",
            f"/api/v1/cases/{public.id}",
            f"/api/v1/submissions/{public.submission.reference}",
        ):
            assert as_partner.get(path).status_code == 404, path

    def test_not_found_is_the_same_answer_as_for_nothing_at_all(self, as_partner, make):
        public = make.case("new")
        someone_elses = as_partner.get(f"/api/v1/cases/{public.id}")
        nothing = as_partner.get("/api/v1/cases/999999")
        assert someone_elses.json == nothing.json
        other = as_partner.get(f"/api/v1/submissions/{public.submission.reference}")
        none = as_partner.get("/api/v1/submissions/CM-S-2026-999999")
        assert other.json == none.json

    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("GET", "/api/v1/cases"),
            ("POST", "/api/v1/cases/{id}/actions/assign"),
            ("POST", "/api/v1/cases/{id}/actions/report_removal"),
            ("POST", "/api/v1/cases/{id}/notes"),
            ("POST", "/api/v1/cases/actions/take"),
            ("GET", "/api/v1/organizations"),
            ("POST", "/api/v1/organizations"),
            ("GET", "/api/v1/stats"),
            ("GET", "/api/v1/notices"),
            ("GET", "/api/v1/notices/1/pdf"),
        ],
    )
    def test_every_other_operation_is_forbidden_even_on_its_own_case(
        self, as_partner, method, path
    ):
        mine = _send(as_partner, "http://bad.example.net/a").json["cases"][0]["id"]
        response = as_partner.open(method, path.format(id=mine), json={"body": "x"})
        assert response.status_code == 403
        assert response.json == {"error": "forbidden", "message": PARTNER_FORBIDDEN}
        assert db.session.get(Case, mine).status == "new"

    def test_a_revoked_partner_token_is_refused(self, anonymous, partner, token_for):
        token = token_for(partner)
        issued = db.session.scalar(select(ApiToken).where(ApiToken.user_id == partner.id))
        revoke_token(db.session, issued.id, actor=partner.actor, now=context.now())
        db.session.commit()
        assert anonymous.as_token(token).get("/api/v1/submissions/X").status_code == 401


class TestStaff:
    def test_staff_read_any_submission_in_the_same_shape(self, as_analyst, as_partner):
        sent = _send(as_partner, "http://bad.example.net/a").json
        response = as_analyst.get(f"/api/v1/submissions/{sent['submission']['reference']}")
        assert response.status_code == 200
        assert (
            response.json
            == as_partner.get(f"/api/v1/submissions/{sent['submission']['reference']}").json
        )

    def test_staff_still_get_the_whole_case(self, as_analyst, as_partner):
        mine = _send(as_partner, "http://bad.example.net/a").json["cases"][0]["id"]
        body = as_analyst.get(f"/api/v1/cases/{mine}").json
        assert "events" in body and "allowed_actions" in body

    def test_an_overlong_reference_is_not_found(self, as_analyst):
        assert as_analyst.get("/api/v1/submissions/" + "X" * 300).status_code == 404
