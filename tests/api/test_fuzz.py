"""Fuzzing the API with Schemathesis against a running server.

The app serves a database seeded with the demo data on 127.0.0.1 (werkzeug,
in a thread), and Schemathesis runs every documented operation with a
supervisor's token: the document's examples, its coverage cases (valid and
invalid values at every boundary) and 20 generated requests per operation,
from a fixed seed. Every answer must be no 5xx, have a documented status and
content type, and fit the documented schema.

Then again as a partner hotline's account (which has sent a report) over the
operations a partner may call: its reduced views must fit the document too,
and whatever it sends, a refusal is 403/404, never a 5xx.
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
MAX_EXAMPLES = 20
CHECKS = (
    "not_a_server_error",
    "response_schema_conformance",
    "status_code_conformance",
    "content_type_conformance",
)


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
    supervisor = accounts.find_by_email(db.session, "supervisor@example.org")
    token = tokens.issue_token(db.session, supervisor, now=context.now(), label="fuzz")
    partner_token = _partner_with_a_report()
    db.session.commit()
    httpd = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", token, partner_token
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
@pytest.mark.parametrize("caller", ["supervisor", "partner"])
def test_schemathesis_finds_no_5xx_and_no_answer_outside_the_document(
    backend, server, tmp_path, caller
):
    if backend == "sqlite" and _postgres_admin_url():
        pytest.skip("fuzzed on PostgreSQL, the production database, when it is there")
    base, supervisor_token, partner_token = server
    token = supervisor_token if caller == "supervisor" else partner_token
    # A partner over what it may call (the rest answers it 403 whatever it sends).
    only = (
        ["--include-operation-id-regex", "^(submit_report|get_submission|get_case)$"]
        if caller == "partner"
        else []
    )
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        f"{base}/api/v1/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--header",
        f"Authorization: Bearer {token}",
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--generation-database",
        "none",
        "--no-color",
        *only,
    ]
    result = subprocess.run(  # in tmp_path: Schemathesis keeps a cache where it runs
        command, capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    # "1380 generated" must not pass for "0 generated": match the whole number.
    assert not re.search(r"(?<!\d)0 generated", output) and "passed" in output, output[-3000:]
