"""The hotline's contacts at the foot of every public page: each line from its
setting, left out where the setting is empty, the emergency line per language."""

from __future__ import annotations

import re

import pytest

from casemgr.public.contacts import emergency_line, hotline_contacts
from tests.public.helpers import post_report, text

EMERGENCY = {
    "en": "In an emergency, call the police on 117.",
    "km": "ក្នុងករណីបន្ទាន់ សូមទូរស័ព្ទទៅប៉ូលីសលេខ 117។",
}
FULL = {
    "HOTLINE_NAME": "Internet Hotline Cambodia",
    "HOTLINE_EMAIL": "report@hotline.example.org.kh",
    "HOTLINE_PHONE": "+855 23 000 000",
    "HOTLINE_WEBSITE": "https://hotline.example.org.kh/",
    "HOTLINE_EMERGENCY": EMERGENCY,
}
EMPTY = {
    "HOTLINE_EMAIL": "",
    "HOTLINE_PHONE": "",
    "HOTLINE_WEBSITE": "",
    "HOTLINE_EMERGENCY": {},
}


@pytest.fixture
def app_config(request):
    return getattr(request, "param", FULL)


def footer(response) -> str:
    match = re.search(r'<footer class="public-contacts".*?</footer>', text(response), re.S)
    return match.group(0) if match else ""


def public_pages(client) -> dict[str, object]:
    thanks = post_report(client, urls="http://example.com/contacts")
    assert thanks.status_code == 303
    return {
        "/": client.get("/"),
        "/report": client.get("/report"),
        "thanks": client.get(thanks.headers["Location"]),
        "expired thanks": client.get("/report/thanks?t=nothing"),
        "refused report": post_report(client, urls="ftp://example.com/x"),
        "unknown page": client.get("/no-such-page"),
        "provider response link": client.get("/respond/" + "A" * 43),
    }


def test_every_public_page_shows_every_contact(client):
    for name, response in public_pages(client).items():
        shown = footer(response)
        assert "Contact Internet Hotline Cambodia" in shown, name
        assert 'href="tel:+85523000000">+855 23 000 000<' in shown, name
        assert 'href="mailto:report@hotline.example.org.kh"' in shown, name
        assert 'href="https://hotline.example.org.kh/"' in shown, name
        assert ">hotline.example.org.kh<" in shown, name
        assert "call the police on 117" in shown, name


def test_the_emergency_line_is_in_the_page_language(client):
    assert EMERGENCY["km"] in footer(client.get("/report?lang=km"))
    assert EMERGENCY["en"] in footer(client.get("/report?lang=en"))


@pytest.mark.parametrize("app_config", [EMPTY], indirect=True)
def test_empty_settings_leave_their_lines_out(client):
    for name, response in public_pages(client).items():
        assert footer(response) == "", name  # nothing to say: no footer at all
        assert "Phone:" not in text(response) and "tel:" not in text(response)


@pytest.mark.parametrize("app_config", [{**EMPTY, "HOTLINE_PHONE": "1280"}], indirect=True)
def test_one_setting_makes_one_line(client):
    shown = footer(client.get("/"))
    assert "1280" in shown
    for absent in ("E-mail:", "Website:", "mailto:", "emergency"):
        assert absent not in shown


def test_staff_pages_keep_their_own_footer(client, analyst):
    from tests.conftest import login

    login(client, analyst)
    assert footer(client.get("/cases/")) == ""


def test_the_emergency_line_falls_back_to_the_default_language():
    assert emergency_line({"en": "Call 117."}, "km", ["en", "km"]) == "Call 117."
    assert emergency_line({"en": "Call 117.", "km": "  "}, "km", ["en", "km"]) == "Call 117."
    assert emergency_line({"km": "ហៅ 117។"}, "km", ["en", "km"]) == "ហៅ 117។"
    assert emergency_line({"km": "ហៅ 117។"}, "en", ["en", "km"]) == ""
    assert emergency_line("Call 117.", "km", ["en", "km"]) == "Call 117."
    assert emergency_line(None, "en", ["en"]) == ""


def test_a_website_that_is_no_web_address_and_a_phone_without_digits_are_not_links():
    contacts = hotline_contacts(
        {"HOTLINE_WEBSITE": "javascript:alert(1)", "HOTLINE_PHONE": "ask at reception"}, "en"
    )
    assert contacts.website == "" and contacts.phone_href == ""
    assert contacts.phone == "ask at reception"
