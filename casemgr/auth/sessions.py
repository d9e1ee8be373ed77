"""Signed-in sessions: when they end, and what a user who owes a second factor may do.

The session cookie is signed (SECRET_KEY), so what is kept in it cannot be
changed by the browser: the time of sign-in and of the last request (for the
absolute and idle timeouts), and between the password and the second step a
short-lived "pending" state that is not a sign-in. It is not encrypted: it
holds no secret but the session's key, whose row on the server
(:mod:`casemgr.auth.session_store`) must be open for the cookie to be let in.
"""

from __future__ import annotations

from flask import Flask, flash, g, redirect, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, logout_user

from casemgr import context
from casemgr.auth import session_store
from casemgr.extensions import db
from casemgr.privacy import ANONYMOUS_BLUEPRINTS

SIGNED_IN_AT = "signed_in_at"
SEEN_AT = "seen_at"
PENDING = "login_pending"
# The key of this session's row on the server (casemgr/auth/session_store.py).
KEY = "session_key"
# A random value naming this browser's set-up of a second factor, whose secret
# is kept on the server (casemgr/auth/twofactor.py pending_secret).
ENROLMENT = "enrolment_holder"
# Where the user loader leaves this request's open UserSession.
CURRENT = "user_session"
# flask-login's key: present once login_user() ran for this session.
_USER_KEY = "_user_id"

# What a user who must enrol a second factor may still reach.
ENROLMENT_ENDPOINTS = frozenset({"auth.two_factor", "auth.logout", "static"})


def init_app(app: Flask) -> None:
    app.before_request(_check_session)


def start(key: str, now_seconds: float) -> None:
    session[KEY] = key
    session[SIGNED_IN_AT] = now_seconds
    session[SEEN_AT] = now_seconds


def end() -> None:
    """Forget the sign-in in this browser (the caller ended its row, if it should)."""
    logout_user()
    session.clear()


def _check_session():
    if (
        request.blueprint == "api"
        or request.blueprint in ANONYMOUS_BLUEPRINTS
        or request.endpoint == "static"
    ):
        return None  # the API has bearer tokens; these pages have no sign-in
    if _USER_KEY not in session:
        return None
    moment = context.now()
    now = moment.timestamp()
    policy = context.login_policy()
    signed_in_at = session.get(SIGNED_IN_AT)
    seen_at = session.get(SEEN_AT)
    if (
        not isinstance(signed_in_at, int | float)
        or not isinstance(seen_at, int | float)
        or now - seen_at > policy.session_idle.total_seconds()
        or now - signed_in_at > policy.session_absolute.total_seconds()
        or not current_user.is_authenticated  # the server ended it, or never had it
    ):
        end()
        flash(gettext("Your session has ended. Please sign in again."), "info")
        return None  # on as anonymous: pages that need a sign-in send to it
    session[SEEN_AT] = now
    record = g.get(CURRENT)
    if record is not None and session_store.seen(record, now=moment):
        db.session.commit()
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
