"""A fake partner casemgr on 127.0.0.1 speaking the partner contract of API v1.

``partner`` answers ``POST /api/v1/reports`` (idempotent on
``external_reference``: 201 the first time, 200 with the first submission
after) and ``GET /api/v1/submissions/<ref>``; a test scripts the status of
its cases with :meth:`FakePartner.set_status` and makes it misbehave with
``mode``: ``down`` (the port closed), ``hang`` (no answer past the
timeout), ``not_json``, ``huge`` (a 10 MB body), ``wrong_ids``,
``unknown_status``, ``unauthorised`` (401, a revoked token), ``fail_next``
500s before answering properly, ``drop_after_commit`` (the report stored,
then the connection dropped without an answer).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from casemgr import context
from casemgr.cases import services
from casemgr.directory.inputs import OrganisationInput
from casemgr.directory.operations import create_organisation
from casemgr.domain import SYSTEM_ACTOR
from casemgr.extensions import db
from tests import factories

TOKEN = "pt_partner-token-0123456789-SECRET"  # noqa: S105 - a test token
HUGE = 10 * 1024 * 1024


class FakePartner:
    def __init__(self) -> None:
        self.submissions: dict[str, dict] = {}  # external_reference -> submission
        self.mode = "ok"
        self.fail_next = 0
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.next_id = 500
        self.server: ThreadingHTTPServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def posts(self) -> list[dict]:
        return [json.loads(body) for method, _, _, body in self.requests if method == "POST"]

    def case_of(self, reference: str) -> dict:
        return self.submissions[reference]["cases"][0]

    def set_status(self, reference: str, status: str, resolution: str | None = None, **times):
        case = self.case_of(reference)
        case.update(status=status, resolution=resolution, **times)

    def receive(self, body: dict) -> tuple[int, dict]:
        ref = body["external_reference"]
        if ref in self.submissions:
            return 200, self.submissions[ref]
        self.next_id += 1
        submission = {
            "reference": f"B-S{self.next_id}",
            "external_reference": ref,
            "received_at": "2026-12-01T10:00:00+00:00",
            "source": "partner",
            "cases": [
                {
                    "id": self.next_id,
                    "reference": f"B-{self.next_id}",
                    "url": body["urls"][0],
                    "status": "new",
                    "resolution": None,
                    "duplicate_of": None,
                    "removed_at": None,
                    "closed_at": None,
                }
            ],
        }
        self.submissions[ref] = submission
        return 201, submission


def _handler(partner: FakePartner) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def _answer(self, status: int, body: bytes, content_type: str = "application/json"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):  # a client that gave up
                self.wfile.write(body)

        def _json(self, status: int, data: dict) -> None:
            self._answer(status, json.dumps(data).encode())

        def _common(self, method: str) -> bool:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            partner.requests.append((method, self.path, dict(self.headers.items()), body))
            self.body = body
            mode = partner.mode
            if mode == "hang":
                time.sleep(2)
                self.close_connection = True
                return False
            if self.headers.get("Authorization") != f"Bearer {TOKEN}" or mode == "unauthorised":
                self._json(401, {"error": "unauthorised", "message": "token revoked"})
                return False
            if partner.fail_next > 0:
                partner.fail_next -= 1
                self._json(500, {"error": "internal", "message": "oops"})
                return False
            if mode == "not_json":
                self._answer(200, b"<html>maintenance</html>", "text/html")
                return False
            if mode == "huge":
                self._answer(200, b"{" + b" " * HUGE + b"}")
                return False
            return True

        def do_POST(self) -> None:  # noqa: N802
            if not self._common("POST"):
                return
            status, submission = partner.receive(json.loads(self.body))
            if partner.mode == "drop_after_commit":
                partner.mode = "ok"
                self.close_connection = True
                return  # stored, but no answer
            cases = [
                {k: c[k] for k in ("id", "reference", "url", "status", "duplicate_of")}
                for c in submission["cases"]
            ]
            if partner.mode == "wrong_ids":
                cases = [dict(c, url="http://other.example/") for c in cases]
            head = {k: submission[k] for k in ("reference", "external_reference", "received_at")}
            answer = {"submission": {"id": 1, "source": "partner", **head}, "cases": cases}
            self._json(status, answer)

        def do_GET(self) -> None:  # noqa: N802
            if not self._common("GET"):
                return
            ref = self.path.rsplit("/", 1)[-1]
            found = [s for s in partner.submissions.values() if s["reference"] == ref]
            if not found:
                self._json(404, {"error": "not_found", "message": "no such submission"})
                return
            submission = json.loads(json.dumps(found[0]))
            if partner.mode == "wrong_ids":
                for case in submission["cases"]:
                    case["id"] += 1000
            if partner.mode == "unknown_status":
                for case in submission["cases"]:
                    case["status"] = "vanished"
            self._json(200, submission)

    return Handler


@pytest.fixture
def partner() -> Iterator[FakePartner]:
    fake = FakePartner()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.server, fake.port = server, server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def app_config() -> dict:
    return {
        "PARTNER_TIMEOUT": 0.5,
        "PARTNER_RETRY_BASE_SECONDS": 60,
        "PARTNER_MAX_ATTEMPTS": 3,
        "PARTNER_POLL_INTERVAL_MINUTES": 30,
        "HOTLINE_NAME": "Hotline A",
    }


def partner_org(url: str, *, forward_by: str = "api", trusted: bool = False, name=None):
    created = create_organisation(
        db.session,
        OrganisationInput(
            kind="hotline",
            name=name or f"Hotline B {next(factories._sequence)}",
            country="KH",
            email="cases@hotline-b.example",
            api_base_url=url,
            forward_by=forward_by,
            api_token=TOKEN,
            trust_removal_reports=trusted,
        ),
        now=context.now(),
        actor=SYSTEM_ACTOR,
    )
    db.session.commit()
    return created


def forwarded_case(partner_id: int, *, url: str | None = None, description: str = ""):
    """A case assessed illegal and forwarded to ``partner_id`` a day ago."""
    moment = context.now() - timedelta(days=1)
    created = factories.report(
        url or f"http://site{next(factories._sequence)}.example.com/x",
        at=moment,
        description=description or "REPORTER WORDS do not cross",
        reporter_contact="reporter@example.org",
    ).submission.cases[0]
    worker = factories.user("analyst")
    steps = [
        ("assign", {}),
        ("assess", dict(factories.ILLEGAL, hosting_ip="192.0.2.7")),
        ("forward_to_partner", {"partner_id": partner_id}),
    ]
    for action, fields in steps:
        moment += timedelta(minutes=10)
        services.apply_action(
            db.session,
            created,
            action,
            fields,
            actor=worker.actor,
            now=moment,
            timings=context.timings(),
        )
    db.session.commit()
    return created
