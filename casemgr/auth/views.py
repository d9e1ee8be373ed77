"""Signing in (password, then a second factor) and signing out. The user's own
account is in :mod:`casemgr.auth.account_views`, the admins' staff screens in
:mod:`casemgr.staff`.

Signing in has two steps. The password step never signs anyone in: it leaves
a short-lived pending state in the (signed) session cookie naming the user,
their session token and the time, and sends to the second step: the code
(enrolled users) or enrolment (users who must have a second factor and have
none yet). Only the second step signs in. A user who needs no second factor
and has none is signed in by the password alone. Signing in opens the
session's row on the server (:mod:`casemgr.auth.session_store`); signing out
ends it.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required, login_user

from casemgr import context, localtime
from casemgr.audit.services import record
from casemgr.auth import bp, session_store, sessions, signin, twofactor
from casemgr.auth.forms import CodeForm, EnrolForm, LoginForm
from casemgr.auth.models import User
from casemgr.database import is_valid_id
from casemgr.extensions import db, login_manager
from casemgr.http import safe_next_path


@login_manager.user_loader
def load_user(user_id: str):
    """The user of the session cookie, and its open row on the server in ``g``
    (one query, no write)."""
    record = signin.load_session_user(db.session, user_id, session.get(sessions.KEY))
    if record is None:
        _audit_stale_session(user_id)
        return None
    g.setdefault(sessions.CURRENT, record)
    return record.user


def _audit_stale_session(user_id: str) -> None:
    """A session cookie of a real account that was ended (signed out, or a change
    of its password, second factor, role; deactivation): refused, and worth
    knowing (a kept or stolen cookie?)."""
    raw_id = user_id.partition(":")[0]
    if not raw_id.isdecimal() or not is_valid_id(int(raw_id)):
        return
    if db.session.get(User, int(raw_id)) is None:
        return
    record(
        db.session,
        action="auth.stale_session",
        now=context.now(),
        actor_id=int(raw_id),
        details={"endpoint": request.endpoint},
    )
    db.session.commit()


# --- signing in


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("cases.queue"))
    form = LoginForm()
    if form.validate_on_submit():
        policy = context.login_policy()
        result = signin.authenticate(
            db.session, form.email.data, form.password.data, now=context.now(), policy=policy
        )
        db.session.commit()
        if not result.ok:
            return _refused("auth/login.html", form, result.locked_until)
        user = result.user
        target = safe_next_path(request.args.get("next"))
        if user.has_two_factor:
            _begin_pending(user, "code", target)
            return redirect(url_for("auth.login_code"))
        if signin.two_factor_required(user, policy):
            _begin_pending(user, "enrol", target)
            return redirect(url_for("auth.login_enrol"))
        _sign_in(user, second_factor=None)
        return redirect(target or url_for("cases.queue"))
    return render_template("auth/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    user = _pending_user("code")
    if user is None:
        return _restart()
    form = CodeForm()
    if form.validate_on_submit():
        now = context.now()
        method, lock = signin.second_step(
            db.session,
            user,
            "second_factor",
            lambda: twofactor.verify(
                db.session, user, form.code.data, now=now, cipher=context.cipher()
            ),
            now=now,
            policy=context.login_policy(),
        )
        db.session.commit()
        if method is not None:
            target = session[sessions.PENDING].get("next")
            _sign_in(user, second_factor=method)
            return redirect(target or url_for("cases.queue"))
        if lock is not None:
            session.pop(sessions.PENDING, None)
            return _refused("auth/login.html", LoginForm(formdata=None), lock)
        form.code.errors = [
            gettext("This code is not right, or it was used already. Wait for the next one.")
        ]
        return render_template("auth/code.html", form=form), 401
    return render_template("auth/code.html", form=form)


@bp.route("/login/enrol", methods=["GET", "POST"])
def login_enrol():
    """A user who must have a second factor and has none sets it up before anything else."""
    user = _pending_user("enrol")
    if user is None:
        return _restart()
    pending = session[sessions.PENDING]
    secret, renewed = enrolment_secret(user)
    form = EnrolForm()
    submitted = form.validate_on_submit()
    if submitted and renewed:  # the code cannot be for this secret
        form.code.errors = [enrolment_restarted()]
    elif submitted:
        now = context.now()
        codes, lock = signin.second_step(
            db.session,
            user,
            "enrolment_code",
            lambda: twofactor.enrol(
                db.session,
                user,
                secret,
                form.code.data,
                now=now,
                cipher=context.cipher(),
            ),
            now=now,
            policy=context.login_policy(),
        )
        db.session.commit()
        if codes is not None:
            target = pending.get("next")
            _sign_in(user, second_factor="totp")
            return render_template(
                "auth/recovery_codes.html", codes=codes, next_url=target or url_for("cases.queue")
            )
        if lock is not None:
            session.pop(sessions.PENDING, None)
            return _refused("auth/login.html", LoginForm(formdata=None), lock)
        form.code.errors = [wrong_enrolment_code()]
    return enrol_page(user, secret, form, action=url_for("auth.login_enrol"))


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out here: this session's row ends, so a kept copy of the cookie is
    refused; the user's sessions elsewhere go on."""
    user = current_user._get_current_object()
    now = context.now()
    key = session.get(sessions.KEY)
    if isinstance(key, str):
        session_store.end_session(db.session, user, key, now=now, reason="logout")
    record(
        db.session,
        action="auth.logout",
        now=now,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
    )
    db.session.commit()
    sessions.end()
    flash(gettext("You are signed out."), "info")
    return redirect(url_for("auth.login"))


