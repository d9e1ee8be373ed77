from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from casemgr.auth.passwords import MAX_LENGTH, MIN_LENGTH
from casemgr.auth.services import MAX_TOKEN_LABEL_LENGTH
from casemgr.domain import STAFF_ROLES
from casemgr.forms import select_choices

POLICY_HINT = (
    f"At least {MIN_LENGTH} characters; a few unrelated words make a good one. "
    "Common passwords and your e-mail's name part are refused."
)


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_LENGTH)])


class CodeForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[DataRequired(), Length(max=40)],
        description="The 6 digits your authenticator app shows, or one of your recovery codes.",
    )


class EnrolForm(FlaskForm):
    code = StringField(
        "Code from the app",
        validators=[DataRequired(), Length(max=40)],
        description="Scan the QR code with your authenticator app, then type the 6 digits "
        "it shows.",
    )


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=MAX_LENGTH)]
    )
    new_password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        description=POLICY_HINT,
    )
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new_password", message="The two do not match.")],
    )


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
