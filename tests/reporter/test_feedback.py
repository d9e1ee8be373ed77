"""The feedback e-mail speaks the coarse statuses of /status, in the report's language."""

from __future__ import annotations

from casemgr import context
from casemgr.cases import services as cases
from casemgr.extensions import db
from casemgr.outbox.wording import DEFAULT_MAIL_WORDING, MailWording
from casemgr.reporter.feedback import status_counts


def test_the_statuses_are_counted_in_the_mails_language(make, analyst):
    submission = make.report("http://a.example/1", "http://b.example/2").submission
    first = submission.cases[0]
    for action, fields in (("assign", {}), ("assess", {"classification": "not_illegal"})):
        cases.apply_action(
            db.session, first, action, fields, actor=analyst.actor, now=context.now(),
            timings=context.timings(),
        )  # fmt: skip
    db.session.commit()
    assert status_counts(db.session, submission.id, "en") == [
        ("Received", 1),
        ("Closed without action", 1),
    ]
    khmer = status_counts(db.session, submission.id, "km")
    assert [count for _, count in khmer] == [1, 1]
    assert all(label != "Received" and label.strip() for label, _ in khmer[:1])


def test_a_configured_body_without_the_placeholder_still_lists_them():
    wording = MailWording.from_config({"en": {"feedback_body": "Done.\n"}})
    mail = wording.feedback(
        "en", reference="R", hotline="H", hotline_email="h@x", statuses=[("Removed", 2)]
    )
    assert mail.body == "Done.\n\nWhat happened to the web addresses you sent:\n- Removed: 2\n\n"
    assert "{statuses}" in DEFAULT_MAIL_WORDING["km"]["feedback_body"]
