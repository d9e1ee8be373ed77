"""The outbox's settings checked when read: defaults, the back-off, every bad value named;
the wording per language."""

from __future__ import annotations

from datetime import timedelta

import pytest

from casemgr.outbox.settings import OutboxSettings
from casemgr.outbox.wording import MailWording

BASE = {
    "HOTLINE_NAME": "Hotline",
    "HOTLINE_EMAIL": "hotline@example.org",
    "SMTP_HOST": "smtp.example.org",
    "SMTP_SECURITY": "starttls",
    "SMTP_TIMEOUT": 30,
    "SMTP_DATA_TIMEOUT": 600,
    "OUTBOX_MAX_ATTEMPTS": 6,
    "OUTBOX_RETRY_BASE_SECONDS": 300,
    "OUTBOX_RETRY_MAX_SECONDS": 21600,
    "OUTBOX_LEASE_SECONDS": 900,
    "OUTBOX_BATCH_LIMIT": 5000,
}


def test_defaults_follow_the_security():
    assert OutboxSettings.from_config(BASE).smtp.port == 587
    assert OutboxSettings.from_config({**BASE, "SMTP_SECURITY": "tls"}).smtp.port == 465
    assert OutboxSettings.from_config({**BASE, "SMTP_SECURITY": "none"}).smtp.port == 25
    settings = OutboxSettings.from_config(BASE)
    assert settings.sender == "hotline@example.org"
    assert settings.message_id_domain == "example.org"
    assert [settings.backoff(n) for n in (1, 2, 3, 7, 12)] == [
        timedelta(minutes=5),
        timedelta(minutes=10),
        timedelta(minutes=20),
        timedelta(hours=5, minutes=20),
        timedelta(hours=6),  # the cap
    ]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"SMTP_SECURITY": "ssl"}, "SMTP_SECURITY"),
        ({"SMTP_PORT": 70000}, "SMTP_PORT"),
        ({"SMTP_TIMEOUT": 0}, "SMTP_TIMEOUT"),
        ({"SMTP_SECURITY": "none", "SMTP_USERNAME": "me"}, "SMTP_USERNAME"),
        ({"MAIL_FROM": "not an address"}, "MAIL_FROM"),
        ({"MAIL_MESSAGE_ID_DOMAIN": "bad domain!"}, "MAIL_MESSAGE_ID_DOMAIN"),
        ({"OUTBOX_MAX_ATTEMPTS": 0}, "OUTBOX_MAX_ATTEMPTS"),
        ({"OUTBOX_LEASE_SECONDS": 60}, "OUTBOX_LEASE_SECONDS"),
        ({"OUTBOX_UNKNOWN_OUTCOME": "maybe"}, "OUTBOX_UNKNOWN_OUTCOME"),
        ({"MAIL_WORDING": {"km": {"subject": "x"}}}, "MAIL_WORDING"),
        ({"MAIL_WORDING": {"km": {"titles": {"memo": "x"}}}}, "MAIL_WORDING"),
    ],
)
def test_bad_settings_are_named(change, named):
    with pytest.raises(ValueError, match=named):
        OutboxSettings.from_config({**BASE, **change})


def test_wording_can_be_changed_per_language():
    wording = MailWording.from_config(
        {"km": {"feedback_subject": "ការឆ្លើយតប {reference}"}, "fr": {"titles": {"notice": "Avis"}}}
    )
    assert wording.feedback("km", reference="R", hotline="H", hotline_email="e").subject == (
        "ការឆ្លើយតប R"
    )
    # the other Khmer texts are still Khmer; an unknown language falls back to English
    assert "សូមអរគុណ" in wording.feedback("km", reference="R", hotline="H", hotline_email="e").body
    letter = wording.letter(
        "fr", kind="notice", reference="R", recipient="X", hotline="H", hotline_email="e"
    )
    assert letter.subject == "Avis R" and letter.body.startswith("To X,")
    assert wording.letter(
        "de", kind="reminder", reference="R", recipient="X\nY", hotline="H", hotline_email="e"
    ).subject == ("Reminder R")


LINK = "https://hotline.example.org/respond/" + "T" * 43
LETTER = {
    "kind": "notice",
    "reference": "R",
    "recipient": "X",
    "hotline": "H",
    "hotline_email": "e",
}


def test_a_letter_with_a_response_link_gives_it_in_the_body():
    wording = MailWording.from_config({})
    body = wording.letter("en", **LETTER, response_url=LINK).body
    assert body == (
        "To X,\n\nPlease find attached our letter R (Takedown notice).\n\n"
        "You can tell us what was done about each URL of this letter on this page, "
        f"with no account needed:\n{LINK}\n\n"
        "Please reply to e, quoting our reference R.\n\nH\n"
    )
    # without a link, not a word of it
    assert wording.letter("en", **LETTER).body == (
        "To X,\n\nPlease find attached our letter R (Takedown notice).\n\n"
        "Please reply to e, quoting our reference R.\n\nH\n"
    )
    # Khmer: the Khmer letter with the link (its sentence in English until translated)
    khmer = wording.letter("km", **LETTER, response_url=LINK).body
    assert "សូមមើលលិខិតលេខ" in khmer and LINK in khmer
    assert "{" not in wording.letter("km", **LETTER).body


def test_configured_wording_keeps_the_link():
    wording = MailWording.from_config(
        {
            # a hotline's own body from before links: the link follows it
            "fr": {"letter_body": "Bonjour {recipient},\n\nVoir {reference}.\n\n{hotline}\n"},
            "km": {"letter_response": "តំណ {link} ({reference})\n\n"},
        }
    )
    french = wording.letter("fr", **LETTER, response_url=LINK).body
    assert french.startswith("Bonjour X,\n\nVoir R.\n\nH\n\nYou can tell us")
    assert french.endswith(f"with no account needed:\n{LINK}\n")
    assert wording.letter("fr", **LETTER).body == "Bonjour X,\n\nVoir R.\n\nH\n"
    assert f"តំណ {LINK} (R)\n\n" in wording.letter("km", **LETTER, response_url=LINK).body


def test_a_response_wording_without_the_link_is_refused():
    with pytest.raises(ValueError, match="letter_response.*{link}"):
        MailWording.from_config({"km": {"letter_response": "no link here"}})


def test_the_outbox_prints_the_links_the_app_makes(app):
    """One LinkSettings for the letters and their e-mails: the app's."""
    assert OutboxSettings.from_app(app).links is app.extensions["casemgr.response_links"]
    assert OutboxSettings.from_app(app).links.base_url == "http://casemgr.test"
    assert not OutboxSettings.from_config(BASE).links.enabled  # no NOTICE_RESPONSE_DAYS: none
