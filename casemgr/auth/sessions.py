"""Signed-in sessions: when they end, and what a user who owes a second factor may do.

The session cookie is signed (SECRET_KEY), so what is kept in it cannot be
changed by the browser: the time of sign-in and of the last request (for the
absolute and idle timeouts), and between the password and the second step a
short-lived "pending" state that is not a sign-in.
"""

from __future__ import annotations

from flask import Flask, flash, redirect, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, logout_user

from casemgr import context

SIGNED_IN_AT = "signed_in_at"
SEEN_AT = "seen_at"
PENDING = "login_pending"
# flask-login's key: present once login_user() ran for this session.
_USER_KEY = "_user_id"

# What a user who must enrol a second factor may still reach.
ENROLMENT_ENDPOINTS = frozenset({"auth.two_factor", "auth.logout", "static"})


def init_app(app: Flask) -> None:
    app.before_request(_check_session)


def start(now_seconds: float) -> None:
    session[SIGNED_IN_AT] = now_seconds
    session[SEEN_AT] = now_seconds


def _check_session():
    if request.blueprint in ("api", "ops", "public") or request.endpoint == "static":
        return None  # the API has bearer tokens; these pages have no sign-in
    if _USER_KEY not in session:
        return None
    now = context.now().timestamp()
    policy = context.login_policy()
    signed_in_at = session.get(SIGNED_IN_AT)
    seen_at = session.get(SEEN_AT)
    if (
        not isinstance(signed_in_at, int | float)
        or not isinstance(seen_at, int | float)
        or now - seen_at > policy.session_idle.total_seconds()
        or now - signed_in_at > policy.session_absolute.total_seconds()
    ):
        logout_user()
        session.clear()
        flash(gettext("Your session has ended. Please sign in again."), "info")
        return None  # on as anonymous: pages that need a sign-in send to it
    session[SEEN_AT] = now
    from casemgr.auth.signin import two_factor_required

    if (
        current_user.is_authenticated
        and not current_user.has_two_factor
        and two_factor_required(current_user, policy)
        and request.endpoint not in ENROLMENT_ENDPOINTS
    ):
        flash(gettext("Your account needs a second factor: set it up to go on."), "info")
        return redirect(url_for("auth.two_factor"))
    return None
