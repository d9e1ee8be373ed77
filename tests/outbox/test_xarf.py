"""X-ARF v4 reports beside the PDF, and the response link in the e-mail body.

The reports are validated with ``jsonschema`` against the schemas of the
``xarf/xarf-spec`` repository, vendored unchanged in ``xarf_schemas/``
(README there); formats (date-time, uri, email, hostname, uuid) are checked,
not skipped. The e-mails go through the outbox to a real SMTP server and are
parsed back with the ``email`` package.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import replace
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from sqlalchemy import event, select

from casemgr import context
from casemgr.cases import services as cases
from casemgr.cases.fields import Classification
from casemgr.cases.models import Case
from casemgr.extensions import db
from casemgr.notices.models import Notice
from casemgr.outbox import xarf
from casemgr.outbox.composing import prepare
from casemgr.outbox.settings import NO_LINKS, OutboxSettings
from casemgr.responses.links import url_for_letter
from tests import factories
from tests.conftest import NOW
from tests.jobs.conftest import run_notices, run_reminders
from tests.outbox.conftest import messages, run_outbox

H = timedelta(hours=1)
SCHEMAS = Path(__file__).parent / "xarf_schemas"
LINK = re.compile(r"http://casemgr\.test/respond/[A-Za-z0-9_-]{43}")
HOTLINE = xarf.Hotline("Example Hotline", "hotline@example.org")
REPORTER = "Secret.Reporter@mail.example"
REPORTER_TEXT = "I found this while looking for my cousin Sokha"


def _validator() -> Draft202012Validator:
    """The ``content``/``csam`` schema, its references resolved from the vendored
    files only (a missing one fails: nothing is fetched)."""
    schemas = [json.loads(p.read_text()) for p in SCHEMAS.rglob("*.json") if "sample" not in p.name]
    registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)
    csam = next(s for s in schemas if s["$id"].endswith("/content-csam.json"))
    return Draft202012Validator(
        csam, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


VALIDATOR = _validator()


def errors(report: dict) -> list[str]:
    return sorted(f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(report))


def facts(**changes) -> xarf.CaseFacts:
    values = {
        "reference": "CM-2026-000042",
        "url": "http://images.example.com/a/b.jpg?x=1",
        "host": "images.example.com",
        "classification": "illegal_baseline",
        "media_type": "image",
        "hosting_country": "KH",
        "hosting_ip": None,
        "received_at": NOW - 2 * H,
        "assessed_at": NOW - H,
    }
    return xarf.CaseFacts(**{**values, **changes})


NOTICE = xarf.LetterFacts(
    kind="notice",
    reference="CM-N-2026-000007",
    recipient_kind="hosting_provider",
    recipient_name="Host Co.",
    response_url="http://casemgr.test/respond/" + "A" * 43,
)


# ------------------------------------------------------------ the schemas themselves


def test_the_vendored_schemas_accept_the_specification_s_own_sample():
    sample = json.loads((SCHEMAS / "content-csam.sample.json").read_text())
    assert errors(sample) == []


def test_formats_are_checked_not_skipped():
    checked = set(Draft202012Validator.FORMAT_CHECKER.checkers)
    assert {"date-time", "uri", "email", "hostname", "uuid"} <= checked
    good = xarf.report(NOTICE, facts(), hotline=HOTLINE)
    assert errors({**good, "timestamp": "yesterday"})
    assert errors({**good, "url": "http://images.example.com/ស្រី"})
    assert errors({**good, "classification": "national"})


# --------------------------------------------------------------- one report per URL


@pytest.mark.parametrize("classification", [c.value for c in Classification])
def test_each_classification_is_mapped_only_to_what_is_true(classification):
    report = xarf.report(NOTICE, facts(classification=classification), hotline=HOTLINE)
    if classification == "illegal_baseline":
        assert errors(report) == []
        assert report["classification"] == "baseline"
    else:
        # illegal_national: the schema's values (baseline, A1, A2, B1, B2) would
        # each claim something untrue, and a csam report needs one: no report.
        # not_illegal / out_of_remit never reach a notice.
        assert report is None


def test_a_report_says_what_the_case_says_and_nothing_more():
    report = xarf.report(NOTICE, facts(hosting_ip="203.0.113.9"), hotline=HOTLINE)
    assert errors(report) == []
    contact = {"org": "Example Hotline", "contact": "hotline@example.org", "domain": "example.org"}
    assert report["reporter"] == report["sender"] == contact
    assert (report["category"], report["type"], report["xarf_version"]) == (
        "content",
        "csam",
        "4.2.0",
    )
    assert report["url"] == "http://images.example.com/a/b.jpg?x=1"
    assert report["domain"] == "images.example.com"
    assert report["source_identifier"] == "203.0.113.9"
    assert report["timestamp"] == "2026-11-28T07:00:00Z"  # received, UTC
    assert report["verified_at"] == "2026-11-28T08:00:00Z"  # assessed
    assert report["verification_method"] == "manual"
    assert report["detection_method"] == "manual_review"
    assert report["media_type"] == "image"
    assert report["country_code"] == "KH"
    assert report["hosting_provider"] == "Host Co."
    assert report["tags"] == ["notice:cm-n-2026-000007", "case:cm-2026-000042"]
    assert NOTICE.response_url in report["description"]
    assert "CM-N-2026-000007" in report["description"]
    for never in ("content_removed", "hash_values", "evidence", "confidence", "_internal"):
        assert never not in report


@pytest.mark.parametrize(
    ("media_type", "sent"),
    [("image", "image"), ("video", "video"), ("mixed", "mixed"), ("other", None), (None, None)],
)
def test_media_types(media_type, sent):
    report = xarf.report(NOTICE, facts(media_type=media_type), hotline=HOTLINE)
    assert errors(report) == []
    assert report.get("media_type") == sent


@pytest.mark.parametrize(
    ("url", "host", "uri"),
    [
        ("http://203.0.113.7/x", "203.0.113.7", "http://203.0.113.7/x"),
        ("http://[2001:db8::1]/x", "2001:db8::1", "http://[2001:db8::1]/x"),
        (
            "https://xn--bcher-kva.example/ស្រី?q=ក",
            "xn--bcher-kva.example",
            "https://xn--bcher-kva.example/%E1%9E%9F%E1%9F%92%E1%9E%9A%E1%9E%B8?q=%E1%9E%80",
        ),
        ("http://a.example.com/100%/x%20y", "a.example.com", "http://a.example.com/100%25/x%20y"),
        ("http://a.example.com:8080/", "a.example.com", "http://a.example.com:8080/"),
    ],
)
def test_every_url_is_sent_as_a_valid_uri(url, host, uri):
    report = xarf.report(NOTICE, facts(url=url, host=host), hotline=HOTLINE)
    assert errors(report) == []
    assert report["url"] == uri
    assert report["source_identifier"] == host
    assert ("domain" in report) is (host == "a.example.com")  # never an IP, nor punycode


def test_without_a_link_nothing_is_said_of_one():
    report = xarf.report(replace(NOTICE, response_url=None), facts(), hotline=HOTLINE)
    assert errors(report) == []
    assert "account" not in report["description"] and "http" not in report["description"]


def test_a_very_long_link_still_fits_the_description():
    letter = replace(NOTICE, response_url="https://h.example/" + "p" * 2000)
    assert errors(xarf.report(letter, facts(), hotline=HOTLINE)) == []


def test_the_report_id_is_the_same_at_every_attempt_and_differs_between_urls():
    first = xarf.report(NOTICE, facts(), hotline=HOTLINE)["report_id"]
    assert first == xarf.report(NOTICE, facts(), hotline=HOTLINE)["report_id"]
    assert uuid.UUID(first).version == 4
    other_case = xarf.report(NOTICE, facts(reference="CM-2026-000043"), hotline=HOTLINE)
    reminder = xarf.report(replace(NOTICE, reference="CM-N-2026-000009"), facts(), hotline=HOTLINE)
    assert len({first, other_case["report_id"], reminder["report_id"]}) == 3


@pytest.mark.parametrize(
    ("kind", "recipient_kind"),
    [
        ("referral", "hotline"),
        ("referral", "police"),
        ("reminder", "hotline"),  # a partner chased about a forwarded case
        ("escalation", "police"),
        ("escalation", "supervisors"),
    ],
)
def test_only_notices_and_reminders_to_hosting_providers_carry_reports(kind, recipient_kind):
    letter = replace(NOTICE, kind=kind, recipient_kind=recipient_kind)
    assert xarf.report(letter, facts(), hotline=HOTLINE) is None
    assert xarf.attachments(letter, [facts()], hotline=HOTLINE) == []


def test_an_url_without_a_report_leaves_a_gap_in_the_numbers():
    files = xarf.attachments(
        NOTICE,
        [facts(classification="illegal_national"), facts(reference="CM-2026-000050")],
        hotline=HOTLINE,
    )
    assert [name for name, _ in files] == ["CM-N-2026-000007-2.xarf.json"]


# ------------------------------------------------------------------ through the outbox


def illegal_case(provider, *, url: str, analyst, reporter: bool = False, **assessment) -> Case:
    """A case reported (with a reporter's contact and words when ``reporter``),
    assessed and queued for a notice to ``provider``."""
    extra = {"reporter_contact": REPORTER, "description": REPORTER_TEXT} if reporter else {}
    case = factories.report(url, at=NOW - 3 * H, **extra).submission.cases[0]
    fields = {**factories.ILLEGAL, **assessment}
    for action, values in (
        ("assign", {}),
        ("assess", fields),
        ("request_notice", {"provider_id": provider.id}),
    ):
        cases.apply_action(
            db.session,
            case,
            action,
            values,
            actor=analyst.actor,
            now=NOW - H,
            timings=context.timings(),
        )
    db.session.commit()
    return case


def link_of(notice: Notice) -> str:
    """The link the letter run made with the letter (PUBLIC_BASE_URL is set in tests)."""
    link = url_for_letter(db.session, notice.id, context.response_links())
    assert link is not None
    return link


def json_attachments(message) -> list[tuple[str, dict]]:
    return [
        (part.get_filename(), json.loads(part.get_content()))
        for part in message.iter_attachments()
        if part.get_content_type() == "application/json"
    ]


def test_a_notice_arrives_with_its_pdf_one_report_per_url_and_the_link(app, smtp, make, analyst):
    smtp.start()
    provider = make.organisation(name="Host Co.", email="abuse@host.example.com")
    urls = [
        "http://img.host.example.com/1.jpg",
        "https://host.example.com/ស្រី/2",
        "http://93.184.215.14/3",
    ]
    made = [
        illegal_case(provider, url=urls[0], analyst=analyst, reporter=True),
        illegal_case(provider, url=urls[1], analyst=analyst, media_type="video"),
        illegal_case(provider, url=urls[2], analyst=analyst, hosting_ip="93.184.215.14"),
    ]
    run_notices(app, NOW)
    notice = db.session.scalars(select(Notice)).one()
    link = link_of(notice)
    assert LINK.fullmatch(link)

    assert run_outbox(app, NOW).counts["sent"] == 1
    [received] = smtp.received
    message = received.message
    parts = list(message.iter_attachments())
    assert [(p.get_content_type(), p.get_filename()) for p in parts] == [
        ("application/pdf", f"{notice.reference}.pdf")
    ] + [("application/json", f"{notice.reference}-{n}.xarf.json") for n in (1, 2, 3)]
    assert all(p["Content-Transfer-Encoding"] == "base64" for p in parts)
    reports = json_attachments(message)
    for (_, report), case in zip(reports, made, strict=True):
        assert errors(report) == []
        assert report["url"] == xarf.as_uri(case.url)
        assert f"case:{case.reference.lower()}" in report["tags"]
        assert f"notice:{notice.reference.lower()}" in report["tags"]
        assert link in report["description"]
    assert [r["media_type"] for _, r in reports] == ["image", "video", "image"]
    assert reports[2][1]["source_identifier"] == "93.184.215.14"

    body = message.get_body(("plain",)).get_content()
    assert link in body and "no account" in body
    assert LINK.findall(body) == [link]
    # Nothing of the reporter, in any part.
    raw = received.data.decode("ascii")
    everything = raw + body + "".join(json.dumps(r, ensure_ascii=False) for _, r in reports)
    for secret in (REPORTER, REPORTER.lower(), "Sokha", made[0].submission.reference):
        assert secret not in everything


def test_a_letter_without_a_link_says_nothing_of_one(app, smtp, make, analyst):
    """PUBLIC_BASE_URL empty: the outbox's settings have no links."""
    smtp.start()
    provider = make.organisation()
    illegal_case(provider, url="http://a.host.example.com/1", analyst=analyst)
    run_notices(app, NOW)
    notice = db.session.scalars(select(Notice)).one()
    link_of(notice)  # the letter has a link, but it is not printed without a base URL
    settings = replace(OutboxSettings.from_app(app), links=NO_LINKS)
    [row] = messages()
    row.message_id, row.message_date = "<x-1@hotline.example.org>", NOW
    db.session.commit()

    prepared = prepare(db.session, row.id, settings=settings, cipher=context.cipher())
    message = message_from_bytes(prepared.payload, policy=policy.default)
    body = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "respond" not in body and "account" not in body and "page" not in body
    assert body == (
        f"To {notice.recipient_name},\n\n"
        f"Please find attached our letter {notice.reference} (Takedown notice).\n\n"
        f"Please reply to hotline@example.org, quoting our reference {notice.reference}.\n\n"
        "Example Hotline\n"
    )
    [(_, report)] = json_attachments(message)
    assert errors(report) == [] and "respond" not in report["description"]


def test_a_national_only_url_is_in_the_letter_without_a_report(app, smtp, make, analyst):
    smtp.start()
    provider = make.organisation()
    national = illegal_case(
        provider,
        url="http://a.host.example.com/1",
        analyst=analyst,
        classification="illegal_national",
    )
    illegal_case(provider, url="http://a.host.example.com/2", analyst=analyst)
    run_notices(app, NOW)
    notice = db.session.scalars(select(Notice)).one()
    assert notice.case_count == 2 and national.classification == "illegal_national"
    run_outbox(app, NOW)
    [(name, report)] = json_attachments(smtp.received[0].message)
    assert name == f"{notice.reference}-2.xarf.json"
    assert report["url"] == "http://a.host.example.com/2"


def test_preparing_a_notice_takes_three_queries_whatever_its_length(app, make, analyst):
    provider = make.organisation()
    for number in range(12):
        illegal_case(provider, url=f"http://a.host.example.com/{number}", analyst=analyst)
    run_notices(app, NOW)
    link_of(db.session.scalars(select(Notice)).one())
    [row] = messages()
    row.message_id, row.message_date = "<x-2@hotline.example.org>", NOW
    db.session.commit()
    row_id = row.id
    db.session.expire_all()
    statements = []

    def count(conn, cursor, statement, parameters, context_, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        prepared = prepare(
            db.session, row_id, settings=OutboxSettings.from_app(app), cipher=context.cipher()
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 3  # the message with its letter, the link, the cases
    assert prepared.payload.count(b"application/json") == 12


def test_reminders_carry_reports_escalations_and_referrals_do_not(app, smtp, make, analyst):
    """Weeks of a notice nobody answers: notice, two reminders, an escalation by
    e-mail to the supervisors; and a referral to a partner hotline."""
    smtp.start()
    provider = make.organisation(name="Silent Host")
    case = illegal_case(provider, url="http://a.host.example.com/1", analyst=analyst)
    forwarded = make.case("forwarded")
    run_notices(app, NOW)
    for hours in (72, 144, 216):
        run_reminders(app, NOW + hours * H)
    run_outbox(app, NOW + 217 * H)
    letters = {n.id: n for n in db.session.scalars(select(Notice))}
    sent = {}
    for received in smtp.received:
        subject = received.message["Subject"]
        notice = next(n for n in letters.values() if subject.endswith(n.reference))
        sent[(notice.kind, notice.recipient_kind)] = (notice, received.message)
    assert set(sent) == {
        ("notice", "hosting_provider"),
        ("reminder", "hosting_provider"),
        ("reminder", "hotline"),  # the partner chased about the forwarded case
        ("escalation", "supervisors"),
        ("referral", "hotline"),
    }
    for key, (notice, message) in sent.items():
        reports = json_attachments(message)
        if key[1] == "hosting_provider":
            [(name, report)] = reports
            assert name == f"{notice.reference}-1.xarf.json"
            assert errors(report) == [] and report["url"] == case.url
            # each letter its own link: the reminder's, not the notice's
            assert link_of(notice) in report["description"]
            assert link_of(notice) in message.get_body(("plain",)).get_content()
        else:
            assert reports == [], key
            assert [p.get_content_type() for p in message.iter_attachments()] == ["application/pdf"]
    assert sent[("referral", "hotline")][0].recipient_id == forwarded.partner_id


@pytest.fixture
def app_config(mail_config) -> dict:
    # Escalations go out by e-mail (else they wait for a supervisor to deliver them).
    return {**mail_config, "HOTLINE_SUPERVISORS_EMAIL": "supervisors@hotline.example.org"}


def test_a_reporter_s_feedback_carries_no_report_and_no_link(app, smtp, analyst):
    smtp.start()
    submission = factories.report(
        "http://a.host.example.com/9", reporter_contact=REPORTER, feedback_requested=True
    ).submission
    (case,) = submission.cases
    for action, values in (("assign", {}), ("assess", {"classification": "not_illegal"})):
        cases.apply_action(
            db.session,
            case,
            action,
            values,
            actor=analyst.actor,
            now=NOW,
            timings=context.timings(),
        )
    db.session.commit()
    run_outbox(app, NOW)
    [received] = smtp.received
    assert received.rcpt_tos == [REPORTER]
    assert list(received.message.iter_attachments()) == []
    assert b"respond" not in received.data and b"xarf" not in received.data
