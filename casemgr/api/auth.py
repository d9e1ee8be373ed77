"""PLACEHOLDER, to be replaced at merge by the API branch's ``casemgr/api/auth.py``.

Only what ``casemgr/notices/api.py`` needs, with the same signature as the
API branch: ``@token_required()`` (optionally with a role) authenticates
``Authorization: Bearer <token>`` through
``casemgr.auth.services.user_for_token``, puts the user in ``g.api_user``,
and answers 401 (JSON, ``WWW-Authenticate: Bearer``) or 403 otherwise. The
session cookie is never looked at.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request

from casemgr import context
from casemgr.auth.services import user_for_token
from casemgr.cases.workflow import Role
from casemgr.extensions import db
from casemgr.http import json_error

REALM = 'Bearer realm="casemgr"'
MAX_TOKEN_LENGTH = 256


def token_required(role: Role = Role.ANALYST) -> Callable[[Callable], Callable]:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            token = token.strip()
            user = None
            if scheme.lower() == "bearer" and token and len(token) <= MAX_TOKEN_LENGTH:
                user = user_for_token(db.session, token, now=context.now())
            if user is None:
                response = json_error(
                    401, "unauthorized", "send a valid API token: 'Authorization: Bearer <token>'"
                )
                response.headers["WWW-Authenticate"] = REALM
                return response
            if db.session.dirty:
                db.session.commit()  # the token's last use
            if not user.has_role(role):
                return json_error(403, "forbidden", f"this needs the {role} role")
            g.api_user = user
            return view(*args, **kwargs)

        return wrapped

    return decorator
