"""Dates outside clock.FIRST_YEAR..LAST_YEAR are validation errors, never a 500,
wherever they come in."""

from __future__ import annotations

from datetime import UTC

import pytest

from casemgr import context
from casemgr.auth.tokens import issue_token
from casemgr.clock import OUT_OF_RANGE, parse_iso
from casemgr.extensions import db
from casemgr.localtime import parse_local
from tests.conftest import login

FAR = ["0001-01-01", "1969-12-31", "9999-12-31"]


@pytest.mark.parametrize("day", FAR)
def test_the_shared_parsers_refuse_them(day):
    with pytest.raises(ValueError, match="years 1970 to 9998"):
        parse_iso(day + "T00:00:00Z")
    with pytest.raises(ValueError, match=OUT_OF_RANGE):
        parse_local(day + "T00:00", UTC)


def test_the_ends_are_accepted():
    assert parse_iso("1970-01-01T00:00:00Z").year == 1970
    assert parse_local("9998-12-31T23:59", UTC).year == 9998


def _bearer(user) -> dict[str, str]:
    token = issue_token(db.session, user, now=context.now(), label="tests")
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "query",
    [
        {"from": "0001-01-01", "to": "0001-01-02"},  # the 500 of issue 18
        {"from": "2026-01-01", "to": "9999-12-31"},
        {"to": "0001-01-02"},
    ],
)
def test_api_stats(client, supervisor, query):
    response = client.get("/api/v1/stats", query_string=query, headers=_bearer(supervisor))
    assert response.status_code == 422
    assert response.json["error"] == "validation"
    assert set(response.json["fields"]) <= {"from", "to"} and response.json["fields"]


@pytest.mark.parametrize("name", ["from", "to"])
def test_api_notices(client, supervisor, name):
    response = client.get(
        "/api/v1/notices", query_string={name: "0001-01-01"}, headers=_bearer(supervisor)
    )
    assert response.status_code == 422
    assert list(response.json["fields"]) == [name]


def test_the_statistics_page(client, supervisor):
    login(client, supervisor)
    response = client.get("/stats/?from=0001-01-01&to=0001-01-02")
    assert response.status_code == 422
    assert "outside the years 1970 to 9998" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path", ["/stats/report.pdf?month=0001-01", "/stats/report.pdf?month=9999-12"]
)
def test_a_month(client, supervisor, path):
    login(client, supervisor)
    assert client.get(path).status_code == 422


@pytest.mark.parametrize(
    "path",
    [
        "/admin/audit/?since=0001-01-01&until=9999-12-31",
        "/notices/?from=0001-01-01&to=9999-12-31",
    ],
)
def test_list_filters_leave_them_out(client, admin, path):
    login(client, admin)
    assert client.get(path).status_code == 200


def test_an_action_field(client, make, analyst):
    case = make.case("notice_sent", by=analyst)
    login(client, analyst)
    response = client.post(
        f"/cases/{case.id}/actions/confirm_takedown",
        data={"confirm_takedown-removed_at": "0001-01-01T00:00"},
    )
    assert response.status_code < 500
    db.session.refresh(case)
    assert case.status == "notice_sent"
