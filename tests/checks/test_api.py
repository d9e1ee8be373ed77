"""The checks as the case API and the case page show them."""

from __future__ import annotations

from datetime import timedelta

from flask import render_template_string
from jsonschema import Draft202012Validator

from casemgr.checks.api import CHECK_SCHEMA, REMOVAL_CHECKS_SCHEMA, checks_for_cases
from casemgr.checks.models import UrlCheck
from casemgr.checks.queries import latest_for_case
from casemgr.extensions import db
from tests import factories


def add_checks(case, now, outcomes):
    for hours, (outcome, status, location) in enumerate(outcomes):
        db.session.add(
            UrlCheck(
                case_id=case.id,
                checked_at=now + timedelta(hours=hours),
                outcome=outcome,
                status_code=status,
                final_location=location,
                redirects=1 if location else 0,
                error="no answer within 10 s" if outcome == "error" else None,
            )
        )
    db.session.commit()


def test_checks_for_cases_newest_first_limited(app, clock):
    one, two, three = (factories.case("notice_sent") for _ in range(3))
    now = clock.now()
    add_checks(one, now, [("live", 200, None)] * 6 + [("gone", 404, "http://a.example/b")])
    add_checks(two, now, [("error", None, None)])
    found = checks_for_cases(db.session, [one.id, two.id, three.id], limit=5)
    assert list(found) == [one.id, two.id, three.id]
    assert len(found[one.id]) == 5
    assert found[one.id][0] == {
        "checked_at": (now + timedelta(hours=6)).isoformat(),
        "status_code": 404,
        "outcome": "gone",
        "final_location": "http://a.example/b",
    }
    assert found[two.id] == [
        {
            "checked_at": now.isoformat(),
            "status_code": None,
            "outcome": "error",
            "final_location": None,
        }
    ]
    assert found[three.id] == []
    assert checks_for_cases(db.session, []) == {}
    Draft202012Validator.check_schema(REMOVAL_CHECKS_SCHEMA)
    validator = Draft202012Validator(REMOVAL_CHECKS_SCHEMA)
    for items in found.values():
        validator.validate(items)
    assert CHECK_SCHEMA["additionalProperties"] is False


def test_the_case_page_partial(app, clock):
    case = factories.case("notice_sent")
    add_checks(case, clock.now(), [("live", 200, None), ("gone", 410, "http://a.example/<b>")])
    page = "{% include 'checks/_case_checks.html' %}"
    with app.test_request_context():
        shown = render_template_string(page, removal_checks=latest_for_case(db.session, case.id))
        assert "Removal check" in shown
        assert "gone (404/410)" in shown and "still online" in shown
        assert "410" in shown and "http://a.example/&lt;b&gt;" in shown
        assert shown.index("gone (404/410)") < shown.index("still online")  # newest first
        # Off and never checked: nothing at all.
        assert render_template_string(page, removal_checks=[]).strip() == ""
        app.config["URL_CHECKS_ENABLED"] = True
        assert "Not checked yet." in render_template_string(page, removal_checks=[])
