"""The forms of the staff screens: an account, and the label of a new API token."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from casemgr.auth.forms import POLICY_HINT
from casemgr.auth.passwords import MAX_LENGTH
from casemgr.auth.tokens import MAX_TOKEN_LABEL_LENGTH
from casemgr.domain import STAFF_ROLES
from casemgr.forms import select_choices


class AccountForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    role = SelectField(
        "Role", choices=select_choices((role.value, role.value.title()) for role in STAFF_ROLES)
    )
    active = BooleanField("Active", default=True)
    password = PasswordField(
        "Password",
        validators=[Optional(), Length(max=MAX_LENGTH)],
        description=f"{POLICY_HINT} Leave empty to keep it.",
    )


class TokenForm(FlaskForm):
    label = StringField(
        "Label",
        validators=[DataRequired(), Length(max=MAX_TOKEN_LABEL_LENGTH)],
        description="Who or what the token is for, e.g. the partner's name and system. "
        "Shown in the token list and the audit log.",
    )
