"""GET /api/v1/cases and GET /api/v1/cases/<id>."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from casemgr import context
from casemgr.extensions import db


def test_the_list_is_newest_first_with_paging(as_analyst, make):
    made = [make.case("new", at=context.now() - timedelta(hours=hours)) for hours in (3, 2, 1)]
    response = as_analyst.get("/api/v1/cases", query_string={"per_page": 2})
    assert response.status_code == 200
    body = response.json
    assert body["total"] == 3 and body["page"] == 1 and body["per_page"] == 2
    assert [item["id"] for item in body["items"]] == [made[2].id, made[1].id]
    second = as_analyst.get("/api/v1/cases", query_string={"per_page": 2, "page": 2}).json
    assert [item["id"] for item in second["items"]] == [made[0].id]
    beyond = as_analyst.get("/api/v1/cases", query_string={"page": 9}).json
    assert beyond["items"] == [] and beyond["total"] == 3


def test_a_long_list_says_when_its_total_is_an_estimate(as_analyst, make, monkeypatch, backend):
    from casemgr.cases import queries

    for _ in range(3):
        make.case("new")
    assert as_analyst.get("/api/v1/cases").json["total_is_estimate"] is False
    monkeypatch.setattr(queries, "EXACT_COUNT_LIMIT", 2)
    body = as_analyst.get("/api/v1/cases").json
    if backend == "postgresql":
        assert body["total_is_estimate"] is True and body["total"] >= 3
    else:  # SQLite cannot estimate: it counts
        assert (body["total_is_estimate"], body["total"]) == (False, 3)
    assert len(body["items"]) == 3


def test_per_page_defaults_to_50(as_analyst):
    assert as_analyst.get("/api/v1/cases").json["per_page"] == 50


def test_filter_by_status(as_analyst, make):
    make.case("new")
    triage = make.case("triage")
    body = as_analyst.get("/api/v1/cases", query_string={"status": "triage"}).json
    assert [item["id"] for item in body["items"]] == [triage.id]


def test_filter_by_assignee_id_or_me(as_analyst, analyst, make):
    mine = make.case("triage", by=analyst)
    make.case("triage")
    make.case("new")
    for value in ("me", str(analyst.id)):
        body = as_analyst.get("/api/v1/cases", query_string={"assignee": value}).json
        assert [item["id"] for item in body["items"]] == [mine.id]
        assert body["items"][0]["assignee"] == {"id": analyst.id, "name": analyst.name}


def test_filter_overdue(as_analyst, make, clock):
    late = make.case("new", at=context.now() - timedelta(hours=30))
    make.case("new", at=context.now() - timedelta(hours=1))
    make.case("closed", at=context.now() - timedelta(days=5))
    body = as_analyst.get("/api/v1/cases", query_string={"overdue": "true"}).json
    assert [item["id"] for item in body["items"]] == [late.id]
    assert body["items"][0]["overdue"] is True


def test_overdue_narrows_a_view_to_its_overdue_cases(as_analyst, analyst, make, clock):
    mine_late = make.case("triage", by=analyst, at=context.now() - timedelta(hours=30))
    make.case("triage", by=analyst, at=context.now() - timedelta(hours=1))
    make.case("new", at=context.now() - timedelta(hours=30))  # late, not mine
    body = as_analyst.get("/api/v1/cases", query_string={"view": "mine", "overdue": "true"}).json
    assert [item["id"] for item in body["items"]] == [mine_late.id]


@pytest.mark.parametrize("parameter", ["status", "assignee", "overdue", "view", "q"])
def test_an_empty_filter_is_not_given(as_analyst, make, parameter):
    make.case("new")
    body = as_analyst.get("/api/v1/cases", query_string={parameter: ""}).json
    assert body["total"] == 1


def test_search_by_reference_url_or_host(as_analyst, make):
    wanted = make.case("new", url="http://needle.example.com/x")
    make.case("new", url="http://hay.example.com/x")
    for q in (wanted.reference, "http://needle.example.com/x", "needle.example.com"):
        body = as_analyst.get("/api/v1/cases", query_string={"q": q}).json
        assert [item["id"] for item in body["items"]] == [wanted.id], q


def test_filters_combine(as_analyst, analyst, make):
    make.case("triage", by=analyst)
    body = as_analyst.get(
        "/api/v1/cases", query_string={"status": "new", "assignee": "me", "overdue": "true"}
    ).json
    assert body["total"] == 0


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "1.5"}, "page"),
        ({"page": "²"}, "page"),
        ({"page": "99999999999999999999"}, "page"),
        ({"per_page": "500"}, "per_page"),
        ({"per_page": "0"}, "per_page"),
        ({"per_page": "ten"}, "per_page"),
        ({"status": "bogus"}, "status"),
        ({"assignee": "abc"}, "assignee"),
        ({"assignee": "0"}, "assignee"),
        ({"assignee": "99999999999"}, "assignee"),
        ({"overdue": "yes"}, "overdue"),
        ({"q": "x" * 2049}, "q"),
        ({"q": "a\x00b"}, "q"),
        ({"sort": "id"}, "sort"),
        ({"status": ["new", "triage"]}, "status"),
    ],
)
def test_bad_parameters_are_named(as_analyst, query, parameter):
    response = as_analyst.get("/api/v1/cases", query_string=query)
    assert response.status_code == 422
    assert response.json["error"] == "validation"
    assert list(response.json["fields"]) == [parameter]


def test_the_case_with_everything_about_it(as_analyst, analyst, make):
    case = make.case("forwarded", by=analyst)
    response = as_analyst.get(f"/api/v1/cases/{case.id}")
    assert response.status_code == 200
    body = response.json
    assert body["id"] == case.id and body["reference"] == case.reference
    assert body["status"] == "forwarded"
    assert body["classification"] == "illegal_baseline"
    assert body["hosting_country"] == "KH"
    assert body["partner"] == {
        "id": case.partner_id,
        "name": case.partner.name,
        "kind": "hotline",
        "country": "KH",
    }
    assert body["provider"] is None and body["police"] is None
    assert body["assignee"] == {"id": analyst.id, "name": analyst.name}
    assert body["submission"]["reference"] == case.submission.reference
    assert body["received_at"].endswith("+00:00")
    assert body["forwarded_at"].endswith("+00:00")
    assert body["version"] == case.version
    assert body["notices"] == []
    assert body["allowed_actions"] == ["refer_to_police", "confirm_takedown"]
    assert [event["action"] for event in body["events"]] == [
        "receive",
        "assign",
        "assess",
        "forward_to_partner",
    ]
    receive, assign = body["events"][:2]
    assert receive["actor"] is None and receive["from"] is None and receive["to"] == "new"
    assert assign["actor"] == {"id": analyst.id, "name": analyst.name}
    assert assign["fields"] == {"assignee_id": analyst.id}
    assert assign["at"].endswith("+00:00")


def test_allowed_actions_are_the_callers(as_analyst, as_supervisor, make):
    case = make.case("closed")
    assert as_analyst.get(f"/api/v1/cases/{case.id}").json["allowed_actions"] == []
    assert as_supervisor.get(f"/api/v1/cases/{case.id}").json["allowed_actions"] == ["reopen"]


def test_the_reporters_contact_is_never_shown(as_analyst, make):
    result = make.report(
        "http://example.com/a", reporter_contact="secret@example.net", feedback_requested=True
    )
    case = result.submission.cases[0]
    text = as_analyst.get(f"/api/v1/cases/{case.id}").get_data(as_text=True)
    assert "secret@example.net" not in text
    assert "reporter_contact" not in text and "contact" not in text


def test_a_duplicate_names_its_original(as_analyst, make):
    original = make.case("new", url="http://example.com/same")
    duplicate = make.report("http://example.com/same").submission.cases[0]
    body = as_analyst.get(f"/api/v1/cases/{duplicate.id}").json
    assert body["duplicate_of"] == {"id": original.id, "reference": original.reference}
    assert body["resolution"] == "duplicate"


@pytest.mark.parametrize("case_id", ["999", "2147483648", "99999999999999999999999"])
def test_an_unknown_case_is_404(as_analyst, case_id):
    response = as_analyst.get(f"/api/v1/cases/{case_id}")
    assert response.status_code == 404
    assert response.json["error"] == "not_found"


@pytest.mark.parametrize("path", ["/api/v1/cases/abc", "/api/v1/cases/-1", "/api/v1/nothing"])
def test_paths_that_are_not_routes_are_404_json(as_analyst, path):
    response = as_analyst.get(path)
    assert response.status_code == 404
    assert response.json["error"] == "not_found"


def test_a_wrong_method_is_405_json_with_allow(as_analyst):
    response = as_analyst.open("DELETE", "/api/v1/cases")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_unknown_query_parameters_on_a_case_are_refused(as_analyst, make):
    case = make.case("new")
    response = as_analyst.get(f"/api/v1/cases/{case.id}", query_string={"expand": "all"})
    assert response.status_code == 422
    assert "expand" in response.json["fields"]


def count_statements(call) -> int:
    """Statements ``call`` runs, starting (as a real request does) with an empty session."""
    db.session.remove()
    statements = []

    def record(*args):
        statements.append(args)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len(statements)


def test_the_list_takes_as_many_queries_for_many_cases_as_for_one(as_analyst, make):
    """What the list shows is loaded with the page, not case by case (no N+1)."""
    make.case("triage")
    as_analyst.get("/api/v1/cases")  # the token's first use is stamped: one more statement
    one = count_statements(lambda: as_analyst.get("/api/v1/cases"))
    for _ in range(5):
        make.case("triage")
    many = count_statements(lambda: as_analyst.get("/api/v1/cases"))
    assert many == one
