"""JSON API v1: bearer-token access for staff tools and partners.

This package is the API's plumbing only: the blueprint and what holds for
every route on it (no CSRF, no caching, ``ApiError`` answered as JSON), token
auth (``auth``), errors (``errors``), reading requests (``inputs``), the shared
pieces of schemas and operations (``schemas``, ``operations``) and the
assembled document (``openapi``). Each feature serves its own resources from
its ``api`` module (``casemgr/cases/api.py``, ``casemgr/directory/api.py``, ...).
"""

from flask import Blueprint, Response

from casemgr.api.errors import ApiError
from casemgr.extensions import csrf

bp = Blueprint("api", __name__)

# Only a bearer token authenticates the API, and a browser never sends one on
# its own: there is no ambient credential for a CSRF token to protect.
csrf.exempt(bp)


@bp.errorhandler(ApiError)
def api_error(exc: ApiError) -> Response:
    return exc.response()


@bp.after_request
def never_cache(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response
