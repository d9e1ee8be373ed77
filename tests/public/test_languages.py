"""The public pages in English and Khmer: browser preference, a visible switch
kept in the URL (no cookie), translated URL messages, the font served here."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from casemgr.cases.models import Submission
from casemgr.extensions import db
from tests.public.helpers import post_report, text

KM_TITLE = "រាយការណ៍អាសយដ្ឋានគេហទំព័រ"  # "Report a web address"


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": False, "PUBLIC_REPORT_RATE_LIMIT": "1000 per minute"}


def lang_of(page: str) -> str:
    return re.search(r'<html lang="([^"]+)"', page).group(1)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("km-KH,km;q=0.9,en;q=0.5", "km"),
        ("km", "km"),
        ("en-GB,en;q=0.8", "en"),
        ("fr-FR,fr;q=0.9", "en"),
        ("th,km;q=0.3", "km"),
        ("", "en"),
    ],
)
def test_the_browser_preference_chooses_the_language(client, accept, expected):
    page = text(client.get("/report", headers={"Accept-Language": accept}))
    assert lang_of(page) == expected
    assert (KM_TITLE in page) == (expected == "km")


def test_the_switch_overrides_the_browser_and_stays_in_the_url(client):
    response = client.get("/report?lang=km", headers={"Accept-Language": "en"})
    page = text(response)
    assert lang_of(page) == "km" and KM_TITLE in page
    assert response.headers.getlist("Set-Cookie") == []
    assert 'action="/report?lang=km"' in page  # the form keeps the choice
    assert '<a href="/report?lang=en" lang="en" hreflang="en">English</a>' in page
    assert 'aria-current="true">ខ្មែរ</span>' in page
    home = text(client.get("/?lang=km", headers={"Accept-Language": "en"}))
    assert 'href="/report?lang=km"' in home


def test_an_unknown_language_is_ignored(client):
    page = text(client.get("/report?lang=xx", headers={"Accept-Language": "en"}))
    assert lang_of(page) == "en"


def test_without_a_switch_links_stay_clean(client):
    page = text(client.get("/", headers={"Accept-Language": "km"}))
    assert 'href="/report"' in page


def test_errors_and_url_messages_are_translated(client):
    response = post_report(client, "/report?lang=km", urls="not a url\nhttp://10.1.2.3/")
    page = text(response)
    assert response.status_code == 422
    assert "បន្ទាត់ទី 1៖" in page  # "Line 1:"
    assert "អាសយដ្ឋានគេហទំព័រមិនអាចមានដកឃ្លាបានទេ" in page  # no spaces in a web address
    assert "បណ្តាញឯកជន" in page  # private network
    too_many = post_report(
        client, "/report?lang=km", urls="\n".join(f"http://e.com/{n}" for n in range(51))
    )
    assert "អ្នកអាចផ្ញើអាសយដ្ឋានគេហទំព័របានយ៉ាងច្រើន 50 ក្នុងមួយលើក។" in text(too_many)


def test_the_thank_you_page_follows_the_language(client):
    response = post_report(client, "/report?lang=km", urls="http://example.com/km")
    assert "lang=km" in response.headers["Location"]
    page = text(client.get(response.headers["Location"]))
    assert lang_of(page) == "km"
    assert "សូមអរគុណ។ យើងបានទទួលរបាយការណ៍របស់អ្នកហើយ។" in page
    assert re.search(r"CM-S-\d{4}-\d{6}", page)


def test_staff_screens_stay_in_english(client):
    page = text(client.get("/login", headers={"Accept-Language": "km"}))
    assert lang_of(page) == "en"


def test_public_error_pages_are_translated(client):
    response = client.get("/nowhere", headers={"Accept-Language": "km"})
    assert response.status_code == 404
    assert "យើងរកមិនឃើញទំព័រនេះទេ។" in text(response)
    large = client.post(
        "/report?lang=km",
        data=b"urls=" + b"a" * (2 * 1024 * 1024),
        content_type="application/x-www-form-urlencoded",
    )
    assert large.status_code == 413
    assert "របាយការណ៍របស់អ្នកធំពេកមិនអាចផ្ញើបាន" in text(large)


def test_the_khmer_font_is_served_from_this_site(client):
    css_response = client.get("/static/css/app.css")
    css = text(css_response)
    css_response.close()
    fonts = re.findall(r'url\("\.\./fonts/([^"]+)"\)', css)
    assert any(re.fullmatch(r"NotoSansKhmer-Regular-[\d.-]+\.woff2", font) for font in fonts)
    for font in fonts:
        with client.get(f"/static/fonts/{font}") as response:
            assert response.status_code == 200
            assert response.data[:4] == b"wOF2"  # WOFF2
            # The name changes with the font: browsers keep it for a year.
            assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    with client.get("/static/fonts/OFL.txt") as licence:
        assert "SIL OPEN FONT LICENSE Version 1.1" in text(licence)


@pytest.mark.parametrize(
    ("path", "accept", "expected"),
    [
        ("/report?lang=km", "en", "km"),
        ("/report?lang=en", "km", "en"),
        ("/report", "km-KH,km;q=0.9,en;q=0.5", "km"),
        ("/report", "en-GB,en;q=0.8", "en"),
        ("/report", "fr-FR,fr;q=0.9", "en"),
    ],
)
def test_a_report_records_the_language_the_form_was_shown_in(client, path, accept, expected):
    response = post_report(
        client, path, headers={"Accept-Language": accept}, urls="http://example.com/x"
    )
    assert response.status_code == 303
    submission = db.session.scalar(select(Submission))
    # The selected language's code, never the browser's header.
    assert submission.language == expected
