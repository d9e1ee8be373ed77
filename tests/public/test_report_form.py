"""The public report form: success, every kind of bad input, duplicates, honeypot."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from casemgr import context
from casemgr.cases.models import Case, Submission
from casemgr.extensions import db
from tests.conftest import login
from tests.public.helpers import counts, post_report, text


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True, "PUBLIC_REPORT_RATE_LIMIT": "1000 per minute"}


def follow(client, response):
    assert response.status_code == 303, text(response)
    return client.get(response.headers["Location"])


def test_the_home_page_links_to_the_form(client):
    page = text(client.get("/"))
    assert 'href="/report"' in page
    assert "Never download, copy, screenshot or send us the material." in page


def test_the_form_warns_and_has_no_upload_field(client):
    response = client.get("/report")
    page = text(response)
    assert response.status_code == 200
    assert "Never download, copy, screenshot or send us the images or videos." in page
    assert 'type="file"' not in page and "multipart" not in page
    assert re.search(r'<form method="post" action="/report"', page)
    for name in ("urls", "seen_where", "description", "contact", "feedback_requested"):
        assert f'name="{name}"' in page


def test_a_report_becomes_one_case_per_url_sharing_the_submission(client, clock):
    response = post_report(
        client,
        urls="http://Example.com/a\n\nhttps://example.org/b?x=1\nexample.com:80/a#frag\n",
        seen_where="social_media",
        description="Found via a link in a group chat.",
        contact="reporter@example.net",
        feedback_requested="y",
    )
    thanks = follow(client, response)
    page = text(thanks)
    submission = db.session.scalar(select(Submission))
    assert thanks.status_code == 200
    assert submission.reference in page
    assert "We received 2 web addresses." in page
    assert [c.url for c in submission.cases] == [
        "http://example.com/a",
        "https://example.org/b?x=1",
    ]
    assert {c.submission_id for c in submission.cases} == {submission.id}
    assert all(c.status == "new" for c in submission.cases)
    assert submission.source == "public"
    assert submission.seen_where == "social_media"
    assert submission.description == "Found via a link in a group chat."
    assert submission.submitted_by_id is None
    assert submission.received_at == clock.now()
    # Contact details: encrypted at rest, feedback recorded as asked.
    assert b"reporter@example.net" not in submission.reporter_contact
    assert context.cipher().decrypt(submission.reporter_contact) == "reporter@example.net"
    assert submission.feedback_requested is True


def test_a_contact_without_asking_for_feedback_is_kept_without_feedback(client):
    follow(client, post_report(client, urls="http://example.com/x", contact="+855 12 345 678"))
    submission = db.session.scalar(select(Submission))
    assert context.cipher().decrypt(submission.reporter_contact) == "+855 12 345 678"
    assert submission.feedback_requested is False


def test_asking_for_feedback_needs_a_contact(client):
    response = post_report(client, urls="http://example.com/x", feedback_requested="y")
    assert response.status_code == 422
    assert "To get feedback, please give a way to contact you" in text(response)
    assert counts() == (0, 0)


def test_a_url_with_an_open_case_becomes_a_linked_duplicate(client, make, analyst):
    original = make.case("triage", url="http://example.com/known")
    response = post_report(client, urls="http://EXAMPLE.com/known\nhttp://example.com/new")
    page = text(follow(client, response))
    assert original.reference not in page  # the reporter is not told which
    assert "We received 2 web addresses." in page
    submission = db.session.scalars(select(Submission).order_by(Submission.id.desc())).first()
    duplicate, fresh = submission.cases
    assert (duplicate.status, duplicate.resolution) == ("closed", "duplicate")
    assert duplicate.duplicate_of_id == original.id
    assert fresh.status == "new" and fresh.duplicate_of_id is None
    # The analyst sees the link on both cases.
    client.application.config["WTF_CSRF_ENABLED"] = False  # conftest's login() posts no token
    staff = login(client.application.test_client(), analyst)
    assert original.reference in text(staff.get(f"/cases/{duplicate.id}"))
    assert duplicate.reference in text(staff.get(f"/cases/{original.id}"))


def test_a_closed_case_does_not_make_a_duplicate(client, make):
    make.case("closed", url="http://example.com/old")
    follow(client, post_report(client, urls="http://example.com/old"))
    newest = db.session.scalars(select(Case).order_by(Case.id.desc())).first()
    assert newest.status == "new" and newest.duplicate_of_id is None


@pytest.mark.parametrize("urls", ["", "   \n\t\n", "\u00a0\u200b"])
def test_an_empty_report_is_refused(client, urls):
    response = post_report(client, urls=urls, description="just text")
    assert response.status_code == 422
    assert "Please enter at least one web address." in text(response)
    assert counts() == (0, 0)


def test_only_invalid_urls_names_every_line(client):
    response = post_report(client, urls="not a url\nftp://example.com/x\n\nhttp://192.168.1.1/")
    page = text(response)
    assert response.status_code == 422
    assert "Line 1:" in page and "A web address cannot contain spaces." in page
    assert "Line 2:" in page and "Only web addresses starting with http://" in page
    assert "Line 4:" in page and "private or local network" in page
    assert counts() == (0, 0)


def test_a_mix_saves_nothing_and_keeps_everything_in_the_form(client):
    typed = "http://example.com/good\nhttp://intranet/bad\nhttps://example.org/also-good"
    response = post_report(client, urls=typed, description="keep me")
    page = text(response)
    assert response.status_code == 422
    assert "Line 2:" in page and "Line 1:" not in page and "Line 3:" not in page
    assert "http://example.com/good\nhttp://intranet/bad\nhttps://example.org/also-good" in page
    assert "keep me" in page
    assert counts() == (0, 0)


def test_more_than_fifty_urls_are_refused_whole(client):
    urls = "\n".join(f"http://example.com/{n}" for n in range(51))
    response = post_report(client, urls=urls)
    assert response.status_code == 422
    assert "You can send at most 50 web addresses at once." in text(response)
    assert "Line " not in text(response)
    assert counts() == (0, 0)


def test_fifty_urls_are_accepted(client):
    urls = "\n".join(f"http://example.com/{n}" for n in range(50))
    follow(client, post_report(client, urls=urls))
    assert counts() == (1, 50)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"urls": "http://example.com/a\x07b"}, "hidden control characters"),
        ({"urls": "http://example.com/\x00"}, "hidden control characters"),
        ({"urls": "http://example.com/a", "description": "a\x00b"}, "hidden control characters"),
        ({"urls": "http://example.com/a", "contact": "me\x1b@x.org"}, "hidden control characters"),
        ({"urls": "http://example.com/a", "contact": "line\nbreak"}, "hidden control characters"),
        ({"urls": "http://example.com/a", "seen_where": "television"}, "choose one of"),
        ({"urls": "http://example.com/a", "description": "x" * 5001}, "under 5000 characters"),
        ({"urls": "http://example.com/a", "contact": "x" * 501}, "under 500 characters"),
    ],
)
def test_bad_fields_are_named_and_nothing_is_saved(client, fields, message):
    response = post_report(client, **fields)
    assert response.status_code == 422
    assert message in text(response)
    assert counts() == (0, 0)


def test_a_control_character_is_shown_visibly(client):
    page = text(post_report(client, urls="http://example.com/a\x07b"))
    assert "http://example.com/a\u2407b" in page


@pytest.mark.parametrize(
    "body",
    [
        b"urls=http%3A%2F%2Fexample.com%2F%FF%FE",
        b"urls=http%3A%2F%2Fexample.com%2Fok&description=caf%E9",
        b"urls=http%3A%2F%2Fexample.com%2Fok&contact=%C3",
    ],
)
def test_text_in_a_wrong_encoding_is_refused(client, body):
    from tests.public.helpers import csrf_token

    token = csrf_token(client).encode()
    response = client.post(
        "/report",
        data=body + b"&csrf_token=" + token,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 422
    assert "could not be read" in text(response)
    assert counts() == (0, 0)


def test_a_ten_megabyte_body_gets_a_friendly_413(client):
    response = client.post(
        "/report",
        data=b"urls=" + b"a" * (10 * 1024 * 1024),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    page = text(response)
    assert "Your report is too large to send" in page
    assert "at most 50 web addresses" in page
    assert counts() == (0, 0)


def test_an_upload_is_refused_unread(client):
    import io

    response = client.post(
        "/report",
        data={"urls": "http://example.com/a", "file": (io.BytesIO(b"\x89PNG..."), "x.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 415
    assert "Files cannot be sent here" in text(response)
    assert counts() == (0, 0)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"urls": "http://example.com/a"}'),
        ("text/plain", b"http://example.com/a"),
        ("application/x-www-form-urlencoded", b"%%%&&&=="),
        ("application/x-www-form-urlencoded", b"urls=" + b"%" * 1000),
    ],
)
def test_odd_bodies_get_a_4xx_never_a_500(client, content_type, body):
    response = client.post("/report", data=body, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert counts() == (0, 0)


def test_the_honeypot_fakes_success_and_saves_nothing(client):
    response = post_report(client, urls="http://example.com/spam", subject="Buy now")
    page = text(follow(client, response))
    assert "Thank you. We received your report." in page
    assert "Your reference" not in page
    assert counts() == (0, 0)


def test_the_honeypot_is_hidden_from_people(client):
    page = text(client.get("/report"))
    assert re.search(r'<div class="hp" aria-hidden="true">', page)
    assert re.search(r'<input[^>]*autocomplete="off"[^>]*name="subject"[^>]*tabindex="-1"', page)


def test_the_thank_you_page_reloads_for_an_hour_and_then_expires(client, clock):
    location = post_report(client, urls="http://example.com/a").headers["Location"]
    reference = db.session.scalar(select(Submission.reference))
    assert reference in text(client.get(location))
    clock.advance(minutes=59)
    assert reference in text(client.get(location))
    clock.advance(minutes=2)
    expired = client.get(location)
    assert expired.status_code == 410
    assert reference not in text(expired)
    assert "This page is no longer available" in text(expired)


def test_the_receipt_token_does_not_show_the_reference(client):
    location = post_report(client, urls="http://example.com/a").headers["Location"]
    token = parse_qs(urlsplit(location).query)["t"][0]
    reference = db.session.scalar(select(Submission.reference))
    assert reference not in token and "S-2026" not in token


@pytest.mark.parametrize("token", ["", "garbage", "gAAAAA" + "x" * 80, "é" * 10, "a" * 5000])
def test_a_forged_or_damaged_receipt_shows_nothing(client, token):
    response = client.get("/report/thanks", query_string={"t": token})
    assert response.status_code == 410


def test_public_pages_are_not_cached_and_load_nothing_from_elsewhere(client):
    for path in ("/", "/report"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "http" not in csp
        page = text(response)
        assert not re.search(r'(src|href)="(https?:)?//', page), path
    with client.get("/static/css/app.css") as response:
        css = text(response)
    assert not re.search(r"url\(\s*[\"']?(https?:)?//", css)
    assert "@import" not in css


def test_the_form_has_no_server_error_on_get_with_junk_query(client):
    response = client.get("/report", query_string={"lang": "xx", "t": "x" * 100})
    assert response.status_code == 200


def test_a_control_character_in_the_query_is_refused_not_a_server_error(client):
    # casemgr.inputs: a query parameter with NUL is refused before the page runs.
    response = client.get("/report", query_string={"lang": "\x00", "t": "x" * 100})
    assert response.status_code == 400