def _begin_pending(user: User, stage: str, target: str | None) -> None:
    session.clear()
    session[sessions.PENDING] = {
        "user_id": user.id,
        "token": user.session_token,
        "since": context.now().timestamp(),
        "stage": stage,
        "next": target,
    }


def _pending_user(stage: str) -> User | None:
    """The user between the two steps, if the pending state is for ``stage``, is
    recent, and predates no change of their password or second factor."""
    pending = session.get(sessions.PENDING)
    if not isinstance(pending, dict) or pending.get("stage") != stage:
        return None
    since, user_id, token = pending.get("since"), pending.get("user_id"), pending.get("token")
    age = context.now().timestamp() - since if isinstance(since, int | float) else None
    if age is None or not -60 <= age <= context.login_policy().pending.total_seconds():
        return None
    if not isinstance(user_id, int) or not is_valid_id(user_id) or not isinstance(token, str):
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or not secrets.compare_digest(user.session_token, token):
        return None
    return user


def _restart():
    session.pop(sessions.PENDING, None)
    flash(gettext("Please sign in with your password first (the sign-in had expired)."), "info")
    return redirect(url_for("auth.login"))


def _sign_in(user: User, *, second_factor: str | None) -> None:
    """Sign ``user`` in on a fresh session, and audit it (commits)."""
    now = context.now()
    signin.clear_failures(db.session, user.email)
    key = session_store.open_session(db.session, user, now=now, policy=context.login_policy())
    session.clear()
    login_user(user)
    sessions.start(key, now.timestamp())
    record(
        db.session,
        action="auth.login",
        now=now,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        details={"second_factor": second_factor or "none"},
    )
    db.session.commit()


def _refused(template: str, form, locked_until: datetime | None):
    """The same answer whether or not an account has the address given."""
    if locked_until is not None:
        minutes = max(1, -(-int((locked_until - context.now()).total_seconds()) // 60))
        flash(
            ngettext(
                "Too many failed sign-ins with this e-mail address: signing in with it is "
                "paused for %(num)d minute (until %(time)s).",
                "Too many failed sign-ins with this e-mail address: signing in with it is "
                "paused for %(num)d minutes (until %(time)s).",
                minutes,
                time=localtime.format_datetime(locked_until, context.timezone()),
            ),
            "error",
        )
        return render_template(template, form=form), 429
    flash(gettext("E-mail or password is wrong."), "error")
    return render_template(template, form=form), 401


# --- setting up a second factor (here, and on the account page)


def wrong_enrolment_code() -> str:
    return gettext("This code is not right. Check the time on your phone, and try the next one.")


def enrolment_secret(user: User) -> tuple[str, bool]:
    """The secret this browser is setting up, kept on the server (commits a new one)."""
    holder = session.get(sessions.ENROLMENT)
    if not isinstance(holder, str):
        holder = session[sessions.ENROLMENT] = secrets.token_urlsafe(32)
    secret, renewed = twofactor.pending_secret(
        db.session,
        user,
        holder,
        now=context.now(),
        cipher=context.cipher(),
        lifetime=context.login_policy().pending,
    )
    if renewed:
        db.session.commit()
    return secret, renewed


def enrolment_restarted() -> str:
    return gettext(
        "The set-up had expired or was started again elsewhere: scan this new code "
        "and enter the code your app shows for it."
    )


def enrol_page(user: User, secret: str, form, *, action: str, status: int | None = None):
    uri = twofactor.provisioning_uri(
        secret,
        email=user.email,
        issuer=context.setting("TWO_FACTOR_ISSUER") or context.setting("HOTLINE_NAME"),
    )
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    page = render_template(
        "auth/enrol.html", form=form, qr=twofactor.qr_svg(uri), secret=grouped, action=action
    )
    return page, status or (422 if form.errors else 200)
