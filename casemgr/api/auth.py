"""Bearer-token authentication for the API.

Only the ``Authorization: Bearer <token>`` header authenticates an API call.
The session cookie of a signed-in browser is never looked at here, so a page
on another site cannot make a browser act through the API (which is why the
API needs no CSRF token: the blueprint is exempted here).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, g, request

from casemgr import context
from casemgr.api import bp
from casemgr.api.errors import ApiError
from casemgr.auth.models import User
from casemgr.auth.tokens import user_for_token
from casemgr.domain import Role
from casemgr.extensions import csrf, db

View = TypeVar("View", bound=Callable[..., Any])

# Tokens issued by casemgr are about 46 characters; anything far longer is not one.
MAX_TOKEN_LENGTH = 256
REALM = 'Bearer realm="casemgr"'

# Only a bearer token authenticates the API, and a browser never sends one on
# its own: there is no ambient credential for a CSRF token to protect.
csrf.exempt(bp)


@bp.after_request
def never_cache(response: Response) -> Response:
    """What a token may read is no cache's to keep (nor to serve to another token)."""
    response.headers["Cache-Control"] = "no-store"
    return response


PARTNER_FORBIDDEN = "partner accounts may only send reports and read their status"


def token_required(role: Role = Role.ANALYST, *, partner: bool = False) -> Callable[[View], View]:
    """The caller must send the API token of an active user with at least ``role``.

    Answers 401 (with ``WWW-Authenticate: Bearer``) when the token is missing,
    unknown or revoked or its user is inactive, and 403 when the user's role is
    too low. The user is then available as :func:`current_api_user`.

    A partner hotline's account is outside the staff's roles and refused by
    default (403, :data:`PARTNER_FORBIDDEN`): only a route that says
    ``partner=True`` lets it in, and that route shows it only what it sent
    (``casemgr/cases/partner_access.py``).
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = _authenticate()
            if user.role == Role.PARTNER:
                if not partner:
                    raise ApiError(403, "forbidden", PARTNER_FORBIDDEN)
            elif not user.has_role(role):
                raise ApiError(403, "forbidden", f"this needs the {role} role")
            g.api_user = user
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def current_api_user() -> User:
    """The user whose token authenticated this request (inside ``token_required`` views)."""
    return g.api_user


def _authenticate() -> User:
    token = _bearer_token()
    if token is None:
        raise ApiError(
            401,
            "unauthorized",
            "send an API token in the header 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": REALM},
        )
    user = user_for_token(db.session, token, now=context.now()) if _plausible(token) else None
    if user is None:
        raise ApiError(
            401,
            "unauthorized",
            "the API token is not valid: unknown, revoked, or its user is deactivated",
            headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
        )
    if db.session.dirty:
        # user_for_token stamped the token's last use (at most once a minute):
        # keep that even if the request itself fails.
        db.session.commit()
    return user


def _bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _plausible(token: str) -> bool:
    return len(token) <= MAX_TOKEN_LENGTH and token.isascii() and token.isprintable()
