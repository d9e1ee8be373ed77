"""POST /api/v1/reports: one case per URL, duplicates, idempotent retries."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from casemgr import context
from casemgr.auth.models import User
from casemgr.cases import receiving
from casemgr.cases.models import Case, CaseEvent, Submission
from casemgr.extensions import db


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_each_url_becomes_a_case(as_analyst, analyst):
    response = as_analyst.post(
        "/api/v1/reports",
        json={
            "urls": ["HTTP://Example.COM:80/a#frag", "https://other.example.org/b"],
            "description": "seen on a forum",
            "external_reference": "P-1",
            "reporter_contact": "reporter@example.net",
            "feedback_requested": True,
        },
    )
    assert response.status_code == 201
    body = response.json
    assert body["submission"]["source"] == "partner"
    assert body["submission"]["external_reference"] == "P-1"
    assert body["submission"]["received_at"].endswith("+00:00")
    assert [case["url"] for case in body["cases"]] == [
        "http://example.com/a",
        "https://other.example.org/b",
    ]
    assert {case["status"] for case in body["cases"]} == {"new"}
    assert all(case["duplicate_of"] is None for case in body["cases"])
    submission = db.session.get(Submission, body["submission"]["id"])
    assert submission.submitted_by_id == analyst.id
    assert submission.reporter_contact is not None
    assert b"reporter@example.net" not in submission.reporter_contact  # encrypted
    assert "reporter@example.net" not in response.get_data(as_text=True)


@pytest.mark.parametrize("source", ["partner", "police", "phone", "email", "staff"])
def test_the_source_can_be_given(as_analyst, source):
    response = as_analyst.post(
        "/api/v1/reports", json={"urls": ["http://a.example.com/x"], "source": source}
    )
    assert response.status_code == 201
    assert response.json["submission"]["source"] == source


def test_public_is_not_a_source_for_the_api(as_analyst):
    response = as_analyst.post(
        "/api/v1/reports", json={"urls": ["http://a.example.com/x"], "source": "public"}
    )
    assert response.status_code == 422
    assert "source" in response.json["fields"]
    assert count(Case) == 0


def test_a_url_with_an_open_case_becomes_a_closed_duplicate(as_analyst, make):
    original = make.case("triage", url="http://example.com/same")
    response = as_analyst.post(
        "/api/v1/reports", json={"urls": ["http://EXAMPLE.com/same", "http://example.com/new"]}
    )
    assert response.status_code == 201
    duplicate, fresh = response.json["cases"]
    assert duplicate["status"] == "closed"
    assert duplicate["duplicate_of"] == {"id": original.id, "reference": original.reference}
    assert fresh["status"] == "new" and fresh["duplicate_of"] is None


def test_a_url_whose_case_is_closed_is_a_new_case(as_analyst, make):
    make.case("closed", url="http://example.com/again")
    response = as_analyst.post("/api/v1/reports", json={"urls": ["http://example.com/again"]})
    assert response.json["cases"][0]["status"] == "new"


def test_repeats_within_a_report_are_one_case(as_analyst):
    response = as_analyst.post(
        "/api/v1/reports", json={"urls": ["http://example.com/a", "HTTP://example.com/a#x"]}
    )
    assert len(response.json["cases"]) == 1


def test_the_same_external_reference_returns_the_first_submission(as_analyst):
    first = as_analyst.post(
        "/api/v1/reports", json={"urls": ["http://example.com/a"], "external_reference": "R-7"}
    )
    again = as_analyst.post(
        "/api/v1/reports",
        json={
            "urls": ["http://example.com/a", "http://example.com/b"],
            "external_reference": "R-7",
        },
    )
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json == first.json
    assert count(Case) == 1 and count(Submission) == 1


def test_the_same_external_reference_from_another_user_is_another_submission(
    as_analyst, as_supervisor
):
    body = {"urls": ["http://example.com/a"], "external_reference": "R-7"}
    assert as_analyst.post("/api/v1/reports", json=body).status_code == 201
    second = as_supervisor.post("/api/v1/reports", json=body)
    assert second.status_code == 201
    assert second.json["cases"][0]["status"] == "closed"  # a duplicate of the first case


def test_a_retry_racing_the_first_sending_gets_the_first_submission(
    as_analyst, analyst, monkeypatch
):
    """Two sendings of one external_reference at once: the loser of the unique
    constraint answers with the winner's submission."""
    body = {"urls": ["http://example.com/a"], "external_reference": "R-9"}
    real_receive = receiving.receive_report
    calls = []

    def receive_after_the_other_request(session, report, **kwargs):
        calls.append(report.external_reference)
        if len(calls) == 1:
            # The other request commits first, through its own connection, and
            # this one's INSERT then breaks the unique constraint.
            with Session(db.engine) as other:
                submitter = other.get(User, analyst.id)
                real_receive(other, report, **kwargs | {"submitted_by": submitter})
                other.commit()
            raise IntegrityError("INSERT INTO submissions", {}, Exception("unique"))
        return real_receive(session, report, **kwargs)

    monkeypatch.setattr(receiving, "receive_report", receive_after_the_other_request)
    response = as_analyst.post("/api/v1/reports", json=body)
    assert response.status_code == 200
    assert len(calls) == 2
    assert count(Submission) == 1


