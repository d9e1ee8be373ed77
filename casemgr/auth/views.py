"""Signing in (password, then a second factor) and the user's own account.
The admins' staff screens are in :mod:`casemgr.staff`.

Signing in has two steps. The password step never signs anyone in: it leaves
a short-lived pending state in the (signed) session cookie naming the user,
their session token and the time, and sends to the second step: the code
(enrolled users) or enrolment (users who must have a second factor and have
none yet). Only the second step signs in. A user who needs no second factor
and has none is signed in by the password alone.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext, ngettext, refresh
from flask_login import current_user, login_required, login_user, logout_user

from casemgr import context, localtime
from casemgr.audit.services import record
from casemgr.auth import accounts, bp, sessions, signin, twofactor
from casemgr.auth.forms import (
    CodeForm,
    EnrolForm,
    LanguageForm,
    LoginForm,
    PasswordChangeForm,
)
from casemgr.auth.models import User
from casemgr.database import is_valid_id
from casemgr.errors import ValidationFailed
from casemgr.extensions import db, login_manager
from casemgr.forms import attach_errors
from casemgr.http import safe_next_path
from casemgr.i18n import languages

ENROL_SECRET = "enrol_secret"  # noqa: S105 - a session key


def _wrong_enrolment_code() -> str:
    return gettext("This code is not right. Check the time on your phone, and try the next one.")


@login_manager.user_loader
def load_user(user_id: str):
    user = signin.load_session_user(db.session, user_id)
    if user is None:
        _audit_stale_session(user_id)
    return user


def _audit_stale_session(user_id: str) -> None:
    """A session cookie of a real account that its password (second factor, role,
    deactivation) change ended: refused, and worth knowing (a stolen cookie?)."""
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
    if not isinstance(pending.get("secret"), str):
        pending["secret"] = twofactor.new_secret()
        session.modified = True
    form = EnrolForm()
    if form.validate_on_submit():
        now = context.now()
        codes, lock = signin.second_step(
            db.session,
            user,
            "enrolment_code",
            lambda: twofactor.enrol(
                db.session,
                user,
                pending["secret"],
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
        form.code.errors = [_wrong_enrolment_code()]
    return _enrol_page(user, pending["secret"], form, action=url_for("auth.login_enrol"))


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    session.clear()
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
    session.clear()
    login_user(user)
    sessions.start(now.timestamp())
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


def _enrol_page(user: User, secret: str, form, *, action: str, status: int | None = None):
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


# --- the user's own account


@bp.route("/account")
@login_required
def account():
    """The signed-in member of staff's own account: language, password, second factor."""
    return _account_page(LanguageForm(formdata=None, data=_language_data()))


@bp.route("/account/language", methods=["POST"])
@login_required
def change_language():
    form = LanguageForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            changed = accounts.change_own_language(
                db.session,
                user,
                form.language.data or None,
                languages=languages(),
                now=context.now(),
            )
        except ValidationFailed as exc:
            attach_errors(form, exc)
        else:
            db.session.commit()
            refresh()  # this answer's message in the language just chosen
            if changed:
                flash(gettext("Your language is saved."), "success")
            return redirect(url_for("auth.account"))
    return _account_page(form), 422


def _language_data() -> dict:
    return {"language": current_user.language or ""}


def _account_page(form: LanguageForm):
    user = current_user._get_current_object()
    return render_template(
        "auth/account.html",
        user=user,
        form=form,
        codes_left=twofactor.recovery_codes_left(db.session, user) if user.has_two_factor else None,
    )


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            accounts.change_own_password(
                db.session,
                user,
                form.current_password.data,
                form.new_password.data,
                now=context.now(),
            )
        except ValidationFailed as exc:
            db.session.commit()  # the audit entry of a wrong current password
            attach_errors(form, exc)
        else:
            db.session.commit()
            login_user(user)  # this session goes on; every other one has ended
            flash(
                gettext("Your password is changed. Other sessions of yours are signed out."),
                "success",
            )
            return redirect(url_for("cases.queue"))
    return render_template("auth/password.html", form=form), (422 if form.errors else 200)


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor():
    """Set up the second factor (or see its state and get new recovery codes)."""
    user = current_user._get_current_object()
    if user.has_two_factor:
        form = CodeForm()
        return render_template(
            "auth/two_factor.html",
            user=user,
            form=form,
            codes_left=twofactor.recovery_codes_left(db.session, user),
        )
    secret = session.get(ENROL_SECRET)
    if not isinstance(secret, str):
        secret = session[ENROL_SECRET] = twofactor.new_secret()
    form = EnrolForm()
    if form.validate_on_submit():
        codes = twofactor.enrol(
            db.session, user, secret, form.code.data, now=context.now(), cipher=context.cipher()
        )
        db.session.commit()
        if codes is not None:
            session.pop(ENROL_SECRET, None)
            login_user(user)  # enrolling ended every session; this one goes on
            return render_template(
                "auth/recovery_codes.html", codes=codes, next_url=url_for("cases.queue")
            )
        form.code.errors = [_wrong_enrolment_code()]
    return _enrol_page(user, secret, form, action=url_for("auth.two_factor"))


@bp.route("/account/two-factor/recovery-codes", methods=["POST"])
@login_required
def recovery_codes():
    """New recovery codes; a current code from the app is needed (not a session alone)."""
    user = current_user._get_current_object()
    form = CodeForm()
    if not user.has_two_factor:
        return redirect(url_for("auth.two_factor"))
    if form.validate_on_submit():
        now = context.now()
        method = twofactor.verify(
            db.session, user, form.code.data, now=now, cipher=context.cipher()
        )
        if method == "totp":
            codes = twofactor.new_recovery_codes(db.session, user, now=now)
            db.session.commit()
            return render_template(
                "auth/recovery_codes.html", codes=codes, next_url=url_for("auth.two_factor")
            )
        db.session.commit()
        form.code.errors = [gettext("This needs a current code from your authenticator app.")]
    return render_template(
        "auth/two_factor.html",
        user=user,
        form=form,
        codes_left=twofactor.recovery_codes_left(db.session, user),
    ), 422
