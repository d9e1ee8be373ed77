"""Response headers every answer carries, and one JSON log line per request.

A small ``after_request`` hook of our own rather than Flask-Talisman: what we
need is a fixed set of headers (the policy is the same on every page, there
is no inline script to hash or nonce), Talisman has had no release since
2023, and its HTTPS redirect belongs to the reverse proxy here
(docs/deployment.md). The values are settings (config.py).
"""

from __future__ import annotations

import json
import logging
import time

from flask import Flask, Response, g, request
from flask_wtf.csrf import CSRFError

from casemgr.privacy import ANONYMOUS_BLUEPRINTS

REQUEST_LOGGER = "casemgr.requests"

# Endpoints whose log line must say nothing about who asked: the public pages
# (ANONYMOUS_BLUEPRINTS: the reporter is promised anonymity) and what any
# visitor may fetch.
ANONYMOUS_ENDPOINTS = frozenset({"static"})

# Staff pages send a Referer to this site only, never to another: an analyst
# opening a reported URL tells that site nothing (the links also say
# rel=noreferrer), and the browser puts this site's Origin on every form it
# posts, which _check_origin compares. Under "no-referrer" the Origin of a
# form post is "null" and could not be checked.
STAFF_REFERRER_POLICY = "same-origin"
# The anonymous pages send none at all, not even to this site: the thank-you
# page's address carries the report's receipt, which must not reach a log as
# the Referer of the next request.
ANONYMOUS_REFERRER_POLICY = "no-referrer"

_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def init_app(app: Flask) -> None:
    app.before_request(_start_timer)
    app.before_request(_check_origin)
    # The page's <meta name="referrer"> says what the header says.
    app.jinja_env.globals["referrer_policy"] = referrer_policy
    app.after_request(_security_headers)
    app.after_request(_log_request)
    if app.config["REQUEST_LOG"]:
        logger = logging.getLogger(REQUEST_LOGGER)
        if not logger.handlers:
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(message)s"))
            logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def _start_timer() -> None:
    g.request_started = time.perf_counter()


def is_anonymous_page() -> bool:
    endpoint = request.endpoint or ""
    return endpoint in ANONYMOUS_ENDPOINTS or endpoint.partition(".")[0] in ANONYMOUS_BLUEPRINTS


def referrer_policy() -> str:
    return ANONYMOUS_REFERRER_POLICY if is_anonymous_page() else STAFF_REFERRER_POLICY


def _check_origin() -> None:
    """A staff form must come from this site: a browser names the page's
    origin on every POST, and another one (or "null", from a sandboxed frame
    or a data: URL) is refused like a missing CSRF token. This stands in for
    Flask-WTF's Referer check on HTTPS (WTF_CSRF_SSL_STRICT, off: see
    config.py); the token remains the protection, this a second lock.

    A request without Origin (a script, an old browser) is left to the token.
    The API has bearer tokens and no cookies; the anonymous pages have no
    session to ride on and their own tokens.
    """
    if request.method not in _UNSAFE_METHODS or request.blueprint == "api":
        return
    if is_anonymous_page():
        return
    origin = request.headers.get("Origin")
    if origin is None or origin == f"{request.scheme}://{request.host}":
        return
    raise CSRFError(f"The form was sent from another site (Origin: {origin[:100]}).")


def _security_headers(response: Response) -> Response:
    from flask import current_app

    config = current_app.config
    headers = response.headers
    headers.setdefault("Content-Security-Policy", config["CONTENT_SECURITY_POLICY"])
    headers.setdefault("Referrer-Policy", referrer_policy())
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Permissions-Policy", config["PERMISSIONS_POLICY"])
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    if config["STRICT_TRANSPORT_SECURITY"]:
        headers.setdefault("Strict-Transport-Security", config["STRICT_TRANSPORT_SECURITY"])
    if request.endpoint != "static":
        # Pages list URLs of abuse material and reporters' details: no copies
        # in the browser's or any proxy's cache.
        headers.setdefault("Cache-Control", "no-store")
    return response


def _log_request(response: Response) -> Response:
    """One JSON line: method, the route's template (never the query string or
    the concrete path, which may hold a searched URL), status, duration and,
    for staff pages only, the user's id. Never an IP address or user agent."""
    logger = logging.getLogger(REQUEST_LOGGER)
    if not logger.isEnabledFor(logging.INFO):
        return response
    started = g.get("request_started")
    line = {
        "event": "request",
        "method": request.method,
        "path": request.url_rule.rule if request.url_rule is not None else None,
        "endpoint": request.endpoint,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
    }
    user_id = _user_id()
    if user_id is not None:
        line["user_id"] = user_id
    logger.info(json.dumps(line, separators=(",", ":")))
    return response


def _user_id() -> int | None:
    if is_anonymous_page():
        return None
    api_user = g.get("api_user")
    if api_user is not None:
        return api_user.id
    # Only a user the request has loaded already: logging must not query.
    user = g.get("_login_user")
    if user is not None and getattr(user, "is_authenticated", False):
        return user.id
    return None
