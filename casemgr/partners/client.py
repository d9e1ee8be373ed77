"""Talking to a partner's casemgr API v1: stdlib HTTP, one request, no redirects.

Every request goes to the partner's base URL with a fixed path: the token is
sent only there (http.client never follows a redirect, and a 3xx is an
error). An answer is read up to ``max_bytes`` and must be a JSON object; what
is wrong with it is raised as :class:`PartnerError`, whose ``problem`` names
the kind of trouble (one supervisors' alert per partner and problem) and
whose message never holds the token.
"""

from __future__ import annotations

import http.client
import json
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

USER_AGENT = "casemgr-partners/1"


class PartnerError(Exception):
    """A partner could not be asked, or answered something we cannot use.

    ``problem``: unreachable, timeout, unauthorised, http_error, not_json,
    too_large, lies, unknown_status, rejected (a 4xx refusing the report)."""

    def __init__(self, problem: str, message: str, *, status: int | None = None):
        super().__init__(message)
        self.problem = problem
        self.status = status


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class PartnerClient:
    base_url: str
    token: str
    timeout: float
    max_bytes: int

    def post_report(self, payload: dict[str, Any]) -> Answer:
        return self._request("POST", "/api/v1/reports", payload)

    def get_submission(self, reference: str) -> Answer:
        return self._request("GET", "/api/v1/submissions/" + quote(reference, safe=""))

    def _request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Answer:
        parts = urlsplit(self.base_url)
        body = json.dumps(payload).encode() if payload is not None else None
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
        if parts.scheme == "https":
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                parts.hostname or "",
                parts.port,
                timeout=self.timeout,
                context=ssl.create_default_context(),
            )
        else:
            connection = http.client.HTTPConnection(
                parts.hostname or "", parts.port, timeout=self.timeout
            )
        where = f"{method} {parts.scheme}://{parts.netloc}{parts.path}{path}"
        try:
            connection.request(method, parts.path.rstrip("/") + path, body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read(self.max_bytes + 1)
        except TimeoutError:
            raise PartnerError("timeout", f"{where}: no answer within {self.timeout:g} s") from None
        except (OSError, http.client.HTTPException) as exc:
            raise PartnerError(
                "unreachable", f"{where}: {type(exc).__name__}: {exc}"[:300]
            ) from None
        finally:
            connection.close()
        status = response.status
        if len(raw) > self.max_bytes:
            raise PartnerError(
                "too_large", f"{where}: answer larger than {self.max_bytes} bytes", status=status
            )
        if status == 401:
            raise PartnerError(
                "unauthorised",
                f"{where}: 401, the partner refuses our token (revoked or wrong?)",
                status=status,
            )
        try:
            data = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, ValueError):
            data = None
        if status >= 500 or 300 <= status < 400 or status < 200:
            raise PartnerError("http_error", f"{where}: HTTP {status}", status=status)
        if not isinstance(data, dict):
            raise PartnerError(
                "not_json",
                f"{where}: HTTP {status}, the answer is not a JSON object",
                status=status,
            )
        if status >= 400:
            message = data.get("message") if isinstance(data.get("message"), str) else ""
            problem = "not_found" if status == 404 else "rejected"
            raise PartnerError(problem, f"{where}: HTTP {status} {message}"[:300], status=status)
        return Answer(status, data)
