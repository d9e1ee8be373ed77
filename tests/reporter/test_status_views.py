"""/status: the code typed back, the coarse statuses, additions, questions; and
the staff's question on the case page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from casemgr import context
from casemgr.audit.models import AuditEntry
from casemgr.cases import services as cases
from casemgr.cases.models import Case
from casemgr.extensions import db
from casemgr.reporter.codes import normalise
from casemgr.reporter.models import ReporterMessage
from tests.conftest import login
from tests.public.helpers import counts, post_report, text
from tests.reporter.helpers import access_of, add, open_status, report_and_keep_code


def test_the_thank_you_page_shows_the_code_once_and_says_to_keep_it(client):
    response = post_report(client, urls="http://example.com/a")
    location = response.headers["Location"]
    thanks = text(client.get(location))
    code = re.search(r'id="receipt-code">([0-9A-Z-]+)<', thanks).group(1)
    assert "Keep this code" in thanks
    # The redirect's token carries it encrypted, as it carries the reference.
    assert code not in location and normalise(code) not in location
    assert len(code) == 29 and code.count("-") == 5
    page = text(client.get("/"))
    assert "/status" in page and code not in page  # the menu links to it; the code nowhere


def test_the_code_as_a_person_types_it_opens_the_status(client):
    code = report_and_keep_code(client, urls="http://example.com/a\nhttp://example.com/b")
    typed = code.replace("-", " ").lower().replace("0", "o").replace("1", "l")
    page = open_status(client, typed)
    assert page.status_code == 200
    body = text(page)
    assert "http://example.com/b" in body and "Received" in body
    assert code not in body and 'name="access"' in body


def test_the_status_follows_what_the_analyst_does_and_tells_no_more(client, analyst, make):
    code = report_and_keep_code(client)
    case = db.session.scalar(select(Case))
    police = make.organisation("police")
    steps = [
        ("assign", {}, "Being assessed"),
        ("assess", {**make.ILLEGAL}, "Being assessed"),
        ("refer_to_police", {"police_id": police.id, "hold": True}, "Action taken"),
    ]
    for action, fields, expected in steps:
        cases.apply_action(
            db.session,
            case,
            action,
            fields,
            actor=analyst.actor,
            now=context.now(),
            timings=context.timings(),
        )
        db.session.commit()
        body = text(open_status(client, code))
        assert expected in body, action
    for secret in (police.name, analyst.name, "illegal", "police hold", "image_host"):
        assert secret.lower() not in body.lower(), secret


@pytest.mark.parametrize(
    ("typed", "status", "message"),
    [
        ("", 422, "Please type your receipt code"),
        ("7K3M-Q9XA", 422, "too short"),
        ("7K3M-Q9XA-2BCD-EFGH-JKMN-PQRS-T", 422, "longer than a receipt code"),
        ("7K3M-Q9XA-2BCD-EFGH-JKM!", 422, "only the letters"),
        ("7K3M-Q9XA-2BCD-EFGH-JKMN-PQRS", 404, "We found no report with this code"),
        ("7K3M-Q9XA-2BCD-EFGH-JKMN", 404, "We found no report with this code"),
    ],
)
def test_a_code_that_opens_nothing_is_answered_clearly_and_kept(client, typed, status, message):
    report_and_keep_code(client)
    response = open_status(client, typed)
    assert response.status_code == status
    assert message in text(response) and f'value="{typed}"' in text(response)


def test_a_wrong_code_answers_as_a_code_that_never_existed(client):
    code = report_and_keep_code(client)
    wrong_verifier = code[:10] + ("0000" if code[10:14] != "0000" else "1111") + code[14:]
    never = ("ZZZZ" if code[:4] != "ZZZZ" else "YYYY") + code[4:]
    first, second = open_status(client, wrong_verifier), open_status(client, never)
    assert first.status_code == second.status_code == 404
    strip = lambda r, typed: text(r).replace(typed, "")  # noqa: E731
    assert strip(first, wrong_verifier) == strip(second, never)


def test_a_megabyte_code_is_refused_as_too_large_in_the_reporters_language(client):
    response = client.post("/status?lang=km", data={"code": "A" * (1024 * 1024)})
    assert response.status_code == 413
    assert 'lang="km"' in text(response)


def test_the_code_is_never_in_a_url(client):
    code = report_and_keep_code(client)
    response = client.get("/status", query_string={"code": code, "lang": "km"})
    assert response.status_code == 303 and response.headers["Location"] == "/status?lang=km"
    assert code not in text(response)


def test_the_language_switch_of_an_answered_page_leads_back_to_the_code(client):
    response = client.get("/status/add?lang=km")
    assert response.status_code == 303 and response.headers["Location"] == "/status?lang=km"


def test_adding_urls_and_a_message_with_the_code(client):
    code = report_and_keep_code(client)
    page = open_status(client, code)
    response = add(
        client,
        access_of(page),
        urls="http://example.com/a\nhttp://example.com/more",
        message="I found another one",
    )
    assert response.status_code == 200, text(response)
    body = text(response)
    assert "We added 1 web address" in body and "1 address was already" in body
    assert "http://example.com/more" in body and "I found another one" in body
    assert counts() == (1, 2)


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        ({"urls": "not a url"}, "Line 1"),
        ({"urls": "\n".join(f"http://e.example/{i}" for i in range(51))}, "at most 50"),
        ({"message": "a NUL \x00 here"}, "hidden control characters"),
        ({"message": "x" * 6000}, "under 5000"),
        ({"urls": "", "message": ""}, "Please add a web address or a message"),
    ],
)
def test_a_refused_addition_keeps_the_text_and_stores_nothing(client, fields, shown):
    code = report_and_keep_code(client)
    response = add(client, access_of(open_status(client, code)), **fields)
    assert response.status_code == 422
    assert shown in text(response)
    assert counts() == (1, 1)
    assert db.session.scalar(select(func.count()).select_from(ReporterMessage)) == 0


def test_an_addition_with_a_forged_or_old_pass_asks_for_the_code_again(client, clock):
    code = report_and_keep_code(client)
    access = access_of(open_status(client, code))
    assert add(client, "forged", message="hello").status_code == 410
    clock.advance(hours=1)
    response = add(client, access, message="hello")
    assert response.status_code == 410 and "type your code again" in text(response)
    assert db.session.scalar(select(func.count()).select_from(ReporterMessage)) == 0


def test_the_assignee_asks_and_the_reporter_reads_and_answers(client, app, analyst):
    code = report_and_keep_code(client)
    case = db.session.scalar(select(Case))
    cases.apply_action(
        db.session,
        case,
        "assign",
        {},
        actor=analyst.actor,
        now=context.now(),
        timings=context.timings(),
    )
    db.session.commit()
    staff = login(app.test_client(), analyst)
    page = text(staff.get(f"/cases/{case.id}"))
    assert "Post the question" in page
    asked = staff.post(
        f"/cases/{case.id}/reporter-question", data={"question-body": "Which page was it on?"}
    )
    assert asked.status_code == 303
    status = open_status(client, code)
    assert "Which page was it on?" in text(status) and analyst.name not in text(status)
    add(client, access_of(status), message="The second page")
    revealed = staff.post(f"/cases/{case.id}/contact", data={"contact-reason": "to read"})
    assert "The second page" in text(revealed) and "Which page was it on?" in text(revealed)
    audited = db.session.scalars(select(AuditEntry.action)).all()
    assert "reporter.question" in audited and "reporter.messages_view" in audited


def test_a_question_refused_keeps_its_text(client, app, supervisor, make):
    case = make.case("new")  # entered by staff: no receipt
    staff = login(app.test_client(), supervisor)
    response = staff.post(
        f"/cases/{case.id}/reporter-question", data={"question-body": "Still there?"}
    )
    assert response.status_code == 422
    assert "receipt" in text(response) and "Still there?" in text(response)


def test_only_who_may_act_on_the_case_may_ask(client, app, analyst, make):
    report_and_keep_code(client)
    case = db.session.scalar(select(Case))
    other = make.user("analyst")
    cases.apply_action(
        db.session,
        case,
        "assign",
        {},
        actor=other.actor,
        now=context.now(),
        timings=context.timings(),
    )
    db.session.commit()
    staff = login(app.test_client(), analyst)
    assert "Post the question" not in text(staff.get(f"/cases/{case.id}"))
    response = staff.post(f"/cases/{case.id}/reporter-question", data={"question-body": "x"})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(ReporterMessage)) == 0
