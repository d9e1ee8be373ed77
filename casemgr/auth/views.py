from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from casemgr import context
from casemgr.auth import bp
from casemgr.auth import services as accounts
from casemgr.auth.access import admin_required
from casemgr.auth.forms import AccountForm, LoginForm
from casemgr.errors import ValidationFailed
from casemgr.extensions import db, login_manager


@login_manager.user_loader
def load_user(user_id: str):
    return accounts.load_session_user(db.session, user_id)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("cases.queue"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(
            db.session, form.email.data, form.password.data, now=context.now()
        )
        db.session.commit()
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("cases.queue"))
        flash("E-mail or password is wrong.", "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/admin/users")
@admin_required
def users():
    return render_template("auth/users.html", users=accounts.list_staff(db.session))


@bp.route("/admin/users/new", methods=["GET", "POST"])
@admin_required
def new_user():
    form = AccountForm()
    if form.validate_on_submit():
        try:
            accounts.create_user(
                db.session, _account_input(form), now=context.now(), actor_id=current_user.id
            )
        except ValidationFailed as exc:
            _attach_errors(form, exc)
        else:
            db.session.commit()
            flash(f"Account for {form.email.data} created.", "success")
            return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=None), (
        422 if form.errors else 200
    )


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def edit_user(user_id: int):
    user = accounts.get_user(db.session, user_id)
    form = AccountForm(obj=user)
    if form.validate_on_submit():
        try:
            accounts.update_user(
                db.session, user, _account_input(form), now=context.now(), actor_id=current_user.id
            )
        except ValidationFailed as exc:
            _attach_errors(form, exc)
        else:
            db.session.commit()
            flash(f"Account of {user.email} saved.", "success")
            return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=user), (
        422 if form.errors else 200
    )


def _account_input(form: AccountForm) -> accounts.AccountInput:
    return accounts.AccountInput(
        email=form.email.data,
        name=form.name.data,
        role=form.role.data,
        password=form.password.data or None,
        active=form.active.data,
    )


def _attach_errors(form, exc: ValidationFailed) -> None:
    """Show a service's field errors next to the form's fields."""
    for name, messages in exc.fields.items():
        field = getattr(form, name, None)
        target = list(field.errors) if field is not None else form.form_errors
        target.extend(messages)
        if field is not None:
            field.errors = target