@pytest.mark.parametrize(
    ("urls", "expected"),
    [
        (
            ["http://ok.example.com/", "ftp://example.com/x", "http://ok.example.com/2", "nope"],
            ["urls[1]: ", "urls[3]: "],
        ),
        (["http://127.0.0.1/x"], ["urls[0]: "]),
        (["http://ok.example.com/", 42, ["x"]], ["urls[1]: must be text", "urls[2]: must be text"]),
        (["http://example.com/" + "a" * 3000], ["urls[0]: "]),
    ],
)
def test_bad_urls_are_named_by_index_and_nothing_is_saved(as_analyst, urls, expected):
    response = as_analyst.post("/api/v1/reports", json={"urls": urls})
    assert response.status_code == 422
    messages = response.json["fields"]["urls"]
    assert len(messages) == len(expected)
    for message, start in zip(messages, expected, strict=True):
        assert message.startswith(start)
    assert count(Case) == 0 and count(Submission) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "urls"),
        ({"urls": []}, "urls"),
        ({"urls": "http://example.com/a"}, "urls"),
        ({"urls": [f"http://example.com/{n}" for n in range(51)]}, "urls"),
        ({"urls": ["http://example.com/a"], "description": ["a", "b"]}, "description"),
        ({"urls": ["http://example.com/a"], "description": "x" * 5001}, "description"),
        ({"urls": ["http://example.com/a"], "description": "bell \x07"}, "description"),
        ({"urls": ["http://example.com/a"], "external_reference": "x" * 121}, "external_reference"),
        ({"urls": ["http://example.com/a"], "external_reference": 12}, "external_reference"),
        ({"urls": ["http://example.com/a"], "reporter_contact": {"a": 1}}, "reporter_contact"),
        ({"urls": ["http://example.com/a"], "feedback_requested": "yes"}, "feedback_requested"),
        ({"urls": ["http://example.com/a"], "source": "web"}, "source"),
        ({"urls": ["http://example.com/a"], "seen_where": "forum"}, "seen_where"),
        ({"urls": ["http://example.com/a"], "material": "..."}, "material"),
    ],
)
def test_bad_fields_are_named(as_analyst, body, field):
    response = as_analyst.post("/api/v1/reports", json=body)
    assert response.status_code == 422, response.json
    assert response.json["error"] == "validation"
    assert field in response.json["fields"]
    assert count(Case) == 0


def test_every_bad_field_is_named_at_once(as_analyst):
    response = as_analyst.post(
        "/api/v1/reports",
        json={"urls": ["nope"], "source": "public", "description": 1, "extra": True},
    )
    assert set(response.json["fields"]) == {"urls", "source", "description", "extra"}


def test_nulls_mean_not_given(as_analyst):
    response = as_analyst.post(
        "/api/v1/reports",
        json={
            "urls": ["http://example.com/a"],
            "description": None,
            "source": None,
            "external_reference": None,
            "reporter_contact": None,
            "feedback_requested": None,
        },
    )
    assert response.status_code == 201
    assert response.json["submission"]["source"] == "partner"


@pytest.mark.parametrize("language", ["km", "en"])
def test_the_reporters_language_can_be_given(as_analyst, language):
    response = as_analyst.post(
        "/api/v1/reports", json={"urls": ["http://example.com/a"], "language": language}
    )
    assert response.status_code == 201
    assert db.session.get(Submission, response.json["submission"]["id"]).language == language


@pytest.mark.parametrize("body", [{}, {"language": None}])
def test_without_a_language_the_report_has_none(as_analyst, body):
    response = as_analyst.post("/api/v1/reports", json={"urls": ["http://example.com/a"], **body})
    assert response.status_code == 201
    assert db.session.get(Submission, response.json["submission"]["id"]).language is None


@pytest.mark.parametrize("language", ["fr", "KM", "km-KH", "", 7])
def test_a_language_we_do_not_have_is_422_naming_it(as_analyst, language):
    response = as_analyst.post(
        "/api/v1/reports", json={"urls": ["http://example.com/a"], "language": language}
    )
    assert response.status_code == 422, response.json
    assert list(response.json["fields"]) == ["language"]
    assert count(Submission) == 0


def test_the_language_is_optional_in_the_document(document):
    schema = document["paths"]["/api/v1/reports"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    assert "language" not in schema["required"]
    assert schema["properties"]["language"]["enum"] == ["en", "km", None]


def test_the_receipt_is_recorded_with_the_caller_as_actor(as_analyst, analyst):
    response = as_analyst.post("/api/v1/reports", json={"urls": ["http://example.com/a"]})
    event = db.session.scalar(select(CaseEvent))
    assert event.case_id == response.json["cases"][0]["id"]
    assert event.actor_id == analyst.id
    assert event.created_at == context.now()
