"""End to end, in a real browser (issue 15): a reporter keeps the receipt code,
comes back with it, sees the status change after an analyst acts, adds an
address, reads the hotline's question and answers it. In English and Khmer,
with JavaScript on and off, at a phone's 390×844 and a laptop's 1366×768
(four runs pairing each value with the others, to keep the time reasonable).
"""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select

from casemgr import context as app_context
from casemgr.cases import services as cases
from casemgr.cases.models import Case
from casemgr.extensions import db
from casemgr.reporter import services as reporter
from casemgr.reporter.statuses import LABELS, ReporterStatus
from tests.e2e import test_public_browser as public_e2e

pytestmark = pytest.mark.browser
# The public browser test's fixtures: Chromium, the live server, the screenshots.
browser, live_server, shots, shot = (
    public_e2e.browser,
    public_e2e.live_server,
    public_e2e.shots,
    public_e2e.shot,
)

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True, "PUBLIC_REPORT_RATE_LIMIT": "1000 per minute"}


def _label(status: ReporterStatus, language: str) -> str:
    with force_locale(language):
        return gettext(LABELS[status])


def _submit(page, form_action: str) -> None:
    with page.expect_navigation():
        page.click(f"form[action^='{form_action}'] button[type=submit]")


def _open_status(page, base: str, language: str, code: str) -> None:
    page.goto(f"{base}/status?lang={language}")
    # As a person types it: lower case, spaces for the dashes.
    page.fill("input[name=code]", code.lower().replace("-", " "))
    _submit(page, "/status")
    assert page.locator(".status-list").count() == 1, page.inner_text("main")


@pytest.mark.parametrize(
    ("language", "javascript", "viewport"),
    [
        ("en", True, PHONE),
        ("km", False, PHONE),
        ("en", False, LAPTOP),
        ("km", True, LAPTOP),
    ],
    ids=["en-js-phone", "km-nojs-phone", "en-nojs-laptop", "km-js-laptop"],
)
def test_a_reporter_follows_a_report_with_the_code(
    browser, live_server, make, backend, shots, language, javascript, viewport
):
    base = live_server
    analyst = make.user("analyst")
    tag = f"{language}-{'js' if javascript else 'nojs'}-{viewport['width']}-{backend}"
    context = browser.new_context(java_script_enabled=javascript, viewport=viewport)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    # Report, and keep the code from the thank-you page.
    page.goto(f"{base}/report?lang={language}")
    page.fill("textarea[name=urls]", f"http://{tag}.example.com/first")
    _submit(page, "/report")
    assert page.get_attribute("html", "lang") == language
    code = page.inner_text("#receipt-code").strip()
    assert re.fullmatch(r"([0-9A-Z]{4}-){5}[0-9A-Z]{4}", code)
    shot(page, shots / f"status-thanks-{tag}.png")

    # Come back with it, from the menu: received.
    page.goto(f"{base}/?lang={language}")
    with page.expect_navigation():
        page.click("a.follow")
    page.fill("input[name=code]", code.lower().replace("-", " "))
    _submit(page, "/status")
    assert _label(ReporterStatus.RECEIVED, language) in page.inner_text(".status-list")
    shot(page, shots / f"status-received-{tag}.png")

    # An analyst takes the case and assesses it: the reporter sees it move.
    case = db.session.scalar(select(Case).where(Case.url.contains(tag)))
    cases.apply_action(
        db.session, case, "assign", {}, actor=analyst.actor, now=app_context.now(),
        timings=app_context.timings(),
    )  # fmt: skip
    db.session.commit()
    _open_status(page, base, language, code)
    assert _label(ReporterStatus.BEING_ASSESSED, language) in page.inner_text(".status-list")

    # Add an address.
    page.fill("textarea[name=urls]", f"http://{tag}.example.com/second")
    _submit(page, "/status/add")
    assert f"{tag}.example.com/second" in page.inner_text(".status-list")
    assert page.locator(".flash.success").count() == 1

    # The analyst asks a question; the reporter reads it and answers.
    reporter.ask_reporter(
        db.session, case, question="Which page was it on?", actor=analyst.actor,
        cipher=app_context.cipher(), now=app_context.now(),
    )  # fmt: skip
    db.session.commit()
    _open_status(page, base, language, code)
    assert "Which page was it on?" in page.inner_text(".messages")
    page.fill("textarea[name=message]", "The second page of the forum.")
    _submit(page, "/status/add")
    assert "The second page of the forum." in page.inner_text(".messages")
    assert analyst.name not in page.content()
    shot(page, shots / f"status-answered-{tag}.png")
    context.close()

    assert all(url.startswith(base + "/") for url in requests)
