"""The notice run: one letter per provider, cases moved with their letter,
idempotent, failures contained, bad data handled. What the letters say:
tests/notices/test_letters.py and test_referrals.py."""

from __future__ import annotations

import hashlib
import io
import logging
from datetime import timedelta

import pytest
from pypdf import PdfReader

from casemgr.extensions import db
from casemgr.notices.pdf.layout import render_letter
from tests.conftest import NOW
from tests.jobs.conftest import (
    alerts,
    flat,
    letters,
    links,
    pdf_text,
    run_notices,
)
from tests.notices.pdf.conftest import url_column
from tests.pdf.conftest import squash

KHMER = "ព្រះរាជាណាចក្រកម្ពុជា"
HEBREW = "שלום"
ARABIC = "مرحبا"


def test_one_letter_per_provider_listing_its_cases(app, make, queue):
    first, second = make.organisation(name="Alpha Hosting"), make.organisation(name="Beta Host")
    alpha = [queue(first) for _ in range(3)]
    beta = [queue(second)]

    summary = run_notices(app, NOW)

    assert summary.failed == 0
    assert summary.cases == 4
    made = letters()
    assert [(n.kind, n.recipient_id, n.case_count) for n in made] == [
        ("notice", first.id, 3),
        ("notice", second.id, 1),
    ]
    assert [n.reference for n in made] == ["CM-N-2026-000001", "CM-N-2026-000002"]
    assert summary.letters == {"notice": ["CM-N-2026-000001", "CM-N-2026-000002"]}
    for case in alpha + beta:
        db.session.refresh(case)
        assert case.status == "notice_sent"
        assert case.notice_sent_at == NOW
        assert case.due_at == NOW + timedelta(hours=72)
        assert case.next_reminder_at == case.due_at
        assert case.reminder_count == 0

    text = pdf_text(made[0].pdf)
    assert "CM-N-2026-000001" in text
    assert "Alpha Hosting" in text
    assert "2026-11-28" in text  # the letter's date
    assert "Page 1 of 1" in text
    assert "2026-12-01 09:00 UTC" in text  # the deadline: 72 h after the run
    for case in alpha:
        assert case.reference in text
        assert flat(case.url) in flat(text)
        assert case.received_at.strftime("%Y-%m-%d") in text
    assert flat("Child sexual abuse material (international baseline)") in flat(text)
    assert flat("preserve all data") in flat(text)
    assert beta[0].reference not in text
    assert made[0].sha256 == hashlib.sha256(made[0].pdf).hexdigest()
    assert made[0].size == len(made[0].pdf)


def test_running_twice_makes_nothing_new(app, make, queue):
    queue(make.organisation())
    first = run_notices(app, NOW)
    second = run_notices(app, NOW)
    later = run_notices(app, NOW + timedelta(hours=1))
    assert first.letter_count == 1
    assert second.letter_count == later.letter_count == 0
    assert len(letters()) == 1
    assert len(links()) == 1


def test_a_case_queued_after_a_run_goes_in_the_next(app, make, queue):
    provider = make.organisation()
    queue(provider)
    run_notices(app, NOW)
    late = queue(provider)
    run_notices(app, NOW + timedelta(minutes=15))
    made = letters()
    assert len(made) == 2
    assert [link.case_id for link in made[1].links] == [late.id]


def test_case_whose_provider_was_deleted_stays_pending_and_alerts_once(app, make, queue, caplog):
    gone = make.organisation(name="Gone Host")
    kept = make.organisation(name="Kept Host")
    orphan = queue(gone)
    fine = queue(kept)
    db.session.delete(gone)  # the FK is SET NULL
    db.session.commit()
    db.session.refresh(orphan)
    assert orphan.provider_id is None

    summary = run_notices(app, NOW)
    again = run_notices(app, NOW + timedelta(minutes=15))

    assert summary.failed == 0
    assert summary.counts["needs_provider"] == 1
    assert again.counts["needs_provider"] == 1
    assert summary.counts["alerts"] == 1 and again.counts["alerts"] == 0
    db.session.refresh(orphan)
    db.session.refresh(fine)
    assert orphan.status == "notice_pending"
    assert fine.status == "notice_sent"
    (alert,) = alerts("needs_provider")
    assert alert.case_id == orphan.id
    assert orphan.reference in alert.message
    assert "needs_provider 1" in summary.line()


def test_deactivated_provider_is_not_written_to(app, make, queue):
    provider = make.organisation()
    case = queue(provider)
    provider.active = False
    db.session.commit()
    summary = run_notices(app, NOW)
    assert summary.letter_count == 0
    assert summary.counts["needs_provider"] == 1
    db.session.refresh(case)
    assert case.status == "notice_pending"


def test_a_failing_letter_leaves_its_cases_pending_and_the_others_made(app, make, queue, caplog):
    good = make.organisation(name="Good Host")
    bad = make.organisation(name="Broken Host")
    good_cases = [queue(good), queue(good)]
    bad_cases = [queue(bad), queue(bad)]

    def renderer(letter, letterhead):
        if letter.recipient_name == "Broken Host":
            raise RuntimeError("renderer exploded")
        return render_letter(letter, letterhead)

    with caplog.at_level(logging.ERROR, logger="casemgr.jobs"):
        summary = run_notices(app, NOW, renderer=renderer)

    assert summary.failed == 1
    assert f"organisation {bad.id}" in summary.failures[0]
    assert "renderer exploded" in summary.failures[0]
    assert "1 failed" in summary.line()
    assert "renderer exploded" in caplog.text
    (notice,) = letters()
    assert notice.recipient_id == good.id
    for case in good_cases:
        db.session.refresh(case)
        assert case.status == "notice_sent"
    for case in bad_cases:
        db.session.refresh(case)
        assert case.status == "notice_pending"
        assert case.notice_sent_at is None and case.next_reminder_at is None
    # nothing of the failed letter is left: no link, no number used up
    assert {link.case_id for link in links()} == {c.id for c in good_cases}

    retried = run_notices(app, NOW + timedelta(minutes=15))
    assert retried.failed == 0
    assert retried.letters == {"notice": ["CM-N-2026-000002"]}
    for case in bad_cases:
        db.session.refresh(case)
        assert case.status == "notice_sent"


@pytest.mark.parametrize(
    "url",
    [
        "https://files.example.com/" + "a/" * 700 + "x" * 570 + "?id=" + "9" * 27,
        f"https://example.com/{HEBREW}/{ARABIC}/page?q={HEBREW}",
        f"https://example.com/{KHMER}/ទំព័រ.html",
    ],
    ids=["2000 characters", "right-to-left", "khmer"],
)
def test_hard_urls_go_through_the_job(app, make, queue, url):
    case = queue(make.organisation(), url=url)
    db.session.refresh(case)
    summary = run_notices(app, NOW)
    assert summary.failed == 0
    (notice,) = letters()
    text = pdf_text(notice.pdf)
    assert case.reference in text
    assert "Page 1 of" in text
    if "files.example.com" in case.url:
        assert len(case.url) >= 2000
        assert len(PdfReader(io.BytesIO(notice.pdf)).pages) == 2
        assert url_column(notice.pdf) == squash(case.url)
    else:
        assert "https://example.com/" in text
