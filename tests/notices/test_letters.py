"""Letters as stored: what a notice says, to whom, in which language, with which
letterhead, and its delivery by hand (casemgr/notices/letters.py)."""

from __future__ import annotations

import io
import logging
import struct
import zlib

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from casemgr.audit.models import AuditEntry
from casemgr.cases.models import CaseEvent
from casemgr.domain import SYSTEM_ACTOR
from casemgr.errors import Conflict
from casemgr.extensions import db
from casemgr.notices.letters import cases_awaiting_notice, earliest, mark_delivered
from tests.conftest import NOW
from tests.jobs.conftest import flat, letters, pdf_text, run_notices

KHMER = "ព្រះរាជាណាចក្រកម្ពុជា"


def test_cases_awaiting_notice_by_active_provider_and_those_that_cannot_have_one(app, make, queue):
    host, other, closed_down = (make.organisation(name=n) for n in ("A", "B", "C"))
    first, second, third = queue(host), queue(other), queue(host)
    stranded = queue(closed_down)
    make.case("triage")
    closed_down.active = False
    db.session.commit()
    by_provider, without_provider = cases_awaiting_notice(db.session)
    assert dict(by_provider) == {host.id: [first.id, third.id], other.id: [second.id]}
    assert without_provider == [stranded.id]
    run_notices(app, NOW)
    assert cases_awaiting_notice(db.session) == ({}, [stranded.id])


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


def test_mark_delivered_records_the_actor_and_refuses_twice(app, make, queue, supervisor):
    queue(make.organisation(email=None))
    run_notices(app, NOW)
    (notice,) = letters()
    mark_delivered(db.session, notice, actor=supervisor.actor, now=NOW)
    db.session.commit()  # the audit entry is written with the transaction
    assert (notice.sent_at, notice.sent_by_id) == (NOW, supervisor.id)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "notice.delivered"))
    assert entry.actor_id == supervisor.id and entry.target_id == str(notice.id)
    with pytest.raises(Conflict, match="marked sent already"):
        mark_delivered(db.session, notice, actor=SYSTEM_ACTOR, now=NOW)


def test_the_deadline_is_the_earliest_moment_set():
    later = NOW.replace(hour=12)
    assert earliest([later, None, NOW]) == NOW
    assert earliest([None, None]) is None
    assert earliest([]) is None
