"""Keeping the people who report anonymous.

The public routes store and log no IP address and no user agent (see
"Privacy of the people who report" in the domain notes and docs/privacy.md).
This module holds what makes that true outside the views:

- :func:`client_key`, the rate limiter's key: a salted hash of the client's
  address (its /64 network for IPv6). The salt is random per process unless
  ``RATELIMIT_KEY_SALT`` gives one (gunicorn.conf.py makes one per server
  start, shared by its workers); it is never stored, so the counters in
  memory or Redis cannot be turned back into addresses.
- :func:`logs_client_address`, the one rule for access logs: only the staff
  areas keep the client's address; every other path (the public pages, their
  static files, unknown paths) is logged without it. New staff areas are
  anonymous until listed here, which errs on the side of the reporter.
- :class:`AnonymousRequestLogFilter` for the werkzeug development server,
  and :mod:`casemgr.gunicorn_logging` for gunicorn.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import re
import secrets

from flask import Flask, current_app, request

#: The blueprints of the pages people reach without a staff account: the report
#: form, the reporter's /status page, providers' response pages and the health
#: check. They speak the visitor's language, load no staff session, are not
#: Origin-checked and log nothing about who asked. A new one is added here.
ANONYMOUS_BLUEPRINTS = frozenset({"public", "reporter", "responses", "ops"})

# Paths whose access-log lines may keep the client's address: staff sign-in,
# the staff screens and the partners' API. Everything else is anonymous.
STAFF_PATH_PREFIXES = ("/login", "/logout", "/cases", "/admin", "/api/")

_SALT_KEY = "casemgr.ratelimit_salt"


def logs_client_address(path: str) -> bool:
    """Whether an access-log line for ``path`` may hold the client's address."""
    return any(
        path == prefix.rstrip("/") or path.startswith(prefix.rstrip("/") + "/")
        for prefix in STAFF_PATH_PREFIXES
    )


# A letter's response link is its key: its token never reaches a log.
_RESPONSE_TOKEN = re.compile(r"^(/respond/)[^/?]+")


def loggable_path(path: str) -> str:
    """``path`` as an access-log line may show it: a response link's token masked."""
    return _RESPONSE_TOKEN.sub(r"\1[token]", path)


def init_app(app: Flask) -> None:
    """Set the rate-limit salt, trust the configured proxies, quiet the dev server."""
    salt = app.config.get("RATELIMIT_KEY_SALT") or secrets.token_hex(32)
    app.extensions[_SALT_KEY] = str(salt).encode()
    proxies = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    werkzeug_logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, AnonymousRequestLogFilter) for f in werkzeug_logger.filters):
        werkzeug_logger.addFilter(AnonymousRequestLogFilter())


def session_identifier() -> str | None:
    """Flask-Login's session-protection identifier, for signed-in sessions only.

    Flask-Login hashes the client's address and user agent into ``_id`` when
    someone signs in and compares it on later requests. For a session that
    belongs to nobody (a reporter's, holding only the form's CSRF token) it
    would otherwise mark the session as tampered with and rewrite the cookie
    on every public page; returning None there leaves anonymous sessions alone.
    """
    from flask import session
    from flask_login.utils import _create_identifier

    if "_user_id" not in session:
        return None
    return _create_identifier()


def client_key() -> str:
    """The rate limiter's key for this request: a salted hash, never the address.

    IPv6 clients are counted by their /64 network (one subscriber usually has
    a whole /64, so counting single addresses would be easy to dodge).
    """
    address = request.remote_addr or ""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        pass
    else:
        if parsed.version == 6 and parsed.ipv4_mapped is None:
            address = str(ipaddress.IPv6Network(f"{parsed}/64", strict=False))
        elif parsed.version == 6:
            address = str(parsed.ipv4_mapped)
    salt = current_app.extensions[_SALT_KEY]
    return hmac.new(salt, address.encode(), hashlib.sha256).hexdigest()[:32]


# The werkzeug development server's request lines look like
# '127.0.0.1 - - [28/Nov/2026 09:00:00] "GET /report?lang=km HTTP/1.1" 200 -'.
_ADDRESS_PREFIX = re.compile(r"^\S+ - - \[")


class AnonymousRequestLogFilter(logging.Filter):
    """Drop the client address and query string from the dev server's request lines.

    The development server is never the public front door, but it should not
    teach anyone that a reporter's address belongs in a log: its request lines
    lose the address on every path and the query string (where the thank-you
    page's receipt travels) on anonymous paths.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, str) or not _ADDRESS_PREFIX.match(record.msg):
            return True
        record.msg = _ADDRESS_PREFIX.sub("- - - [", record.msg, count=1)
        if isinstance(record.args, tuple) and record.args and isinstance(record.args[0], str):
            method, _, rest = record.args[0].partition(" ")
            target, _, protocol = rest.rpartition(" ")
            path = target.split("?", 1)[0]
            if target and not logs_client_address(path):
                record.args = (f"{method} {loggable_path(path)} {protocol}", *record.args[1:])
        return True
