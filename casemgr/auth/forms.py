"""The forms of signing in and of the user's own account."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from casemgr.auth.passwords import MAX_LENGTH, MIN_LENGTH

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
