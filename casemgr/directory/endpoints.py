"""A partner hotline's API base URL: what may be stored, and what is refused.

The ``partners`` job sends our API token for that partner to this URL, so it
must be a plain http(s) address of another installation: no credentials in
it (they would be sent to whoever the host is), no query or fragment (the
job adds paths to it), and never this installation itself (a loop that would
file our own cases as reports to us).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import current_app, has_app_context, has_request_context, request

from casemgr.directory.models import MAX_API_BASE_URL_LENGTH


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, the port filled in; None for others."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return (
        parts.scheme,
        parts.hostname.lower().rstrip("."),
        port or (443 if parts.scheme == "https" else 80),
    )


def own_hosts() -> set[tuple[str, int]]:
    """(host, port) pairs this installation answers on, as far as it knows:
    PUBLIC_BASE_URL, and the host of the request being served."""
    hosts: set[tuple[str, int]] = set()
    candidates: list[str] = []
    if has_app_context():
        candidates.append(current_app.config.get("PUBLIC_BASE_URL") or "")
    if has_request_context():
        candidates.append(request.host_url)
    for candidate in candidates:
        found = origin(candidate) if candidate else None
        if found:
            hosts.add((found[1], found[2]))
    return hosts


def normalise_api_base_url(text: str, own: Iterable[tuple[str, int]] | None = None) -> str:
    """The base URL as stored (no trailing slash), or ValueError saying what is wrong."""
    raw = text.strip()
    if len(raw) > MAX_API_BASE_URL_LENGTH:
        raise ValueError(f"must be at most {MAX_API_BASE_URL_LENGTH} characters")
    if any(ord(ch) < 33 or ord(ch) == 127 for ch in raw):
        raise ValueError("must not contain spaces or control characters")
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError for a port that is no number
    except ValueError:
        raise ValueError(f"'{raw}' is not a URL, e.g. https://hotline.example.org") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("must start with https:// (or http://)")
    if not parts.hostname:
        raise ValueError("must name a host, e.g. https://hotline.example.org")
    if "@" in parts.netloc:
        raise ValueError(
            "must not contain a user name or password: the token goes in its own field"
        )
    if parts.query or parts.fragment or raw.endswith(("?", "#")):
        raise ValueError("must not have a query (?...) or a fragment (#...)")
    found = origin(raw)
    assert found is not None
    if (found[1], found[2]) in set(own if own is not None else own_hosts()):
        raise ValueError("is this installation itself: give the partner's address")
    path = parts.path.rstrip("/")
    if path.endswith("/api/v1"):
        path = path.removesuffix("/api/v1")
    port = f":{parts.port}" if parts.port else ""
    host = f"[{found[1]}]" if ":" in found[1] else found[1]
    return f"{parts.scheme.lower()}://{host}{port}{path}"
