"""Fuzzing the API with Schemathesis against a running server.

The app serves a database seeded with the demo data on 127.0.0.1 (werkzeug,
in a thread), and Schemathesis runs every documented operation with every
check (``--checks all``) once per role (analyst, supervisor, admin, and a
partner hotline's account that has sent a report): the document's examples,
its coverage cases (valid and invalid values at every boundary), 10 generated
requests per operation, and the stateful phase, which follows the document's
links (a report's answer to its cases, a case's answer to its next actions),
from a fixed seed. Every answer must be no 5xx, have a documented status,
headers and content type, fit the documented schema; a request the document
allows must be accepted and one it forbids refused. The exceptions are
``schemathesis.toml``'s, each with its reason. A failure's message ends with
Schemathesis's report: the reproducing ``curl`` of each failure.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from casemgr import context
from casemgr.auth import accounts, tokens
from casemgr.cases import receiving
from casemgr.demo import load_demo
from casemgr.directory.inputs import OrganisationInput
from casemgr.directory.operations import create_organisation
from casemgr.domain import SYSTEM_ACTOR
from casemgr.extensions import db
from tests.conftest import _postgres_admin_url

SEED = 2026
MAX_EXAMPLES = 10
CONFIG = Path(__file__).with_name("schemathesis.toml")
ROLES = ("analyst", "supervisor", "admin", "partner")


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # one line per fuzzed request is noise
        pass


@pytest.fixture
def server(app):
    load_demo(
        db.session,
        now=context.now(),
        timings=context.timings(),
        cipher=context.cipher(),
        prefix=context.reference_prefix(),
    )
    db.session.commit()
    tokens_by_role = {
        role: tokens.issue_token(
            db.session,
            accounts.find_by_email(db.session, f"{role}@example.org"),
            now=context.now(),
            label="fuzz",
        )
        for role in ("analyst", "supervisor", "admin")
    }
    tokens_by_role["partner"] = _partner_with_a_report()
    db.session.commit()
    httpd = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", tokens_by_role
    httpd.shutdown()
    thread.join(10)


def _partner_with_a_report() -> str:
    """A partner hotline's account that has sent a report (one URL a demo case
    has open: a duplicate); the secret of its token."""
    hotline = create_organisation(
        db.session,
        OrganisationInput(kind="hotline", name="Fuzz hotline", country="DE", email=None),
        now=context.now(),
        actor=SYSTEM_ACTOR,
    )
    partner = accounts.create_user(
        db.session,
        accounts.AccountInput(
            email="api@fuzz-hotline.example.org",
            name="Fuzz hotline",
            role="partner",
            organisation_id=hotline.id,
        ),
        now=context.now(),
        actor=SYSTEM_ACTOR,
    )
    receiving.receive_report(
        db.session,
        receiving.ReportInput(
            urls=["http://fuzz.example.net/a", "http://fuzz.example.net/b"],
            source="partner",
            external_reference="FUZZ-1",
        ),
        now=context.now(),
        timings=context.timings(),
        cipher=context.cipher(),
        reference_prefix=context.reference_prefix(),
        submitted_by=partner,
    )
    return tokens.issue_token(db.session, partner, now=context.now(), label="fuzz")


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_schemathesis_with_every_check_finds_nothing_outside_the_document(
    backend, server, tmp_path, role
):
    if backend == "sqlite" and _postgres_admin_url():
        pytest.skip("fuzzed on PostgreSQL, the production database, when it is there")
    base, tokens_by_role = server
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{base}/api/v1/openapi.json",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--header",
        f"Authorization: Bearer {tokens_by_role[role]}",
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--generation-database",
        "none",
        "--no-color",
    ]
    result = subprocess.run(  # in tmp_path: Schemathesis keeps a cache where it runs
        command, capture_output=True, text=True, timeout=400, check=False, cwd=tmp_path
    )
    output = result.stdout + result.stderr
    # The failures with their reproducing requests, and the summary.
    report = output[output.find("FAILURES") :] if "FAILURES" in output else output
    assert result.returncode == 0, report[-12000:]
    # "1380 generated" must not pass for "0 generated": match the whole number.
    assert not re.search(r"(?<!\d)0 generated", output) and "passed" in output, output[-3000:]
    # An error (a scenario Schemathesis could not run) is no pass either.
    assert not re.search(r"\d+ errored", output), report[-12000:]
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in output, output[-3000:]
