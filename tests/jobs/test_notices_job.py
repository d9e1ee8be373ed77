"""The notice run: one letter per provider, cases moved with their letter,
idempotent, failures contained, bad data handled."""

from __future__ import annotations

import hashlib
import io
import logging
import struct
import zlib
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from casemgr.cases.models import CaseEvent
from casemgr.extensions import db
from casemgr.notices.pdf.layout import render_letter
from tests.conftest import NOW
from tests.jobs.conftest import (
    act,
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


def test_history_names_the_letter(app, make, queue):
    case = queue(make.organisation())
    run_notices(app, NOW)
    event = db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id.desc())
    ).first()
    assert (event.action, event.from_status, event.to_status) == (
        "send_notice",
        "notice_pending",
        "notice_sent",
    )
    assert event.actor_id is None
    assert event.fields == {"notice": "CM-N-2026-000001"}


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


def test_provider_without_email_gets_a_letter_flagged_for_manual_delivery(app, make, queue):
    offline = make.organisation(email=None, name="Offline Host")
    case = queue(offline)
    run_notices(app, NOW)
    (notice,) = letters()
    assert notice.manual_delivery is True
    assert notice.recipient_email is None
    assert notice.sent_at is None
    db.session.refresh(case)
    assert case.status == "notice_sent"


def test_provider_with_email_is_queued_for_the_outbox(app, make, queue):
    queue(make.organisation(email="abuse@isp.example.net"))
    run_notices(app, NOW)
    (notice,) = letters()
    assert notice.manual_delivery is False
    assert notice.recipient_email == "abuse@isp.example.net"
    assert notice.sent_at is None  # the outbox sets it when it delivers


def test_recipient_is_a_snapshot(app, make, queue):
    provider = make.organisation(name="Old Name Ltd")
    queue(provider)
    run_notices(app, NOW)
    provider.name = "New Name Ltd"
    provider.email = "new@example.net"
    db.session.commit()
    (notice,) = letters()
    assert notice.recipient_name == "Old Name Ltd"
    assert notice.recipient_email == "abuse@host.example.com"
    assert "Old Name Ltd" in pdf_text(notice.pdf)


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


def test_a_long_letter_has_numbered_pages(app, make, queue):
    provider = make.organisation()
    for i in range(60):
        queue(provider, url=f"https://cdn.example.net/gallery/{i:04d}/view.php?img={i}")
    run_notices(app, NOW)
    (notice,) = letters()
    text = pdf_text(notice.pdf)
    assert notice.case_count == 60
    assert "Page 1 of 3" in text or "Page 1 of 4" in text
    assert "https://cdn.example.net/gallery/0059/view.php?img=59" in flat(text)


class TestReferrals:
    def test_forwarded_and_referred_cases_get_a_referral_once(self, app, make):
        forwarded = make.case("forwarded")
        referred = make.case("with_police")
        summary = run_notices(app, NOW)
        assert summary.letters.keys() == {"referral"}
        made = letters("referral")
        assert {(n.recipient_id, n.case_count) for n in made} == {
            (forwarded.partner_id, 1),
            (referred.police_id, 1),
        }
        assert run_notices(app, NOW + timedelta(minutes=15)).letter_count == 0
        text = pdf_text(next(n for n in made if n.recipient_id == forwarded.partner_id).pdf)
        assert "Referral" in text
        assert forwarded.reference in text
        assert "letusknow" in flat(text)  # the referral's request, not the removal notice's
        event = db.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == forwarded.id).order_by(CaseEvent.id.desc())
        ).first()
        assert (event.action, event.from_status, event.to_status) == (
            "referral_sent",
            "forwarded",
            "forwarded",
        )

    def test_a_case_referred_to_police_after_a_notice_gets_a_police_referral(
        self, app, make, analyst
    ):
        case = make.case("notice_sent", by=analyst)
        police = make.organisation("police")
        act(case, "refer_to_police", {"police_id": police.id}, user=analyst, at=NOW)
        run_notices(app, NOW)
        (notice,) = letters("referral")
        assert notice.recipient_id == police.id

    def test_can_be_switched_off(self, app, make):
        app.config["NOTICE_REFERRALS"] = False
        make.case("forwarded")
        assert run_notices(app, NOW).letter_count == 0


def test_wording_follows_the_recipients_language(app, make, queue):
    app.config["NOTICE_WORDING"] = {
        "fr": {
            "legal_basis": "La base légale en français.",
            "request": "Veuillez retirer le contenu ({reference}).",
            "labels": {"to": "Destinataire", "footer_page": "Page {page} sur {pages}"},
            "titles": {"notice": "Notification de contenu illicite"},
        }
    }
    app.config["CLASSIFICATION_BASIS"] = {"fr": {"illegal_baseline": "Matériel illégal (base)"}}
    french = make.organisation(name="Hébergeur SA")
    french.language = "fr"
    other = make.organisation(name="Plain Host")
    other.language = "de"  # no German wording: English
    db.session.commit()
    queue(french)
    queue(other)
    run_notices(app, NOW)
    fr, de = letters()
    fr_text, de_text = pdf_text(fr.pdf), pdf_text(de.pdf)
    assert fr.language == "fr" and de.language == "en"
    assert "Notification de contenu illicite" in fr_text
    assert "La base légale en français." in fr_text
    assert flat("Veuillez retirer le contenu (CM-N-2026-000001).") in flat(fr_text)
    assert "Destinataire" in fr_text
    assert "Page 1 sur 1" in fr_text
    assert flat("Matériel illégal (base)") in flat(fr_text)
    assert "Yours faithfully" in fr_text  # the closing was not translated: English
    assert "Notice of illegal content" in de_text
    assert flat("Child sexual abuse material (international baseline)") in flat(de_text)


def test_khmer_wording_renders(app, make, queue, tmp_path):
    app.config["NOTICE_WORDING"] = {"km": {"legal_basis": KHMER, "request": KHMER}}
    provider = make.organisation(name=f"ក្រុមហ៊ុន {KHMER}")
    provider.language = "km"
    db.session.commit()
    queue(provider)
    assert run_notices(app, NOW).failed == 0
    (notice,) = letters()
    assert notice.language == "km"
    assert "CM-N-2026-000001" in pdf_text(notice.pdf)


def _png(width: int, height: int) -> bytes:
    """A small solid-colour PNG, written by hand."""
    raw = b"".join(b"\x00" + b"\x20\x40\xa0" * width for _ in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def test_letterhead_logo_from_configuration(app, make, queue, tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(_png(60, 20))
    app.config["HOTLINE_LOGO"] = str(logo)  # relative names are looked up in instance/
    queue(make.organisation())
    run_notices(app, NOW)
    (with_logo,) = letters()
    page = PdfReader(io.BytesIO(with_logo.pdf)).pages[0]
    assert len(page.images) == 1


def test_missing_logo_is_logged_and_letters_are_still_made(app, make, queue, caplog):
    app.config["HOTLINE_LOGO"] = "no-such-logo.png"
    queue(make.organisation())
    with caplog.at_level(logging.WARNING):
        summary = run_notices(app, NOW)
    assert summary.letter_count == 1
    assert "no-such-logo.png" in caplog.text
