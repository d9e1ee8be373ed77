"""E-mail in the hotline's time zone (HOTLINE_TIMEZONE): the Date header carries
the local offset, and the attached letter its local times. The bodies hold no
time of their own."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import pytest

from tests.conftest import NOW
from tests.jobs.conftest import pdf_text
from tests.outbox.conftest import run_outbox


@pytest.fixture
def app_config(mail_config) -> dict:
    return {**mail_config, "HOTLINE_TIMEZONE": "Asia/Phnom_Penh"}


def test_a_letter_s_e_mail_is_dated_on_the_local_clock(app, smtp, letters):
    smtp.start()
    letters(1)
    run_outbox(app, NOW)
    [received] = smtp.received
    message = received.message
    assert message["Date"].endswith("16:00:00 +0700")  # 09:00 UTC
    assert parsedate_to_datetime(message["Date"]) == NOW
    attachment = next(message.iter_attachments())  # the PDF; X-ARF reports follow
    assert "UTC+07" in pdf_text(attachment.get_content())
