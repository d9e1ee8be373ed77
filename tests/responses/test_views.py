"""The response page: what a provider sees behind the link and what each answer does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from casemgr import context
from casemgr.alerts.models import Alert
from casemgr.audit.models import AuditEntry
from casemgr.cases.models import Case, CaseEvent
from casemgr.extensions import db
from casemgr.localtime import input_value
from casemgr.notifications.models import Notification
from casemgr.responses.models import ProviderResponse, ResponseLink
from tests import factories


def answer(client, sent, answers: dict[int, dict], **extra):
    data = {}
    for index, fields in answers.items():
        case_id = sent.cases[index].id
        data.update({f"url_{case_id}-{name}": value for name, value in fields.items()})
    data.update(extra)
    return client.post(sent.path, data=data)


def reload(case: Case) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case.id)


def test_the_page_shows_the_letter_and_nothing_else(client, send_letter, analyst):
    other = factories.case("notice_pending", by=analyst, url="http://elsewhere.example/secret")
    factories.report("http://hosting.example/x", description="I found it on a forum, call me")
    sent = send_letter(2)
    page = client.get(sent.path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for case in sent.cases:
        assert case.url in html and case.reference in html
    assert sent.notice.reference in html and "Example Hotline" in html
    assert other.url not in html and "call me" not in html
    assert analyst.name not in html
    assert "<script" not in html
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    assert "noindex" in page.headers["X-Robots-Tag"]


@pytest.mark.parametrize("mangle", ["truncate", "forge", "expire", "supersede"])
def test_a_link_that_does_not_work_says_the_same_whatever_the_reason(
    client, send_letter, clock, mangle
):
    sent = send_letter(1)
    path = sent.path
    if mangle == "truncate":
        path = path[:-5]
    elif mangle == "forge":
        path = "/respond/" + "A" * 43
    elif mangle == "expire":
        clock.set(db.session.get(ResponseLink, sent.notice.id).expires_at)
    else:
        db.session.get(ResponseLink, sent.notice.id).superseded_at = context.now()
        db.session.commit()
    page = client.get(path)
    assert page.status_code == 404
    assert "This link does not work" in page.get_data(as_text=True)
    assert sent.cases[0].url not in page.get_data(as_text=True)
    posted = client.post(path, data={f"url_{sent.cases[0].id}-answer": "removed"})
    assert posted.status_code == 404
    assert db.session.scalar(select(ProviderResponse)) is None


def test_removed_and_cannot_remove(client, send_letter, analyst):
    sent = send_letter(2)
    removed_at = context.now() - timedelta(minutes=30)
    response = answer(
        client,
        sent,
        {
            0: {"answer": "removed", "removed_at": input_value(removed_at, context.timezone())},
            1: {"answer": "cannot_remove", "message": "Court order needed in our country"},
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{sent.path}?saved=1")

    first, second = reload(sent.cases[0]), reload(sent.cases[1])
    assert first.status == "notice_sent"
    assert first.removal_reported_at == removed_at.replace(second=0, microsecond=0)
    assert first.removal_reported_by == "provider"
    assert first.next_reminder_at is None
    assert first.due_at == context.now() + timedelta(hours=24)
    assert second.status == "action_required" and second.attention == "cannot_remove"

    events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == first.id)).all()
    reported = events[-1]
    assert reported.action == "report_removal" and reported.actor_id is None
    assert reported.fields["by"] == "Example Hosting Ltd"
    (alert,) = db.session.scalars(select(Alert).where(Alert.kind == "provider_declined")).all()
    assert "Court order needed" in alert.message and alert.case_id == second.id
    assert db.session.scalars(select(Notification).where(Notification.user_id == analyst.id)).all()
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "notice.response"))
    assert [entry.target_id for entry in audit] == [str(sent.notice.id)]

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "your answers are recorded" in page and "You answered on" in page


def test_a_trusted_provider_closes_the_case_with_its_word(client, send_letter, provider):
    provider.trust_removal_reports = True
    db.session.commit()
    sent = send_letter(1)
    answer(client, sent, {0: {"answer": "removed"}})
    case = reload(sent.cases[0])
    assert (case.status, case.resolution) == ("closed", "takedown_confirmed")
    assert case.removed_at == context.now()
    event = db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    ).all()[-1]
    assert event.action == "accept_reported_removal" and event.fields["by"] == provider.name


def test_not_hosted_and_a_question(client, send_letter):
    sent = send_letter(2)
    answer(
        client,
        sent,
        {
            0: {"answer": "not_hosted", "hosted_by": "Other Cloud Inc."},
            1: {"answer": "need_information", "message": "Which file exactly?"},
        },
    )
    first, second = reload(sent.cases[0]), reload(sent.cases[1])
    assert first.attention == "not_hosted"
    assert second.status == "notice_sent"  # a question changes nothing
    event = db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == second.id).order_by(CaseEvent.id)
    ).all()[-1]
    assert event.action == "provider_response"
    assert event.fields["message"] == "Which file exactly?"


@pytest.mark.parametrize(
    ("fields", "field_error"),
    [
        ({"answer": "cannot_remove"}, "why it cannot be removed"),
        ({"answer": "need_information", "message": "   "}, "what you need to know"),
        ({"answer": "deleted"}, "choose one of the answers"),
        ({"answer": "cannot_remove", "message": "x" * 2001}, "under 2000 characters"),
        ({"answer": "cannot_remove", "message": "bad\x00byte"}, "hidden control characters"),
        ({"answer": "not_hosted", "hosted_by": "tab\there"}, "hidden control characters"),
        ({"answer": "removed", "removed_at": "2099-01-01T00:00"}, "in the future"),
        ({"answer": "removed", "removed_at": "2001-01-01T00:00"}, "before we received"),
        ({"answer": "removed", "removed_at": "yesterday"}, "must be a date and time"),
    ],
)
def test_bad_answers_are_refused_with_nothing_recorded(client, send_letter, fields, field_error):
    sent = send_letter(2)
    response = answer(client, sent, {0: fields, 1: {"answer": "removed"}})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error.lower() in html.lower()
    assert "Nothing was recorded yet" in html
    assert db.session.scalar(select(ProviderResponse)) is None
    assert reload(sent.cases[1]).removal_reported_at is None


def test_no_answer_at_all_is_refused(client, send_letter):
    sent = send_letter(1)
    response = answer(client, sent, {0: {"answer": ""}})
    assert response.status_code == 422
    assert "at least one URL" in response.get_data(as_text=True)


def test_answers_about_urls_not_in_the_letter_are_ignored(client, send_letter, analyst):
    sent = send_letter(1)
    stranger = factories.case("notice_sent", by=analyst)
    response = answer(
        client, sent, {0: {"answer": "removed"}}, **{f"url_{stranger.id}-answer": "removed"}
    )
    assert response.status_code == 303
    assert reload(stranger).removal_reported_at is None
    assert [r.case_id for r in db.session.scalars(select(ProviderResponse))] == [sent.cases[0].id]


def test_a_megabyte_of_text_is_refused(client, send_letter):
    sent = send_letter(1)
    response = answer(client, sent, {0: {"answer": "cannot_remove", "message": "x" * 1_100_000}})
    assert response.status_code == 413
    assert db.session.scalar(select(ProviderResponse)) is None


def test_the_page_speaks_the_letters_language_and_english_on_request(client, send_letter, queue):
    khmer = factories.organisation(name="Khmer Host", email="abuse@kh.example")
    khmer.language = "km"
    db.session.commit()
    sent = send_letter(1, to=khmer)
    assert '<html lang="km">' in client.get(sent.path).get_data(as_text=True)
    assert '<html lang="en">' in client.get(sent.path + "?lang=en").get_data(as_text=True)


def test_a_second_answer_is_kept_too(client, send_letter):
    sent = send_letter(1)
    answer(client, sent, {0: {"answer": "need_information", "message": "Which image?"}})
    answer(client, sent, {0: {"answer": "removed"}})
    answers = [r.answer for r in db.session.scalars(select(ProviderResponse).order_by("id"))]
    assert answers == ["need_information", "removed"]
    assert reload(sent.cases[0]).removal_reported_at is not None


def test_the_language_chosen_with_the_switch_survives_the_answer(client, send_letter):
    sent = send_letter(1)
    page = client.get(sent.path + "?lang=km").get_data(as_text=True)
    assert f'action="{sent.path}?lang=km"' in page
    response = client.post(
        sent.path + "?lang=km", data={f"url_{sent.cases[0].id}-answer": "removed"}
    )
    assert response.status_code == 303
    assert (
        response.headers["Location"].endswith("lang=km")
        and "saved=1" in response.headers["Location"]
    )
