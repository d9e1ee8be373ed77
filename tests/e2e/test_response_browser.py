# ruff: noqa: F811 - the fixtures imported below are parameters of the tests
"""End to end, the loop back from a provider: the notice run writes a letter,
the outbox sends it to a real SMTP server on 127.0.0.1 (aiosmtpd), the test
reads the response link from the e-mail as received, and a provider answers
in Chromium: *removed* for one URL, *cannot remove* for the other. The cases
show it, reminders stop for the first, and supervisors have an alert for the
second."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from casemgr import context
from casemgr.alerts.models import Alert
from casemgr.cases.models import Case
from casemgr.extensions import db
from casemgr.notices.models import Notice
from casemgr.responses.links import LinkSettings
from tests import factories
from tests.e2e.test_public_browser import browser, live_server, shot, shots  # noqa: F401
from tests.jobs.conftest import queue, run_notices, run_reminders  # noqa: F401
from tests.outbox.conftest import (  # noqa: F401 - fixtures
    mail_config,
    recorder,
    run_outbox,
    smtp,
    smtp_port,
)

pytestmark = pytest.mark.browser

LINK = re.compile(r"http://127\.0\.0\.1:\d+/respond/[A-Za-z0-9_-]{43}")


@pytest.fixture
def app_config(mail_config):
    return {**mail_config, "WTF_CSRF_ENABLED": True}


def test_a_provider_answers_from_the_link_in_its_e_mail(
    app,
    live_server,
    browser,
    smtp,
    queue,
    shots,
):
    # The letters' links point at the server this test runs.
    app.extensions["casemgr.response_links"] = LinkSettings.from_config(
        {**app.config, "PUBLIC_BASE_URL": live_server}
    )
    smtp.start()
    provider = factories.organisation(name="Mekong Hosting", email="abuse@mekong-hosting.example")
    sent_at = context.now() - timedelta(hours=3)
    removed, refused = (
        queue(provider, url=f"http://cdn.mekong-hosting.example/{n}.jpg", at=sent_at)
        for n in ("a", "b")
    )
    run_notices(app, sent_at + timedelta(minutes=5))
    run_outbox(app, sent_at + timedelta(minutes=6))
    (received,) = smtp.received
    text = received.message.get_body(preferencelist=("plain",)).get_content()
    (link,) = set(LINK.findall(text))

    page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    page.goto(link)
    assert "Mekong Hosting" in page.inner_text("main")
    shot(page, shots / "respond-letter.png")
    page.check(f"input[name='url_{removed.id}-answer'][value=removed]")
    page.check(f"input[name='url_{refused.id}-answer'][value=cannot_remove]")
    page.fill(f"textarea[name='url_{refused.id}-message']", "We need a court order here.")
    page.get_by_role("button", name="Send answers").click()
    page.wait_for_url(re.compile(r"saved=1"))
    assert "your answers are recorded" in page.inner_text("main")
    shot(page, shots / "respond-saved.png")

    db.session.expire_all()
    first, second = db.session.get(Case, removed.id), db.session.get(Case, refused.id)
    assert first.removal_reported_by == "provider" and first.next_reminder_at is None
    assert second.status == "action_required" and second.attention == "cannot_remove"
    (alert,) = db.session.scalars(select(Alert).where(Alert.kind == "provider_declined"))
    assert "court order" in alert.message and alert.case_id == second.id

    # Long past the takedown deadline: no reminder for either URL.
    later = sent_at + timedelta(days=10)
    summary = run_reminders(app, later)
    assert not summary.letters.get("reminder")
    reminders = db.session.scalars(select(Notice).where(Notice.kind == "reminder")).all()
    assert reminders == []


def test_the_page_on_a_phone(app, live_server, browser, queue, shots):
    app.extensions["casemgr.response_links"] = LinkSettings.from_config(
        {**app.config, "PUBLIC_BASE_URL": live_server}
    )
    provider = factories.organisation(name="Mekong Hosting", email="abuse@mekong-hosting.example")
    provider.language = "km"
    db.session.commit()
    queue(provider, at=context.now() - timedelta(hours=2))
    run_notices(app, context.now() - timedelta(hours=1))
    from casemgr.responses.models import ResponseLink

    nonce = db.session.scalar(select(ResponseLink.nonce))
    link = context.response_links().url(nonce)
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    page.goto(link)
    assert page.get_attribute("html", "lang") == "km"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px screen"
    shot(page, shots / "respond-phone-km.png")
