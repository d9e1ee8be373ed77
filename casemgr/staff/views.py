"""The admins' screens: staff accounts (list, create, edit, reset a second
factor), partner hotlines' API-only accounts (create, edit), and API tokens
(issue and revoke them for any account)."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm

from casemgr import context
from casemgr.auth import accounts
from casemgr.auth import tokens as api_tokens
from casemgr.auth.access import admin_required
from casemgr.auth.models import User
from casemgr.domain import Role
from casemgr.errors import ValidationFailed
from casemgr.extensions import db
from casemgr.forms import attach_errors
from casemgr.i18n import languages
from casemgr.staff import bp
from casemgr.staff.forms import AccountForm, PartnerAccountForm, TokenForm
from casemgr.templating import format_datetime

# --- staff accounts


@bp.route("/admin/users")
@admin_required
def users():
    return render_template("staff/users.html", users=accounts.list_staff(db.session))


@bp.route("/admin/users/new", methods=["GET", "POST"])
@admin_required
def new_user():
    form = AccountForm()
    if form.validate_on_submit():
        try:
            accounts.create_user(
                db.session,
                _account_input(form),
                now=context.now(),
                actor=current_user.actor,
                languages=languages(),
            )
        except ValidationFailed as exc:
            attach_errors(form, exc)
        else:
            db.session.commit()
            flash(gettext("Account for %(email)s created.", email=form.email.data), "success")
            return redirect(url_for("staff.users"))
    return render_template("staff/user_form.html", form=form, user=None), (
        422 if form.errors else 200
    )


@bp.route("/admin/partners/new", methods=["GET", "POST"])
@admin_required
def new_partner():
    """A partner hotline's account: API only (it never signs in here); issue it a
    token on its page next."""
    form = _partner_form()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                db.session,
                _partner_input(form),
                now=context.now(),
                actor=current_user.actor,
            )
        except ValidationFailed as exc:
            attach_errors(form, exc)
        else:
            db.session.commit()
            flash(
                gettext(
                    "Partner account for %(email)s created: issue it an API token below.",
                    email=user.email,
                ),
                "success",
            )
            return redirect(url_for("staff.edit_user", user_id=user.id, _anchor="api-tokens"))
    return render_template("staff/user_form.html", form=form, user=None, partner=True), (
        422 if form.errors else 200
    )


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def edit_user(user_id: int):
    user = accounts.get_user(db.session, user_id)
    form = _partner_form(user) if user.is_partner else AccountForm(obj=user)
    if form.validate_on_submit():
        try:
            accounts.update_user(
                db.session,
                user,
                _partner_input(form) if user.is_partner else _account_input(form),
                now=context.now(),
                actor=current_user.actor,
                languages=languages(),
            )
        except ValidationFailed as exc:
            attach_errors(form, exc)
        else:
            db.session.commit()
            flash(gettext("Account of %(email)s saved.", email=user.email), "success")
            return redirect(url_for("staff.users"))
    return _account_page(user, form=form), (422 if form.errors else 200)


@bp.route("/admin/users/<int:user_id>/two-factor/reset", methods=["POST"])
@admin_required
def reset_two_factor(user_id: int):
    """Remove a user's second factor (a lost phone): they enrol again at their next
    sign-in; every session of theirs ends. Audited."""
    user = accounts.get_user(db.session, user_id)
    accounts.reset_two_factor(db.session, user, now=context.now(), actor=current_user.actor)
    db.session.commit()
    flash(
        gettext(
            "The second factor of %(email)s is removed and their sessions are ended; "
            "they set up a new one at their next sign-in.",
            email=user.email,
        ),
        "success",
    )
    return redirect(url_for("staff.edit_user", user_id=user.id))


# --- API tokens (admins issue and revoke them for any account)


@bp.route("/admin/tokens")
@admin_required
def tokens():
    return render_template("staff/tokens.html", tokens=api_tokens.list_all_tokens(db.session))


@bp.route("/admin/users/<int:user_id>/tokens", methods=["POST"])
@admin_required
def issue_token(user_id: int):
    """Issue a token and show it on this answer, the only time it is ever shown:
    no redirect (the token would have to travel in a URL or the session
    cookie), and never cached."""
    user = accounts.get_user(db.session, user_id)
    form = TokenForm()
    if form.validate_on_submit():
        try:
            issued = api_tokens.issue_api_token(
                db.session,
                user,
                label=form.label.data,
                actor=current_user.actor,
                now=context.now(),
            )
        except ValidationFailed as exc:
            attach_errors(form, exc)
        else:
            db.session.commit()
            response = make_response(
                render_template("staff/token_issued.html", user=user, issued=issued)
            )
            response.headers["Cache-Control"] = "no-store"
            return response
    return _account_page(user, token_form=form), 422


@bp.route("/admin/tokens/<int:token_id>/revoke", methods=["GET", "POST"])
@admin_required
def revoke_token(token_id: int):
    """GET asks to confirm (the app has no script for a confirm dialog); POST revokes."""
    token = api_tokens.get_token(db.session, token_id)
    form = FlaskForm()  # the CSRF token alone
    if form.validate_on_submit():
        api_tokens.revoke_token(db.session, token.id, actor=current_user.actor, now=context.now())
        db.session.commit()
        flash(
            gettext(
                "API token #%(id)d (%(label)s) of %(email)s is revoked since %(time)s: "
                "every call with it is refused.",
                id=token.id,
                label=token.label or gettext("no label"),
                email=token.user.email,
                time=format_datetime(token.revoked_at),
            ),
            "success",
        )
        return redirect(url_for("staff.edit_user", user_id=token.user_id))
    return render_template("staff/revoke_token.html", token=token, form=form)


def _account_page(
    user: User,
    *,
    form: AccountForm | PartnerAccountForm | None = None,
    token_form: TokenForm | None = None,
) -> str:
    """The page of an account: its details, second factor and API tokens."""
    if form is None:
        form = (
            _partner_form(user, formdata=None)
            if user.is_partner
            else AccountForm(formdata=None, obj=user)
        )
    return render_template(
        "staff/user_form.html",
        user=user,
        partner=user.is_partner,
        form=form,
        token_form=token_form or TokenForm(formdata=None),
        tokens=api_tokens.list_tokens(db.session, user),
    )


def _account_input(form: AccountForm) -> accounts.AccountInput:
    return accounts.AccountInput(
        email=form.email.data,
        name=form.name.data,
        role=form.role.data,
        password=form.password.data or None,
        active=form.active.data,
        language=form.language.data or None,
    )


def _partner_form(user: User | None = None, **kwargs) -> PartnerAccountForm:
    """The form of a partner account, filled from ``user`` (the request's form data,
    if any, comes first); its hotlines are those of the directory."""
    hotlines = [
        (
            str(organisation.id),
            organisation.label
            if organisation.active
            else gettext("%(name)s (inactive)", name=organisation.label),
        )
        for organisation in accounts.partner_hotlines(db.session)
    ]
    data = None
    if user is not None:
        data = {
            "email": user.email,
            "name": user.name,
            "organisation": str(user.organisation_id),
            "active": user.active,
        }
    return PartnerAccountForm(hotlines, data=data, **kwargs)


def _partner_input(form: PartnerAccountForm) -> accounts.AccountInput:
    choice = str(form.organisation.data or "")
    return accounts.AccountInput(
        email=form.email.data,
        name=form.name.data,
        role=Role.PARTNER.value,
        active=form.active.data,
        organisation_id=int(choice) if choice.isdecimal() and len(choice) < 12 else None,
    )
