"""The signed-in member of staff's own account: language, password, second
factor, and their sessions (signing out everywhere). Signing in is in
:mod:`casemgr.auth.views`; the admins' staff screens in :mod:`casemgr.staff`."""

from __future__ import annotations

from flask import flash, redirect, render_template, session, url_for
from flask_babel import gettext, refresh
from flask_login import current_user, login_required, login_user

from casemgr import context
from casemgr.audit.services import record
from casemgr.auth import accounts, bp, session_store, sessions, twofactor
from casemgr.auth.forms import CodeForm, EnrolForm, LanguageForm, PasswordChangeForm
from casemgr.auth.views import (
    enrol_page,
    enrolment_restarted,
    enrolment_secret,
    wrong_enrolment_code,
)
from casemgr.errors import ValidationFailed
from casemgr.extensions import db
from casemgr.forms import attach_errors
from casemgr.i18n import languages


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
    key = session.get(sessions.KEY)
    return render_template(
        "auth/account.html",
        user=user,
        form=form,
        codes_left=twofactor.recovery_codes_left(db.session, user) if user.has_two_factor else None,
        open_sessions=session_store.open_sessions(
            db.session, user, now=context.now(), policy=context.login_policy()
        ),
        this_session=session_store.key_hash(key) if isinstance(key, str) else None,
    )


@bp.route("/account/sessions/end", methods=["POST"])
@login_required
def end_sessions():
    """Sign out everywhere: every session of the user ends, this one included."""
    user = current_user._get_current_object()
    now = context.now()
    ended = session_store.end_every_session(db.session, user, now=now, reason="everywhere")
    record(
        db.session,
        action="auth.logout_everywhere",
        now=now,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        details={"sessions": ended},
    )
    db.session.commit()
    sessions.end()
    flash(gettext("You are signed out everywhere: sign in again to go on."), "info")
    return redirect(url_for("auth.login"))


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
                keep=session.get(sessions.KEY),
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
    secret, renewed = enrolment_secret(user)
    form = EnrolForm()
    submitted = form.validate_on_submit()
    if submitted and renewed:  # the code cannot be for this secret
        form.code.errors = [enrolment_restarted()]
    elif submitted:
        codes = twofactor.enrol(
            db.session,
            user,
            secret,
            form.code.data,
            now=context.now(),
            cipher=context.cipher(),
            keep=session.get(sessions.KEY),
        )
        db.session.commit()
        if codes is not None:
            session.pop(sessions.ENROLMENT, None)
            login_user(user)  # enrolling ended every other session; this one goes on
            return render_template(
                "auth/recovery_codes.html", codes=codes, next_url=url_for("cases.queue")
            )
        form.code.errors = [wrong_enrolment_code()]
    return enrol_page(user, secret, form, action=url_for("auth.two_factor"))


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
