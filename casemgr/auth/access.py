"""Access control for views: small decorators, enforced on the server."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_babel import gettext
from flask_login import current_user, login_required

from casemgr.domain import Role


def role_required(role: Role) -> Callable:
    """Signed-in staff with at least ``role``; 403 for the others, login for the anonymous."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(role):
                abort(403, description=gettext("This page needs the %(role)s role.", role=role))
            return view(*args, **kwargs)

        return wrapped

    return decorator


staff_required = role_required(Role.ANALYST)
supervisor_required = role_required(Role.SUPERVISOR)
admin_required = role_required(Role.ADMIN)
