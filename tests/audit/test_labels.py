"""The audit log in plain words (casemgr/audit/labels.py): every action the code
records has a label; the screen shows it beside the code, which stays the filter."""

from __future__ import annotations

import re
from pathlib import Path

from casemgr.audit.labels import ACTIONS
from casemgr.extensions import db
from tests.conftest import login

PACKAGE = Path(__file__).resolve().parents[2] / "casemgr"
# Where the package names an audit action: record(action=...), the features'
# _audit helpers, and the statistics' exports.
RECORDED = re.compile(
    r"(?:action=|_audit\(session, |_audit_refusal\(|_audit_report\(session, |else )"
    r'"([a-z_0-9]+\.[a-z_0-9]+)"'
    r'|"(stats\.(?:export_[a-z]+|report[a-z_]*|stored_report_download))"'
)


def recorded_actions() -> set[str]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for match in RECORDED.finditer(path.read_text(encoding="utf-8")):
            found.add(match.group(1) or match.group(2))
    return found


def test_every_recorded_action_has_a_label():
    found = recorded_actions()
    assert {"auth.login", "case.action", "stats.export_cases", "organisation.deactivate"} <= found
    assert found - set(ACTIONS) == set()


def test_a_case_action_reads_as_what_was_done(client, admin, make):
    make.case("action_required")  # assign, then assess: two case actions
    page = login(client, admin).get("/admin/audit/?action=case.action").get_data(as_text=True)
    assert "Case action: Assess" in page and "Case action: Assign" in page
    assert "In triage → Action required" in page
    assert '<a href="/admin/audit/?action=case.action"><code>case.action</code></a>' in page
    assert '<option value="case.action">Case action</option>' in page  # the filter's choices


def test_the_audit_log_in_khmer(client, make):
    reader = make.user("admin")
    reader.language = "km"
    db.session.commit()
    make.case("triage")
    page = login(client, reader).get("/admin/audit/").get_data(as_text=True)
    assert "សកម្មភាពលើករណី៖ ចាត់តាំង" in page  # Case action: Assign
    assert "<code>case.action</code>" in page  # the code as it is
    assert "កំណត់ហេតុសវនកម្ម" in page


def test_an_unknown_action_shows_its_code_alone(client, admin):
    from tests.audit.helpers import write

    write(1, action="test.early")
    page = login(client, admin).get("/admin/audit/").get_data(as_text=True)
    cell = '<td><a href="/admin/audit/?action=test.early"><code>test.early</code></a></td>'
    assert cell in page
