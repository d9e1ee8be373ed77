"""Fuzzing the API with Schemathesis against a running server.

The app serves a database seeded with the demo data on 127.0.0.1 (werkzeug,
in a thread), and Schemathesis runs every documented operation with a
supervisor's token: the document's examples, its coverage cases (valid and
invalid values at every boundary) and 20 generated requests per operation,
from a fixed seed. Every answer must be no 5xx, have a documented status and
content type, and fit the documented schema.
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
from casemgr.demo import load_demo
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
    db.session.commit()
    httpd = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", token
    httpd.shutdown()
    thread.join(10)


@pytest.mark.slow
def test_schemathesis_finds_no_5xx_and_no_answer_outside_the_document(backend, server, tmp_path):
    if backend == "sqlite" and _postgres_admin_url():
        pytest.skip("fuzzed on PostgreSQL, the production database, when it is there")
    base, token = server
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
    ]
    result = subprocess.run(  # in tmp_path: Schemathesis keeps a cache where it runs
        command, capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    # "1380 generated" must not pass for "0 generated": match the whole number.
    assert not re.search(r"(?<!\d)0 generated", output) and "passed" in output, output[-3000:]
